import type { StagedOp, StoreDb } from "./types.ts";
import { CommitFailedError, StoreUnavailableError } from "./errors.ts";

/** Options of a {@link Committer}. */
export interface CommitterOptions {
  /**
   * Soft upper bound of operations per batch. Callers are never split: one
   * caller's operations always land in one batch, even if they alone exceed it.
   * Default 20,000.
   */
  maxBatchOps?: number;
  /** fsync every batch (LevelDB `sync: true`). Default true. */
  sync?: boolean;
  /** Called once, with the error, when a batch write fails. */
  onFatal?: (error: CommitFailedError) => void;
}

/** Counters since the committer was created. */
export interface CommitterStats {
  batches: number;
  ops: number;
  callers: number;
  largestBatchOps: number;
}

interface Pending {
  ops: readonly StagedOp[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit over one LevelDB database.
 *
 * Every logical state change hands its staged operations to {@link commit}.
 * Callers that arrive in the same turn of the event loop, or while the
 * previous batch is being written, are coalesced into a single `db.batch()`.
 *
 * Invariants:
 * - One caller's operations are never split across batches (atomic per caller).
 * - Batches are written one at a time, in the order callers arrived, so the
 *   database always holds a prefix of the staged history. Callers may stage
 *   absolute values (e.g. a new balance) computed from in-memory state.
 * - A caller's promise resolves only after the batch holding its operations
 *   has been written.
 * - If a batch write fails, every caller in it is rejected with
 *   {@link CommitFailedError}, the committer enters a failed state and refuses
 *   all later writes with {@link StoreUnavailableError}. In-memory state built
 *   on the staged operations is then ahead of disk: the process must stop and
 *   recover by reopening the store.
 */
export class Committer {
  readonly #db: StoreDb;
  readonly #maxBatchOps: number;
  readonly #sync: boolean;
  readonly #onFatal: ((error: CommitFailedError) => void) | undefined;
  #queue: Pending[] = [];
  #draining: Promise<void> | undefined;
  #failed: CommitFailedError | undefined;
  #closed = false;
  readonly #stats: CommitterStats = { batches: 0, ops: 0, callers: 0, largestBatchOps: 0 };

  constructor(db: StoreDb, options: CommitterOptions = {}) {
    this.#db = db;
    this.#maxBatchOps = Math.max(1, options.maxBatchOps ?? 20_000);
    this.#sync = options.sync ?? true;
    this.#onFatal = options.onFatal;
  }

  /** The error that put the committer in its failed state, if any. */
  get failed(): CommitFailedError | undefined {
    return this.#failed;
  }

  /** Whether writes are currently accepted. */
  get healthy(): boolean {
    return this.#failed === undefined && !this.#closed;
  }

  /** A copy of the counters. */
  get stats(): CommitterStats {
    return { ...this.#stats };
  }

  /**
   * Throws {@link StoreUnavailableError} unless writes are accepted. Call it
   * before mutating in-memory state that a later {@link commit} will persist.
   */
  assertHealthy(): void {
    if (this.#failed) throw new StoreUnavailableError("failed", this.#failed);
    if (this.#closed) throw new StoreUnavailableError("closed");
  }

  /**
   * Queues the operations of one logical state change and resolves once
   * they are durably written as part of a batch.
   *
   * @example
   * await committer.commit([{ type: "put", sublevel: store.sub.meta, key: "k", value: "v" }]);
   */
  commit(ops: readonly StagedOp[]): Promise<void> {
    try {
      this.assertHealthy();
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ ops, resolve, reject });
      if (!this.#draining) {
        // setImmediate rather than a microtask: lets every caller that is
        // ready in this event-loop turn (including I/O callbacks) join the batch.
        this.#draining = new Promise<void>((done) => setImmediate(() => this.#drain().then(done)));
      }
    });
  }

  /** Resolves when everything queued so far has been written (or failed). */
  async flush(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  /** Writes what is queued, then refuses further writes. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const group: Pending[] = [];
        let count = 0;
        while (this.#queue.length > 0) {
          const next = this.#queue[0];
          if (group.length > 0 && count + next.ops.length > this.#maxBatchOps) break;
          this.#queue.shift();
          group.push(next);
          count += next.ops.length;
        }
        const batch = group.length === 1 ? group[0].ops : supersede(group);
        try {
          if (batch.length > 0) {
            // The sublevel field routes each op; the parent db encodes prefixes.
            await this.#db.batch(batch as never, { sync: this.#sync } as never);
          }
        } catch (cause) {
          this.#fail(group, batch.length, cause);
          return;
        }
        this.#stats.batches++;
        this.#stats.ops += batch.length;
        this.#stats.callers += group.length;
        if (batch.length > this.#stats.largestBatchOps) this.#stats.largestBatchOps = batch.length;
        for (const p of group) p.resolve();
      }
    } finally {
      this.#draining = undefined;
    }
  }

  #fail(group: Pending[], batchOps: number, cause: unknown): void {
    const error = new CommitFailedError({ batchOps, callers: group.length }, cause);
    this.#failed = error;
    for (const p of group) p.reject(error);
    const rest = this.#queue;
    this.#queue = [];
    for (const p of rest) p.reject(new StoreUnavailableError("failed", error));
    this.#onFatal?.(error);
  }
}

/**
 * Concatenates the callers' ops, dropping every op that a later op in the
 * same batch overwrites (same sublevel and key). A batch is applied
 * atomically and in order, so only the last write to a key is observable;
 * dropping the earlier ones changes nothing on disk but saves work when many
 * callers update the same record (e.g. a busy account's balance).
 */
function supersede(group: readonly Pending[]): StagedOp[] {
  const seen = new Map<unknown, Set<string>>();
  const kept: StagedOp[] = [];
  for (let g = group.length - 1; g >= 0; g--) {
    const ops = group[g].ops;
    for (let i = ops.length - 1; i >= 0; i--) {
      const op = ops[i];
      let keys = seen.get(op.sublevel);
      if (!keys) seen.set(op.sublevel, (keys = new Set()));
      if (keys.has(op.key)) continue;
      keys.add(op.key);
      kept.push(op);
    }
  }
  return kept.reverse();
}
