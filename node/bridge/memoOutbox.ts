import type { Hex } from "viem";
import { compoundKey, prefixRange, seqKey } from "../store/keys.ts";
import type { Store } from "../store/store.ts";
import type { StagedOp } from "../store/types.ts";

/** A settled payment whose memo still has to reach the payee's node. The memo is in its payment record. */
export interface QueuedMemo {
  paymentId: string;
  toWalletId: Hex;
  transferId: Hex;
  txHash: Hex;
  /** Deliveries tried so far. */
  attempts: number;
  /** When the payment settled (ms): a memo is given up a day after it. */
  queuedAt: number;
}

/** A queued memo with the time it is due (ms) — its place in the queue. */
export interface DueMemo {
  dueAt: number;
  item: QueuedMemo;
}

/** Default most memos waiting for delivery (about 250 bytes each on disk). */
export const DEFAULT_MAX_QUEUED_MEMOS = 100_000;

// In the `outbox` sublevel, beside the payment queue ("q!…") and batch plans.
const MEMO = "memo";

const keyOf = (due: DueMemo) => compoundKey(MEMO, seqKey(Math.max(0, Math.floor(due.dueAt))), due.item.paymentId);

/**
 * The memo outbox: memos of settled payments waiting to be sent to their payee's node, keyed by
 * when each is next due (so a pass reads only what is due, however many wait for a node that is
 * down). An item enters in the atomic write that records its batch as settled; it leaves when the
 * payee's node answered for it for good, or a day after it settled (memos are customer data and
 * are not kept beyond that for a node that never answers).
 *
 * Bounded: at most `max` items wait; a memo that would go beyond is not queued (counted in
 * {@link overflowed}; the payment itself is unaffected). The count is held in memory, loaded once
 * at open; the store is the truth after a restart.
 */
export class MemoOutbox {
  readonly #store: Store;
  readonly #max: number;
  #depth = 0;
  #overflowed = 0;

  private constructor(store: Store, max: number) {
    this.#store = store;
    this.#max = max;
  }

  /** Opens the queue and counts what is in it. */
  static async open(store: Store, max = DEFAULT_MAX_QUEUED_MEMOS): Promise<MemoOutbox> {
    const outbox = new MemoOutbox(store, max);
    for await (const _ of store.sub.outbox.keys(prefixRange(MEMO))) outbox.#depth++;
    return outbox;
  }

  /** Memos waiting. */
  get depth(): number {
    return this.#depth;
  }

  /** Memos not queued because the queue was full. */
  get overflowed(): number {
    return this.#overflowed;
  }

  /** Stages a new item due at once (call inside the synchronous ledger transaction); nothing when full. */
  stageEnqueue(item: QueuedMemo): StagedOp[] {
    if (this.#depth >= this.#max) {
      this.#overflowed++;
      return [];
    }
    this.#depth++;
    return [{ type: "put", sublevel: this.#store.sub.outbox, key: keyOf({ dueAt: item.queuedAt, item }), value: item }];
  }

  /** Stages the removal of items (delivered, refused for good, or given up). */
  stageRemove(items: readonly DueMemo[]): StagedOp[] {
    this.#depth -= items.length;
    return items.map((due) => ({ type: "del", sublevel: this.#store.sub.outbox, key: keyOf(due) }) as StagedOp);
  }

  /** Stages moving an item to a later time with one more attempt counted. */
  stageReschedule(due: DueMemo, dueAt: number): StagedOp[] {
    const next: DueMemo = { dueAt, item: { ...due.item, attempts: due.item.attempts + 1 } };
    return [
      { type: "del", sublevel: this.#store.sub.outbox, key: keyOf(due) },
      { type: "put", sublevel: this.#store.sub.outbox, key: keyOf(next), value: next.item },
    ];
  }

  /** Up to `limit` items due at `now` or earlier, the longest due first. */
  async due(now: number, limit: number): Promise<DueMemo[]> {
    const range = prefixRange(MEMO);
    const rows = (await this.#store.sub.outbox.iterator({ gt: range.gt, lt: compoundKey(MEMO, seqKey(BigInt(Math.floor(now)) + 1n)), limit }).all()) as [string, QueuedMemo][];
    return rows.map(([key, item]) => ({ dueAt: Number(key.split("!")[1]), item }));
  }
}
