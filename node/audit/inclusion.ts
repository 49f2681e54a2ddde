import { randomBytes } from "node:crypto";
import { type Hex, concat, keccak256, zeroHash } from "viem";
import {
  type MerkleSumTree,
  type SumProofStep,
  HASHES_PER_STEP,
  merkleSumProof,
  merkleSumTreeSteps,
  processSumProof,
  runInSteps,
  runToEnd,
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

/**
 * How many leaves each customer's balance is split into. A proof's sibling sums are then random
 * parts of several customers' balances, never one neighbour's exact balance (with one leaf per
 * customer, the first sibling of a proof *was* the neighbour's balance).
 */
export const LIABILITY_PIECES = 4;

/** One leaf of a customer's balance: a random part of it under a salted reference. */
export interface LiabilityPiece {
  /** Random, fresh for every attestation: the leaf's reference is `pieceRef(accountRef, salt)`. */
  salt: Hex;
  amount: bigint;
}

/** The Merkle-sum tree an operator attests, and which of its leaves belong to which customer. */
export interface LiabilityTree {
  /** Leaves in tree order (by piece reference, so the order says nothing about customers). */
  leaves: LiabilityLeaf[];
  tree?: MerkleSumTree;
  root: Hex;
  total: bigint;
  /** How many customers (what the attestation's `accountCount` says); each has {@link LIABILITY_PIECES} leaves. */
  accountCount: number;
  /** Each customer by lower-case account reference: balance, and its pieces with their leaf index. */
  customers: Map<string, { ref: Hex; balance: bigint; pieces: (LiabilityPiece & { index: number })[] }>;
}

/** Options of {@link buildLiabilityTree}. */
export interface LiabilityTreeOptions {
  /** Source of randomness for salts and splits (tests seed it); default `crypto.randomBytes`. */
  randomBytes?: (size: number) => Uint8Array;
  /** Leaves per customer; default {@link LIABILITY_PIECES}. */
  pieces?: number;
}

/**
 * The reference of one piece of a customer's balance: `keccak256(abi.encode(accountRef, salt))`.
 * The customer checks that each piece of their proof is bound to their own reference, so one
 * leaf cannot be shown to two customers.
 */
export function pieceRef(accountRef: Hex, salt: Hex): Hex {
  return keccak256(concat([accountRef, salt]));
}

const hex = (bytes: Uint8Array): Hex => `0x${Buffer.from(bytes).toString("hex")}`;
const uint = (bytes: Uint8Array): bigint => BigInt(hex(bytes));

/** Splits `balance` into `k` random non-negative parts that add up to it (random cut points in [0, balance]). */
function split(balance: bigint, k: number, random: (size: number) => Uint8Array): bigint[] {
  const cuts: bigint[] = [];
  // 32 random bytes modulo balance + 1: the bias is below 2^-190 for any balance a ledger holds.
  for (let i = 0; i < k - 1; i++) cuts.push(balance === 0n ? 0n : uint(random(32)) % (balance + 1n));
  cuts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const parts: bigint[] = [];
  let last = 0n;
  for (const c of [...cuts, balance]) {
    parts.push(c - last);
    last = c;
  }
  return parts;
}


/**
 * Builds the liability tree of an operator's customer balances, bit for bit as
 * `ReserveAttestation` checks it: each balance is split into {@link LIABILITY_PIECES} random
 * parts, each a leaf `sumLeaf(pieceRef(accountRef, salt), part)` with a fresh random salt, and
 * the leaves are ordered by piece reference, which mixes every customer's pieces. The root's sum
 * is still exactly the sum of the balances. No customers gives the zero root and a zero total.
 */
export function buildLiabilityTree(balances: readonly LiabilityLeaf[], options: LiabilityTreeOptions = {}): LiabilityTree {
  return runToEnd(liabilityTreeSteps(balances, options));
}

/**
 * {@link buildLiabilityTree} giving the event loop a turn every few thousand hashes: what the
 * node's attester uses, so 10,000 customers (40,000 leaves, seconds of hashing) do not stall its
 * API. `balances` must already be one consistent snapshot.
 */
export function buildLiabilityTreeInSteps(balances: readonly LiabilityLeaf[], options: LiabilityTreeOptions = {}): Promise<LiabilityTree> {
  return runInSteps(liabilityTreeSteps(balances, options));
}

function* liabilityTreeSteps(balances: readonly LiabilityLeaf[], options: LiabilityTreeOptions): Generator<void, LiabilityTree> {
  const random = options.randomBytes ?? randomBytes;
  const k = options.pieces ?? LIABILITY_PIECES;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`pieces must be a positive integer, not ${k}`);
  const customers: LiabilityTree["customers"] = new Map();
  const all: { owner: string; piece: LiabilityPiece; ref: Hex }[] = [];
  for (const c of balances) {
    const owner = c.ref.toLowerCase();
    if (customers.has(owner)) throw new RangeError(`account reference ${c.ref} appears twice`);
    if (c.balance < 0n) throw new RangeError("a liability leaf cannot be negative");
    customers.set(owner, { ref: c.ref, balance: c.balance, pieces: [] });
    for (const amount of split(c.balance, k, random)) {
      const salt = hex(random(32));
      all.push({ owner, piece: { salt, amount }, ref: pieceRef(c.ref, salt) });
      if (all.length % HASHES_PER_STEP === 0) yield;
    }
  }
  // Piece references are keccak256 output, lower-case hex already.
  all.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  all.forEach((p, index) => customers.get(p.owner)!.pieces.push({ ...p.piece, index }));
  const leaves = all.map((p) => ({ ref: p.ref, balance: p.piece.amount }));
  if (leaves.length === 0) return { leaves, root: zeroHash, total: 0n, accountCount: 0, customers };
  const nodes = [];
  for (const l of leaves) {
    nodes.push(sumLeaf(l.ref, l.balance));
    if (nodes.length % (HASHES_PER_STEP / 2) === 0) yield;
  }
  const tree = yield* merkleSumTreeSteps(nodes);
  return { leaves, tree, root: tree.root.hash, total: tree.root.sum, accountCount: customers.size, customers };
}

/** One piece of a customer's inclusion proof: its salt, its amount and the Merkle-sum proof of its leaf. */
export interface InclusionPiece {
  salt: Hex;
  amount: bigint;
  proof: SumProofStep[];
}

/** What a customer receives to check their balance is in their operator's attested liabilities (`proof.json`). */
export interface InclusionProof {
  version: 2;
  wallet: string;
  walletId: Hex;
  accountRef: Hex;
  balance: bigint;
  /** The parts of the balance, each a leaf of the attested tree; their amounts add up to `balance`. */
  pieces: InclusionPiece[];
  root: Hex;
  total: bigint;
  asOf: bigint;
  accountCount: number;
}

/** The inclusion proof of `ref` in `tree`, or undefined when the reference is not a customer of it. */
export function inclusionProofOf(
  tree: LiabilityTree,
  ref: Hex,
  attestation: { wallet: string; walletId: Hex; asOf: bigint },
): InclusionProof | undefined {
  const customer = tree.customers.get(ref.toLowerCase());
  if (!customer || !tree.tree) return undefined;
  return {
    version: 2,
    wallet: attestation.wallet,
    walletId: attestation.walletId,
    accountRef: customer.ref,
    balance: customer.balance,
    pieces: customer.pieces.map((p) => ({ salt: p.salt, amount: p.amount, proof: merkleSumProof(tree.tree!, p.index) })),
    root: tree.root,
    total: tree.total,
    asOf: attestation.asOf,
    accountCount: tree.accountCount,
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
    pieces: p.pieces.map((piece) => ({
      salt: piece.salt,
      amount: piece.amount.toString(),
      proof: piece.proof.map((s) => ({ hash: s.hash, sum: s.sum.toString(), siblingOnLeft: s.siblingOnLeft })),
    })),
    root: p.root,
    total: p.total.toString(),
    asOf: Number(p.asOf),
    accountCount: p.accountCount,
  };
}

const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const UINT = /^[0-9]{1,78}$/;
/** Most pieces a proof file may carry: far more than any operator splits a balance into, and a bound on the chain calls a check makes. */
const MAX_PIECES = 64;
/** Deepest proof of one piece: a tree of 2^64 leaves. */
const MAX_DEPTH = 64;

function parseSteps(raw: unknown, at: string, bad: (field: string, why: string) => AuditInputError): SumProofStep[] {
  if (!Array.isArray(raw) || raw.length > MAX_DEPTH) throw bad(at, `must be an array of at most ${MAX_DEPTH} {hash, sum, siblingOnLeft}`);
  return (raw as Record<string, unknown>[]).map((s, i) => {
    if (typeof s?.hash !== "string" || !BYTES32.test(s.hash)) throw bad(`${at}[${i}].hash`, "must be 0x + 64 hex digits");
    if (typeof s.sum !== "string" || !UINT.test(s.sum)) throw bad(`${at}[${i}].sum`, "must be a non-negative decimal string");
    if (typeof s.siblingOnLeft !== "boolean") throw bad(`${at}[${i}].siblingOnLeft`, "must be true or false");
    return { hash: s.hash as Hex, sum: BigInt(s.sum), siblingOnLeft: s.siblingOnLeft };
  });
}

/** Parses `proof.json` as the node serves it; {@link AuditInputError} names the first bad field. */
export function parseInclusionProof(json: unknown): InclusionProof {
  const o = json as Record<string, unknown>;
  const bad = (field: string, why: string) => new AuditInputError(`proof.json: ${field} ${why}`);
  if (!o || typeof o !== "object") throw bad("(document)", "is not a JSON object");
  if (o.version === 1) throw bad("version", "1 (one leaf per customer) is no longer issued: download a new proof from the operator");
  if (o.version !== 2) throw bad("version", "must be 2");
  for (const f of ["walletId", "accountRef", "root"]) if (typeof o[f] !== "string" || !BYTES32.test(o[f] as string)) throw bad(f, "must be 0x + 64 hex digits");
  for (const f of ["balance", "total"]) if (typeof o[f] !== "string" || !UINT.test(o[f] as string)) throw bad(f, "must be a decimal string of minor units");
  if (!Array.isArray(o.pieces) || o.pieces.length === 0 || o.pieces.length > MAX_PIECES) throw bad("pieces", `must be an array of 1-${MAX_PIECES} {salt, amount, proof}`);
  const pieces = (o.pieces as Record<string, unknown>[]).map((p, i) => {
    if (typeof p?.salt !== "string" || !BYTES32.test(p.salt)) throw bad(`pieces[${i}].salt`, "must be 0x + 64 hex digits");
    if (typeof p.amount !== "string" || !UINT.test(p.amount)) throw bad(`pieces[${i}].amount`, "must be a decimal string of minor units");
    return { salt: p.salt.toLowerCase() as Hex, amount: BigInt(p.amount), proof: parseSteps(p.proof, `pieces[${i}].proof`, bad) };
  });
  return {
    version: 2,
    wallet: typeof o.wallet === "string" ? o.wallet : codeOf(o.walletId as Hex),
    walletId: (o.walletId as string).toLowerCase() as Hex,
    accountRef: (o.accountRef as string).toLowerCase() as Hex,
    balance: BigInt(o.balance as string),
    pieces,
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
  /** How many leaves (pieces of the balance) were checked. */
  pieces: number;
  /** `ReserveAttestation.verifyInclusion` evaluated by the contract agreed, for every piece. */
  contractAgrees: boolean;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Folds one piece's leaf with its proof; a sum outside uint256 (e.g. a lowered sibling gone negative) is `inclusion_invalid`. */
function foldPiece(accountRef: Hex, piece: InclusionProof["pieces"][number], index: number): ReturnType<typeof processSumProof> {
  try {
    return processSumProof(sumLeaf(pieceRef(accountRef, piece.salt), piece.amount), piece.proof);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new AuditFailure("inclusion_invalid", `piece ${index} of the proof for ${accountRef} carries a sum that is not a uint256: ${e.message}`);
  }
}

/**
 * Checks a customer's inclusion proof against the operator's latest attestation on chain: the
 * pieces must add up to the balance, have distinct salts (so no leaf counts twice), and each
 * piece's leaf `(pieceRef(accountRef, salt), amount)` folded with its proof must give exactly the
 * attested root and total, here and in `ReserveAttestation.verifyInclusion`. A proof that is
 * sound for an older attestation fails with `attestation_superseded` (ask the operator for a
 * fresh one); any other mismatch is `inclusion_invalid`.
 */
export async function verifyInclusionProof(reader: AuditChainReader, p: InclusionProof): Promise<InclusionReport> {
  const code = codeOf(p.walletId);
  const latest = await reader.latestAttestation(p.walletId);
  if (!latest) throw new AuditFailure("never_attested", `${code} has never posted a reserve attestation`);
  const parts = p.pieces.reduce((sum, piece) => sum + piece.amount, 0n);
  if (parts !== p.balance) {
    throw new AuditFailure("inclusion_invalid", `the ${p.pieces.length} pieces of reference ${p.accountRef} add up to ${parts}, not to the balance ${p.balance}`, { pieces: parts, balance: p.balance });
  }
  const salts = new Set(p.pieces.map((piece) => piece.salt.toLowerCase()));
  if (salts.size !== p.pieces.length) throw new AuditFailure("inclusion_invalid", `the proof for reference ${p.accountRef} repeats a piece (two pieces share a salt)`);
  for (const [i, piece] of p.pieces.entries()) {
    const top = foldPiece(p.accountRef, piece, i);
    if (same(top.hash, latest.root) && top.sum === latest.totalLiabilities) continue;
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
      `balance ${p.balance} for reference ${p.accountRef} does not prove against ${code}'s attested root ${latest.root} (total ${latest.totalLiabilities}): piece ${i} (${piece.amount}) leads to ${top.hash} (total ${top.sum})`,
      { piece: i, computedRoot: top.hash, computedTotal: top.sum, chainRoot: latest.root, chainTotal: latest.totalLiabilities },
    );
  }
  for (const [i, piece] of p.pieces.entries()) {
    if (!(await reader.verifyInclusionOnChain(p.walletId, pieceRef(p.accountRef, piece.salt), piece.amount, piece.proof))) {
      throw new AuditFailure("inclusion_invalid", `ReserveAttestation.verifyInclusion rejects piece ${i} of the proof for ${p.accountRef} although it folds to the attested root`);
    }
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
    pieces: p.pieces.length,
    contractAgrees: true,
  };
}

function iso(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString();
}
