import type { StagedOp, StoreDb } from "./types.ts";
import { HulianError } from "./errors.ts";

/**
 * classic-level's private batch surface that the committer writes through:
 * the methods its public `batch().put/del/write` call after their checks
 * and encodings (which the committer does itself, once per op). They are not
 * part of abstract-level's public API, which is why package.json pins
 * `classic-level` and `level` exactly; test/store/nativeBatch.test.ts fails,
 * naming the method, if an upgrade changes them.
 */
export const NATIVE_BATCH_METHODS = ["_put", "_del", "_write"] as const;

/** The native batch of classic-level, as far as the fast path uses it. */
export interface RawBatch {
  _put(key: unknown, value: unknown): void;
  _del(key: unknown): void;
  _write(options: { sync: boolean }): Promise<void>;
  close(): Promise<void>;
}

/** How the operations of one sublevel become raw LevelDB keys and values. */
export interface Route {
  /** Key prefix of the sublevel in the root database (`!name!`). */
  prefix: string;
  encodeKey: (key: unknown) => unknown;
  encodeValue: (value: unknown) => unknown;
  /** Whether a later write in the same batch may supersede this one. */
  dedup: boolean;
}

/** The private batch surface changed (a classic-level upgrade): the committer cannot write. */
export class NativeBatchUnsupportedError extends HulianError {
  override name = "NativeBatchUnsupportedError";
  constructor(missing: readonly string[]) {
    super(
      "native_batch_unsupported",
      `classic-level's native batch has no ${missing.join(", ")}: the committer writes through ${NATIVE_BATCH_METHODS.join(", ")}; keep classic-level pinned to a version that has them`,
      { details: { missing: [...missing] } },
    );
  }
}

/** The methods of {@link NATIVE_BATCH_METHODS} that `batch` lacks (empty when all are there). */
export function missingNativeMethods(batch: object): string[] {
  const b = batch as Record<string, unknown>;
  return NATIVE_BATCH_METHODS.filter((m) => typeof b[m] !== "function");
}

/**
 * A new native batch of `db`. Throws {@link NativeBatchUnsupportedError},
 * naming what is missing, if it lacks the private methods the committer uses.
 */
export function openRawBatch(db: StoreDb): RawBatch {
  const batch = (db as unknown as { batch(): Partial<RawBatch> }).batch();
  const missing = missingNativeMethods(batch);
  if (missing.length > 0) {
    closeQuietly(batch);
    throw new NativeBatchUnsupportedError(missing);
  }
  return batch as RawBatch;
}

/** How to encode the ops of `sublevel` of `db` for the native batch. */
export function routeOf(db: StoreDb, sublevel: unknown, dedup: boolean): Route {
  const sub = sublevel as {
    prefix?: unknown;
    db?: unknown;
    keyEncoding?: () => { encode(k: unknown): unknown; format: string };
    valueEncoding?: () => { encode(v: unknown): unknown; format: string };
  };
  if (
    typeof sub !== "object" ||
    sub === null ||
    typeof sub.prefix !== "string" ||
    sub.db !== db ||
    typeof sub.keyEncoding !== "function" ||
    typeof sub.valueEncoding !== "function"
  ) {
    throw new TypeError("A batch operation must name a sublevel of this store");
  }
  const keyEncoding = sub.keyEncoding();
  const valueEncoding = sub.valueEncoding();
  if (keyEncoding.format !== "utf8") throw new TypeError("Only sublevels with utf8 keys can be written");
  return {
    prefix: sub.prefix,
    encodeKey: (k) => keyEncoding.encode(k),
    encodeValue: (v) => valueEncoding.encode(v),
    dedup,
  };
}

/** Encodes `op` and adds it to the native batch. */
export function putOp(batch: RawBatch, route: Route, op: StagedOp): void {
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
export function fullKey(route: Route, key: unknown): string {
  if (typeof key === "string") return route.prefix + key;
  if (key === null || key === undefined) throw new TypeError("A batch operation must have a key");
  return route.prefix + (route.encodeKey(key) as string);
}

/** Closes a native batch, ignoring errors (it is being abandoned or was written). */
export function closeQuietly(batch: Partial<RawBatch>): void {
  batch.close?.().catch(() => {});
}

/**
 * Whether `db`'s batches can skip level's public batch API: no prewrite hooks
 * and no `write` listeners, which only that API runs.
 */
export function nativePathAvailable(db: StoreDb): boolean {
  const d = db as unknown as { hooks: { prewrite: { noop: boolean } }; listenerCount(event: string): number };
  return d.hooks.prewrite.noop && d.listenerCount("write") === 0;
}
