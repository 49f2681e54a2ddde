import { describe, expect, test } from "vitest";
import { type Hex, encodeAbiParameters, keccak256, toHex } from "viem";
import {
  buildMerkleSumTree,
  merkleSumProof,
  merkleSumTreeSteps,
  runInSteps,
  sumLeaf,
  sumParent,
  verifySumInclusion,
} from "../../node/receipts/index.ts";

const ref = (i: number): Hex => keccak256(toHex(`account-${i}`));

describe("merkleSumTree", () => {
  const balances = [120n, 0n, 5_000_00n, 42n, 7n, 1n, 999_999_99n];
  const leaves = balances.map((b, i) => sumLeaf(ref(i), b));
  const tree = buildMerkleSumTree(leaves);

  test("default: the root's sum is the total of all balances", () => {
    expect(tree.root.sum).toBe(balances.reduce((a, b) => a + b, 0n));
  });

  test("behavior: every customer's inclusion proof verifies against root and total", () => {
    balances.forEach((balance, i) => {
      expect(verifySumInclusion(ref(i), balance, merkleSumProof(tree, i), tree.root.hash, tree.root.sum)).toBe(true);
    });
  });

  test("error: a different balance, another customer's proof or a wrong total fails", () => {
    const proof = merkleSumProof(tree, 2);
    expect(verifySumInclusion(ref(2), balances[2] + 1n, proof, tree.root.hash, tree.root.sum)).toBe(false);
    expect(verifySumInclusion(ref(3), balances[2], proof, tree.root.hash, tree.root.sum)).toBe(false);
    expect(verifySumInclusion(ref(2), balances[2], proof, tree.root.hash, tree.root.sum - 1n)).toBe(false);
    expect(() => sumLeaf(ref(0), -1n)).toThrow("cannot be negative");
  });

  test("behavior: leaf and parent hashes are abi.encode exactly as ReserveAttestation computes them", () => {
    const big = (1n << 255n) + 12345n;
    expect(sumLeaf(ref(1), big).hash).toBe(keccak256(keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "uint256" }], [ref(1), big]))));
    const [l, r] = [sumLeaf(ref(2), 7n), sumLeaf(ref(3), big)];
    expect(sumParent(l, r)).toEqual({
      hash: keccak256(encodeAbiParameters([{ type: "bytes32" }, { type: "uint256" }, { type: "bytes32" }, { type: "uint256" }], [l.hash, l.sum, r.hash, r.sum])),
      sum: 7n + big,
    });
    expect(() => sumLeaf("0x12", 1n)).toThrow("not a bytes32: 0x12");
  });

  test("behavior: the tree built in steps (yielding to the event loop) is the same tree", async () => {
    const many = Array.from({ length: 1_234 }, (_, i) => sumLeaf(ref(i), BigInt(i)));
    const stepped = await runInSteps(merkleSumTreeSteps(many));
    expect(stepped.root).toEqual(buildMerkleSumTree(many).root);
  });
});
