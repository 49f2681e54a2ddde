import { describe, expect, test } from "vitest";
import { type Hex, keccak256, toHex } from "viem";
import {
  buildMerkleTree,
  chainHead,
  hashPair,
  merkleProof,
  merkleRoot,
  nextHead,
  GENESIS_HEAD,
  verifyMerkleProof,
} from "../../node/receipts/index.ts";

const leaf = (i: number): Hex => keccak256(toHex(`leaf-${i}`));

describe("merkleTree", () => {
  test("default: one leaf is its own root with an empty proof", () => {
    const tree = buildMerkleTree([leaf(0)]);
    expect(tree.root).toBe(leaf(0));
    expect(merkleProof(tree, 0)).toEqual([]);
  });

  test("behavior: pairs are hashed sorted, so order within a pair does not matter", () => {
    expect(hashPair(leaf(1), leaf(2))).toBe(hashPair(leaf(2), leaf(1)));
    expect(merkleRoot([leaf(1), leaf(2)])).toBe(hashPair(leaf(1), leaf(2)));
  });

  test("behavior: an odd last node moves up unchanged", () => {
    const root = merkleRoot([leaf(0), leaf(1), leaf(2)]);
    expect(root).toBe(hashPair(hashPair(leaf(0), leaf(1)), leaf(2)));
  });

  test("behavior: every leaf proves for every size from 1 to 70", () => {
    for (let size = 1; size <= 70; size++) {
      const leaves = Array.from({ length: size }, (_, i) => leaf(i));
      const tree = buildMerkleTree(leaves);
      for (let i = 0; i < size; i++) {
        expect(verifyMerkleProof(leaves[i], merkleProof(tree, i), tree.root)).toBe(true);
      }
    }
  });

  test("error: a changed leaf, a proof of another leaf or a changed sibling fails", () => {
    const leaves = Array.from({ length: 9 }, (_, i) => leaf(i));
    const tree = buildMerkleTree(leaves);
    const proof = merkleProof(tree, 4);
    expect(verifyMerkleProof(leaf(99), proof, tree.root)).toBe(false);
    expect(verifyMerkleProof(leaves[4], merkleProof(tree, 5), tree.root)).toBe(false);
    expect(verifyMerkleProof(leaves[4], [leaf(42), ...proof.slice(1)], tree.root)).toBe(false);
  });

  test("error: no leaves, or a leaf index outside the tree", () => {
    expect(() => buildMerkleTree([])).toThrow("at least one leaf");
    expect(() => merkleProof(buildMerkleTree([leaf(0)]), 1)).toThrow("outside the tree");
  });
});

describe("rootChain", () => {
  test("behavior: the head folds every batch in order, so reordering changes it", () => {
    const a = { batchNo: 0n, firstSeq: 0n, count: 2, root: leaf(1) };
    const b = { batchNo: 1n, firstSeq: 2n, count: 1, root: leaf(2) };
    expect(chainHead([a, b])).toBe(nextHead(nextHead(GENESIS_HEAD, a), b));
    expect(chainHead([b, a])).not.toBe(chainHead([a, b]));
    expect(chainHead([])).toBe(GENESIS_HEAD);
  });
});
