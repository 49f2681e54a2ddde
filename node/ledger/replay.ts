import type { Store } from "../store/store.ts";
import { prefixRange, seqKey } from "../store/keys.ts";
import { isSystemAccount } from "./accounts.ts";
import type { Account } from "./accounts.ts";
import type { EntryRecord } from "./entries.ts";
import { LedgerInconsistentError } from "./errors.ts";
import type { HistoryValue } from "./history.ts";

/**
 * Key, in the `balances` sublevel, of the checkpoint position: the sequence
 * number of the last journal entry that the stored balances include. It is
 * never an account id (those are `c_…` or `op:…`).
 */
export const BALANCES_CHECKPOINT_KEY = "~checkpoint";

/** The ledger's in-memory state, filled by {@link loadLedgerState}. */
export interface LedgerMemory {
  readonly balances: Map<string, bigint>;
  readonly accounts: Map<string, Account>;
  readonly handles: Map<string, string>;
  /** Accounts whose balance changed since the stored checkpoint. */
  readonly dirty: Set<string>;
}

/** What {@link loadLedgerState} found besides the maps it filled. */
export interface LoadedPosition {
  /** Sequence number the next journal entry gets. */
  nextSeq: bigint;
  /** Σ customer balances. */
  liabilities: bigint;
  /** Journal entries replayed after the checkpoint. */
  sinceCheckpoint: number;
  /** The stored checkpoint position; undefined for a new store or one written before checkpoints. */
  checkpoint: bigint | undefined;
}

/** Accounts whose last history item is read at once while checking balances on open. */
const CHECK_CONCURRENCY = 64;

/**
 * Loads accounts, handles and the balance checkpoint into `memory`, replays
 * the journal entries after the checkpoint, then checks the result
 * ({@link assertTrialBalance}) so that a ledger never opens on balances that
 * contradict its journal.
 */
export async function loadLedgerState(store: Store, memory: LedgerMemory): Promise<LoadedPosition> {
  for await (const [id, value] of store.sub.accounts.iterator()) {
    const account = value as Account;
    memory.accounts.set(id, account);
    if (account.handle !== undefined) memory.handles.set(account.handle, id);
  }
  let checkpoint: bigint | undefined;
  for await (const [id, value] of store.sub.balances.iterator()) {
    if (id === BALANCES_CHECKPOINT_KEY) checkpoint = BigInt(value);
    else memory.balances.set(id, BigInt(value));
  }
  const last = await store.sub.entries.keys({ reverse: true, limit: 1 }).all();
  const nextSeq = last.length > 0 ? BigInt(last[0]) + 1n : 1n;
  let sinceCheckpoint = 0;
  if (checkpoint !== undefined) {
    // Entries committed after the checkpoint: their balances are not stored yet.
    for await (const value of store.sub.entries.values({ gt: seqKey(checkpoint) })) {
      for (const p of (value as EntryRecord).postings) {
        memory.balances.set(p.account, (memory.balances.get(p.account) ?? 0n) + BigInt(p.amount));
        memory.dirty.add(p.account);
      }
      sinceCheckpoint++;
    }
  }
  await assertTrialBalance(store, memory.balances);
  let liabilities = 0n;
  for (const [id, balance] of memory.balances) if (!isSystemAccount(id)) liabilities += balance;
  return { nextSeq, liabilities, sinceCheckpoint, checkpoint };
}

/**
 * The trial balance on open: Σ of all balances is zero (double entry), and
 * every account's balance (checkpoint plus replayed journal) equals the
 * running balance that its latest history item recorded when that entry was
 * written. Throws {@link LedgerInconsistentError} naming the first mismatch.
 */
export async function assertTrialBalance(store: Store, balances: ReadonlyMap<string, bigint>): Promise<void> {
  let total = 0n;
  for (const balance of balances.values()) total += balance;
  if (total !== 0n) {
    throw new LedgerInconsistentError(`Refusing to open the ledger: its balances sum to ${total}, not 0.`, { total: total.toString() });
  }
  const ids = [...balances.keys()];
  for (let i = 0; i < ids.length; i += CHECK_CONCURRENCY) {
    const chunk = ids.slice(i, i + CHECK_CONCURRENCY);
    const recorded = await Promise.all(chunk.map((id) => lastRecordedBalance(store, id)));
    chunk.forEach((id, j) => {
      const balance = balances.get(id)!;
      const history = recorded[j] ?? 0n;
      if (balance !== history) {
        throw new LedgerInconsistentError(
          `Refusing to open the ledger: account ${id} has balance ${balance} but its history records ${history}.`,
          { account: id, balance: balance.toString(), history: history.toString() },
        );
      }
    });
  }
}

/** The balance after the account's latest history item, or undefined if it has none. */
async function lastRecordedBalance(store: Store, accountId: string): Promise<bigint | undefined> {
  const [value] = (await store.sub.accountHistory.values({ ...prefixRange(accountId), reverse: true, limit: 1 }).all()) as HistoryValue[];
  if (value === undefined) return undefined;
  return BigInt(typeof value === "string" ? value : value.balanceAfter);
}
