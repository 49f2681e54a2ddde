import { type Hex, encodeAbiParameters, keccak256 } from "viem";

/**
 * Merkle-sum trees for reserve attestations (proof of liabilities), bit for bit as
 * `ReserveAttestation`: a leaf is `(keccak256(bytes.concat(keccak256(abi.encode(accountRef, balance)))), balance)`,
 * a parent `(keccak256(abi.encode(lh, ls, rh, rs)), ls + rs)`, positional (not sorted), an odd last
 * node moving up unchanged. The root's sum is the total the operator attests.
 */
export interface SumNode {
  hash: Hex;
  sum: bigint;
}

/** One step of an inclusion proof: the sibling and which side it sits on. */
export interface SumProofStep {
  hash: Hex;
  sum: bigint;
  siblingOnLeft: boolean;
}

export interface MerkleSumTree {
  readonly levels: readonly (readonly SumNode[])[];
  readonly root: SumNode;
}

/** The leaf of a customer balance under its pseudonymous account reference. */
export function sumLeaf(accountRef: Hex, balance: bigint): SumNode {
  if (balance < 0n) throw new RangeError("a liability leaf cannot be negative");
  const inner = keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "uint256" }], [accountRef, balance]));
  return { hash: keccak256(inner), sum: balance };
}

/** The parent of two nodes. */
export function sumParent(left: SumNode, right: SumNode): SumNode {
  const hash = keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "uint256" }, { type: "bytes32" }, { type: "uint256" }],
      [left.hash, left.sum, right.hash, right.sum],
    ),
  );
  return { hash, sum: left.sum + right.sum };
}

/** Builds the tree over leaves in the given order (at least one). */
export function buildMerkleSumTree(leaves: readonly SumNode[]): MerkleSumTree {
  if (leaves.length === 0) throw new RangeError("a Merkle-sum tree needs at least one leaf");
  const levels: SumNode[][] = [[...leaves]];
  let level = levels[0];
  while (level.length > 1) {
    const next: SumNode[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(sumParent(level[i], level[i + 1]));
    if (level.length % 2 === 1) next.push(level[level.length - 1]);
    levels.push(next);
    level = next;
  }
  return { levels, root: level[0] };
}

/** The inclusion proof of leaf `index`. */
export function merkleSumProof(tree: MerkleSumTree, index: number): SumProofStep[] {
  if (!Number.isInteger(index) || index < 0 || index >= tree.levels[0].length) {
    throw new RangeError(`leaf index ${index} is outside the tree (${tree.levels[0].length} leaves)`);
  }
  const proof: SumProofStep[] = [];
  let position = index;
  for (let depth = 0; depth < tree.levels.length - 1; depth++) {
    const level = tree.levels[depth];
    const sibling = position ^ 1;
    if (sibling < level.length) proof.push({ ...level[sibling], siblingOnLeft: sibling < position });
    position >>= 1;
  }
  return proof;
}

/** Recomputes the root from a leaf and its proof. */
export function processSumProof(leaf: SumNode, proof: readonly SumProofStep[]): SumNode {
  return proof.reduce<SumNode>(
    (node, step) => (step.siblingOnLeft ? sumParent(step, node) : sumParent(node, step)),
    leaf,
  );
}

/** True when `(accountRef, balance)` with `proof` leads to `root` and `total`. */
export function verifySumInclusion(
  accountRef: Hex,
  balance: bigint,
  proof: readonly SumProofStep[],
  root: Hex,
  total: bigint,
): boolean {
  const top = processSumProof(sumLeaf(accountRef, balance), proof);
  return top.hash.toLowerCase() === root.toLowerCase() && top.sum === total;
}
