import { describe, expect, test } from "vitest";
import {
  SYSTEM_ACCOUNTS as S,
  creditFromSuspense,
  creditInbound,
  creditReturn,
  fundReserve,
  holdInbound,
  refundOutbound,
  releaseSuspenseOnReturn,
  reserveOutbound,
  settleOutbound,
  topUp,
  transferInternal,
  withdraw,
} from "../../node/ledger/index.ts";
import { seedCustomers, useTempLedger } from "./helpers.ts";

const t = useTempLedger();

const balances = (ids: string[]) => Object.fromEntries(ids.map((id) => [id, t.ledger.balance(id)]));

describe("movements", () => {
  test("default: the full life of money through every movement keeps the books balanced", async () => {
    const [alice, bob] = await seedCustomers(t.ledger, 2, 0n);
    await t.ledger.post(fundReserve(10_000n, "mint"));
    await t.ledger.post(topUp(alice, 5_000n, "bank-1"));
    await t.ledger.post(transferInternal(alice, bob, 1_000n, "lunch"));
    await t.ledger.post(withdraw(bob, 300n, "bank-2"));
    await t.ledger.post(reserveOutbound(alice, 2_000n, "pay-1"));
    await t.ledger.post(reserveOutbound(alice, 500n, "pay-2"));
    await t.ledger.post(settleOutbound(2_000n, "batch-1"));
    await t.ledger.post(refundOutbound(alice, 500n, "pay-2"));
    await t.ledger.post(creditInbound(bob, 700n, "tr-1"));
    await t.ledger.post(holdInbound(250n, "tr-2"));
    await t.ledger.post(releaseSuspenseOnReturn(200n, "tr-2-return"));
    await t.ledger.post(creditFromSuspense(bob, 50n, "tr-2-resolved"));
    await t.ledger.post(creditReturn(alice, 2_000n, "pay-1-return"));
    expect(balances([alice, bob, S.float, S.outbound, S.suspense, S.settlement])).toEqual({
      [alice]: 5_000n - 1_000n - 2_000n - 500n + 500n + 2_000n,
      [bob]: 1_000n - 300n + 700n + 50n,
      [S.float]: 10_000n - 5_000n + 300n,
      [S.outbound]: 0n,
      [S.suspense]: 0n,
      [S.settlement]: -10_000n + 2_000n - 700n - 250n + 200n - 2_000n,
    });
    const tb = t.ledger.trialBalance();
    expect(tb.total).toBe(0n);
    expect(tb.balanced).toBe(true);
    expect(t.ledger.liabilities()).toBe(t.ledger.balance(alice) + t.ledger.balance(bob));
    // On-chain holdings == liabilities + outbound in flight − inbound not yet credited, + float.
    expect(-tb.system[S.settlement]).toBe(tb.liabilities + tb.system[S.outbound] + tb.system[S.suspense] + tb.system[S.float]);
  });

  test("error: no overdraft, and nothing is written", async () => {
    const [alice, bob] = await seedCustomers(t.ledger, 2, 100n);
    const entries = t.ledger.entryCount;
    await expect(t.ledger.post(transferInternal(alice, bob, 101n))).rejects.toMatchObject({
      code: "insufficient_funds",
      details: { account: alice, balance: "100", needed: "101" },
    });
    await expect(t.ledger.post(withdraw(alice, 101n))).rejects.toMatchObject({ code: "insufficient_funds" });
    await expect(t.ledger.post(reserveOutbound(alice, 101n))).rejects.toMatchObject({ code: "insufficient_funds" });
    expect(t.ledger.entryCount).toBe(entries);
    expect(balances([alice, bob])).toEqual({ [alice]: 100n, [bob]: 100n });
    expect((await t.ledger.history(alice)).items).toHaveLength(1);
  });

  test("error: a top-up beyond the float is insufficient_reserve", async () => {
    const [alice] = await seedCustomers(t.ledger, 1, 100n);
    await expect(t.ledger.post(topUp(alice, 1n))).rejects.toMatchObject({
      code: "insufficient_reserve",
      details: { account: "op:float", balance: "0", needed: "1" },
    });
  });

  test("behavior: clearing system accounts may go negative", async () => {
    await t.ledger.post(settleOutbound(10n));
    expect(t.ledger.balance(S.outbound)).toBe(-10n);
  });

  test("behavior: a closed account cannot pay or be paid, but still receives refunds and returns", async () => {
    const [alice, bob] = await seedCustomers(t.ledger, 2, 100n);
    await t.ledger.post(reserveOutbound(alice, 100n, "pay-1"));
    await t.ledger.closeAccount(alice);
    expect(t.ledger.account(alice)?.status).toBe("closed");
    await expect(t.ledger.post(transferInternal(bob, alice, 1n))).rejects.toMatchObject({ code: "account_closed" });
    await t.ledger.post(refundOutbound(alice, 100n, "pay-1"));
    expect(t.ledger.balance(alice)).toBe(100n);
    await expect(t.ledger.post(transferInternal(alice, bob, 1n))).rejects.toMatchObject({ code: "account_closed" });
    // …and what reached it after closing can be withdrawn, so no money is stuck there.
    await t.ledger.post(withdraw(alice, 100n, "bank-out-1"));
    expect(t.ledger.balance(alice)).toBe(0n);
  });

  test("error: closing needs a zero balance", async () => {
    const [alice] = await seedCustomers(t.ledger, 1, 1n);
    await expect(t.ledger.closeAccount(alice)).rejects.toMatchObject({ code: "account_not_empty", details: { balance: "1" } });
    await t.ledger.post(withdraw(alice, 1n));
    expect((await t.ledger.closeAccount(alice)).status).toBe("closed");
    await expect(t.ledger.closeAccount("op:float")).rejects.toMatchObject({ code: "account_not_found" });
  });
});
