import { afterEach, describe, expect, test } from "vitest";
import { BALANCES_CHECKPOINT_KEY, Ledger, LedgerInconsistentError, transferInternal } from "../../node/ledger/index.ts";
import type { EntryRecord } from "../../node/ledger/index.ts";
import { openStore } from "../../node/store/index.ts";
import { openLedger, removeDir, seedCustomers, tempDir } from "./helpers.ts";

let dir = "";
afterEach(async () => {
  if (dir) await removeDir(dir);
});

/** A closed ledger in a temp dir with two customers (100 each) and one transfer, checkpointed or not. */
async function writeLedger(checkpointed: boolean): Promise<{ alice: string; bob: string }> {
  dir = await tempDir("hulian-trial-");
  const { store, ledger } = await openLedger(dir);
  const [alice, bob] = await seedCustomers(ledger, 2, 100n);
  if (checkpointed) await ledger.checkpoint();
  await ledger.post(transferInternal(alice, bob, 30n, "after the checkpoint"));
  await store.close();
  return { alice, bob };
}

/** Opens the store in `dir`, lets `corrupt` write behind the ledger's back, then tries to open the ledger. */
async function openAfter(corrupt: (store: Awaited<ReturnType<typeof openStore>>) => Promise<void>): Promise<unknown> {
  const raw = await openStore(dir);
  await corrupt(raw);
  await raw.close();
  const store = await openStore(dir);
  try {
    await Ledger.open(store);
    return undefined;
  } catch (e) {
    return e;
  } finally {
    await store.close();
  }
}

describe("trial balance on open", () => {
  test("default: an untouched store opens (checkpoint plus replayed journal agree with history)", async () => {
    const { alice, bob } = await writeLedger(true);
    const { store, ledger } = await openLedger(dir);
    expect(ledger.balance(alice)).toBe(70n);
    expect(ledger.balance(bob)).toBe(130n);
    expect(ledger.trialBalance().balanced).toBe(true);
    await store.close();
  });

  test("error: a stored balance that makes the sum non-zero refuses to open", async () => {
    const { alice } = await writeLedger(true);
    const error = await openAfter((s) => s.sub.balances.put(alice, "105"));
    expect(error).toBeInstanceOf(LedgerInconsistentError);
    expect(error).toMatchObject({
      code: "ledger_inconsistent",
      message: "Refusing to open the ledger: its balances sum to 5, not 0.",
      details: { total: "5" },
    });
  });

  test("error: balances that still sum to zero but contradict an account's history refuse to open, naming the account", async () => {
    const { alice, bob } = await writeLedger(true);
    const error = await openAfter(async (s) => {
      await s.sub.balances.put(alice, "90");
      await s.sub.balances.put(bob, "110");
    });
    expect(error).toBeInstanceOf(LedgerInconsistentError);
    expect(error).toMatchObject({
      message: `Refusing to open the ledger: account ${alice} has balance 60 but its history records 70.`,
      details: { account: alice, balance: "60", history: "70" },
    });
  });

  test("error: a journal entry after the checkpoint rewritten (still balanced) refuses to open on replay", async () => {
    const { alice } = await writeLedger(true);
    const error = await openAfter(async (s) => {
      const checkpoint = BigInt((await s.sub.balances.get(BALANCES_CHECKPOINT_KEY)) as string);
      const [[key, value]] = await s.sub.entries.iterator({ gt: String(checkpoint).padStart(20, "0"), limit: 1 }).all();
      const entry = value as EntryRecord;
      const doubled = { ...entry, postings: entry.postings.map((p) => ({ ...p, amount: (BigInt(p.amount) * 2n).toString() })) };
      await s.sub.entries.put(key, doubled);
    });
    expect(error).toBeInstanceOf(LedgerInconsistentError);
    expect(error).toMatchObject({ details: { account: alice, balance: "40", history: "70" } });
  });
});
