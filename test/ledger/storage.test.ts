import { afterEach, describe, expect, test } from "vitest";
import {
  BALANCES_CHECKPOINT_KEY,
  SYSTEM_ACCOUNTS,
  fingerprint,
  fundReserve,
  historyKey,
  topUp,
  transferInternal,
  verifyLedger,
} from "../../node/ledger/index.ts";
import type { EntryRecord, IdempotencyRecord } from "../../node/ledger/index.ts";
import { seqKey as seqKeyOf } from "../../node/store/index.ts";
import { openLedger, removeDir, seedCustomers, tempDir } from "./helpers.ts";

let dir = "";
afterEach(async () => {
  if (dir) await removeDir(dir);
  dir = "";
});

describe("stored forms", () => {
  test("default: entries, history items and idempotency records are compact on disk and read back whole", async () => {
    dir = await tempDir();
    const { store, ledger } = await openLedger(dir);
    const [alice, bob] = await seedCustomers(ledger, 2, 100n);
    const { entry } = await ledger.post(transferInternal(alice, bob, 30n, "tea", "pay-1"), {
      idempotency: { scope: "app", key: "k1", fingerprint: fingerprint({ a: 30 }) },
    });
    // Raw values: a JSON array for the entry, the balance after the entry for a history item.
    const raw = store.db.sublevel<string, string>("entries", { valueEncoding: "utf8" });
    expect(JSON.parse((await raw.get(entry.id))!)).toEqual([
      1,
      entry.seq.toString(),
      "internal_transfer",
      entry.createdAt,
      [alice, "-30", bob, "30"],
      "pay-1",
      { memo: "tea" },
      "app",
      "k1",
    ]);
    expect(await store.sub.accountHistory.get(historyKey(alice, entry.seq))).toBe("70");
    expect(await store.sub.accountHistory.get(historyKey(bob, entry.seq))).toBe("130");
    // Decoded through the sublevels: the same records as before.
    expect((await store.sub.entries.get(entry.id)) as EntryRecord).toEqual({
      id: entry.id,
      seq: entry.seq.toString(),
      kind: "internal_transfer",
      postings: [
        { account: alice, amount: "-30" },
        { account: bob, amount: "30" },
      ],
      ref: "pay-1",
      meta: { memo: "tea" },
      createdAt: entry.createdAt,
      idempotency: { scope: "app", key: "k1" },
    });
    expect((await store.sub.idempotency.get("app!k1")) as IdempotencyRecord).toEqual({
      scope: "app",
      key: "k1",
      fingerprint: fingerprint({ a: 30 }),
      response: { entryId: entry.id },
      entryIds: [entry.id],
      createdAt: entry.createdAt,
    });
    expect(await ledger.entry(entry.id)).toEqual(entry);
    const page = await ledger.history(alice);
    expect(page.items[0]).toEqual({ entry, amount: -30n, balanceAfter: 70n });
    await store.close();
  });

  test("error: a meta that cannot be stored fails its own entry, before anything is staged", async () => {
    dir = await tempDir();
    const { store, ledger } = await openLedger(dir);
    const [alice, bob] = await seedCustomers(ledger, 2, 100n);
    const count = ledger.entryCount;
    const draft = { ...transferInternal(alice, bob, 5n), meta: { n: 1n as unknown as number } };
    await expect(ledger.post(draft)).rejects.toBeInstanceOf(TypeError);
    expect(ledger.entryCount).toBe(count);
    expect(ledger.balance(alice)).toBe(100n);
    // The store is still healthy.
    await ledger.post(transferInternal(alice, bob, 5n));
    expect((await verifyLedger(store)).problems).toEqual([]);
    await store.close();
  });
});

describe("balance checkpoints", () => {
  test("error: a response that cannot be stored as the idempotency record changes nothing, in memory or on disk", async () => {
    dir = await tempDir();
    let { store, ledger } = await openLedger(dir, { checkpointEvery: 4 });
    const [alice] = await seedCustomers(ledger, 1, 0n);
    await ledger.post(fundReserve(1_000n, "mint-x"));
    const before = { balance: ledger.customerBalances(), entries: ledger.entryCount };
    const request = { scope: "app", key: "k-bigint", fingerprint: "f" };
    // A bigint has no JSON form: the record cannot be encoded.
    await expect(ledger.execute({ idempotency: request }, (tx) => (tx.stage(topUp(alice, 100n, "t")), { n: 1n as never }))).rejects.toThrow(/BigInt/);
    expect({ balance: ledger.customerBalances(), entries: ledger.entryCount }).toEqual(before);
    expect(store.committer.healthy).toBe(true);
    // Enough later postings to write a checkpoint: it must not carry the refused top-up.
    for (let i = 0; i < 5; i++) await ledger.post(topUp(alice, 1n, `t${i}`));
    expect((await verifyLedger(store)).problems).toEqual([]);
    await store.close();
    ({ store, ledger } = await openLedger(dir, { checkpointEvery: 4 }));
    expect(ledger.customerBalances().find((c) => c.accountId === alice)!.balance).toBe(5n);
    // The key was released: the same request with an encodable response goes through.
    await ledger.execute({ idempotency: request }, (tx) => (tx.stage(topUp(alice, 100n, "t")), { n: "1" }));
    expect(ledger.customerBalances().find((c) => c.accountId === alice)!.balance).toBe(105n);
    expect((await verifyLedger(store)).problems).toEqual([]);
    await store.close();
  });

  test("behavior: stored balances are a checkpoint; opening replays the journal after it", async () => {
    dir = await tempDir();
    let { store, ledger } = await openLedger(dir, { checkpointEvery: 10 });
    const [alice, bob] = await seedCustomers(ledger, 2, 1_000n);
    for (let i = 0; i < 23; i++) await ledger.post(transferInternal(i % 3 ? alice : bob, i % 3 ? bob : alice, BigInt(i + 1)));
    const at = BigInt((await store.sub.balances.get(BALANCES_CHECKPOINT_KEY))!);
    expect(at).toBeGreaterThan(0n);
    expect(at).toBeLessThan(ledger.entryCount);
    const before = { customers: ledger.customerBalances(), tb: ledger.trialBalance(), liabilities: ledger.liabilities() };
    expect((await verifyLedger(store)).problems).toEqual([]);
    await store.close();

    ({ store, ledger } = await openLedger(dir, { checkpointEvery: 10 }));
    expect({ customers: ledger.customerBalances(), tb: ledger.trialBalance(), liabilities: ledger.liabilities() }).toEqual(before);
    await ledger.checkpoint();
    expect(await store.sub.balances.get(BALANCES_CHECKPOINT_KEY)).toBe(ledger.entryCount.toString());
    expect(await store.sub.balances.get(alice)).toBe(before.customers.find((c) => c.accountId === alice)!.balance.toString());
    expect((await verifyLedger(store)).problems).toEqual([]);
    await store.close();
  });

  test("behavior: a process that never wrote a checkpoint loses nothing (the journal is replayed)", async () => {
    dir = await tempDir();
    let { store, ledger } = await openLedger(dir, { checkpointEvery: 1_000_000 });
    const [alice, bob] = await seedCustomers(ledger, 2, 500n);
    for (let i = 0; i < 40; i++) await ledger.post(transferInternal(alice, bob, 3n));
    // As after a crash: only the position written when the store was new.
    expect(await store.sub.balances.get(BALANCES_CHECKPOINT_KEY)).toBe("0");
    expect(await store.sub.balances.get(alice)).toBeUndefined();
    await store.close();

    ({ store, ledger } = await openLedger(dir));
    expect(ledger.balance(alice)).toBe(500n - 120n);
    expect(ledger.balance(bob)).toBe(500n + 120n);
    expect(ledger.liabilities()).toBe(1_000n);
    expect(ledger.trialBalance().balanced).toBe(true);
    expect((await verifyLedger(store)).problems).toEqual([]);
    await store.close();
  });

  test("error: verifyLedger notices a stored balance or a history item that the journal does not support", async () => {
    dir = await tempDir();
    const { store, ledger } = await openLedger(dir, { checkpointEvery: 1 });
    const [alice, bob] = await seedCustomers(ledger, 2, 100n);
    const { entry } = await ledger.post(transferInternal(alice, bob, 10n));
    await store.sub.balances.put(alice, "95");
    await store.sub.accountHistory.put(historyKey(bob, entry.seq), "111");
    await store.sub.accountHistory.put(`${bob}!${seqKeyOf(999n)}`, "1");
    const { problems } = await verifyLedger(store);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining(`balance of ${alice} is 95, journal says 90`),
        expect.stringContaining(`history item of ${bob} for entry ${entry.id} says 10/111, journal says 10/110`),
        expect.stringContaining("history items for"),
        expect.stringContaining("trial balance of the stored balances"),
      ]),
    );
    await store.close();
  });
});

describe("stores written in the earlier formats", () => {
  test("behavior: JSON entries, history items and idempotency records still read; balances without a checkpoint position are current", async () => {
    dir = await tempDir();
    let { store, ledger } = await openLedger(dir);
    const [alice, bob] = await seedCustomers(ledger, 2, 0n);
    await store.close();
    // Rewrite the store as the earlier code wrote it: JSON objects, a balance per account, no checkpoint position.
    ({ store } = await openLedger(dir));
    const json = (name: string) => store.db.sublevel<string, unknown>(name, { valueEncoding: "json" });
    await store.db.sublevel("balances").clear();
    const createdAt = "2024-01-01T00:00:00.000Z";
    const entries: EntryRecord[] = [
      {
        id: seqKeyOf(1n),
        seq: "1",
        kind: "reserve_funded",
        postings: [
          { account: SYSTEM_ACCOUNTS.settlement, amount: "-1000" },
          { account: SYSTEM_ACCOUNTS.float, amount: "1000" },
        ],
        ref: "mint",
        createdAt,
      },
      {
        id: seqKeyOf(2n),
        seq: "2",
        kind: "top_up",
        postings: [
          { account: SYSTEM_ACCOUNTS.float, amount: "-300" },
          { account: alice, amount: "300" },
        ],
        createdAt,
      },
      {
        id: seqKeyOf(3n),
        seq: "3",
        kind: "internal_transfer",
        postings: [
          { account: alice, amount: "-100" },
          { account: bob, amount: "100" },
        ],
        createdAt,
        idempotency: { scope: "app", key: "old" },
      },
    ];
    const running = new Map<string, bigint>();
    for (const e of entries) {
      await json("entries").put(e.id, e);
      for (const p of e.postings) {
        const after = (running.get(p.account) ?? 0n) + BigInt(p.amount);
        running.set(p.account, after);
        await json("account-history").put(`${p.account}!${e.id}`, { entryId: e.id, amount: p.amount, balanceAfter: after.toString() });
      }
    }
    for (const [id, b] of running) await store.sub.balances.put(id, b.toString());
    const record: IdempotencyRecord = {
      scope: "app",
      key: "old",
      fingerprint: fingerprint({ old: true }),
      response: { entryId: seqKeyOf(3n) },
      entryIds: [seqKeyOf(3n)],
      createdAt,
    };
    await json("idempotency").put("app!old", record);
    expect((await verifyLedger(store)).problems).toEqual([]);
    await store.close();

    ({ store, ledger } = await openLedger(dir));
    expect(ledger.balance(alice)).toBe(200n);
    expect(ledger.balance(bob)).toBe(100n);
    expect(ledger.entryCount).toBe(3n);
    // Opening recorded that the balances include the whole journal.
    expect(await store.sub.balances.get(BALANCES_CHECKPOINT_KEY)).toBe("3");
    const page = await ledger.history(alice);
    expect(page.items.map((i) => [i.entry.id, i.amount, i.balanceAfter])).toEqual([
      [seqKeyOf(3n), -100n, 200n],
      [seqKeyOf(2n), 300n, 300n],
    ]);
    const replay = await ledger.post(transferInternal(alice, bob, 100n), {
      idempotency: { scope: "app", key: "old", fingerprint: fingerprint({ old: true }) },
    });
    expect(replay.replayed).toBe(true);
    expect(replay.entry.idempotency).toEqual({ scope: "app", key: "old" });
    // New entries in the new format follow on.
    await ledger.post(transferInternal(bob, alice, 40n));
    expect((await verifyLedger(store)).problems).toEqual([]);
    await store.close();
    ({ store, ledger } = await openLedger(dir));
    expect(ledger.balance(alice)).toBe(240n);
    expect((await ledger.history(alice)).items).toHaveLength(3);
    await store.close();
  });
});
