import type { AbstractSublevel } from "abstract-level";
import { Level } from "level";
import { POS_KEY_LENGTH } from "./decodeEvents.ts";

type Db = Level<string, unknown>;
/** A sublevel of the index holding values of type `V` under utf8 keys. */
export type Sub<V> = AbstractSublevel<Db, string | Buffer | Uint8Array, string, V>;

/** One write of an index update; all of a block range's writes and its cursor go in one batch. */
export type IndexOp = { type: "put"; sublevel: Sub<any>; key: string; value: unknown } | { type: "del"; sublevel: Sub<any>; key: string };

/**
 * The explorer's own LevelDB index (never a node's store). One sublevel per concern; every key
 * that lists things ends in a chain position (`posKey`: block, log, record), so lists are reverse
 * range scans from a cursor and no request scans the whole index. A transfer's position includes
 * its record within its payee group's `TransfersSettled` log, so every transfer has a key of its own.
 *
 * | sublevel   | key                                  | value |
 * | ---        | ---                                  | ---   |
 * | meta       | `cursor`, `chain`, `layout`, `totals`, `paused`, `headTime` | JSON |
 * | events     | pos                                  | every other decoded event (the raw feed), reverted calls |
 * | transfers  | pos                                  | {@link TransferRecord} |
 * | byId       | transferId                           | pos |
 * | byTx       | txHash!pos                           | index value |
 * | byRef      | ref!pos (payer and payee refs)       | index value |
 * | byWallet   | code!pos (sender and payee)          | index value |
 * | byPair     | from!to!pos                          | index value |
 * | byAmount   | amount(40 digits)!pos                | index value |
 * | batches    | code!batchNo(20 digits)              | {@link BatchRecord} |
 * | batchFeed  | pos                                  | code!batchNo |
 * | operators  | code                                 | {@link OperatorState} |
 * | opEvents   | code!pos                             | lifecycle, limits, attestation, mint/burn events |
 * | opReturns  | code!pos                             | returns, kept apart so they cannot bury the lifecycle |
 * | attests    | code!pos                             | attestation |
 * | volume     | bucket(12 digits, 15-min start)      | {@link Bucket} |
 * | flows      | bucket!from!to                       | {@link Bucket} |
 * | times      | timestamp(12)!block(12)              | "" (time range → block range) |
 * | alerts     | pos!rule                             | {@link StoredAlert} |
 * | alertCounts| bucket(12 digits, 15-min start)      | {@link AlertCounts} raised in the bucket |
 * | frozen     | ref                                  | {frozen, pos} |
 *
 * "index value" is `from to amount` (space separated), so filters on wallets and amounts and the
 * totals of a search run on index entries alone; the full record is read only for the page shown.
 */
export interface IndexStore {
  readonly db: Db;
  readonly meta: Sub<unknown>;
  readonly events: Sub<unknown>;
  readonly transfers: Sub<TransferRecord>;
  readonly byId: Sub<string>;
  readonly byTx: Sub<string>;
  readonly byRef: Sub<string>;
  readonly byWallet: Sub<string>;
  readonly byPair: Sub<string>;
  readonly byAmount: Sub<string>;
  readonly batches: Sub<BatchRecord>;
  readonly batchFeed: Sub<string>;
  readonly operators: Sub<OperatorState>;
  readonly opEvents: Sub<OperatorEvent>;
  readonly opReturns: Sub<OperatorEvent>;
  readonly attests: Sub<AttestationRecord>;
  readonly volume: Sub<Bucket>;
  readonly flows: Sub<Bucket>;
  readonly times: Sub<string>;
  readonly alerts: Sub<StoredAlert>;
  readonly alertCounts: Sub<AlertCounts>;
  readonly frozen: Sub<{ frozen: boolean; pos: string; txHash: string; timestamp: number }>;
  close(): Promise<void>;
}

/** A settled transfer as the index keeps it. Amounts are decimal strings of minor units. */
export interface TransferRecord {
  pos: string;
  transferId: string;
  from: string;
  to: string;
  fromWallet: string;
  toWallet: string;
  seq: string;
  amount: string;
  payerRef: string;
  payeeRef: string;
  memoHash: string;
  txHash: string;
  blockNumber: string;
  /** The `TransfersSettled` log of the transfer's payee group, shared with the rest of the group… */
  logIndex: number;
  /** …and the transfer's place among that log's records. */
  record: number;
  timestamp: number;
  batchNo?: string;
  returned?: { pos: string; txHash: string; reasonCode: number; timestamp: number };
}

/** A settled batch (one `BatchSettled`). */
export interface BatchRecord {
  pos: string;
  wallet: string;
  walletId: string;
  batchNo: string;
  firstSeq: string;
  count: number;
  total: string;
  root: string;
  prevHead: string;
  head: string;
  txHash: string;
  blockNumber: string;
  timestamp: number;
  payees: string[];
}

/** An operator's current state, folded from registry, hub, token and attestation events. */
export interface OperatorState {
  code: string;
  walletId: string;
  name: string;
  settlementAccount: string;
  validator: string;
  endpoint: string;
  status: "Pending" | "Active" | "Suspended" | "Exited";
  /** Reason code of the current suspension (or rejection), 0 otherwise. */
  reasonCode: number;
  appliedAt: number;
  updatedAt: number;
  limits: { perTransfer: string; daily: string } | null;
  batches: number;
  sent: { count: number; amount: string };
  received: { count: number; amount: string };
  /** Transfers it received and sent back (it is the payee that returned them). */
  returned: { count: number; amount: string };
  /** Transfers it sent that came back to it (absent in an operator indexed before it was counted). */
  returnedToIt?: { count: number; amount: string };
  issued: string;
  redeemed: string;
  attestation: AttestationRecord | null;
}

/** One posted reserve attestation. */
export interface AttestationRecord {
  pos: string;
  wallet: string;
  root: string;
  totalLiabilities: string;
  asOf: number;
  accountCount: number;
  txHash: string;
  blockNumber: string;
  timestamp: number;
}

/** An event in an operator's history (lifecycle, limits, attestation, mint/burn, return). */
export interface OperatorEvent {
  pos: string;
  wallet: string;
  kind: string;
  detail: Record<string, string | number>;
  txHash: string;
  blockNumber: string;
  timestamp: number;
}

/** Count and amount of transfers (and batches) in a 15-minute bucket. */
export interface Bucket {
  count: number;
  amount: string;
  batches?: number;
}

/** An alert raised by an event (kept); state alerts (backing, staleness…) are computed live. */
export interface StoredAlert {
  id: string;
  rule: string;
  severity: "critical" | "warning" | "info";
  title: string;
  detail: string;
  wallet?: string;
  transferId?: string;
  txHash?: string;
  blockNumber: string;
  timestamp: number;
  pos: string;
}

/** Alerts raised, by severity (a 15-minute bucket's, or all of them in `meta.totals`). */
export interface AlertCounts {
  critical: number;
  warning: number;
  info: number;
}

/** Version of the key layout. An index of another layout is rebuilt from the chain at start. */
export const INDEX_LAYOUT = 2;

/** Bucket width of the volume and flow aggregates: 15 minutes, so every time zone's day boundary falls on one. */
export const BUCKET_SECONDS = 900;

/** The start of the bucket holding `timestamp` (unix seconds). */
export function bucketOf(timestamp: number): number {
  return Math.floor(timestamp / BUCKET_SECONDS) * BUCKET_SECONDS;
}

/** A fixed-width decimal key (timestamps, bucket starts). */
export function numKey(n: number | bigint, width = 12): string {
  return n.toString().padStart(width, "0");
}

/** Width of amount keys: a uint128 has at most 39 digits. */
export const AMOUNT_KEY_WIDTH = 40;

/** Sortable key part of an amount in minor units. */
export function amountKey(amount: bigint | string): string {
  return amount.toString().padStart(AMOUNT_KEY_WIDTH, "0");
}

/** The value of a search index entry: what filters and totals need without the record. */
export function indexValue(from: string, to: string, amount: string): string {
  return `${from} ${to} ${amount}`;
}

/** Parses an {@link indexValue}. */
export function parseIndexValue(v: string): { from: string; to: string; amount: bigint } {
  const [from, to, amount] = v.split(" ");
  return { from, to, amount: BigInt(amount) };
}

/** The position at the end of an index key. */
export function posOfKey(key: string): string {
  return key.slice(key.length - POS_KEY_LENGTH);
}

const NAMES = [
  "meta",
  "events",
  "transfers",
  "byId",
  "byTx",
  "byRef",
  "byWallet",
  "byPair",
  "byAmount",
  "batches",
  "batchFeed",
  "operators",
  "opEvents",
  "opReturns",
  "attests",
  "volume",
  "flows",
  "times",
  "alerts",
  "alertCounts",
  "frozen",
] as const;
const UTF8 = new Set<string>(["byId", "byTx", "byRef", "byWallet", "byPair", "byAmount", "batchFeed", "times"]);

/**
 * Opens (creating if needed) the explorer index at `location`.
 *
 * @example
 * const index = await openIndexStore(".hulian/explorer");
 * const cursor = await index.meta.get("cursor");
 */
export async function openIndexStore(location: string): Promise<IndexStore> {
  const db: Db = new Level<string, unknown>(location, { keyEncoding: "utf8", valueEncoding: "json" });
  await db.open();
  const subs: Record<string, unknown> = {};
  for (const name of NAMES) {
    subs[name] = db.sublevel<string, unknown>(name, { keyEncoding: "utf8", valueEncoding: UTF8.has(name) ? "utf8" : "json" });
  }
  return { db, ...(subs as object), close: () => db.close() } as IndexStore;
}
