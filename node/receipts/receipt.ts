import { type Hex, encodeAbiParameters, keccak256 } from "viem";

/**
 * A settled transfer: one packed record of a `TransfersSettled` event (the payee-group log of a
 * batch) with its group's wallets and its derived sequence number and id (see
 * `transfersSettled.ts`). The preimage of a receipt leaf.
 */
export interface Receipt {
  transferId: Hex;
  fromWallet: Hex;
  toWallet: Hex;
  seq: bigint;
  amount: bigint;
  payerRef: Hex;
  payeeRef: Hex;
  memoHash: Hex;
}

const RECEIPT_FIELDS = [
  { type: "bytes32" },
  { type: "bytes32" },
  { type: "bytes32" },
  { type: "uint64" },
  { type: "uint256" },
  { type: "bytes32" },
  { type: "bytes32" },
  { type: "bytes32" },
] as const;

/**
 * The Merkle leaf of a receipt, bit for bit as `SettlementHub.receiptLeaf`:
 * `keccak256(bytes.concat(keccak256(abi.encode(transferId, fromWallet, toWallet, seq, amount,
 * payerRef, payeeRef, memoHash))))`. Hashing twice keeps a leaf from ever passing for an inner node.
 */
export function receiptLeaf(r: Receipt): Hex {
  const encoded = encodeAbiParameters(RECEIPT_FIELDS, [
    r.transferId,
    r.fromWallet,
    r.toWallet,
    r.seq,
    r.amount,
    r.payerRef,
    r.payeeRef,
    r.memoHash,
  ]);
  return keccak256(keccak256(encoded));
}
