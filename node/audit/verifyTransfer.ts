import type { Hex } from "viem";
import { parseTransferId } from "../receipts/ids.ts";
import { buildMerkleTree, merkleProof, verifyMerkleProof } from "../receipts/merkleTree.ts";
import { type Receipt, receiptLeaf } from "../receipts/receipt.ts";
import { GENESIS_HEAD, nextHead } from "../receipts/rootChain.ts";
import type { AuditChainReader } from "./chainReader.ts";
import { type LogPosition, type SettledBatch, groupBatches } from "./hubEvents.ts";
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
  const [previous] = batch.batchNo === 0n ? [] : await reader.batches({ fromWallet: batch.fromWallet, batchNo: batch.batchNo - 1n }, { from: reader.startBlock, to: batch.blockNumber });
  const [next] = await reader.batches({ fromWallet: batch.fromWallet, batchNo: batch.batchNo + 1n }, { from: batch.blockNumber, to: await reader.latestBlock() });
  return {
    receipt: settled.receipt,
    settled: { txHash: settled.txHash, blockNumber: settled.blockNumber, logIndex: settled.logIndex, record: settled.record },
    batch,
    index,
    batchLeaves,
    proof: merkleProof(buildMerkleTree(batchLeaves), index),
    previous,
    next,
  };
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
  const checks: CertificateCheck[] = [];
  const r = ev.receipt;
  const id = shortTransferId(r.transferId);
  const walletCode = codeOf(r.fromWallet);

  const [recorded] = await reader.transfers({ transferId: r.transferId });
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

  const batchCount = await reader.batchCount(r.fromWallet);
  const stored = await reader.batchRoot(r.fromWallet, b.batchNo);
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
  checks.push({ name: "batch root", detail: `${b.count} receipts of batch ${b.batchNo} rebuild ${stored}, the root stored by the hub` });

  const leaf = receiptLeaf(r);
  if (!verifyMerkleProof(leaf, ev.proof, stored)) {
    throw new AuditFailure("proof_invalid", `the Merkle proof (${ev.proof.length} siblings) does not lead from ${id}'s leaf ${leaf} to batch ${b.batchNo}'s root ${stored}`, {
      leaf,
      root: stored,
    });
  }
  checks.push({ name: "merkle proof", detail: `leaf ${leaf} + ${ev.proof.length} siblings → ${stored}` });

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
    const current = await reader.headOf(r.fromWallet);
    if (!same(current, b.head)) {
      throw new AuditFailure("head_mismatch", `batch ${b.batchNo} is ${walletCode}'s last, but its head ${b.head} is not the hub's headOf ${current}`);
    }
    chain.currentHead = current;
  }
  checks.push({
    name: "root chain",
    detail:
      `H(${b.batchNo === 0n ? "zero" : `head of batch ${b.batchNo - 1n}`}, batch ${b.batchNo}) = ${b.head}` +
      (ev.next ? `, which batch ${ev.next.batchNo} chains to` : `, the hub's current head`),
  });

  const block = await reader.block(ev.settled.blockNumber);
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
    chain,
    checks,
  };
}

/** Gathers and checks one transfer: the whole of `hulian audit verify <transferId>`. */
export async function verifyTransfer(reader: AuditChainReader, transferId: Hex): Promise<TransferCertificate> {
  return checkTransferEvidence(reader, await gatherTransferEvidence(reader, transferId));
}

/** Verifies every transfer a transaction settled (`hulian audit verify <txHash>`). */
export async function verifyTransaction(reader: AuditChainReader, txHash: Hex): Promise<TransferCertificate[]> {
  const tx = await reader.transaction(txHash);
  if (!tx) throw new AuditInputError(`no transaction ${txHash} on this chain`);
  if (tx.transfers.length === 0) throw new AuditInputError(`transaction ${txHash} settled no transfers`);
  const out: TransferCertificate[] = [];
  for (const t of tx.transfers) out.push(await verifyTransfer(reader, t.receipt.transferId));
  return out;
}
