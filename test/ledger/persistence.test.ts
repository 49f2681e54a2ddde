import { afterEach, describe, expect, test } from "vitest";
import { SYSTEM_ACCOUNTS, reserveOutbound, transferInternal, verifyLedger } from "../../node/ledger/index.ts";
import { openLedger, removeDir, seedCustomers, tempDir } from "./helpers.ts";

let dir = "";
afterEach(async () => {
  if (dir) await removeDir(dir);
});

describe("reopen", () => {
  test("behavior: balances, accounts, handles, history and the journal position survive a reopen", async () => {
    dir = await tempDir();
    let { store, ledger } = await openLedger(dir);
    const [alice, bob] = await seedCustomers(ledger, 2, 500n);
    await ledger.post(transferInternal(alice, bob, 120n, "rent"));
    await ledger.post(reserveOutbound(bob, 20n, "x1"));
    await ledger.closeAccount((await ledger.openAccount({ handle: "gone", displayName: "Gone" })).account.id);
    const before = {
      tb: ledger.trialBalance(),
      customers: ledger.customerBalances(),
      alice: ledger.account(alice),
      gone: ledger.accountByHandle("gone"),
      history: await ledger.history(bob),
      entries: ledger.entryCount,
      liabilities: ledger.liabilities(),
    };
    await store.close();

    ({ store, ledger } = await openLedger(dir));
    expect({
      tb: ledger.trialBalance(),
      customers: ledger.customerBalances(),
      alice: ledger.account(alice),
      gone: ledger.accountByHandle("gone"),
      history: await ledger.history(bob),
      entries: ledger.entryCount,
      liabilities: ledger.liabilities(),
    }).toEqual(before);
    expect(before.gone?.status).toBe("closed");
    expect(ledger.balance(SYSTEM_ACCOUNTS.outbound)).toBe(20n);
    // The journal continues where it stopped.
    const { entry } = await ledger.post(transferInternal(bob, alice, 1n));
    expect(entry.seq).toBe(before.entries + 1n);
    await expect(ledger.openAccount({ handle: "GONE", displayName: "x" })).rejects.toMatchObject({ code: "handle_taken" });
    expect((await verifyLedger(store)).problems).toEqual([]);
    await store.close();
  });
});
