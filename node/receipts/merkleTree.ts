import { type Hex, concatHex, keccak256 } from "viem";

/**
 * Merkle trees over receipt leaves, built exactly as `SettlementHub` builds a batch root: leaves
 * in batch order, pairs hashed sorted (`keccak256(min ‖ max)`, OpenZeppelin `Hashes.commutativeKeccak256`),
 * level by level, an odd last node moving up unchanged. Proofs verify with OpenZeppelin
 * `MerkleProof.verify`.
 */
export interface MerkleTree {
  /** levels[0] are the leaves, the last level holds the root alone. */
  readonly levels: readonly (readonly Hex[])[];
  readonly root: Hex;
}

/** Hash of a pair, order-independent, as OpenZeppelin's `Hashes.commutativeKeccak256`. */
export function hashPair(a: Hex, b: Hex): Hex {
  return BigInt(a) < BigInt(b) ? keccak256(concatHex([a, b])) : keccak256(concatHex([b, a]));
}

/** Builds the tree over `leaves` (at least one). */
export function buildMerkleTree(leaves: readonly Hex[]): MerkleTree {
  if (leaves.length === 0) throw new RangeError("a Merkle tree needs at least one leaf");
  const levels: Hex[][] = [[...leaves]];
  let level = levels[0];
  while (level.length > 1) {
    const next: Hex[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(hashPair(level[i], level[i + 1]));
    if (level.length % 2 === 1) next.push(level[level.length - 1]);
    levels.push(next);
    level = next;
  }
  return { levels, root: level[0] };
}

/** The sibling hashes from leaf `index` up to the root (a promoted odd node has no sibling at that level). */
export function merkleProof(tree: MerkleTree, index: number): Hex[] {
  if (!Number.isInteger(index) || index < 0 || index >= tree.levels[0].length) {
    throw new RangeError(`leaf index ${index} is outside the tree (${tree.levels[0].length} leaves)`);
  }
  const proof: Hex[] = [];
  let position = index;
  for (let depth = 0; depth < tree.levels.length - 1; depth++) {
    const level = tree.levels[depth];
    const sibling = position ^ 1;
    if (sibling < level.length) proof.push(level[sibling]);
    position >>= 1;
  }
  return proof;
}

/** Recomputes the root from a leaf and its proof (OpenZeppelin `MerkleProof.processProof`). */
export function processProof(leaf: Hex, proof: readonly Hex[]): Hex {
  return proof.reduce<Hex>((node, sibling) => hashPair(node, sibling), leaf);
}

/** True when `proof` leads from `leaf` to `root`. */
export function verifyMerkleProof(leaf: Hex, proof: readonly Hex[], root: Hex): boolean {
  return processProof(leaf, proof).toLowerCase() === root.toLowerCase();
}

/** The root over `leaves`. */
export function merkleRoot(leaves: readonly Hex[]): Hex {
  return buildMerkleTree(leaves).root;
}
