import { SEQ_KEY_WIDTH } from "../store/keys.ts";
import { InvalidAmountError, InvalidEntryError, UnbalancedEntryError } from "./errors.ts";

/** A JSON value (what may go into `meta` and idempotent responses). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Kinds of journal entries written by the standard movements. */
export const ENTRY_KINDS = {
  topUp: "top_up",
  withdrawal: "withdrawal",
  reserveFunded: "reserve_funded",
  internalTransfer: "internal_transfer",
  outboundReserved: "outbound_reserved",
  outboundSettled: "outbound_settled",
  outboundRefunded: "outbound_refunded",
  inboundCredited: "inbound_credited",
  inboundHeld: "inbound_held",
  suspenseCredited: "suspense_credited",
  suspenseReturned: "suspense_returned",
  returnCredited: "return_credited",
} as const;

/** A standard entry kind, or any other kind a module defines. */
export type EntryKind = (typeof ENTRY_KINDS)[keyof typeof ENTRY_KINDS] | (string & {});

/** One line of a journal entry: a signed amount in minor units on one account. */
export interface Posting {
  account: string;
  /** Positive = the account's balance grows; negative = it shrinks. Never zero. */
  amount: bigint;
}

/** What a movement asks the ledger to record. */
export interface EntryDraft {
  kind: EntryKind;
  postings: Posting[];
  /** External reference (payment id, transfer id, bank reference…). */
  ref?: string;
  meta?: { [key: string]: JsonValue };
  /**
   * Accounts that may be credited although closed (refunds and returns must
   * reach their customer even if the account closed meanwhile).
   */
  allowClosedCredit?: boolean;
  /**
   * Allows debiting a closed customer account: a withdrawal of money that reached the account
   * after it closed (a refund or a return of a payment made before closing) — never a payment.
   */
  allowClosedDebit?: boolean;
}

/** A recorded journal entry. */
export interface Entry {
  /** Zero-padded journal sequence number; sorts in posting order. */
  id: string;
  seq: bigint;
  kind: EntryKind;
  postings: Posting[];
  ref?: string;
  /** ISO 8601. */
  createdAt: string;
  meta?: { [key: string]: JsonValue };
  /** The idempotency key that guarded the request which wrote this entry. */
  idempotency?: { scope: string; key: string };
}

/** JSON form of an {@link Entry} as stored (amounts and seq as decimal strings). */
export interface EntryRecord {
  id: string;
  seq: string;
  kind: string;
  postings: { account: string; amount: string }[];
  ref?: string;
  createdAt: string;
  meta?: { [key: string]: JsonValue };
  idempotency?: { scope: string; key: string };
}

/** Throws {@link InvalidAmountError} unless `amount` is a `bigint` greater than zero. */
export function assertPositiveAmount(amount: bigint): void {
  if (typeof amount !== "bigint" || amount <= 0n) throw new InvalidAmountError(amount);
}

/**
 * Checks the shape of a draft: at least two postings, bigint non-zero
 * amounts, each account at most once, and a zero sum (double entry).
 * Balances are checked by the ledger, which holds them.
 */
export function validateDraft(draft: EntryDraft): void {
  const postings = draft.postings;
  if (!Array.isArray(postings) || postings.length < 2) {
    throw new InvalidEntryError("at least two postings are required");
  }
  if (typeof draft.kind !== "string" || draft.kind.length === 0) throw new InvalidEntryError("kind is required");
  const n = postings.length;
  // Small entries (nearly all have two postings) check repeats pairwise instead of through a Set.
  const seen = n > 8 ? new Set<string>() : undefined;
  let sum = 0n;
  for (let i = 0; i < n; i++) {
    const p = postings[i];
    const account = p.account;
    if (typeof account !== "string" || account.length === 0) throw new InvalidEntryError("posting without account");
    if (typeof p.amount !== "bigint") throw new InvalidEntryError("amount must be a bigint", { account });
    if (p.amount === 0n) throw new InvalidEntryError("zero amount", { account });
    if (seen) {
      if (seen.has(account)) throw new InvalidEntryError("account posted twice", { account });
      seen.add(account);
    } else {
      for (let j = 0; j < i; j++) if (postings[j].account === account) throw new InvalidEntryError("account posted twice", { account });
    }
    sum += p.amount;
  }
  if (sum !== 0n) throw new UnbalancedEntryError(sum);
}

/** Converts an entry to its stored JSON form. */
export function entryToRecord(e: Entry): EntryRecord {
  const r: EntryRecord = {
    id: e.id,
    seq: e.seq.toString(),
    kind: e.kind,
    postings: e.postings.map((p) => ({ account: p.account, amount: p.amount.toString() })),
    createdAt: e.createdAt,
  };
  if (e.ref !== undefined) r.ref = e.ref;
  if (e.meta !== undefined) r.meta = e.meta;
  if (e.idempotency !== undefined) r.idempotency = e.idempotency;
  return r;
}

/** Converts a stored entry back to an {@link Entry}. */
export function entryFromRecord(r: EntryRecord): Entry {
  const e: Entry = {
    id: r.id,
    seq: BigInt(r.seq),
    kind: r.kind,
    postings: r.postings.map((p) => ({ account: p.account, amount: BigInt(p.amount) })),
    createdAt: r.createdAt,
  };
  if (r.ref !== undefined) e.ref = r.ref;
  if (r.meta !== undefined) e.meta = r.meta;
  if (r.idempotency !== undefined) e.idempotency = r.idempotency;
  return e;
}

/*
 * Stored form of a journal entry (the value under `entries!<id>`): a JSON array
 *
 *   [1, seq, kind, createdAt, [account, amount, account, amount, …], ref, meta, scope, key]
 *
 * with seq and amounts as decimal strings and absent fields as 0 (trailing
 * ones dropped). About half the size of the equivalent object and cheaper to
 * encode; the id is the key itself (seqKey(seq)). Values written before this
 * format (JSON objects, i.e. {@link EntryRecord}) still decode.
 */

const ENTRY_FORMAT = 1;
/** Marks an absent ref or meta (neither is ever a number). */
const ABSENT = 0;

/** Encodes an entry for the `entries` sublevel. */
export function encodeEntry(e: Entry): string {
  const postings = e.postings;
  const flat: string[] = new Array(postings.length * 2);
  for (let i = 0; i < postings.length; i++) {
    flat[2 * i] = postings[i].account;
    flat[2 * i + 1] = postings[i].amount.toString();
  }
  const row: unknown[] = [ENTRY_FORMAT, e.seq.toString(), e.kind, e.createdAt, flat];
  if (e.ref !== undefined || e.meta !== undefined || e.idempotency !== undefined) row.push(e.ref === undefined ? ABSENT : e.ref);
  if (e.meta !== undefined || e.idempotency !== undefined) row.push(e.meta === undefined ? ABSENT : e.meta);
  if (e.idempotency !== undefined) row.push(e.idempotency.scope, e.idempotency.key);
  return JSON.stringify(row);
}

/** Encodes an {@link EntryRecord} (the decoded form) for the `entries` sublevel. */
export function encodeEntryRecord(r: EntryRecord): string {
  return encodeEntry(entryFromRecord(r));
}

/** Decodes a stored entry value (either format) into an {@link EntryRecord}. */
export function decodeEntryRecord(text: string): EntryRecord {
  const v = JSON.parse(text) as unknown;
  if (!Array.isArray(v)) return v as EntryRecord;
  const [, seq, kind, createdAt, flat, ref, meta, scope, key] = v as [
    number,
    string,
    string,
    string,
    string[],
    string | typeof ABSENT | undefined,
    { [key: string]: JsonValue } | typeof ABSENT | undefined,
    string | undefined,
    string | undefined,
  ];
  const postings: { account: string; amount: string }[] = [];
  for (let i = 0; i < flat.length; i += 2) postings.push({ account: flat[i], amount: flat[i + 1] });
  const r: EntryRecord = { id: seq.padStart(SEQ_KEY_WIDTH, "0"), seq, kind, postings, createdAt };
  if (ref !== ABSENT && ref !== undefined) r.ref = ref;
  if (meta !== ABSENT && meta !== undefined) r.meta = meta;
  if (scope !== undefined && key !== undefined) r.idempotency = { scope, key };
  return r;
}

/**
 * The level value encoding of the `entries` sublevel: reads give
 * {@link EntryRecord}s; writes take an EntryRecord or a string already made by
 * {@link encodeEntry} (what the ledger stages).
 */
export const entryEncoding = {
  name: "hulian-entry",
  format: "utf8" as const,
  encode: (value: EntryRecord | string): string => (typeof value === "string" ? value : encodeEntryRecord(value)),
  decode: decodeEntryRecord,
};
