import type { Store } from "../store/store.ts";
import { compoundKey } from "../store/keys.ts";
import type { EntryRecord } from "./entries.ts";
import { historyAmounts, historyKey } from "./history.ts";
import type { HistoryValue } from "./history.ts";
import type { IdempotencyRecord } from "./idempotency.ts";
import { BALANCES_CHECKPOINT_KEY } from "./ledger.ts";

/** Result of {@link verifyLedger}. */
export interface LedgerVerification {
  ok: boolean;
  entries: number;
  idempotencyRecords: number;
  /** Σ of all balances recomputed from the journal (must be 0n). */
  total: bigint;
  /** Human-readable descriptions of every inconsistency found. */
  problems: string[];
}

/**
 * Re-derives the ledger from the journal on disk and checks it against the
 * stored state: every entry balances, the stored balances (a checkpoint)
 * equal the sums of the postings up to the checkpoint's entry, every
 * posting has its history item and that item records the account's running
 * balance after the entry (recomputed from the journal),
 * there are no other history items, journal sequence numbers have no gaps,
 * and idempotency records and the entries they guard exist together. Reads
 * everything; meant for tests, recovery checks and audits.
 */
export async function verifyLedger(store: Store): Promise<LedgerVerification> {
  const problems: string[] = [];
  const sums = new Map<string, bigint>();
  // The stored balances: a checkpoint that includes the entries up to `checkpoint`.
  const stored = new Map<string, bigint>();
  let checkpoint: bigint | undefined;
  for await (const [id, raw] of store.sub.balances.iterator()) {
    if (id === BALANCES_CHECKPOINT_KEY) checkpoint = BigInt(raw);
    else stored.set(id, BigInt(raw));
  }
  let storedChecked = false;
  /** Compares the stored balances with the journal's sums up to the checkpoint. */
  const checkStored = (): void => {
    storedChecked = true;
    let total = 0n;
    for (const [id, balance] of stored) {
      total += balance;
      const sum = sums.get(id) ?? 0n;
      if (balance !== sum) problems.push(`balance of ${id} is ${balance}, journal says ${sum} at entry ${checkpoint ?? "(last)"}`);
    }
    for (const [id, sum] of sums) if (sum !== 0n && !stored.has(id)) problems.push(`balance of ${id} missing, journal says ${sum}`);
    if (total !== 0n) problems.push(`trial balance of the stored balances is ${total}`);
  };
  const guarded = new Map<string, string[]>();
  let entries = 0;
  let postings = 0;
  let expectedSeq = 1n;
  /** History items to check: key, account, amount and running balance after the entry. */
  let pending: { key: string; account: string; amount: bigint; after: bigint; entryId: string }[] = [];
  const checkHistory = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    const values = (await store.sub.accountHistory.getMany(batch.map((h) => h.key))) as (HistoryValue | undefined)[];
    batch.forEach((h, i) => {
      const v = values[i];
      if (v === undefined) {
        problems.push(`entry ${h.entryId} has no history item for ${h.account}`);
        return;
      }
      const amounts = historyAmounts(h.account, v, { postings: [{ account: h.account, amount: h.amount }] });
      if (!amounts || amounts.amount !== h.amount || amounts.balanceAfter !== h.after) {
        problems.push(
          `history item of ${h.account} for entry ${h.entryId} says ${amounts?.amount}/${amounts?.balanceAfter}, journal says ${h.amount}/${h.after}`,
        );
      }
    });
  };
  for await (const [key, value] of store.sub.entries.iterator()) {
    const e = value as EntryRecord;
    entries++;
    const seq = BigInt(e.seq);
    if (!storedChecked && checkpoint !== undefined && seq > checkpoint) checkStored();
    if (seq !== expectedSeq) problems.push(`journal gap: expected ${expectedSeq}, found ${e.seq}`);
    expectedSeq = seq + 1n;
    if (key !== e.id) problems.push(`entry ${e.id} stored under ${key}`);
    let sum = 0n;
    for (const p of e.postings) {
      const amount = BigInt(p.amount);
      sum += amount;
      const after = (sums.get(p.account) ?? 0n) + amount;
      sums.set(p.account, after);
      postings++;
      pending.push({ key: historyKey(p.account, seq), account: p.account, amount, after, entryId: e.id });
    }
    if (pending.length >= 1_000) await checkHistory();
    if (sum !== 0n) problems.push(`entry ${e.id} does not balance (${sum})`);
    if (e.idempotency) {
      const k = compoundKey(e.idempotency.scope, e.idempotency.key);
      guarded.set(k, [...(guarded.get(k) ?? []), e.id]);
    }
  }
  await checkHistory();
  // Every posting has its own key, so equal counts mean no history item is left over.
  let historyItems = 0;
  for await (const _ of store.sub.accountHistory.keys()) historyItems++;
  if (historyItems !== postings) problems.push(`${historyItems} history items for ${postings} postings`);
  if (checkpoint !== undefined && checkpoint > expectedSeq - 1n) {
    problems.push(`balance checkpoint at entry ${checkpoint} is past the journal's end (${expectedSeq - 1n})`);
  }
  // No checkpoint position (a store written before checkpoints): the balances are current.
  if (!storedChecked) checkStored();
  let idempotencyRecords = 0;
  for await (const [k, value] of store.sub.idempotency.iterator()) {
    const r = value as IdempotencyRecord;
    idempotencyRecords++;
    if (compoundKey(r.scope, r.key) !== k) problems.push(`idempotency record ${k} names ${r.scope}!${r.key}`);
    const found = guarded.get(k) ?? [];
    for (const id of r.entryIds) if (!found.includes(id)) problems.push(`idempotency record ${k} points at missing entry ${id}`);
    guarded.delete(k);
  }
  for (const [k, ids] of guarded) problems.push(`entries ${ids.join(",")} have no idempotency record ${k}`);
  let total = 0n;
  for (const sum of sums.values()) total += sum;
  if (total !== 0n) problems.push(`trial balance is ${total}`);
  return { ok: problems.length === 0, entries, idempotencyRecords, total, problems };
}
