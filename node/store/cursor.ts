import { CursorRegressionError, HulianError } from "./errors.ts";
import type { StagedOp } from "./types.ts";
import type { Store } from "./store.ts";

/**
 * Forward-only named cursors (e.g. the last block the inbound follower has
 * processed), persisted in the `cursors` sublevel.
 *
 * Invariant: a cursor's value never decreases. The comparison runs against
 * the latest *staged* value held in memory, synchronously, so two stagings
 * in flight cannot both pass the check with stale reads; the write then goes
 * into the caller's own batch, next to the state change it belongs to.
 * Stage the cursor last, after everything in the transaction that can still
 * throw, since memory moves forward as soon as it is staged.
 */
export class Cursors {
  readonly #store: Store;
  readonly #values = new Map<string, bigint | undefined>();

  constructor(store: Store) {
    this.#store = store;
  }

  /** Reads a cursor from disk into memory (once) and returns it. */
  async load(name: string): Promise<bigint | undefined> {
    if (this.#values.has(name)) return this.#values.get(name);
    const raw = await this.#store.sub.cursors.get(name);
    // Another load or stage may have run while we awaited: memory wins.
    if (!this.#values.has(name)) this.#values.set(name, raw === undefined ? undefined : BigInt(raw));
    return this.#values.get(name);
  }

  /** The latest staged value of a loaded cursor. */
  current(name: string): bigint | undefined {
    return this.#values.get(name);
  }

  /**
   * Compare-and-set: returns the op that moves `name` to `to`, or no op when
   * it is already there. Throws {@link CursorRegressionError} when `to` is
   * behind, and if `expected` is given, when the current value differs
   * from it. The cursor must have been {@link load}ed.
   */
  stageAdvance(name: string, to: bigint, expected?: bigint): StagedOp[] {
    if (!this.#values.has(name)) {
      throw new HulianError("cursor_not_loaded", "Cursor must be loaded before it is staged.", { details: { cursor: name } });
    }
    const current = this.#values.get(name);
    const mismatch = expected !== undefined && current !== expected;
    if (mismatch || (current !== undefined && to < current)) {
      throw new CursorRegressionError({
        cursor: name,
        current: String(current),
        requested: to.toString(),
        ...(expected === undefined ? {} : { expected: expected.toString() }),
      });
    }
    if (current === to) return [];
    this.#values.set(name, to);
    return [{ type: "put", sublevel: this.#store.sub.cursors, key: name, value: to.toString() }];
  }
}
