import { type Hex, encodeFunctionData } from "viem";
import { settlementHubAbi } from "../chain/abi/generated.ts";
import { transferIdOf } from "../receipts/ids.ts";
import { compoundKey, prefixRange, seqKey } from "../store/keys.ts";
import type { Store } from "../store/store.ts";
import type { StagedOp } from "../store/types.ts";
import type { OutboxItem } from "./outbox.ts";

/**
 * A batch the node has committed to: which payments got which sequence numbers, and the signed
 * transaction that carries them. It is written before the transaction is first broadcast and
 * deleted in the write that records the batch as settled, so after a crash the node knows exactly
 * what may be in flight: it compares `firstSeq` with `nextSeq` on chain and either records the
 * batch as settled or rebroadcasts the very same bytes.
 */
export interface BatchPlan {
  firstSeq: string;
  items: OutboxItem[];
  payees: Hex[];
  data: Hex;
  gas: string;
  raw?: Hex;
  hash?: Hex;
  nonce?: number;
  createdAt: string;
}

const PLAN = "plan";

/** Calldata of `settleBatch` for these items starting at `firstSeq`, and the distinct payees. */
export function encodeBatch(firstSeq: bigint, items: readonly OutboxItem[]): { data: Hex; payees: Hex[] } {
  const payees: Hex[] = [];
  const index = new Map<string, number>();
  const transfers = items.map((item) => {
    const key = item.toWalletId.toLowerCase();
    let payee = index.get(key);
    if (payee === undefined) {
      payee = payees.length;
      index.set(key, payee);
      payees.push(item.toWalletId);
    }
    return {
      payee,
      amount: BigInt(item.amount),
      payerRef: item.payerRef,
      payeeRef: item.payeeRef,
      memoHash: item.memoHash,
    };
  });
  const data = encodeFunctionData({ abi: settlementHubAbi, functionName: "settleBatch", args: [firstSeq, payees, transfers] });
  return { data, payees };
}

/** A generous gas limit for a batch (unused gas is not charged; QBFT networks run at zero gas price). */
export function batchGasLimit(count: number): bigint {
  return 300_000n + 20_000n * BigInt(count);
}

/** The transfer ids a plan assigns, in order. */
export function planTransferIds(walletId: Hex, plan: BatchPlan): Hex[] {
  const first = BigInt(plan.firstSeq);
  return plan.items.map((_, i) => transferIdOf(walletId, first + BigInt(i)));
}

export function putPlan(store: Store, plan: BatchPlan): StagedOp {
  return { type: "put", sublevel: store.sub.outbox, key: compoundKey(PLAN, seqKey(BigInt(plan.firstSeq))), value: plan };
}

export function deletePlan(store: Store, plan: BatchPlan): StagedOp {
  return { type: "del", sublevel: store.sub.outbox, key: compoundKey(PLAN, seqKey(BigInt(plan.firstSeq))) };
}

/** Plans left behind by a previous run, oldest first. */
export async function loadPlans(store: Store): Promise<BatchPlan[]> {
  const plans: BatchPlan[] = [];
  for await (const value of store.sub.outbox.values(prefixRange(PLAN))) plans.push(value as BatchPlan);
  return plans;
}
