import { type Hex, encodeFunctionData } from "viem";
import { settlementHubAbi } from "../chain/abi/generated.ts";
import { EIP7825_MAX_TRANSACTION_GAS, HUB_MAX_BATCH_TRANSFERS } from "../chain/gasLimits.ts";
import { transferIdOf } from "../receipts/ids.ts";
import { type PayeeGroup, groupTransfers } from "../receipts/transfersSettled.ts";
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
 *
 * `items` are in batch order — grouped by payee wallet, as `settleBatch` takes them — so item `i`
 * has sequence number `firstSeq + i` (see {@link planTransferIds}).
 */
export interface BatchPlan {
  firstSeq: string;
  items: OutboxItem[];
  groups: PayeeGroup[];
  data: Hex;
  gas: string;
  raw?: Hex;
  hash?: Hex;
  nonce?: number;
  createdAt: string;
}

/** A batch ready for `settleBatch`: its payments in batch order, and the call that settles them. */
export interface EncodedBatch {
  /** The payments reordered by payee: item `i` gets sequence number `firstSeq + i`. */
  items: OutboxItem[];
  groups: PayeeGroup[];
  /** The arguments of `settleBatch` (for a simulation), and the same call as calldata. */
  args: readonly [firstSeq: bigint, groups: PayeeGroup[], transfers: Hex];
  data: Hex;
}

const PLAN = "plan";

/**
 * Encodes `settleBatch` for these payments starting at `firstSeq`. The hub takes a batch grouped by
 * payee (one `TransfersSettled` per payee wallet), so the payments are reordered — payees in order
 * of first appearance, payments keeping their order within a payee — and the sequence numbers
 * follow that order. The only encoder of the batch interface on the node: a plan, a rebroadcast and
 * a simulation all go through it, so they cannot disagree on which payment got which number.
 */
export function encodeBatch(firstSeq: bigint, items: readonly OutboxItem[]): EncodedBatch {
  const grouped = groupTransfers(
    items.map((item) => ({
      item,
      toWallet: item.toWalletId,
      amount: BigInt(item.amount),
      payerRef: item.payerRef,
      payeeRef: item.payeeRef,
      memoHash: item.memoHash,
    })),
  );
  const args = [firstSeq, grouped.groups, grouped.packed] as const;
  return {
    items: grouped.ordered.map((g) => g.item),
    groups: grouped.groups,
    args,
    data: encodeFunctionData({ abi: settlementHubAbi, functionName: "settleBatch", args }),
  };
}

/** Gas allowed for a batch's fixed part: the call, the checks, the root chain link, ≤ 64 payee groups' logs and balance moves. */
export const BATCH_GAS_BASE = 300_000n;
/**
 * Gas allowed per transfer: measured ≈ 3,300 (calldata of the 112-byte record ≈ 1,450, its log
 * bytes ≈ 900, hashing and the loop ≈ 900; test/contracts/gas.test.ts), so 8,000 leaves a margin
 * of more than 2× and keeps the largest batch the hub takes under EIP-7825's cap:
 * 300,000 + 8,000 × 2,048 = 16,684,000 ≤ 16,777,216.
 */
export const BATCH_GAS_PER_TRANSFER = 8_000n;

/**
 * The gas limit a batch of `count` transfers is sent with: generous (unused gas is not charged, and
 * QBFT networks run at zero gas price), yet never above EIP-7825's per-transaction cap, which a
 * chain on Osaka rules enforces — 20,000 per transfer used to pass it above 823 transfers.
 */
export function batchGasLimit(count: number): bigint {
  if (!Number.isSafeInteger(count) || count < 1 || count > HUB_MAX_BATCH_TRANSFERS) {
    throw new Error(`a batch holds 1 to ${HUB_MAX_BATCH_TRANSFERS} transfers, not ${count}`);
  }
  const gas = BATCH_GAS_BASE + BATCH_GAS_PER_TRANSFER * BigInt(count);
  if (gas > EIP7825_MAX_TRANSACTION_GAS) throw new Error(`batch gas ${gas} exceeds the per-transaction cap ${EIP7825_MAX_TRANSACTION_GAS}`);
  return gas;
}

/** The transfer ids a plan assigns, in order: item `i` is `walletId | (firstSeq + i)`. */
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
