import { type Hex, keccak256, toHex, zeroHash } from "viem";
import { compoundKey } from "../store/keys.ts";
import type { Store } from "../store/store.ts";
import type { StagedOp } from "../store/types.ts";

/**
 * A memo the payer's node delivered for a transfer to this wallet, checked against the memo hash
 * settled on chain. Kept apart from the journal (which holds only the transfer id), so the
 * customer's text never enters the immutable record and can be deleted on its own: it is deleted
 * when the transfer cannot be credited and goes back to the payer.
 */
export interface StoredMemo {
  memo: string;
  /** The payer's walletId (the signer of the delivery, and the transfer's `fromWallet`). */
  fromWallet: Hex;
  receivedAt: string;
}

/**
 * The hash a memo settles under: keccak-256 of its UTF-8 bytes; no memo (or an empty one) settles
 * as the zero hash. Only this hash goes on chain; the text travels node to node.
 *
 * @example memoHashOf("dinner") // keccak256(toHex("dinner"))
 */
export function memoHashOf(memo: string | undefined): Hex {
  return memo ? keccak256(toHex(memo)) : zeroHash;
}

// In the `inbound` sublevel, beside the transfer markers ("in!<transferId>").
const MEMO = "memo";

const keyOf = (transferId: Hex) => compoundKey(MEMO, transferId.toLowerCase());

/** Stages a delivered memo. */
export function putMemo(store: Store, transferId: Hex, memo: StoredMemo): StagedOp {
  return { type: "put", sublevel: store.sub.inbound, key: keyOf(transferId), value: memo };
}

/** Stages the deletion of a transfer's memo (nothing happens when there is none). */
export function deleteMemo(store: Store, transferId: Hex): StagedOp {
  return { type: "del", sublevel: store.sub.inbound, key: keyOf(transferId) };
}

/** The memos of these transfers (`undefined` where none was delivered), one read. */
export async function getMemos(store: Store, transferIds: readonly Hex[]): Promise<(StoredMemo | undefined)[]> {
  if (transferIds.length === 0) return [];
  return (await store.sub.inbound.getMany(transferIds.map(keyOf))) as (StoredMemo | undefined)[];
}
