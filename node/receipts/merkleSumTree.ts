import { type Hex, keccak256 } from "viem";

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

const MAX_UINT256 = (1n << 256n) - 1n;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;

/** `abi.encode(bytes32)`: the 32 bytes as they are (64 hex digits, no prefix). */
function word32(value: Hex): string {
  if (!BYTES32.test(value)) throw new TypeError(`not a bytes32: ${value}`);
  return value.slice(2);
}

/** `abi.encode(uint256)`: big-endian, left-padded to 32 bytes (64 hex digits, no prefix). */
function wordUint(value: bigint): string {
  if (value < 0n || value > MAX_UINT256) throw new RangeError(`not a uint256: ${value}`);
  return value.toString(16).padStart(64, "0");
}

// abi.encode of static words is their concatenation; building the hex directly instead of going
// through encodeAbiParameters makes a tree of 40,000 leaves about four times faster to build
// (test/receipts/merkleSumTree.test.ts checks the encodings agree).

/** The leaf of a customer balance under its pseudonymous account reference. */
export function sumLeaf(accountRef: Hex, balance: bigint): SumNode {
  if (balance < 0n) throw new RangeError("a liability leaf cannot be negative");
  const inner = keccak256(`0x${word32(accountRef)}${wordUint(balance)}`);
  return { hash: keccak256(inner), sum: balance };
}

/** The parent of two nodes. */
export function sumParent(left: SumNode, right: SumNode): SumNode {
  const hash = keccak256(`0x${word32(left.hash)}${wordUint(left.sum)}${word32(right.hash)}${wordUint(right.sum)}`);
  return { hash, sum: left.sum + right.sum };
}

/** Builds the tree over leaves in the given order (at least one). */
export function buildMerkleSumTree(leaves: readonly SumNode[]): MerkleSumTree {
  return runToEnd(merkleSumTreeSteps(leaves));
}

/** How many nodes {@link merkleSumTreeSteps} hashes between two pauses (about 10 ms of work). */
export const HASHES_PER_STEP = 500;

/**
 * {@link buildMerkleSumTree} in steps: the generator pauses (yields) after every
 * {@link HASHES_PER_STEP} parents and returns the tree, so a caller on a busy event loop can
 * build a large tree without holding the loop for seconds (see {@link runInSteps}).
 */
export function* merkleSumTreeSteps(leaves: readonly SumNode[]): Generator<void, MerkleSumTree> {
  if (leaves.length === 0) throw new RangeError("a Merkle-sum tree needs at least one leaf");
  const levels: SumNode[][] = [[...leaves]];
  let level = levels[0];
  let hashed = 0;
  while (level.length > 1) {
    const next: SumNode[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) {
      next.push(sumParent(level[i], level[i + 1]));
      if (++hashed % HASHES_PER_STEP === 0) yield;
    }
    if (level.length % 2 === 1) next.push(level[level.length - 1]);
    levels.push(next);
    level = next;
  }
  return { levels, root: level[0] };
}

/** Runs a step generator to its end at once. */
export function runToEnd<T>(steps: Generator<void, T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Runs a step generator, giving the event loop a turn (`setImmediate`) at every pause. */
export async function runInSteps<T>(steps: Generator<void, T>): Promise<T> {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
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
