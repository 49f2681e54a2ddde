import { describe, expect, test } from "vitest";
import { transferInternal, verifyLedger } from "../../node/ledger/index.ts";
import { InvariantError } from "../../node/store/invariant.ts";
import { seedCustomers, useTempLedger } from "./helpers.ts";

const t = useTempLedger();

describe("invariant: commit before the next prepare", () => {
  test("error: preparing a transaction while the previous one's ops are not committed throws and applies nothing", async () => {
    const [alice, bob] = await seedCustomers(t.ledger, 2, 100n);
    const first = t.ledger.prepare((tx) => tx.stage(transferInternal(alice, bob, 10n)));
    const entries = t.ledger.entryCount;
    let thrown: unknown;
    try {
      t.ledger.prepare((tx) => tx.stage(transferInternal(bob, alice, 5n)));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(InvariantError);
    expect(thrown).toMatchObject({
      code: "invariant_violated",
      retryable: false,
      message: 'Invariant "commit_before_next_prepare" violated: a transaction was prepared while the previous one\'s ops were not committed',
      details: { invariant: "commit_before_next_prepare", pendingOps: first.ops.length },
    });
    // The refused transaction left memory alone.
    expect(t.ledger.entryCount).toBe(entries);
    expect(t.ledger.balance(alice)).toBe(90n);
    expect(t.ledger.balance(bob)).toBe(110n);
    // The same rule guards the other ways in: stage, execute, post and checkpoint.
    expect(() => t.ledger.stage(transferInternal(alice, bob, 1n))).toThrow(InvariantError);
    await expect(t.ledger.post(transferInternal(bob, alice, 1n))).rejects.toBeInstanceOf(InvariantError);
    await expect(t.ledger.checkpoint()).rejects.toBeInstanceOf(InvariantError);
    expect(t.ledger.entryCount).toBe(entries);

    await t.ledger.commit(first.ops);
    await t.ledger.post(transferInternal(bob, alice, 5n));
    expect(t.ledger.balance(alice)).toBe(95n);
    expect((await verifyLedger(t.store)).problems).toEqual([]);
  });

  test("behavior: committing the prepared ops inside a larger batch satisfies the rule", async () => {
    const [alice, bob] = await seedCustomers(t.ledger, 2, 100n);
    const { ops } = t.ledger.stage(transferInternal(alice, bob, 10n));
    await t.ledger.commit([...ops, { type: "put", sublevel: t.store.sub.outbox, key: "p1", value: { status: "queued" } }]);
    const next = t.ledger.stage(transferInternal(alice, bob, 10n));
    await t.ledger.commit(next.ops);
    expect(t.ledger.balance(bob)).toBe(120n);
  });

  test("behavior: a transaction that only reads (no ops) leaves nothing pending", async () => {
    const [alice, bob] = await seedCustomers(t.ledger, 2, 100n);
    expect(t.ledger.prepare((tx) => tx.balance(alice)).ops).toEqual([]);
    await t.ledger.post(transferInternal(alice, bob, 1n, "after-read"));
    expect(t.ledger.balance(alice)).toBe(99n);
  });
});
