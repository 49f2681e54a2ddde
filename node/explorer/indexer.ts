import { type Hex, type PublicClient, decodeErrorResult, decodeFunctionData, toHex } from "viem";
import { mapConcurrent } from "../chain/concurrency.ts";
import { DEFAULT_LOG_SPAN_BLOCKS, getLogsPaged } from "../chain/getLogsPaged.ts";
import { type Logger, silentLogger } from "../observability/logger.ts";
import { backoff } from "../timing/backoff.ts";
import { Wakeable } from "../timing/wakeable.ts";
import { type AlertRules, BurstDetector } from "./alertRules.ts";
import { RangeApplier, type RevertedAttempt } from "./applyEvents.ts";
import { type ContractAddresses, type ContractName, type RawLog, abiOf, decodeChainEvent, posKey } from "./decodeEvents.ts";
import { INDEX_LAYOUT, type IndexStore, type OperatorState } from "./indexStore.ts";

/** Options of {@link Indexer}. */
export interface IndexerOptions {
  client: PublicClient;
  index: IndexStore;
  chainId: number;
  contracts: ContractAddresses;
  /** The deployment block: nothing of Hulian exists before it. */
  startBlock: bigint;
  rules: AlertRules;
  /** Blocks to stay behind the head. 0 on QBFT (instant finality) and the embedded chain. */
  confirmations?: number;
  /** Blocks per atomic index write. Default 2,000. */
  chunkBlocks?: number;
  /** Widest `eth_getLogs` span: at most the node's `rpc-max-logs-range`. Default 5,000 (Besu's default). */
  logSpanBlocks?: number;
  /** Block and receipt reads in flight at once while catching up. Default 32. */
  concurrency?: number;
  /** Pause between polls once caught up, ms. Default 500. */
  pollIntervalMs?: number;
  /**
   * Also read every block's transactions to find calls to the Hulian contracts that reverted
   * (they emit no event). Costs one block read per block. Default true.
   */
  scanReverts?: boolean;
  logger?: Logger;
}

/** Where the indexer is. */
export interface IndexerStatus {
  /** Last block fully indexed, or null before the first range. */
  indexedBlock: string | null;
  /** Chain head at the last poll. */
  headBlock: string | null;
  lagBlocks: number | null;
  caughtUp: boolean;
  lastError: string | null;
  lastSyncAt: number | null;
}

/** The index belongs to another chain or deployment than the one given. Not retryable. */
export class IndexMismatchError extends Error {
  override name = "IndexMismatchError";
}

/** Block and receipt reads the indexer keeps in flight (Besu serves 80 connections for every client of a node). */
export const DEFAULT_INDEXER_CONCURRENCY = 32;

/**
 * Follows every event of the four Hulian contracts from the deployment block into the explorer's
 * LevelDB, range by range. Each range (events, derived state, alerts and the cursor) is one
 * atomic batch, so after a crash or restart it continues exactly after the last range written:
 * nothing is skipped or counted twice.
 *
 * Finality: QBFT blocks are final when sealed, so the default follows the head directly;
 * `confirmations` trails it on chains that can reorganise.
 *
 * @example
 * const indexer = new Indexer({ client, index, chainId, contracts, startBlock, rules });
 * await indexer.init();
 * indexer.start();
 */
export class Indexer {
  readonly #o: Required<Omit<IndexerOptions, "logger">> & { logger: Logger };
  readonly #bursts: BurstDetector;
  readonly #accounts = new Map<string, string>();
  #cursor: bigint | undefined;
  #head: bigint | undefined;
  #caughtUp = false;
  #lastError: string | null = null;
  #lastSyncAt: number | null = null;
  #running: Promise<void> | undefined;
  /** The pause between polls and after a failure: a waiter ends it, `stop()` ends it and the loop. */
  #idle = new Wakeable();
  readonly #waiters = new Set<{ block: bigint; resolve: () => void }>();

  constructor(options: IndexerOptions) {
    this.#o = {
      ...options,
      confirmations: options.confirmations ?? 0,
      chunkBlocks: options.chunkBlocks ?? 2_000,
      logSpanBlocks: options.logSpanBlocks ?? DEFAULT_LOG_SPAN_BLOCKS,
      concurrency: options.concurrency ?? DEFAULT_INDEXER_CONCURRENCY,
      pollIntervalMs: options.pollIntervalMs ?? 500,
      scanReverts: options.scanReverts ?? true,
      logger: options.logger ?? silentLogger,
    };
    this.#bursts = new BurstDetector(options.rules.burst);
  }

  /** Loads the cursor and checks that the index belongs to this chain and deployment. */
  async init(): Promise<void> {
    const { index, chainId, contracts } = this.#o;
    const identity = { chainId, hub: contracts.hub.toLowerCase(), registry: contracts.registry.toLowerCase() };
    const stored = (await index.meta.get("chain")) as typeof identity | undefined;
    if (stored && (stored.chainId !== identity.chainId || stored.hub !== identity.hub || stored.registry !== identity.registry)) {
      throw new IndexMismatchError(
        `the explorer data directory indexes chain ${stored.chainId} hub ${stored.hub}, not chain ${chainId} hub ${identity.hub}: use another --data-dir`,
      );
    }
    let cursor = (await index.meta.get("cursor")) as string | undefined;
    const layout = (await index.meta.get("layout")) as number | undefined;
    if (cursor !== undefined && layout !== INDEX_LAYOUT) {
      // The index is a cache of the chain: one written in another key layout is read by nothing
      // here, so it is rebuilt from the deployment block rather than half understood.
      this.#o.logger.warn("explorer index has another layout; rebuilding it from the chain", { layout: layout ?? 1, now: INDEX_LAYOUT, fromBlock: this.#o.startBlock.toString() });
      await index.db.clear();
      cursor = undefined;
    }
    await index.meta.batch([
      { type: "put", key: "chain", value: identity },
      { type: "put", key: "layout", value: INDEX_LAYOUT },
    ]);
    this.#cursor = cursor === undefined ? undefined : BigInt(cursor);
    for await (const op of index.operators.values()) {
      const o = op as OperatorState;
      this.#accounts.set(o.settlementAccount.toLowerCase(), o.code);
    }
  }

  /** Starts following in the background. */
  start(): void {
    if (this.#running) return;
    // A stopped Wakeable stays stopped: a restart gets a fresh one.
    if (this.#idle.stopped) this.#idle = new Wakeable();
    this.#running = this.#loop(this.#idle);
  }

  /** Stops after the range being written (if any) is committed; a pause ends at once. */
  async stop(): Promise<void> {
    this.#idle.stop();
    await this.#running;
    this.#running = undefined;
  }

  status(): IndexerStatus {
    const lag = this.#head !== undefined ? Number(this.#head - (this.#cursor ?? this.#o.startBlock - 1n)) : null;
    return {
      indexedBlock: this.#cursor?.toString() ?? null,
      headBlock: this.#head?.toString() ?? null,
      lagBlocks: lag,
      caughtUp: this.#caughtUp,
      lastError: this.#lastError,
      lastSyncAt: this.#lastSyncAt,
    };
  }

  /** The last block fully indexed. */
  get indexedBlock(): bigint | undefined {
    return this.#cursor;
  }

  /** Resolves once every block up to `block` is indexed (tests, and the devnet's first page). */
  waitForBlock(block: bigint, timeoutMs = 30_000): Promise<void> {
    if (this.#cursor !== undefined && this.#cursor >= block) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = { block, resolve: () => (clearTimeout(timer), resolve()) };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`the explorer did not index block ${block} within ${timeoutMs} ms (at ${this.#cursor}; ${this.#lastError ?? "no error"})`));
      }, timeoutMs);
      this.#waiters.add(waiter);
      this.#idle.notify();
    });
  }

  /** Indexes the next range if there is one; returns whether it did. */
  async step(): Promise<boolean> {
    const head = await this.#o.client.getBlockNumber();
    this.#head = head;
    const target = head - BigInt(this.#o.confirmations);
    const from = this.#cursor === undefined ? this.#o.startBlock : this.#cursor + 1n;
    if (from > target) {
      this.#caughtUp = true;
      return false;
    }
    const to = target < from + BigInt(this.#o.chunkBlocks) - 1n ? target : from + BigInt(this.#o.chunkBlocks) - 1n;
    await this.#indexRange(from, to);
    this.#caughtUp = to >= target;
    return true;
  }

  async #loop(idle: Wakeable): Promise<void> {
    const poll = this.#o.pollIntervalMs;
    // From the poll interval, doubling to 10 s (or the poll interval when that is longer).
    const retry = { baseMs: poll, maxMs: Math.max(poll, 10_000), jitter: "none" } as const;
    let failures = 0;
    while (!idle.stopped) {
      try {
        const progressed = await this.step();
        this.#lastError = null;
        failures = 0;
        if (!progressed) await idle.wait(poll);
      } catch (err) {
        const retryInMs = backoff(failures++, retry);
        this.#lastError = (err as Error).message.split("\n")[0];
        this.#o.logger.warn("explorer indexing failed; retrying", { err, retryInMs });
        if (err instanceof IndexMismatchError) return;
        await idle.wait(retryInMs);
      }
    }
  }

  async #indexRange(from: bigint, to: bigint): Promise<void> {
    const { client, contracts, index } = this.#o;
    const logs = await getLogsPaged<RawLog>(client, { address: Object.values(contracts) }, from, to, this.#o.logSpanBlocks);
    const events = logs
      .map((log) => decodeChainEvent(log, contracts))
      .filter((e) => e !== undefined)
      .sort((a, b) => (a.pos < b.pos ? -1 : a.pos > b.pos ? 1 : 0));

    const numbers = new Set<bigint>(events.map((e) => e.blockNumber));
    numbers.add(to);
    if (this.#o.scanReverts) for (let n = from; n <= to; n++) numbers.add(n);
    // Bounded: a range of 2,000 blocks must not become 2,000 requests (and sockets) at once.
    const blocks = await mapConcurrent(
      [...numbers],
      this.#o.concurrency,
      (n) =>
        client.request({ method: "eth_getBlockByNumber", params: [toHex(n), this.#o.scanReverts] } as never) as Promise<{
          number: Hex;
          timestamp: Hex;
          transactions: ({ hash: Hex; from: Hex; to: Hex | null; input: Hex; value: Hex; transactionIndex: Hex } | Hex)[];
        } | null>,
    );
    const times = new Map<bigint, number>();
    for (const b of blocks) if (b) times.set(BigInt(b.number), Number(BigInt(b.timestamp)));

    const applier = new RangeApplier(index, this.#o.rules, this.#bursts, times, this.#accounts);
    await applier.load();
    const attempts = this.#o.scanReverts ? await this.#revertedAttempts(blocks, new Set(events.map((e) => e.txHash.toLowerCase()))) : [];
    const pending = [...events.map((e) => ({ pos: e.pos, run: () => applier.apply(e) })), ...attempts.map((r) => ({
      pos: posKey(r.blockNumber, r.logIndex),
      run: () => applier.reverted(r),
    }))].sort((a, b) => (a.pos < b.pos ? -1 : 1));
    for (const p of pending) await p.run();
    applier.finish();
    applier.ops.push({ type: "put", sublevel: index.meta, key: "headTime", value: times.get(to) ?? null });
    applier.ops.push({ type: "put", sublevel: index.meta, key: "cursor", value: to.toString() });
    await index.db.batch(applier.ops as never);
    this.#cursor = to;
    this.#lastSyncAt = Date.now();
    if (events.length > 0 || attempts.length > 0) {
      this.#o.logger.debug("explorer indexed", { from: from.toString(), to: to.toString(), events: events.length, reverted: attempts.length });
    }
    for (const w of this.#waiters) {
      if (w.block <= to) {
        this.#waiters.delete(w);
        w.resolve();
      }
    }
  }

  /**
   * Transactions to a Hulian contract that left no event and whose receipt says reverted. The
   * reason is found by replaying the call on the state before its block (exact when the block holds
   * only that transaction, as on the embedded chain; the closest available view otherwise).
   */
  async #revertedAttempts(
    blocks: readonly ({ number: Hex; transactions: unknown[] } | null)[],
    withEvents: ReadonlySet<string>,
  ): Promise<RevertedAttempt[]> {
    const { client, contracts } = this.#o;
    const byAddress = new Map<string, ContractName>(Object.entries(contracts).map(([name, address]) => [address.toLowerCase(), name as ContractName]));
    const candidates: { tx: { hash: Hex; from: Hex; to: Hex; input: Hex; value: Hex; transactionIndex: Hex }; contract: ContractName; block: bigint }[] = [];
    for (const b of blocks) {
      if (!b) continue;
      for (const tx of b.transactions) {
        if (typeof tx === "string") continue;
        const t = tx as { hash: Hex; from: Hex; to: Hex | null; input: Hex; value: Hex; transactionIndex: Hex };
        const contract = t.to ? byAddress.get(t.to.toLowerCase()) : undefined;
        if (contract && !withEvents.has(t.hash.toLowerCase())) candidates.push({ tx: t as never, contract, block: BigInt(b.number) });
      }
    }
    const receipts = await mapConcurrent(
      candidates,
      this.#o.concurrency,
      (c) => client.request({ method: "eth_getTransactionReceipt", params: [c.tx.hash] } as never) as Promise<{ status: Hex } | null>,
    );
    const out: RevertedAttempt[] = [];
    for (const [i, c] of candidates.entries()) {
      if (receipts[i]?.status !== "0x0") continue;
      const abi = abiOf(c.contract);
      let functionName = c.tx.input.slice(0, 10);
      try {
        functionName = decodeFunctionData({ abi, data: c.tx.input }).functionName;
      } catch {
        // Not a function of the ABI: keep the selector.
      }
      const attempt: RevertedAttempt = {
        txHash: c.tx.hash.toLowerCase(),
        blockNumber: c.block,
        logIndex: 900_000 + Number(BigInt(c.tx.transactionIndex)),
        from: c.tx.from.toLowerCase(),
        contract: c.contract,
        functionName,
      };
      try {
        await client.request({
          method: "eth_call",
          params: [{ from: c.tx.from, to: c.tx.to, data: c.tx.input, value: c.tx.value }, toHex(c.block - 1n)],
        } as never);
      } catch (err) {
        const data = revertData(err);
        if (data) {
          try {
            const decoded = decodeErrorResult({ abi, data });
            attempt.errorName = decoded.errorName;
            attempt.errorArgs = (decoded.args ?? []).map((x) => String(x));
          } catch {
            attempt.errorName = data.slice(0, 10);
          }
        }
      }
      out.push(attempt);
    }
    return out;
  }
}

/** The revert data in an RPC error (viem wraps it; look along the cause chain). */
function revertData(err: unknown): Hex | undefined {
  let e = err as { data?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 6; depth++) {
    const d = e.data as unknown;
    if (typeof d === "string" && /^0x[0-9a-fA-F]{8,}$/.test(d)) return d as Hex;
    if (d && typeof d === "object" && typeof (d as { data?: unknown }).data === "string") return (d as { data: Hex }).data;
    e = e.cause as typeof e;
  }
  return undefined;
}
