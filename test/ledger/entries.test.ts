import { describe, expect, test } from "vitest";
import { SYSTEM_ACCOUNTS, fundReserve, topUp, validateDraft, verifyLedger } from "../../node/ledger/index.ts";
import { seedCustomers, useTempLedger } from "./helpers.ts";

const t = useTempLedger();

describe("journal entries", () => {
  test("default: an entry is recorded with id, seq, postings and createdAt", async () => {
    const { entry } = await t.ledger.post(fundReserve(10_000n, "mint-1"));
    expect(entry).toMatchObject({
      id: "00000000000000000001",
      seq: 1n,
      kind: "reserve_funded",
      ref: "mint-1",
      postings: [
        { account: SYSTEM_ACCOUNTS.settlement, amount: -10_000n },
        { account: SYSTEM_ACCOUNTS.float, amount: 10_000n },
      ],
    });
    expect(await t.ledger.entry(entry.id)).toEqual(entry);
    expect(t.ledger.balance(SYSTEM_ACCOUNTS.float)).toBe(10_000n);
    expect(t.ledger.balance(SYSTEM_ACCOUNTS.settlement)).toBe(-10_000n);
  });

  test("error: postings that do not sum to zero", () => {
    expect(() =>
      t.ledger.stage({ kind: "x", postings: [{ account: "op:float", amount: 5n }, { account: "op:settlement", amount: -4n }] }),
    ).toThrow(expect.objectContaining({ code: "unbalanced_entry", details: { sum: "1" } }));
  });

  test("error: fewer than two postings, zero amounts, repeated accounts, non-bigint amounts", () => {
    const cases = [
      { kind: "x", postings: [{ account: "op:float", amount: 0n }] },
      { kind: "x", postings: [{ account: "op:float", amount: 0n }, { account: "op:settlement", amount: 0n }] },
      { kind: "x", postings: [{ account: "op:float", amount: 1n }, { account: "op:float", amount: -1n }] },
      { kind: "x", postings: [{ account: "op:float", amount: 1 as unknown as bigint }, { account: "op:settlement", amount: -1n }] },
    ];
    for (const draft of cases) expect(() => validateDraft(draft)).toThrow(expect.objectContaining({ code: "invalid_entry" }));
  });

  test("error: unknown account", () => {
    expect(() => t.ledger.stage(topUp("c_nobody", 1n))).toThrow(expect.objectContaining({ code: "account_not_found" }));
  });

  test("error: amounts must be positive bigints in movements", () => {
    expect(() => fundReserve(0n)).toThrow(expect.objectContaining({ code: "invalid_amount" }));
    expect(() => fundReserve(-5n)).toThrow(expect.objectContaining({ code: "invalid_amount" }));
    expect(() => fundReserve(5 as unknown as bigint)).toThrow(expect.objectContaining({ code: "invalid_amount" }));
  });

  test("behavior: a failed entry writes nothing and changes no balance", async () => {
    const [alice] = await seedCustomers(t.ledger, 1, 100n);
    const before = t.ledger.trialBalance();
    const count = t.ledger.entryCount;
    expect(() => t.ledger.stage(topUp(alice, 1_000_000n))).toThrow(expect.objectContaining({ code: "insufficient_reserve" }));
    expect(t.ledger.entryCount).toBe(count);
    expect(t.ledger.trialBalance()).toEqual(before);
    const v = await verifyLedger(t.store);
    expect(v).toMatchObject({ ok: true, entries: Number(count) });
  });

  test("behavior: a transaction that fails halfway applies none of its steps", async () => {
    const [alice, bob] = await seedCustomers(t.ledger, 2, 100n);
    expect(() =>
      t.ledger.prepare((tx) => {
        tx.stage({ kind: "internal_transfer", postings: [{ account: alice, amount: -60n }, { account: bob, amount: 60n }] });
        tx.stage({ kind: "internal_transfer", postings: [{ account: alice, amount: -60n }, { account: bob, amount: 60n }] });
      }),
    ).toThrow(expect.objectContaining({ code: "insufficient_funds" }));
    expect(t.ledger.balance(alice)).toBe(100n);
    expect(t.ledger.balance(bob)).toBe(100n);
  });

  test("behavior: several entries and foreign ops in one atomic batch", async () => {
    const [alice, bob] = await seedCustomers(t.ledger, 2, 100n);
    const { result, ops, entries } = t.ledger.prepare((tx) => {
      tx.stage({ kind: "internal_transfer", postings: [{ account: alice, amount: -60n }, { account: bob, amount: 60n }] });
      tx.stage({ kind: "internal_transfer", postings: [{ account: bob, amount: -160n }, { account: alice, amount: 160n }] });
      tx.add({ type: "put", sublevel: t.store.sub.outbox, key: "p1", value: { status: "queued" } });
      return tx.balance(alice);
    });
    expect(result).toBe(200n);
    expect(entries).toHaveLength(2);
    await t.ledger.commit(ops);
    expect(await t.store.sub.outbox.get("p1")).toEqual({ status: "queued" });
    expect(t.ledger.balance(bob)).toBe(0n);
    expect((await verifyLedger(t.store)).ok).toBe(true);
  });

  test("error: transaction callbacks must be synchronous", () => {
    expect(() => t.ledger.prepare(async () => 1)).toThrow(expect.objectContaining({ code: "invalid_transaction" }));
  });
});
