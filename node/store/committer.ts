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
  /**
   * Sublevels whose keys are written at most once (journal entries, history
   * items…): the committer does not look for superseded writes among them,
   * which saves a hash lookup per operation. Purely an optimisation: if such
   * a key were written twice in one batch, the last write still wins.
   */
  writeOnce?: Iterable<unknown>;
}

/** Counters since the committer was created. */
export interface CommitterStats {
  batches: number;
  ops: number;
  callers: number;
  largestBatchOps: number;
}

/**
 * The callers of one batch-to-be and one promise they all wait on (settled
 * when the batch is written or fails). Operations of write-once sublevels go
 * into LevelDB's native batch as they arrive (encoded once, nothing kept on
 * the JS heap); the others are kept in arrival order until the batch is cut,
 * so that superseded writes can be dropped.
 */
interface Group {
  /** Operations committed into this group (before dropping superseded ones). */
  count: number;
  callers: number;
  /** Native batch holding the streamed operations (made on first use). */
  batch: RawBatch | undefined;
  /** Operations put into {@link batch}. */
  streamed: number;
  /** Operations kept until the batch is cut (all of them on level's public path). */
  kept: StagedOp[];
  /** Whether this group is written through level's public batch API. */
  publicPath: boolean;
  /** Set if an operation could not be encoded: the whole batch fails when cut. */
  error: { cause: unknown } | undefined;
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** How the operations of one sublevel become raw LevelDB keys and values. */
interface Route {
  /** Key prefix of the sublevel in the root database (`!name!`). */
  prefix: string;
  encodeKey: (key: unknown) => unknown;
  encodeValue: (value: unknown) => unknown;
  /** Whether a later write in the same batch may supersede this one. */
  dedup: boolean;
}

/** The native batch of classic-level, as far as the fast path uses it. */
interface RawBatch {
  _put(key: unknown, value: unknown): void;
  _del(key: unknown): void;
  _write(options: { sync: boolean }): Promise<void>;
  close(): Promise<void>;
}

/**
 * Group commit over one LevelDB database.
 *
 * Every logical state change hands its staged operations to {@link commit}.
 * Callers that arrive in the same turn of the event loop, or while the
 * previous batch is being written, are coalesced into a single LevelDB
 * write batch. When many callers arrive at once while nothing is being
 * written (typically those released by the batch that just completed), the
 * batch is started as soon as it holds half as many operations as the last
 * one, and the rest gather for the next: writing and staging then overlap,
 * two batches at a time.
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
 *
 * Cost: operations of write-once sublevels are encoded and added to
 * LevelDB's native write batch when they are committed (nothing of them is
 * kept on the JS heap while the batch waits); the others when the batch is
 * cut (superseded ones never). The callers of a batch share one promise, so
 * a commit allocates nothing per caller. Hooks and `write` listeners of
 * level run only on its public batch API: if the database has any, batches
 * go through that API instead.
 */
export class Committer {
  readonly #db: StoreDb;
  readonly #maxBatchOps: number;
  readonly #sync: boolean;
  readonly #onFatal: ((error: CommitFailedError) => void) | undefined;
  readonly #writeOnce: Set<unknown>;
  readonly #routes = new Map<unknown, Route>();
  /** Groups waiting to be written, oldest first. */
  #queue: Group[] = [];
  /** The group new callers join (the newest in the queue), if it is still open. */
  #open: Group | undefined;
  /** Whether a batch is being written (one at a time, in order). */
  #writing = false;
  /** Whether a turn of the event loop is booked to start the next batch. */
  #scheduled = false;
  /** Operations that make a batch worth starting at once (see {@link commit}). */
  #eagerOps = EAGER_MIN_OPS;
  /** Resolvers of {@link flush} callers, called when nothing is queued or being written. */
  #idleWaiters: (() => void)[] = [];
  #failed: CommitFailedError | undefined;
  #closed = false;
  readonly #stats: CommitterStats = { batches: 0, ops: 0, callers: 0, largestBatchOps: 0 };

  constructor(db: StoreDb, options: CommitterOptions = {}) {
    this.#db = db;
    this.#maxBatchOps = Math.max(1, options.maxBatchOps ?? 20_000);
    this.#sync = options.sync ?? true;
    this.#onFatal = options.onFatal;
    this.#writeOnce = new Set(options.writeOnce ?? []);
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
    if (this.#failed || this.#closed) {
      try {
        this.assertHealthy();
      } catch (e) {
        return Promise.reject(e);
      }
    }
    const n = ops.length;
    let group = this.#open;
    if (group === undefined || (group.callers > 0 && group.count + n > this.#maxBatchOps)) {
      group = newGroup(!this.#nativePath());
      this.#queue.push(group);
      this.#open = group;
    }
    group.count += n;
    group.callers++;
    if (group.error === undefined) {
      try {
        this.#add(group, ops);
      } catch (cause) {
        // As if the batch write had failed: every caller of this batch is rejected, and the
        // committer refuses everything afterwards (memory is already ahead of disk).
        group.error = { cause };
      }
    }
    if (!this.#writing) {
      if (group.count >= this.#eagerOps) {
        // Many callers are ready at once (typically the callers of the batch that just
        // completed, running one after the other): write what is here now and let the rest
        // gather while it is written, so that the disk and this thread work in parallel.
        this.#next();
      } else if (!this.#scheduled) {
        // setImmediate rather than a microtask: lets every caller that is
        // ready in this event-loop turn (including I/O callbacks) join the batch.
        this.#scheduled = true;
        setImmediate(this.#onImmediate);
      }
    }
    return group.promise;
  }

  /** Whether batches can be built on classic-level's native batch (no hooks or write listeners to run). */
  #nativePath(): boolean {
    const db = this.#db as unknown as { hooks: { prewrite: { noop: boolean } }; listenerCount(event: string): number };
    return db.hooks.prewrite.noop && db.listenerCount("write") === 0;
  }

  /** Adds one caller's operations to `group`: streams write-once ones into its native batch. */
  #add(group: Group, ops: readonly StagedOp[]): void {
    const kept = group.kept;
    if (group.publicPath) {
      for (let i = 0; i < ops.length; i++) kept.push(ops[i]);
      return;
    }
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      const route = this.#route(op.sublevel);
      if (route.dedup) {
        kept.push(op);
        continue;
      }
      const batch = (group.batch ??= this.#rawBatch());
      putOp(batch, route, op);
      group.streamed++;
    }
  }

  /** A new native batch of the database. */
  #rawBatch(): RawBatch {
    const batch = (this.#db as unknown as { batch(): Partial<RawBatch> }).batch();
    if (typeof batch._put !== "function" || typeof batch._del !== "function" || typeof batch._write !== "function") {
      closeQuietly(batch);
      throw new TypeError("The database has no native batch (classic-level) to write to");
    }
    return batch as RawBatch;
  }

  /** Resolves when everything queued so far has been written (or failed). */
  flush(): Promise<void> {
    if (!this.#writing && this.#queue.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Refuses further writes at once ({@link StoreUnavailableError} "closed"), then waits until what
   * was queued before is written. Refusing first means no caller can slip a write in while the
   * queue drains and have it reach a database that is closing.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  readonly #onImmediate = (): void => {
    this.#scheduled = false;
    if (!this.#writing) this.#next();
  };

  /** Starts writing the oldest queued group, if any (nothing may be being written). */
  #next(): void {
    const group = this.#queue.shift();
    if (group === undefined) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
      return;
    }
    // Later callers go to a new group while this one is written.
    if (group === this.#open) this.#open = undefined;
    if (group.error !== undefined) {
      if (group.batch) closeQuietly(group.batch);
      this.#fail(group, group.error.cause);
      return;
    }
    this.#writing = true;
    const written = group.count > 0 ? this.#write(group) : Promise.resolve(0);
    written.then(
      (count) => {
        this.#writing = false;
        this.#stats.batches++;
        this.#stats.ops += count;
        this.#stats.callers += group.callers;
        if (count > this.#stats.largestBatchOps) this.#stats.largestBatchOps = count;
        // Half of a batch that filled up while the previous one was written: past that
        // many operations, the callers arriving after a write are split over two batches.
        this.#eagerOps = Math.max(EAGER_MIN_OPS, group.count >> 1);
        group.resolve();
        // Callers that arrived meanwhile go next, before the ones just released run.
        this.#next();
      },
      (cause: unknown) => {
        this.#writing = false;
        this.#fail(group, cause);
      },
    );
  }

  /**
   * Writes the group as one atomic LevelDB batch, dropping every kept op that
   * a later op in the same batch overwrites (same sublevel and key). A batch
   * is applied atomically and in order, so only the last write to a key is
   * observable; dropping the earlier ones changes nothing on disk but saves
   * work when many callers update the same record. Returns the number of
   * operations written.
   */
  #write(group: Group): Promise<number> {
    if (group.publicPath) return this.#writePublic(group.kept);
    let batch = group.batch;
    try {
      const kept = group.kept;
      const n = kept.length;
      let written = group.streamed;
      if (n > 0) {
        batch ??= group.batch = this.#rawBatch();
        const routes: Route[] = new Array(n);
        for (let i = 0; i < n; i++) routes[i] = this.#route(kept[i].sublevel);
        // Superseded writes: walk back, the first (= last written) op of a key wins.
        let dropped: Uint8Array | undefined;
        if (n > 1) {
          const seen = new Set<string>();
          for (let i = n - 1; i >= 0; i--) {
            const key = fullKey(routes[i], kept[i].key);
            if (seen.has(key)) (dropped ??= new Uint8Array(n))[i] = 1;
            else seen.add(key);
          }
        }
        for (let i = 0; i < n; i++) {
          if (dropped !== undefined && dropped[i] === 1) continue;
          putOp(batch, routes[i], kept[i]);
          written++;
        }
      }
      const raw = batch!;
      // The native batch must not reach a closed database (level's own batch() refuses it too).
      // `_write` skips level's guard against a close racing the write, so close the database only
      // through Store.close(), which waits for the committer; never `store.db.close()` directly.
      const status = (this.#db as unknown as { status: string }).status;
      if (status !== "open") throw new Error(`Database is not open (${status}): cannot write the batch`);
      return raw._write({ sync: this.#sync }).then(
        () => {
          closeQuietly(raw);
          return written;
        },
        (e: unknown) => {
          closeQuietly(raw);
          throw e;
        },
      );
    } catch (e) {
      if (batch) closeQuietly(batch);
      return Promise.reject(e);
    }
  }

  /** Same as {@link #write} through level's public batch API (slower; runs hooks and events). */
  async #writePublic(ops: readonly StagedOp[]): Promise<number> {
    const seen = new Map<unknown, Set<string>>();
    const kept: StagedOp[] = [];
    for (let i = ops.length - 1; i >= 0; i--) {
      const op = ops[i];
      let keys = seen.get(op.sublevel);
      if (!keys) seen.set(op.sublevel, (keys = new Set()));
      if (keys.has(op.key)) continue;
      keys.add(op.key);
      kept.push(op);
    }
    kept.reverse();
    // The sublevel field routes each op; the parent db encodes prefixes.
    await this.#db.batch(kept as never, { sync: this.#sync } as never);
    return kept.length;
  }

  /** How to encode the ops of `sublevel` for the native batch. */
  #route(sublevel: unknown): Route {
    let route = this.#routes.get(sublevel);
    if (route) return route;
    const sub = sublevel as {
      prefix?: unknown;
      db?: unknown;
      parent?: unknown;
      keyEncoding?: () => { encode(k: unknown): unknown; format: string };
      valueEncoding?: () => { encode(v: unknown): unknown; format: string };
    };
    if (
      typeof sub !== "object" ||
      sub === null ||
      typeof sub.prefix !== "string" ||
      sub.db !== this.#db ||
      typeof sub.keyEncoding !== "function" ||
      typeof sub.valueEncoding !== "function"
    ) {
      throw new TypeError("A batch operation must name a sublevel of this store");
    }
    const keyEncoding = sub.keyEncoding();
    const valueEncoding = sub.valueEncoding();
    if (keyEncoding.format !== "utf8") throw new TypeError("Only sublevels with utf8 keys can be written");
    route = {
      prefix: sub.prefix,
      encodeKey: (k) => keyEncoding.encode(k),
      encodeValue: (v) => valueEncoding.encode(v),
      dedup: !this.#writeOnce.has(sublevel),
    };
    this.#routes.set(sublevel, route);
    return route;
  }

  #fail(group: Group, cause: unknown): void {
    const error = new CommitFailedError({ batchOps: group.count, callers: group.callers }, cause);
    this.#failed = error;
    this.#open = undefined;
    group.reject(error);
    const rest = this.#queue;
    this.#queue = [];
    for (const g of rest) {
      if (g.batch) closeQuietly(g.batch);
      g.reject(new StoreUnavailableError("failed", error));
    }
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
    this.#onFatal?.(error);
  }
}

/** A batch is never started early with fewer operations than this (see {@link Committer.commit}). */
const EAGER_MIN_OPS = 1_024;

/** Encodes `op` and adds it to the native batch. */
function putOp(batch: RawBatch, route: Route, op: StagedOp): void {
  const key = fullKey(route, op.key);
  if (op.type === "put") {
    if (op.value === null || op.value === undefined) throw new TypeError("A batch put must have a value");
    batch._put(key, route.encodeValue(op.value));
  } else if (op.type === "del") {
    batch._del(key);
  } else {
    throw new TypeError("A batch operation must have a type property that is 'put' or 'del'");
  }
}

/** The key of an op in the root database: the sublevel's prefix and the encoded key. */
function fullKey(route: Route, key: unknown): string {
  if (typeof key === "string") return route.prefix + key;
  if (key === null || key === undefined) throw new TypeError("A batch operation must have a key");
  return route.prefix + (route.encodeKey(key) as string);
}

function closeQuietly(batch: Partial<RawBatch>): void {
  batch.close?.().catch(() => {});
}

function newGroup(publicPath: boolean): Group {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { count: 0, callers: 0, batch: undefined, streamed: 0, kept: [], publicPath, error: undefined, promise, resolve, reject };
}
