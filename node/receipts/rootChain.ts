import { type Hex, encodeAbiParameters, keccak256, zeroHash } from "viem";

/** The head of a wallet's root chain before its first batch. */
export const GENESIS_HEAD: Hex = zeroHash;

/** One link of a wallet's batch-root chain, as `BatchSettled` records it. */
export interface BatchLink {
  batchNo: bigint;
  firstSeq: bigint;
  count: number;
  root: Hex;
}

/**
 * The head after a batch, bit for bit as `SettlementHub`:
 * `keccak256(abi.encode(prevHead, batchNo, firstSeq, count, root))`.
 */
export function nextHead(prevHead: Hex, link: BatchLink): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "uint64" }, { type: "uint64" }, { type: "uint32" }, { type: "bytes32" }],
      [prevHead, link.batchNo, link.firstSeq, link.count, link.root],
    ),
  );
}

/** Folds a wallet's batches, in order from its first, into the head the hub must hold. */
export function chainHead(links: readonly BatchLink[], start: Hex = GENESIS_HEAD): Hex {
  return links.reduce<Hex>((head, link) => nextHead(head, link), start);
}
