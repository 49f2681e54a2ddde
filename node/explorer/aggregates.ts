import { type AlertCounts, BUCKET_SECONDS, type Bucket, type IndexStore, bucketOf, numKey } from "./indexStore.ts";

/** One point of a volume series: transfers, amount and batches in `[start, start + step)`. */
export interface VolumePoint {
  start: number;
  count: number;
  amount: string;
  batches: number;
}

/** One cell of the flow matrix. */
export interface FlowCell {
  from: string;
  to: string;
  count: number;
  amount: string;
}

/** Largest number of points a series may have (bounds the work of one request). */
export const MAX_SERIES_POINTS = 2_000;

/**
 * Volume over `[since, until)` in steps of `step` seconds (a multiple of 15 minutes), built from
 * the 15-minute buckets. `offsetSeconds` is the viewer's UTC offset, so daily steps start at the
 * viewer's midnight, not UTC's.
 *
 * @example
 * await volumeSeries(index, { since: now - 86400, until: now, step: 3600, offsetSeconds: 8 * 3600 })
 */
export async function volumeSeries(
  index: IndexStore,
  o: { since: number; until: number; step: number; offsetSeconds?: number },
): Promise<VolumePoint[]> {
  const step = Math.max(BUCKET_SECONDS, Math.round(o.step / BUCKET_SECONDS) * BUCKET_SECONDS);
  const offset = o.offsetSeconds ?? 0;
  const align = (t: number) => Math.floor((t + offset) / step) * step - offset;
  const first = align(o.since);
  const n = Math.min(MAX_SERIES_POINTS, Math.max(1, Math.ceil((o.until - first) / step)));
  const points: VolumePoint[] = Array.from({ length: n }, (_, i) => ({ start: first + i * step, count: 0, amount: "0", batches: 0 }));
  const sums = points.map(() => 0n);
  for await (const [key, b] of index.volume.iterator({ gte: numKey(first), lt: numKey(first + n * step) })) {
    const i = Math.floor((Number(key) - first) / step);
    if (i < 0 || i >= n) continue;
    points[i].count += b.count;
    points[i].batches += b.batches ?? 0;
    sums[i] += BigInt(b.amount);
  }
  points.forEach((p, i) => (p.amount = sums[i].toString()));
  return points;
}

/**
 * Flows between wallets over `[since, until)`: one cell per (from, to) pair that moved money.
 * Exact when `since` and `until` fall on 15-minute boundaries (every time zone's midnight does)
 * or `until` is in the future; otherwise the buckets at the edges count whole.
 */
export async function flowMatrix(index: IndexStore, o: { since: number; until: number }): Promise<FlowCell[]> {
  const cells = new Map<string, { count: number; amount: bigint }>();
  const start = Math.floor(o.since / BUCKET_SECONDS) * BUCKET_SECONDS;
  for await (const [key, b] of index.flows.iterator({ gte: `${numKey(start)}!`, lt: `${numKey(o.until)}!` })) {
    const [, from, to] = key.split("!");
    const c = cells.get(`${from}!${to}`) ?? { count: 0, amount: 0n };
    c.count += (b as Bucket).count;
    c.amount += BigInt((b as Bucket).amount);
    cells.set(`${from}!${to}`, c);
  }
  return [...cells].map(([k, c]) => {
    const [from, to] = k.split("!");
    return { from, to, count: c.count, amount: c.amount.toString() };
  });
}

/** Totals over `[since, until)` from the 15-minute buckets (edge buckets count whole). */
export async function aggregatesRange(index: IndexStore, o: { since: number; until: number }): Promise<{ count: number; amount: string; batches: number }> {
  let count = 0;
  let batches = 0;
  let amount = 0n;
  const start = Math.floor(o.since / BUCKET_SECONDS) * BUCKET_SECONDS;
  for await (const b of index.volume.values({ gte: numKey(start), lt: numKey(o.until) })) {
    count += b.count;
    batches += b.batches ?? 0;
    amount += BigInt(b.amount);
  }
  return { count, amount: amount.toString(), batches };
}

/**
 * Alerts raised over `[since, until)`, by severity, from the 15-minute counters: every alert is
 * counted (a list page holds at most 1,000; this never stops there). The bucket holding `since`
 * counts whole, so a "last 24 hours" count covers up to 15 minutes more.
 *
 * @example
 * await alertCounts(index, { since: now - 86_400, until: now + 1 }) // { critical: 0, warning: 1204, info: 3 }
 */
export async function alertCounts(index: IndexStore, o: { since: number; until: number }): Promise<AlertCounts> {
  const sum: AlertCounts = { critical: 0, warning: 0, info: 0 };
  for await (const c of index.alertCounts.values({ gte: numKey(bucketOf(o.since)), lt: numKey(o.until) })) {
    sum.critical += c.critical;
    sum.warning += c.warning;
    sum.info += c.info;
  }
  return sum;
}
