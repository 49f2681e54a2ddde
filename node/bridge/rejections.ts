import type { Hex } from "viem";
import type { OutboxItem } from "./outbox.ts";

/** What the batcher does about a batch the hub refuses. */
export type Rejection =
  /** Some payments can never settle as they are: refund them, keep the rest. */
  | { kind: "reject"; reason: string; rejects: (item: OutboxItem) => boolean }
  /** Nothing is wrong with the payments; settlement is refused for now (pause, our suspension…). */
  | { kind: "wait"; reason: string; retryAfterMs: number }
  /** Our idea of nextSeq is off: read it again. */
  | { kind: "resync"; reason: string };

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Maps a `settleBatch` revert (decoded custom error) to what the batcher should do. Payment-level
 * refusals (a frozen reference, a transfer over the limit, a payee wallet that is not active) reject
 * exactly the payments concerned; network-level ones (pause, our own suspension) wait.
 *
 * A malformed batch (an empty payee group, packed transfers of the wrong length, a payee in two
 * groups) is the encoder's fault, never a payment's: refunding customers for a node bug would be
 * wrong, so the batcher waits — the payments stay in the outbox, the reason shows in the metrics —
 * until a fixed node takes over.
 */
export function judgeRevert(
  revert: { errorName: string; args: readonly unknown[] },
  items: readonly OutboxItem[],
  ownWalletId: Hex,
): Rejection {
  const [a0, a1, a2] = revert.args;
  switch (revert.errorName) {
    case "HubReferenceFrozen":
      return {
        kind: "reject",
        reason: "reference_frozen",
        rejects: (item) => same(item.payerRef, a0 as string) || same(item.payeeRef, a0 as string),
      };
    case "HubTransferLimitExceeded":
      return { kind: "reject", reason: "transfer_limit_exceeded", rejects: (item) => BigInt(item.amount) > (a2 as bigint) };
    case "HubDailyLimitExceeded":
      return dailyLimit(items, a1 as bigint, a2 as bigint);
    case "HubOperatorNotActive":
      if (same(a0 as string, ownWalletId)) return { kind: "wait", reason: "own_wallet_not_active", retryAfterMs: 5_000 };
      return { kind: "reject", reason: "payee_wallet_not_active", rejects: (item) => same(item.toWalletId, a0 as string) };
    case "HubSelfTransfer":
      return { kind: "reject", reason: "self_transfer", rejects: (item) => same(item.toWalletId, ownWalletId) };
    case "HubZeroAmount":
      return { kind: "reject", reason: "zero_amount", rejects: (item) => BigInt(item.amount) === 0n };
    case "HubEmptyGroup":
    case "HubMalformedTransfers":
    case "HubDuplicatePayee":
      return { kind: "wait", reason: `batch_malformed:${revert.errorName}`, retryAfterMs: 5_000 };
    case "HubSequenceReplayed":
    case "HubSequenceGap":
      return { kind: "resync", reason: revert.errorName };
    case "EnforcedPause":
      return { kind: "wait", reason: "settlement_paused", retryAfterMs: 2_000 };
    default:
      return { kind: "wait", reason: `hub_refused:${revert.errorName}`, retryAfterMs: 2_000 };
  }
}

/**
 * The batch would take today's outflow past the daily limit: keep the oldest payments that fit in
 * what is left of today's allowance, reject the rest.
 */
function dailyLimit(items: readonly OutboxItem[], wouldBe: bigint, limit: bigint): Rejection {
  const batchTotal = items.reduce((s, i) => s + BigInt(i.amount), 0n);
  let room = limit - (wouldBe - batchTotal);
  const fits = new Set<OutboxItem>();
  for (const item of items) {
    const amount = BigInt(item.amount);
    if (amount <= room) {
      fits.add(item);
      room -= amount;
    }
  }
  return { kind: "reject", reason: "daily_limit_exceeded", rejects: (item) => !fits.has(item) };
}
