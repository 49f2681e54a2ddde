import { compoundKey, parseSeqKey, prefixRange, seqKey } from "../store/keys.ts";
import type { Store } from "../store/store.ts";
import { entryFromRecord } from "./entries.ts";
import type { Entry, EntryRecord } from "./entries.ts";
import { InvalidCursorError } from "./errors.ts";
import { HulianError } from "../store/errors.ts";

/**
 * Stored value of an `accountHistory` item as first written (amounts as
 * decimal strings). Items are now written as just the balance after the
 * entry (a decimal string): the entry id is the key's last part and the
 * amount is the account's posting in the entry. Both forms are read.
 */
export interface HistoryRecord {
  entryId: string;
  amount: string;
  balanceAfter: string;
}

/** A decoded `accountHistory` value: the balance after the entry (decimal string), or a {@link HistoryRecord}. */
export type HistoryValue = string | HistoryRecord;

/**
 * The level value encoding of the `accountHistory` sublevel: the balance after
 * the entry as a decimal string (what the ledger stages), or a
 * {@link HistoryRecord} as JSON (older items).
 */
export const historyEncoding = {
  name: "hulian-history",
  format: "utf8" as const,
  encode: (value: HistoryValue): string => (typeof value === "string" ? value : JSON.stringify(value)),
  decode: (text: string): HistoryValue => (text.charCodeAt(0) === 0x7b /* { */ ? (JSON.parse(text) as HistoryRecord) : text),
};

/** The signed amount and the balance after the entry that a history item records. */
export function historyAmounts(accountId: string, value: HistoryValue, entry: { postings: readonly { account: string; amount: bigint | string }[] }): {
  amount: bigint;
  balanceAfter: bigint;
} | undefined {
  if (typeof value !== "string") return { amount: BigInt(value.amount), balanceAfter: BigInt(value.balanceAfter) };
  for (const p of entry.postings) if (p.account === accountId) return { amount: BigInt(p.amount), balanceAfter: BigInt(value) };
  return undefined;
}

/** One line of an account's history. */
export interface HistoryItem {
  entry: Entry;
  /** This account's posting in the entry (signed). */
  amount: bigint;
  /** The account's balance right after the entry. */
  balanceAfter: bigint;
}

/** A page of history, newest first. */
export interface HistoryPage {
  items: HistoryItem[];
  /** Pass as `cursor` to get the next (older) page; absent on the last page. */
  nextCursor?: string;
}

/** Options of {@link readHistory}. */
export interface HistoryOptions {
  /** Page size, 1–1000, default 50. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** Key of the history item of `accountId` for entry `seq`. */
export function historyKey(accountId: string, seq: bigint): string {
  return compoundKey(accountId, seqKey(seq));
}

function encodeCursor(seq: string): string {
  return Buffer.from(`h1:${seq}`).toString("base64url");
}

function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  if (!text.startsWith("h1:")) throw new InvalidCursorError(cursor);
  const seq = text.slice(3);
  try {
    parseSeqKey(seq);
  } catch {
    throw new InvalidCursorError(cursor);
  }
  return seq;
}

/**
 * Reads one page of an account's history, newest first. The cursor is
 * opaque to callers (it encodes the sequence number of the last item seen),
 * so pages stay stable while new entries arrive.
 */
export async function readHistory(store: Store, accountId: string, options: HistoryOptions = {}): Promise<HistoryPage> {
  const limit = Math.min(1000, Math.max(1, Math.floor(options.limit ?? 50)));
  const range: { gt: string; lt: string } = prefixRange(accountId);
  if (options.cursor !== undefined) range.lt = compoundKey(accountId, decodeCursor(options.cursor));
  const rows = (await store.sub.accountHistory.iterator({ ...range, reverse: true, limit: limit + 1 }).all()) as [
    string,
    HistoryValue,
  ][];
  const page = rows.slice(0, limit);
  const ids = page.map(([k]) => k.slice(accountId.length + 1));
  const entries = (await store.sub.entries.getMany(ids)) as (EntryRecord | undefined)[];
  const items = page.map(([, v], i): HistoryItem => {
    const rec = entries[i];
    if (!rec) throw new HulianError("ledger_inconsistent", "History points at a missing entry.", { details: { entryId: ids[i] } });
    const entry = entryFromRecord(rec);
    const amounts = historyAmounts(accountId, v, entry);
    if (!amounts) {
      throw new HulianError("ledger_inconsistent", "History points at an entry without a posting for the account.", {
        details: { entryId: ids[i], accountId },
      });
    }
    return { entry, amount: amounts.amount, balanceAfter: amounts.balanceAfter };
  });
  const result: HistoryPage = { items };
  if (rows.length > limit) result.nextCursor = encodeCursor(page[page.length - 1][0].slice(accountId.length + 1));
  return result;
}
