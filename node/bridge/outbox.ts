import type { Hex } from "viem";
import { compoundKey, parseSeqKey, prefixRange, seqKey } from "../store/keys.ts";
import type { Store } from "../store/store.ts";
import type { StagedOp } from "../store/types.ts";

/** A cross-wallet payment accepted and waiting for a batch. */
export interface OutboxItem {
  paymentId: string;
  fromAccountId: string;
  toWalletId: Hex;
  amount: string;
  payerRef: Hex;
  payeeRef: Hex;
  memoHash: Hex;
  acceptedAt: number;
}

const QUEUE = "q";

/**
 * The outbox: accepted cross-wallet payments in acceptance order, keyed by a local queue number.
 * An item enters in the same atomic write that debits the customer; it leaves in the same atomic
 * write that records the batch plan it went into (or its rejection).
 *
 * The queue is mirrored in memory (the batcher reads it on every tick); the store is the truth
 * after a restart.
 */
export class Outbox {
  readonly #store: Store;
  readonly #items = new Map<bigint, OutboxItem>();
  #next = 0n;

  private constructor(store: Store) {
    this.#store = store;
  }

  /** Loads the queue from the store. */
  static async open(store: Store): Promise<Outbox> {
    const outbox = new Outbox(store);
    for await (const [key, value] of store.sub.outbox.iterator(prefixRange(QUEUE))) {
      const n = parseSeqKey(key.slice(QUEUE.length + 1));
      outbox.#items.set(n, value as OutboxItem);
      if (n >= outbox.#next) outbox.#next = n + 1n;
    }
    return outbox;
  }

  /** Stages a new item; memory is updated at once (call inside the synchronous ledger transaction). */
  stageEnqueue(item: OutboxItem): StagedOp {
    const n = this.#next++;
    this.#items.set(n, item);
    return { type: "put", sublevel: this.#store.sub.outbox, key: compoundKey(QUEUE, seqKey(n)), value: item };
  }

  /** Stages the removal of items (planned into a batch, or rejected). */
  stageRemove(numbers: readonly bigint[]): StagedOp[] {
    return numbers.map((n) => {
      this.#items.delete(n);
      return { type: "del", sublevel: this.#store.sub.outbox, key: compoundKey(QUEUE, seqKey(n)) } as StagedOp;
    });
  }

  /** The oldest `limit` items with their queue numbers. */
  peek(limit: number): { n: bigint; item: OutboxItem }[] {
    const out: { n: bigint; item: OutboxItem }[] = [];
    for (const [n, item] of this.#items) {
      if (out.length >= limit) break;
      out.push({ n, item });
    }
    return out;
  }

  get depth(): number {
    return this.#items.size;
  }

  /** Age in ms of the oldest item (0 when empty). */
  oldestAgeMs(now = Date.now()): number {
    for (const item of this.#items.values()) return now - item.acceptedAt;
    return 0;
  }
}
