import { type Address, type Hex, type PublicClient, numberToHex } from "viem";

/**
 * Widest block span of one `eth_getLogs` call unless configured otherwise: Besu's default
 * `rpc-max-logs-range` (5,000). A wider request is refused by the node, so every reader pages.
 */
export const DEFAULT_LOG_SPAN_BLOCKS = 5_000;

/** What `eth_getLogs` filters on (the block range is added per page). */
export interface LogQuery {
  address: Address | readonly Address[];
  topics?: readonly (Hex | readonly Hex[] | null)[];
}

/** Anything with viem's `request`: a public client. */
export type LogRequester = Pick<PublicClient, "request">;

/** One page of logs and the blocks `[from, to]` it covers. */
export interface LogPage<T> {
  logs: T[];
  from: bigint;
  to: bigint;
}

/** The span as a bigint ≥ 1, or a readable error. */
export function logSpan(spanBlocks: number | bigint = DEFAULT_LOG_SPAN_BLOCKS): bigint {
  const span = BigInt(spanBlocks);
  if (span < 1n) throw new Error(`an eth_getLogs span is at least 1 block, not ${spanBlocks}`);
  return span;
}

/**
 * The logs matching `query` in blocks `[from, to]`, one `eth_getLogs` per span of at most
 * `spanBlocks` blocks, oldest page first. Pages are requested one after another, so a reader
 * that stops early (it found what it looked for) asks for nothing more.
 *
 * @example
 * for await (const page of logPages(client, { address: hub, topics }, 0n, head)) handle(page.logs);
 */
export async function* logPages<T = unknown>(
  client: LogRequester,
  query: LogQuery,
  from: bigint,
  to: bigint,
  spanBlocks: number | bigint = DEFAULT_LOG_SPAN_BLOCKS,
): AsyncGenerator<LogPage<T>> {
  const span = logSpan(spanBlocks);
  for (let lo = from; lo <= to; lo += span) {
    const hi = lo + span - 1n < to ? lo + span - 1n : to;
    const logs = (await client.request({
      method: "eth_getLogs",
      params: [{ address: query.address, ...(query.topics ? { topics: query.topics } : {}), fromBlock: numberToHex(lo), toBlock: numberToHex(hi) }],
    } as never)) as T[];
    yield { logs, from: lo, to: hi };
  }
}

/**
 * Every log matching `query` in blocks `[from, to]`, paged as {@link logPages} does, in chain order.
 *
 * @example
 * const logs = await getLogsPaged(client, { address: token, topics: [issuedTopic] }, from, to);
 */
export async function getLogsPaged<T = unknown>(
  client: LogRequester,
  query: LogQuery,
  from: bigint,
  to: bigint,
  spanBlocks: number | bigint = DEFAULT_LOG_SPAN_BLOCKS,
): Promise<T[]> {
  const out: T[] = [];
  for await (const page of logPages<T>(client, query, from, to, spanBlocks)) out.push(...page.logs);
  return out;
}
