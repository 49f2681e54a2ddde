import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { canonicalJson, fingerprint, transferInternal, verifyLedger } from "../../node/ledger/index.ts";
import type { IdempotencyRequest, Ledger } from "../../node/ledger/index.ts";
import { CommitFailedError } from "../../node/store/index.ts";
import type { Store } from "../../node/store/index.ts";
import { openLedger, removeDir, seedCustomers, tempDir } from "./helpers.ts";

let dir: string;
let store: Store;
let ledger: Ledger;
beforeEach(async () => {
  dir = await tempDir();
  ({ store, ledger } = await openLedger(dir));
});
afterEach(async () => {
  await store.close().catch(() => {});
  await removeDir(dir);
});

const req = (key: string, body: unknown): IdempotencyRequest => ({ scope: "app:payments", key, fingerprint: fingerprint(body) });

describe("fingerprint", () => {
  test("default: key order and bigint vs decimal string do not matter", () => {
    expect(canonicalJson({ b: 1, a: [2n, { d: undefined, c: "x" }] })).toBe('{"a":["2",{"c":"x"}],"b":1}');
    expect(fingerprint({ to: "bob", amount: 100n })).toBe(fingerprint({ amount: "100", to: "bob" }));
    expect(fingerprint({ amount: 100n })).not.toBe(fingerprint({ amount: 101n }));
  });
});

describe("idempotency", () => {
  test("behavior: same key and body replays the stored result and writes no second entry", async () => {
    const [alice, bob] = await seedCustomers(ledger, 2, 1_000n);
    const body = { from: alice, to: bob, amount: 100n };
    const first = await ledger.post(transferInternal(alice, bob, 100n), { idempotency: req("k1", body) });
    const count = ledger.entryCount;
    const second = await ledger.post(transferInternal(alice, bob, 100n), { idempotency: req("k1", body) });
    expect(first.replayed).toBe(false);
    expect(second.replayed).toBe(true);
    expect(second.entry).toEqual(first.entry);
    expect(second.entry.idempotency).toEqual({ scope: "app:payments", key: "k1" });
    expect(ledger.entryCount).toBe(count);
    expect(ledger.balance(alice)).toBe(900n);
    expect(await ledger.idempotency.lookup(req("k1", body))).toMatchObject({ status: "replay", record: { entryIds: [first.entry.id] } });
  });

  test("error: same key with another body is a conflict and writes nothing", async () => {
    const [alice, bob] = await seedCustomers(ledger, 2, 1_000n);
    await ledger.post(transferInternal(alice, bob, 100n), { idempotency: req("k1", { amount: 100 }) });
    const count = ledger.entryCount;
    await expect(
      ledger.post(transferInternal(alice, bob, 200n), { idempotency: req("k1", { amount: 200 }) }),
    ).rejects.toMatchObject({ code: "idempotency_conflict", details: { scope: "app:payments", key: "k1" } });
    expect(ledger.entryCount).toBe(count);
    expect(await ledger.idempotency.lookup(req("k1", { amount: 200 }))).toMatchObject({ status: "conflict" });
    expect(await ledger.idempotency.lookup(req("k2", { amount: 200 }))).toEqual({ status: "new" });
  });

  test("behavior: concurrent requests with one key execute once; the others replay", async () => {
    const [alice, bob] = await seedCustomers(ledger, 2, 1_000n);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => ledger.post(transferInternal(alice, bob, 10n), { idempotency: req("same", { a: 10 }) })),
    );
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(new Set(results.map((r) => r.entry.id)).size).toBe(1);
    expect(ledger.balance(alice)).toBe(990n);
  });

  test("behavior: a lookup whose disk read started before the record was committed still sees the record", async () => {
    const [alice, bob] = await seedCustomers(ledger, 2, 1_000n);
    const request = req("race", { a: 1 });
    // A request with this key was staged once and released: the key is known, nothing is stored.
    const first = ledger.idempotency.tryClaim(request)!;
    first.stage(null, [], "");
    first.release();
    // The next disk read takes its snapshot now but answers only when `open` is called.
    const sub = store.sub.idempotency;
    const getMany = sub.getMany.bind(sub);
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let delayed = true;
    (sub as { getMany: unknown }).getMany = (keys: string[]) => {
      const result = getMany(keys);
      if (!delayed) return result;
      delayed = false;
      return gate.then(() => result);
    };
    try {
      const slow = ledger.idempotency.lookup(request);
      await new Promise((r) => setImmediate(r));
      const posted = await ledger.post(transferInternal(alice, bob, 1n), { idempotency: request });
      expect(posted.replayed).toBe(false);
      open();
      expect(await slow).toMatchObject({ status: "replay", record: { entryIds: [posted.entry.id] } });
    } finally {
      (sub as { getMany: unknown }).getMany = getMany;
    }
  });

  test("behavior: a failed request does not consume its key", async () => {
    const [alice, bob] = await seedCustomers(ledger, 2, 10n);
    await expect(ledger.post(transferInternal(alice, bob, 20n), { idempotency: req("k", { a: 20 }) })).rejects.toMatchObject({
      code: "insufficient_funds",
    });
    expect(await ledger.idempotency.lookup(req("k", { a: 20 }))).toEqual({ status: "new" });
  });

  test("behavior: replays survive a reopen", async () => {
    const [alice, bob] = await seedCustomers(ledger, 2, 100n);
    const first = await ledger.post(transferInternal(alice, bob, 5n), { idempotency: req("k", 1) });
    await store.close();
    ({ store, ledger } = await openLedger(dir));
    const again = await ledger.post(transferInternal(alice, bob, 5n), { idempotency: req("k", 1) });
    expect(again).toEqual({ entry: first.entry, replayed: true });
    expect(ledger.balance(alice)).toBe(95n);
  });

  test("error: atomicity — when the batch fails, neither the entry nor the idempotency record exists after reopen", async () => {
    const [alice, bob] = await seedCustomers(ledger, 2, 100n);
    const committed = ledger.entryCount;
    // Another module stages an item that cannot be encoded: the whole batch is refused.
    const failing = ledger.execute({ idempotency: req("doomed", { a: 30 }) }, (tx) => {
      const e = tx.stage(transferInternal(alice, bob, 30n));
      tx.add({ type: "put", sublevel: store.sub.outbox, key: "broken", value: { amount: 30n } });
      return { entryId: e.id };
    });
    await expect(failing).rejects.toBeInstanceOf(CommitFailedError);
    // Memory is now ahead of disk: the ledger refuses to go on.
    expect(() => ledger.stage(transferInternal(alice, bob, 1n))).toThrow(expect.objectContaining({ code: "store_unavailable" }));
    await store.close();

    ({ store, ledger } = await openLedger(dir));
    expect(ledger.entryCount).toBe(committed);
    expect(await store.sub.idempotency.get("app:payments!doomed")).toBeUndefined();
    expect(await store.sub.outbox.get("broken")).toBeUndefined();
    expect(ledger.balance(alice)).toBe(100n);
    expect(ledger.balance(bob)).toBe(100n);
    expect(await ledger.idempotency.lookup(req("doomed", { a: 30 }))).toEqual({ status: "new" });
    expect((await verifyLedger(store)).problems).toEqual([]);
  });

  test("error: atomicity — database closed underneath a staged write", async () => {
    const [alice, bob] = await seedCustomers(ledger, 2, 100n);
    const { ops } = ledger.stage(transferInternal(alice, bob, 40n));
    await store.db.close();
    await expect(ledger.commit(ops)).rejects.toBeInstanceOf(CommitFailedError);
    const reopened = await openLedger(dir);
    expect(reopened.ledger.balance(alice)).toBe(100n);
    await reopened.store.close();
  });
});
