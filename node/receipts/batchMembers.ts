import type { Hex } from "viem";

/** What a `BatchSettled` event says about which transfers belong to its batch. */
export interface BatchRange {
  fromWallet: Hex;
  firstSeq: bigint;
  count: number;
}

/**
 * True when the transfer belongs to the batch: it was sent by the batch's wallet and its sequence
 * number lies in `[firstSeq, firstSeq + count)`. A transaction may settle several batches (a
 * contract settlement account calling `settleBatch` twice), so a batch is rebuilt from the
 * transaction's `TransfersSettled` records that pass this test, never from all of them.
 *
 * @example isInBatch({ fromWallet: w, firstSeq: 10n, count: 2 }, { fromWallet: w, seq: 11n }) // true
 */
export function isInBatch(batch: BatchRange, transfer: { fromWallet: Hex; seq: bigint }): boolean {
  return (
    transfer.fromWallet.toLowerCase() === batch.fromWallet.toLowerCase() &&
    transfer.seq >= batch.firstSeq &&
    transfer.seq < batch.firstSeq + BigInt(batch.count)
  );
}
