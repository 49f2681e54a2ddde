import type { Store } from "../store/store.ts";
import { compoundKey } from "../store/keys.ts";
import type { EntryRecord } from "./entries.ts";
import { historyKey } from "./history.ts";
import type { IdempotencyRecord } from "./idempotency.ts";

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
 * stored state: every entry balances, stored balances equal the sums of
 * postings, every posting has its history item, journal sequence numbers
 * have no gaps, and idempotency records and the entries they guard exist
 * together. Reads everything; meant for tests, recovery checks and audits.
 */
export async function verifyLedger(store: Store): Promise<LedgerVerification> {
  const problems: string[] = [];
  const sums = new Map<string, bigint>();
  const guarded = new Map<string, string[]>();
  let entries = 0;
  let expectedSeq = 1n;
  for await (const [key, value] of store.sub.entries.iterator()) {
    const e = value as EntryRecord;
    entries++;
    if (BigInt(e.seq) !== expectedSeq) problems.push(`journal gap: expected ${expectedSeq}, found ${e.seq}`);
    expectedSeq = BigInt(e.seq) + 1n;
    if (key !== e.id) problems.push(`entry ${e.id} stored under ${key}`);
    let sum = 0n;
    for (const p of e.postings) {
      const amount = BigInt(p.amount);
      sum += amount;
      sums.set(p.account, (sums.get(p.account) ?? 0n) + amount);
      const h = await store.sub.accountHistory.get(historyKey(p.account, BigInt(e.seq)));
      if (h === undefined) problems.push(`entry ${e.id} has no history item for ${p.account}`);
    }
    if (sum !== 0n) problems.push(`entry ${e.id} does not balance (${sum})`);
    if (e.idempotency) {
      const k = compoundKey(e.idempotency.scope, e.idempotency.key);
      guarded.set(k, [...(guarded.get(k) ?? []), e.id]);
    }
  }
  for await (const [id, raw] of store.sub.balances.iterator()) {
    const stored = BigInt(raw);
    if (stored !== (sums.get(id) ?? 0n)) problems.push(`balance of ${id} is ${stored}, journal says ${sums.get(id) ?? 0n}`);
    sums.delete(id);
  }
  for (const [id, sum] of sums) if (sum !== 0n) problems.push(`balance of ${id} missing, journal says ${sum}`);
  let idempotencyRecords = 0;
  for await (const [k, value] of store.sub.idempotency.iterator()) {
    const r = value as IdempotencyRecord;
    idempotencyRecords++;
    const found = guarded.get(k) ?? [];
    for (const id of r.entryIds) if (!found.includes(id)) problems.push(`idempotency record ${k} points at missing entry ${id}`);
    guarded.delete(k);
  }
  for (const [k, ids] of guarded) problems.push(`entries ${ids.join(",")} have no idempotency record ${k}`);
  let total = 0n;
  for await (const raw of store.sub.balances.values()) total += BigInt(raw);
  if (total !== 0n) problems.push(`trial balance is ${total}`);
  return { ok: problems.length === 0, entries, idempotencyRecords, total, problems };
}
