import type { Hex } from "viem";
import { parseTransferId } from "../receipts/ids.ts";
import { type MerkleTree, buildMerkleTree, merkleProof, verifyMerkleProof } from "../receipts/merkleTree.ts";
import { type Receipt, receiptLeaf } from "../receipts/receipt.ts";
import { GENESIS_HEAD, nextHead } from "../receipts/rootChain.ts";
import type { AuditChainReader } from "./chainReader.ts";
import { type LogPosition, type SettledBatch, type SettledTransfer, groupBatches } from "./hubEvents.ts";
import { AuditFailure, AuditInputError } from "./errors.ts";
import { codeOf, shortTransferId } from "./transferRef.ts";

/**
 * What proves one transfer: its receipt, the batch it settled in (the `BatchSettled` link and the
 * leaves of every receipt of that batch), its Merkle proof, and the neighbouring links of the
 * wallet's root chain. {@link gatherTransferEvidence} reads it from the chain; tests hand
 * {@link checkTransferEvidence} altered copies.
 */
export interface TransferEvidence {
  receipt: Receipt;
  /** Where its record sits: the `TransfersSettled` log of its payee group, and its place in it. */
  settled: LogPosition;
  batch: SettledBatch;
  /** Position of the receipt in the batch. */
  index: number;
  /** Leaves of all of the batch's receipts, in batch order. */
  batchLeaves: Hex[];
  proof: Hex[];
  /** The wallet's batch before this one (absent for batch 0). */
  previous?: SettledBatch;
  /** The wallet's batch after this one, if any. */
  next?: SettledBatch;
}

/** One check the certificate lists. */
export interface CertificateCheck {
  name: string;
  detail: string;
}

/** A verified transfer: what the chain says, and every check that held. */
export interface TransferCertificate {
  status: "verified";
  transferId: Hex;
  shortId: string;
  payer: { walletId: Hex; code: string; ref: Hex };
  payee: { walletId: Hex; code: string; ref: Hex };
  seq: bigint;
  amount: bigint;
  memoHash: Hex;
  leaf: Hex;
  /** Where the transfer's record is: `logIndex` of its payee group's `TransfersSettled`, `record` its place in it. */
  transaction: { hash: Hex; blockNumber: bigint; blockHash: Hex; timestamp: string; logIndex: number; record: number };
  batch: { batchNo: bigint; firstSeq: bigint; count: number; total: bigint; index: number; root: Hex; proof: Hex[] };
  chain: { prevHead: Hex; head: Hex; nextPrevHead?: Hex; currentHead?: Hex; batchCount: bigint };
  checks: CertificateCheck[];
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Reads from the chain everything that proves `transferId`: its record, the whole batch it settled
 * in (rebuilt from the transaction's logs), its Merkle proof and the neighbouring chain links.
 * No event indexes transfer ids, so the record is found by its sending wallet: the wallet's
 * `BatchSettled` whose sequence range covers the id's seq, then that transaction's `TransfersSettled`
 * logs (see {@link AuditChainReader.batchOf}).
 * Throws {@link AuditFailure} `transfer_not_found` / `batch_missing` when the chain has no such thing.
 */
export async function gatherTransferEvidence(reader: AuditChainReader, transferId: Hex): Promise<TransferEvidence> {
  const [settled] = await reader.transfers({ transferId });
  if (!settled) {
    const { walletId, seq } = parseTransferId(transferId);
    throw new AuditFailure("transfer_not_found", `no settled transfer ${shortTransferId(transferId)} (${codeOf(walletId)} sequence ${seq}) on this chain`, {
      transferId,
    });
  }
  const tx = await reader.transaction(settled.txHash);
  const found = tx && groupBatches(tx.batches, tx.transfers).find((g) => g.receipts.some((r) => same(r.transferId, transferId)));
  if (!found) {
    throw new AuditFailure("batch_missing", `transaction ${settled.txHash} settled ${shortTransferId(transferId)} but records no BatchSettled after it`, {
      transferId,
      txHash: settled.txHash,
    });
  }
  const { batch, receipts } = found;
  const index = receipts.findIndex((r) => same(r.transferId, transferId));
  const batchLeaves = receipts.map(receiptLeaf);
  const { previous, next } = await neighbours(reader, batch);
  return {
    receipt: settled.receipt,
    settled: where(settled),
    batch,
    index,
    batchLeaves,
    proof: merkleProof(buildMerkleTree(batchLeaves), index),
    previous,
    next,
  };
}

const where = (t: LogPosition): LogPosition => ({ txHash: t.txHash, blockNumber: t.blockNumber, logIndex: t.logIndex, record: t.record });

/** The wallet's batches right before and after `batch` (their `BatchSettled` events), where they exist. */
async function neighbours(reader: AuditChainReader, batch: SettledBatch): Promise<{ previous?: SettledBatch; next?: SettledBatch }> {
  const [previous] = batch.batchNo === 0n ? [] : await reader.batches({ fromWallet: batch.fromWallet, batchNo: batch.batchNo - 1n }, { from: reader.startBlock, to: batch.blockNumber });
  const [next] = await reader.batches({ fromWallet: batch.fromWallet, batchNo: batch.batchNo + 1n }, { from: batch.blockNumber, to: await reader.latestBlock() });
  return { previous, next };
}

/** Which field of a claimed receipt differs from the recorded event, as the most specific failure. */
function compareWithRecord(claimed: Receipt, recorded: Receipt): AuditFailure | undefined {
  const id = shortTransferId(recorded.transferId);
  const diff = (field: keyof Receipt) => `${field}: the receipt says ${String(claimed[field])}, the chain recorded ${String(recorded[field])}`;
  if (claimed.amount !== recorded.amount) {
    return new AuditFailure("amount_mismatch", `${id} ${diff("amount")}`, { field: "amount", claimed: claimed.amount, recorded: recorded.amount });
  }
  for (const field of ["toWallet", "payeeRef"] as const) {
    if (!same(claimed[field], recorded[field])) {
      return new AuditFailure("payee_mismatch", `${id} ${diff(field)}`, { field, claimed: claimed[field], recorded: recorded[field] });
    }
  }
  for (const field of ["fromWallet", "payerRef"] as const) {
    if (!same(claimed[field], recorded[field])) {
      return new AuditFailure("payer_mismatch", `${id} ${diff(field)}`, { field, claimed: claimed[field], recorded: recorded[field] });
    }
  }
  if (claimed.seq !== recorded.seq || !same(claimed.memoHash, recorded.memoHash)) {
    const field = claimed.seq !== recorded.seq ? "seq" : "memoHash";
    return new AuditFailure("receipt_mismatch", `${id} ${diff(field)}`, { field });
  }
  return undefined;
}

/**
 * Checks a transfer's evidence against the chain, in the order an auditor would: the receipt is
 * the one recorded, its id is `fromWallet | seq`, it belongs to the batch, the batch root stored
 * by the hub is the root of the batch's receipts, the Merkle proof leads from the receipt's leaf
 * to that root, and the batch is a sound link of the wallet's root chain (`head = H(prevHead,
 * batchNo, firstSeq, count, root)`, joined to the batches before and after it and, for the last
 * batch, to `headOf` on chain). Throws {@link AuditFailure} with the first thing that does not hold.
 */
export async function checkTransferEvidence(reader: AuditChainReader, ev: TransferEvidence): Promise<TransferCertificate> {
  const [recorded] = await reader.transfers({ transferId: ev.receipt.transferId });
  return checkEvidence(reader, ev, recorded, new BatchChecks(reader));
}

/**
 * The checks that depend on the batch alone (its root against the hub's, its link in the root
 * chain), each run once per batch and shared by every transfer of the batch that is checked with
 * the same `BatchChecks`. A failure is shared too: every transfer of the batch reports it, at the
 * same point of its checks as if it had been run for that transfer alone.
 */
class BatchChecks {
  readonly #reader: AuditChainReader;
  readonly #roots = new Map<TransferEvidence["batchLeaves"], Promise<RootVerdict>>();
  readonly #links = new Map<TransferEvidence["batchLeaves"], Promise<LinkVerdict>>();
  readonly #blocks = new Map<bigint, Promise<{ hash: Hex; timestamp: bigint }>>();

  constructor(reader: AuditChainReader) {
    this.#reader = reader;
  }

  /** Keyed by the evidence's leaves: the transfers of one batch share them (and their batch and neighbours). */
  root(ev: TransferEvidence): Promise<RootVerdict> {
    return once(this.#roots, ev.batchLeaves, () => checkBatchRoot(this.#reader, ev));
  }

  link(ev: TransferEvidence, batchCount: bigint): Promise<LinkVerdict> {
    return once(this.#links, ev.batchLeaves, () => checkRootChain(this.#reader, ev, batchCount));
  }

  block(number: bigint): Promise<{ hash: Hex; timestamp: bigint }> {
    return once(this.#blocks, number, () => this.#reader.block(number));
  }
}

function once<K, V>(memo: Map<K, Promise<V>>, key: K, run: () => Promise<V>): Promise<V> {
  let hit = memo.get(key);
  if (!hit) {
    hit = run();
    memo.set(key, hit);
  }
  return hit;
}

interface RootVerdict {
  batchCount: bigint;
  stored: Hex;
  check: CertificateCheck;
}

interface LinkVerdict {
  chain: TransferCertificate["chain"];
  check: CertificateCheck;
}

/** The hub stores a root for the batch, and the batch's receipts rebuild exactly that root. */
async function checkBatchRoot(reader: AuditChainReader, ev: TransferEvidence): Promise<RootVerdict> {
  const b = ev.batch;
  const walletCode = codeOf(b.fromWallet);
  const batchCount = await reader.batchCount(b.fromWallet);
  const stored = await reader.batchRoot(b.fromWallet, b.batchNo);
  if (stored === undefined) {
    throw new AuditFailure("batch_missing", `the hub has no batch ${b.batchNo} of ${walletCode} (it holds ${batchCount} batches)`, { batchNo: b.batchNo, batchCount });
  }
  if (!same(stored, b.root)) {
    throw new AuditFailure("batch_root_mismatch", `batch ${b.batchNo} of ${walletCode}: BatchSettled says root ${b.root}, the hub stores ${stored}`);
  }
  if (ev.batchLeaves.length !== b.count) {
    throw new AuditFailure("batch_root_mismatch", `batch ${b.batchNo} of ${walletCode} has ${ev.batchLeaves.length} receipts in its logs, BatchSettled says ${b.count}`);
  }
  const rebuilt = buildMerkleTree(ev.batchLeaves).root;
  if (!same(rebuilt, stored)) {
    throw new AuditFailure("batch_root_mismatch", `the ${b.count} receipts of batch ${b.batchNo} of ${walletCode} rebuild root ${rebuilt}, the hub stores ${stored}`);
  }
  return { batchCount, stored, check: { name: "batch root", detail: `${b.count} receipts of batch ${b.batchNo} rebuild ${stored}, the root stored by the hub` } };
}

/** The batch is a sound link of its wallet's root chain, joined to its neighbours (or, last, to `headOf`). */
async function checkRootChain(reader: AuditChainReader, ev: TransferEvidence, batchCount: bigint): Promise<LinkVerdict> {
  const b = ev.batch;
  const walletCode = codeOf(b.fromWallet);
  const link = (x: SettledBatch) => nextHead(x.prevHead, { batchNo: x.batchNo, firstSeq: x.firstSeq, count: x.count, root: x.root });
  if (!same(link(b), b.head)) {
    throw new AuditFailure("chain_link_broken", `batch ${b.batchNo} of ${walletCode}: head ${b.head} ≠ H(prevHead ${b.prevHead}, ${b.batchNo}, ${b.firstSeq}, ${b.count}, root)`);
  }
  if (b.batchNo === 0n) {
    if (!same(b.prevHead, GENESIS_HEAD)) throw new AuditFailure("chain_link_broken", `batch 0 of ${walletCode} does not start from the zero head (prevHead ${b.prevHead})`);
  } else {
    const p = ev.previous;
    if (!p || p.batchNo !== b.batchNo - 1n) throw new AuditFailure("batch_missing", `batch ${b.batchNo - 1n} of ${walletCode}, before batch ${b.batchNo}, has no BatchSettled event`);
    if (!same(link(p), p.head)) throw new AuditFailure("chain_link_broken", `batch ${p.batchNo} of ${walletCode}: head ${p.head} ≠ H(prevHead, batchNo, firstSeq, count, root)`);
    if (!same(p.head, b.prevHead)) {
      throw new AuditFailure("chain_link_broken", `batch ${b.batchNo} of ${walletCode} chains to prevHead ${b.prevHead}, but batch ${p.batchNo} ended at head ${p.head}`);
    }
    if (p.firstSeq + BigInt(p.count) !== b.firstSeq) {
      throw new AuditFailure("sequence_gap", `batch ${p.batchNo} of ${walletCode} ends before seq ${p.firstSeq + BigInt(p.count)}, batch ${b.batchNo} starts at ${b.firstSeq}`);
    }
  }
  const chain: TransferCertificate["chain"] = { prevHead: b.prevHead, head: b.head, batchCount };
  if (ev.next) {
    if (ev.next.batchNo !== b.batchNo + 1n || !same(ev.next.prevHead, b.head)) {
      throw new AuditFailure("chain_link_broken", `batch ${ev.next.batchNo} of ${walletCode} chains to prevHead ${ev.next.prevHead}, but batch ${b.batchNo} ended at head ${b.head}`);
    }
    chain.nextPrevHead = ev.next.prevHead;
  } else if (b.batchNo + 1n < batchCount) {
    throw new AuditFailure("batch_missing", `the hub holds ${batchCount} batches of ${walletCode} but batch ${b.batchNo + 1n} has no BatchSettled event`);
  } else {
    const current = await reader.headOf(b.fromWallet);
    if (!same(current, b.head)) {
      throw new AuditFailure("head_mismatch", `batch ${b.batchNo} is ${walletCode}'s last, but its head ${b.head} is not the hub's headOf ${current}`);
    }
    chain.currentHead = current;
  }
  const check = {
    name: "root chain",
    detail:
      `H(${b.batchNo === 0n ? "zero" : `head of batch ${b.batchNo - 1n}`}, batch ${b.batchNo}) = ${b.head}` +
      (ev.next ? `, which batch ${ev.next.batchNo} chains to` : `, the hub's current head`),
  };
  return { chain, check };
}

/**
 * {@link checkTransferEvidence} with the transfer's record as the chain holds it (`recorded`,
 * undefined when the chain has none) already read, and the batch checks shared through `batches`.
 */
async function checkEvidence(reader: AuditChainReader, ev: TransferEvidence, recorded: SettledTransfer | undefined, batches: BatchChecks): Promise<TransferCertificate> {
  const checks: CertificateCheck[] = [];
  const r = ev.receipt;
  const id = shortTransferId(r.transferId);
  const walletCode = codeOf(r.fromWallet);

  if (!recorded) throw new AuditFailure("transfer_not_found", `no settled transfer ${id} on this chain`, { transferId: r.transferId });
  const mismatch = compareWithRecord(r, recorded.receipt);
  if (mismatch) throw mismatch;
  checks.push({
    name: "event",
    detail: `record ${recorded.record} of TransfersSettled in block ${recorded.blockNumber}, tx ${recorded.txHash}, log ${recorded.logIndex}`,
  });

  const derived = parseTransferId(r.transferId);
  if (!same(derived.walletId, r.fromWallet) || derived.seq !== r.seq) {
    throw new AuditFailure("transfer_id_mismatch", `${r.transferId} is not ${walletCode} | ${r.seq}: the id names ${codeOf(derived.walletId)} sequence ${derived.seq}`);
  }
  checks.push({ name: "transfer id", detail: `${r.transferId} = ${walletCode} | seq ${r.seq}` });

  const b = ev.batch;
  if (!same(b.fromWallet, r.fromWallet) || r.seq < b.firstSeq || r.seq >= b.firstSeq + BigInt(b.count) || ev.index !== Number(r.seq - b.firstSeq)) {
    throw new AuditFailure(
      "receipt_mismatch",
      `${id} (seq ${r.seq}, position ${ev.index}) is not in ${codeOf(b.fromWallet)} batch ${b.batchNo} (seq ${b.firstSeq}..${b.firstSeq + BigInt(b.count) - 1n})`,
    );
  }

  const { batchCount, stored, check: rootCheck } = await batches.root(ev);
  checks.push({ ...rootCheck });

  const leaf = receiptLeaf(r);
  if (!verifyMerkleProof(leaf, ev.proof, stored)) {
    throw new AuditFailure("proof_invalid", `the Merkle proof (${ev.proof.length} siblings) does not lead from ${id}'s leaf ${leaf} to batch ${b.batchNo}'s root ${stored}`, {
      leaf,
      root: stored,
    });
  }
  checks.push({ name: "merkle proof", detail: `leaf ${leaf} + ${ev.proof.length} siblings → ${stored}` });

  const { chain, check: linkCheck } = await batches.link(ev, batchCount);
  checks.push({ ...linkCheck });

  const block = await batches.block(ev.settled.blockNumber);
  return {
    status: "verified",
    transferId: r.transferId,
    shortId: id,
    payer: { walletId: r.fromWallet, code: walletCode, ref: r.payerRef },
    payee: { walletId: r.toWallet, code: codeOf(r.toWallet), ref: r.payeeRef },
    seq: r.seq,
    amount: r.amount,
    memoHash: r.memoHash,
    leaf,
    transaction: {
      hash: ev.settled.txHash,
      blockNumber: ev.settled.blockNumber,
      blockHash: block.hash,
      timestamp: new Date(Number(block.timestamp) * 1000).toISOString(),
      logIndex: ev.settled.logIndex,
      record: ev.settled.record,
    },
    batch: { batchNo: b.batchNo, firstSeq: b.firstSeq, count: b.count, total: b.total, index: ev.index, root: stored, proof: ev.proof },
    chain: { ...chain },
    checks,
  };
}

/** Gathers and checks one transfer: the whole of `hulian audit verify <transferId>`. */
export async function verifyTransfer(reader: AuditChainReader, transferId: Hex): Promise<TransferCertificate> {
  const ev = await gatherTransferEvidence(reader, transferId);
  // The evidence's receipt is the record just read by id: checking it reads nothing again.
  const recorded: SettledTransfer = { receipt: ev.receipt, ...ev.settled };
  return checkEvidence(reader, ev, recorded, new BatchChecks(reader));
}

/**
 * Verifies every transfer a transaction settled (`hulian audit verify <txHash>`).
 *
 * The transaction is read once: its `TransfersSettled` records and `BatchSettled` events are the
 * evidence of all its transfers. Per batch it settled, the receipts' leaves and Merkle tree are
 * built once, the neighbouring batches are read once, and the checks of the batch as a whole (root
 * stored by the hub, link of the root chain) run once; only the per-transfer checks (record,
 * transfer id, place in the batch, Merkle proof) run per transfer. So the number of RPC requests
 * does not grow with the number of transfers. Each transfer's record is the one the transaction
 * holds for its id (the first, should a forged view hold two), as a lookup by id would find it.
 * A record with no `BatchSettled` after it in the transaction is verified on its own, by id, which
 * reports what the chain holds for it.
 */
export async function verifyTransaction(reader: AuditChainReader, txHash: Hex): Promise<TransferCertificate[]> {
  const tx = await reader.transaction(txHash);
  if (!tx) throw new AuditInputError(`no transaction ${txHash} on this chain`);
  if (tx.transfers.length === 0) throw new AuditInputError(`transaction ${txHash} settled no transfers`);

  const recordOf = new Map<string, SettledTransfer>();
  for (const t of tx.transfers) if (!recordOf.has(t.receipt.transferId.toLowerCase())) recordOf.set(t.receipt.transferId.toLowerCase(), t);

  interface BatchEvidence {
    batch: SettledBatch;
    leaves: Hex[];
    /** Built when the first of its transfers is checked. */
    tree?: MerkleTree;
    /** Position of each transfer id in the batch (its first, as `findIndex` would find it). */
    indexOf: Map<string, number>;
    neighbours?: Promise<{ previous?: SettledBatch; next?: SettledBatch }>;
  }
  // A transfer belongs to the first batch of the transaction whose receipts hold its id.
  const batchOf = new Map<string, BatchEvidence>();
  for (const { batch, receipts } of groupBatches(tx.batches, tx.transfers)) {
    const leaves = receipts.map(receiptLeaf);
    const evidence: BatchEvidence = { batch, leaves, indexOf: new Map() };
    receipts.forEach((r, i) => {
      const key = r.transferId.toLowerCase();
      if (!evidence.indexOf.has(key)) evidence.indexOf.set(key, i);
      if (!batchOf.has(key)) batchOf.set(key, evidence);
    });
  }

  const batches = new BatchChecks(reader);
  const out: TransferCertificate[] = [];
  for (const t of tx.transfers) {
    const key = t.receipt.transferId.toLowerCase();
    const found = batchOf.get(key);
    if (!found) {
      out.push(await verifyTransfer(reader, t.receipt.transferId));
      continue;
    }
    const settled = recordOf.get(key)!;
    const index = found.indexOf.get(key)!;
    found.tree ??= buildMerkleTree(found.leaves);
    found.neighbours ??= neighbours(reader, found.batch);
    const { previous, next } = await found.neighbours;
    const ev: TransferEvidence = {
      receipt: settled.receipt,
      settled: where(settled),
      batch: found.batch,
      index,
      batchLeaves: found.leaves,
      proof: merkleProof(found.tree, index),
      previous,
      next,
    };
    out.push(await checkEvidence(reader, ev, settled, batches));
  }
  return out;
}
