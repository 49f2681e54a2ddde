import { type Hex, zeroHash } from "viem";
import {
  type MerkleSumTree,
  type SumProofStep,
  buildMerkleSumTree,
  merkleSumProof,
  processSumProof,
  sumLeaf,
} from "../receipts/merkleSumTree.ts";
import type { AuditChainReader } from "./chainReader.ts";
import { AuditFailure, AuditInputError } from "./errors.ts";
import { codeOf } from "./transferRef.ts";

/** One customer's balance under its attestation reference (never a handle or an account id). */
export interface LiabilityLeaf {
  ref: Hex;
  balance: bigint;
}

/** The Merkle-sum tree an operator attests: leaves ordered by reference, so the order says nothing about customers. */
export interface LiabilityTree {
  leaves: LiabilityLeaf[];
  tree?: MerkleSumTree;
  root: Hex;
  total: bigint;
  /** Leaf index by lower-case reference. */
  index: Map<string, number>;
}

/**
 * Builds the liability tree of an operator's customer balances, bit for bit as
 * `ReserveAttestation` checks it. No customers gives the zero root and a zero total.
 */
export function buildLiabilityTree(balances: readonly LiabilityLeaf[]): LiabilityTree {
  const leaves = [...balances].sort((a, b) => (a.ref.toLowerCase() < b.ref.toLowerCase() ? -1 : a.ref.toLowerCase() > b.ref.toLowerCase() ? 1 : 0));
  const index = new Map(leaves.map((l, i) => [l.ref.toLowerCase(), i]));
  if (leaves.length === 0) return { leaves, root: zeroHash, total: 0n, index };
  const tree = buildMerkleSumTree(leaves.map((l) => sumLeaf(l.ref, l.balance)));
  return { leaves, tree, root: tree.root.hash, total: tree.root.sum, index };
}

/** What a customer receives to check their balance is in their operator's attested liabilities (`proof.json`). */
export interface InclusionProof {
  version: 1;
  wallet: string;
  walletId: Hex;
  accountRef: Hex;
  balance: bigint;
  proof: SumProofStep[];
  root: Hex;
  total: bigint;
  asOf: bigint;
  accountCount: number;
}

/** The inclusion proof of `ref` in `tree`, or undefined when the reference is not a leaf. */
export function inclusionProofOf(
  tree: LiabilityTree,
  ref: Hex,
  attestation: { wallet: string; walletId: Hex; asOf: bigint },
): InclusionProof | undefined {
  const i = tree.index.get(ref.toLowerCase());
  if (i === undefined || !tree.tree) return undefined;
  return {
    version: 1,
    wallet: attestation.wallet,
    walletId: attestation.walletId,
    accountRef: tree.leaves[i].ref,
    balance: tree.leaves[i].balance,
    proof: merkleSumProof(tree.tree, i),
    root: tree.root,
    total: tree.total,
    asOf: attestation.asOf,
    accountCount: tree.leaves.length,
  };
}

/** An inclusion proof as JSON (amounts and sums as decimal strings). */
export function inclusionProofJson(p: InclusionProof): Record<string, unknown> {
  return {
    version: p.version,
    wallet: p.wallet,
    walletId: p.walletId,
    accountRef: p.accountRef,
    balance: p.balance.toString(),
    proof: p.proof.map((s) => ({ hash: s.hash, sum: s.sum.toString(), siblingOnLeft: s.siblingOnLeft })),
    root: p.root,
    total: p.total.toString(),
    asOf: Number(p.asOf),
    accountCount: p.accountCount,
  };
}

const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const UINT = /^[0-9]{1,78}$/;

/** Parses `proof.json` as the node serves it; {@link AuditInputError} names the first bad field. */
export function parseInclusionProof(json: unknown): InclusionProof {
  const o = json as Record<string, unknown>;
  const bad = (field: string, why: string) => new AuditInputError(`proof.json: ${field} ${why}`);
  if (!o || typeof o !== "object") throw bad("(document)", "is not a JSON object");
  for (const f of ["walletId", "accountRef", "root"]) if (typeof o[f] !== "string" || !BYTES32.test(o[f] as string)) throw bad(f, "must be 0x + 64 hex digits");
  for (const f of ["balance", "total"]) if (typeof o[f] !== "string" || !UINT.test(o[f] as string)) throw bad(f, "must be a decimal string of minor units");
  if (!Array.isArray(o.proof)) throw bad("proof", "must be an array of {hash, sum, siblingOnLeft}");
  const proof = (o.proof as Record<string, unknown>[]).map((s, i) => {
    if (typeof s?.hash !== "string" || !BYTES32.test(s.hash)) throw bad(`proof[${i}].hash`, "must be 0x + 64 hex digits");
    if (typeof s.sum !== "string" || !UINT.test(s.sum)) throw bad(`proof[${i}].sum`, "must be a non-negative decimal string");
    if (typeof s.siblingOnLeft !== "boolean") throw bad(`proof[${i}].siblingOnLeft`, "must be true or false");
    return { hash: s.hash as Hex, sum: BigInt(s.sum), siblingOnLeft: s.siblingOnLeft };
  });
  return {
    version: 1,
    wallet: typeof o.wallet === "string" ? o.wallet : codeOf(o.walletId as Hex),
    walletId: (o.walletId as string).toLowerCase() as Hex,
    accountRef: (o.accountRef as string).toLowerCase() as Hex,
    balance: BigInt(o.balance as string),
    proof,
    root: (o.root as string).toLowerCase() as Hex,
    total: BigInt(o.total as string),
    asOf: BigInt(Number(o.asOf ?? 0)),
    accountCount: Number(o.accountCount ?? 0),
  };
}

/** The outcome of `hulian audit inclusion`. */
export interface InclusionReport {
  status: "included";
  wallet: string;
  walletId: Hex;
  accountRef: Hex;
  balance: bigint;
  root: Hex;
  total: bigint;
  asOf: string;
  accountCount: number;
  /** `ReserveAttestation.verifyInclusion` evaluated by the contract agreed. */
  contractAgrees: boolean;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Checks a customer's inclusion proof against the operator's latest attestation on chain: the leaf
 * of `(accountRef, balance)` folded with the proof must give exactly the attested root and total.
 * A proof that is sound for an older attestation fails with `attestation_superseded` (ask the
 * operator for a fresh one); any other mismatch is `inclusion_invalid`.
 */
export async function verifyInclusionProof(reader: AuditChainReader, p: InclusionProof): Promise<InclusionReport> {
  const code = codeOf(p.walletId);
  const latest = await reader.latestAttestation(p.walletId);
  if (!latest) throw new AuditFailure("never_attested", `${code} has never posted a reserve attestation`);
  const top = processSumProof(sumLeaf(p.accountRef, p.balance), p.proof);
  if (!same(top.hash, latest.root) || top.sum !== latest.totalLiabilities) {
    const selfConsistent = same(top.hash, p.root) && top.sum === p.total;
    if (selfConsistent && !same(p.root, latest.root)) {
      throw new AuditFailure(
        "attestation_superseded",
        `the proof is for ${code}'s attestation as of ${iso(p.asOf)} (root ${p.root}); the latest on chain is as of ${iso(latest.asOf)} (root ${latest.root}): ask ${code} for a new proof`,
        { proofRoot: p.root, chainRoot: latest.root },
      );
    }
    throw new AuditFailure(
      "inclusion_invalid",
      `balance ${p.balance} for reference ${p.accountRef} does not prove against ${code}'s attested root ${latest.root} (total ${latest.totalLiabilities}): the proof leads to ${top.hash} (total ${top.sum})`,
      { computedRoot: top.hash, computedTotal: top.sum, chainRoot: latest.root, chainTotal: latest.totalLiabilities },
    );
  }
  const contractAgrees = await reader.verifyInclusionOnChain(p.walletId, p.accountRef, p.balance, p.proof);
  if (!contractAgrees) {
    throw new AuditFailure("inclusion_invalid", `ReserveAttestation.verifyInclusion rejects the proof for ${p.accountRef} although it folds to the attested root`);
  }
  return {
    status: "included",
    wallet: code,
    walletId: p.walletId,
    accountRef: p.accountRef,
    balance: p.balance,
    root: latest.root,
    total: latest.totalLiabilities,
    asOf: iso(latest.asOf),
    accountCount: latest.accountCount,
    contractAgrees,
  };
}

function iso(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString();
}
