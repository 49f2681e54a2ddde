import { type IndexStore, type Sub, type TransferRecord, numKey, parseIndexValue, posOfKey } from "./indexStore.ts";

/** What a regulator can search transfers by. Every field is optional; all given ones must match. */
export interface TransferFilter {
  /** A transfer id, transaction hash or customer reference: whichever the index knows, in that order. */
  q?: string;
  transferId?: string;
  txHash?: string;
  /** A payer or payee reference. */
  ref?: string;
  /** Either side. */
  wallet?: string;
  from?: string;
  to?: string;
  /** Inclusive bounds, minor units. */
  minAmount?: bigint;
  maxAmount?: bigint;
  /** Unix seconds: `since` inclusive, `until` exclusive. */
  since?: number;
  until?: number;
}

/** A page of transfers, newest first (or largest first when sorted by amount). */
export interface TransferPage {
  items: TransferRecord[];
  /** Opaque; pass back as `cursor` for the next page. Absent on the last page. */
  nextCursor?: string;
  /** Which index answered (for the curious and for performance checks). */
  index: string;
  /** Index entries looked at for this page. */
  examined: number;
}

/** Count and total of everything the filter matches (not only the page). */
export interface TransferSummary {
  count: number;
  amount: string;
  /** True when the scan stopped at its cap: the numbers are lower bounds. */
  partial: boolean;
}

/** Entries one page request may examine before it returns what it has with a cursor. */
export const PAGE_SCAN_BUDGET = 20_000;
/** Entries a summary may examine. */
export const SUMMARY_SCAN_CAP = 250_000;

type Plan = {
  name: string;
  sub: Sub<string> | Sub<TransferRecord>;
  gte: string;
  lt: string;
  /** Index values are records (the transfers sublevel) rather than `from to amount`. */
  records: boolean;
  /** Post-filter on chain position (time), when the key range could not express it. */
  posLow?: string;
  posHigh?: string;
};

const HEX32 = /^0x[0-9a-f]{64}$/;

/** Lower-cases the hex fields, upper-cases wallet codes, and resolves `q` to the field it names. */
export async function normalizeFilter(index: IndexStore, f: TransferFilter): Promise<TransferFilter> {
  const out: TransferFilter = { ...f };
  for (const k of ["q", "transferId", "txHash", "ref"] as const) if (out[k] !== undefined) out[k] = out[k]!.toLowerCase();
  for (const k of ["wallet", "from", "to"] as const) if (out[k] !== undefined) out[k] = out[k]!.toUpperCase();
  if (out.q !== undefined) {
    const q = out.q;
    delete out.q;
    if ((await index.byId.get(q)) !== undefined) out.transferId = q;
    else if ((await index.byTx.keys({ gt: `${q}!`, lt: `${q}!~`, limit: 1 }).all()).length > 0) out.txHash = q;
    else out.ref = q;
  }
  return out;
}

/**
 * The chain positions `[low, high)` of blocks whose time is in `[since, until)`, from the `times`
 * index (one key per block with transfers), or `null` when no block falls in the range.
 */
export async function positionsForTime(index: IndexStore, since?: number, until?: number): Promise<{ low: string; high: string } | null> {
  let low = "";
  let high = "~";
  if (since !== undefined) {
    const first = await index.times.keys({ gte: numKey(Math.max(0, since)), limit: 1 }).all();
    if (first.length === 0) return null;
    low = `${first[0].slice(13)}.`;
  }
  if (until !== undefined) {
    const last = await index.times.keys({ lt: numKey(Math.max(0, until)), reverse: true, limit: 1 }).all();
    if (last.length === 0) return null;
    high = `${last[0].slice(13)}/`;
  }
  return low < high ? { low, high } : null;
}

async function plan(index: IndexStore, f: TransferFilter, sortByAmount: boolean): Promise<Plan | null> {
  const range = f.since !== undefined || f.until !== undefined ? await positionsForTime(index, f.since, f.until) : { low: "", high: "~" };
  if (range === null) return null;
  const prefixed = (name: string, sub: Sub<string>, prefix: string): Plan => ({
    name,
    sub,
    gte: `${prefix}!${range.low}`,
    lt: `${prefix}!${range.high}`,
    records: false,
  });
  if (f.txHash !== undefined) return prefixed("byTx", index.byTx, f.txHash);
  if (f.ref !== undefined) return prefixed("byRef", index.byRef, f.ref);
  if (f.from !== undefined && f.to !== undefined && !sortByAmount) return prefixed("byPair", index.byPair, `${f.from}!${f.to}`);
  const side = f.wallet ?? f.from ?? f.to;
  if (side !== undefined && !sortByAmount) return prefixed("byWallet", index.byWallet, side);
  if (sortByAmount || f.minAmount !== undefined || f.maxAmount !== undefined) {
    const lo = (f.minAmount ?? 0n).toString().padStart(40, "0");
    const hi = f.maxAmount !== undefined ? `${f.maxAmount.toString().padStart(40, "0")}!~` : "~";
    return { name: "byAmount", sub: index.byAmount, gte: `${lo}!`, lt: hi, records: false, posLow: range.low, posHigh: range.high };
  }
  return { name: "transfers", sub: index.transfers, gte: range.low, lt: range.high, records: true };
}

function matches(f: TransferFilter, p: Plan, key: string, from: string, to: string, amount: bigint): boolean {
  if (f.from !== undefined && from !== f.from) return false;
  if (f.to !== undefined && to !== f.to) return false;
  if (f.wallet !== undefined && from !== f.wallet && to !== f.wallet) return false;
  if (f.minAmount !== undefined && amount < f.minAmount) return false;
  if (f.maxAmount !== undefined && amount > f.maxAmount) return false;
  if (p.posLow !== undefined) {
    const pos = posOfKey(key);
    if (pos < p.posLow || pos >= p.posHigh!) return false;
  }
  return true;
}

function fields(p: Plan, value: unknown): { from: string; to: string; amount: bigint } {
  if (p.records) {
    const r = value as TransferRecord;
    return { from: r.from, to: r.to, amount: BigInt(r.amount) };
  }
  return parseIndexValue(value as string);
}

const encodeCursor = (key: string) => Buffer.from(key, "utf8").toString("base64url");
const decodeCursor = (cursor: string) => Buffer.from(cursor, "base64url").toString("utf8");

/**
 * One page of transfers matching `filter`, newest first (largest first with `sortByAmount`).
 *
 * The most selective index for the filter answers (transfer id, transaction, reference, wallet
 * pair, wallet, amount, or time alone); a time range becomes a key range because every key ends
 * in a chain position and block times only grow. Remaining filters run on the index entries, the
 * records are read only for the page. A page stops after {@link PAGE_SCAN_BUDGET} entries and
 * hands back a cursor, so no request scans the whole index.
 *
 * @example
 * const page = await searchTransfers(index, { from: "WECHAT", to: "ALIPAY", since }, { limit: 50 });
 */
export async function searchTransfers(
  index: IndexStore,
  filter: TransferFilter,
  options: { limit?: number; cursor?: string; sortByAmount?: boolean; scanBudget?: number } = {},
): Promise<TransferPage> {
  const f = await normalizeFilter(index, filter);
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 1_000);
  if (f.transferId !== undefined) {
    const pos = HEX32.test(f.transferId) ? await index.byId.get(f.transferId) : undefined;
    const record = pos ? await index.transfers.get(pos) : undefined;
    const p: Plan = { name: "byId", sub: index.transfers, gte: "", lt: "~", records: true };
    const range = await positionsForTime(index, f.since, f.until);
    const inTime = f.since === undefined && f.until === undefined ? true : range !== null && record !== undefined && record.pos >= range.low && record.pos < range.high;
    const ok = record !== undefined && inTime && matches(f, p, record.pos, record.from, record.to, BigInt(record.amount));
    return { items: ok ? [record!] : [], index: "byId", examined: record ? 1 : 0 };
  }
  const p = await plan(index, f, options.sortByAmount ?? false);
  if (p === null) return { items: [], index: "times", examined: 0 };
  const lt = options.cursor ? decodeCursor(options.cursor) : p.lt;
  const positions: string[] = [];
  const records: TransferRecord[] = [];
  let examined = 0;
  let lastKey: string | undefined;
  let exhausted = true;
  const it = (p.sub as Sub<unknown>).iterator({ gte: p.gte, lt: lt < p.lt ? lt : p.lt, reverse: true });
  try {
    for await (const [key, value] of it) {
      examined++;
      lastKey = key;
      const { from, to, amount } = fields(p, value);
      if (matches(f, p, key, from, to, amount)) {
        if (p.records) records.push(value as TransferRecord);
        else positions.push(posOfKey(key));
        if (positions.length + records.length >= limit) {
          exhausted = false;
          break;
        }
      }
      if (examined >= (options.scanBudget ?? PAGE_SCAN_BUDGET)) {
        exhausted = false;
        break;
      }
    }
  } finally {
    await it.close();
  }
  if (!exhausted && lastKey !== undefined) {
    // Is there anything after the last key? Avoid a cursor to an empty page at the exact end.
    const more = await (p.sub as Sub<unknown>).keys({ gte: p.gte, lt: lastKey, reverse: true, limit: 1 }).all();
    if (more.length === 0) exhausted = true;
  }
  const items = p.records ? records : ((await index.transfers.getMany(positions)).filter((r) => r !== undefined) as TransferRecord[]);
  const page: TransferPage = { items, index: p.name, examined };
  if (!exhausted && lastKey !== undefined) page.nextCursor = encodeCursor(lastKey);
  return page;
}

/**
 * Count and total of every transfer matching `filter`, from the index entries alone (no record
 * reads, except for a time-only search, which reads the 15-minute aggregates when aligned).
 */
export async function summarizeTransfers(index: IndexStore, filter: TransferFilter): Promise<TransferSummary> {
  const f = await normalizeFilter(index, filter);
  if (Object.values(f).every((v) => v === undefined)) {
    // No filter: the network-wide counters the indexer keeps answer at once, whatever the size.
    const totals = (await index.meta.get("totals")) as { transfers: number; amount: string } | undefined;
    return { count: totals?.transfers ?? 0, amount: totals?.amount ?? "0", partial: false };
  }
  if (f.transferId !== undefined) {
    const page = await searchTransfers(index, f, { limit: 1 });
    return { count: page.items.length, amount: page.items[0]?.amount ?? "0", partial: false };
  }
  const p = await plan(index, f, false);
  if (p === null) return { count: 0, amount: "0", partial: false };
  let count = 0;
  let amount = 0n;
  let examined = 0;
  let partial = false;
  const it = (p.sub as Sub<unknown>).iterator({ gte: p.gte, lt: p.lt, reverse: true });
  try {
    for await (const [key, value] of it) {
      if (++examined > SUMMARY_SCAN_CAP) {
        partial = true;
        break;
      }
      const x = fields(p, value);
      if (matches(f, p, key, x.from, x.to, x.amount)) {
        count++;
        amount += x.amount;
      }
    }
  } finally {
    await it.close();
  }
  return { count, amount: amount.toString(), partial };
}

/** Every transfer of one batch, in batch order (for its Merkle tree). */
export async function transfersOfBatch(index: IndexStore, walletId: string, firstSeq: bigint, count: number): Promise<TransferRecord[]> {
  const base = BigInt(walletId);
  const id = (seq: bigint) => `0x${(base | seq).toString(16).padStart(64, "0")}`;
  const positions = await index.byId.values({ gte: id(firstSeq), lte: id(firstSeq + BigInt(count) - 1n) }).all();
  return (await index.transfers.getMany(positions)).filter((r) => r !== undefined) as TransferRecord[];
}
