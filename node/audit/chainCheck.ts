import type { Hex } from "viem";
import { DEFAULT_RPC_CONCURRENCY, mapConcurrent } from "../chain/concurrency.ts";
import { merkleRoot } from "../receipts/merkleTree.ts";
import { type Receipt, receiptLeaf } from "../receipts/receipt.ts";
import { GENESIS_HEAD, nextHead } from "../receipts/rootChain.ts";
import type { AuditChainReader } from "./chainReader.ts";
import { type SettledBatch, groupBatches } from "./hubEvents.ts";
import { AuditFailure } from "./errors.ts";
import { codeOf } from "./transferRef.ts";

/** A batch with its receipts (in batch order) and the root the hub stores for it. */
export interface BatchRecord {
  batch: SettledBatch;
  receipts: Receipt[];
  /** `batchRoot(wallet, batchNo)` on chain; undefined when the hub has none. */
  storedRoot: Hex | undefined;
}

/** What `hulian audit chain` reports for a wallet whose chain holds. */
export interface ChainReport {
  status: "verified";
  walletId: Hex;
  code: string;
  batches: number;
  transfers: number;
  /** Σ amounts settled out of the wallet. */
  total: bigint;
  /** Σ per payee wallet code. */
  byPayee: Record<string, bigint>;
  firstSeq: bigint;
  nextSeq: bigint;
  head: Hex;
  firstBlock?: bigint;
  lastBlock?: bigint;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Folds a wallet's batches, in order from its first, and throws {@link AuditFailure} at the first
 * one that breaks the chain. Invariants, for every batch n: it is batch n (no gap), it continues the
 * sequence where n−1 ended, its `prevHead` is n−1's head (zero for n = 0), its head is
 * `H(prevHead, n, firstSeq, count, root)`, its root is the Merkle root of its receipts and is the
 * root the hub stores (no rewrite), and its total is the sum of its receipts.
 */
export class ChainVerifier {
  readonly #walletId: Hex;
  readonly #code: string;
  #expectedBatch = 0n;
  #head: Hex = GENESIS_HEAD;
  #nextSeq = 0n;
  #transfers = 0;
  #total = 0n;
  #byPayee: Record<string, bigint> = {};
  #firstBlock: bigint | undefined;
  #lastBlock: bigint | undefined;

  constructor(walletId: Hex) {
    this.#walletId = walletId;
    this.#code = codeOf(walletId);
  }

  /** Checks the next batch of the chain. */
  add({ batch: b, receipts, storedRoot }: BatchRecord): void {
    const w = this.#code;
    if (!same(b.fromWallet, this.#walletId)) throw new AuditFailure("receipt_mismatch", `batch ${b.batchNo} belongs to ${codeOf(b.fromWallet)}, not ${w}`);
    if (b.batchNo !== this.#expectedBatch) {
      throw new AuditFailure(
        "batch_missing",
        b.batchNo > this.#expectedBatch
          ? `${w}: batch ${this.#expectedBatch} is missing (the next BatchSettled is batch ${b.batchNo})`
          : `${w}: batch ${b.batchNo} appears again after batch ${this.#expectedBatch - 1n}`,
        { expected: this.#expectedBatch, found: b.batchNo },
      );
    }
    if (!same(b.prevHead, this.#head)) {
      throw new AuditFailure(
        "chain_link_broken",
        `${w}: batch ${b.batchNo} chains to prevHead ${b.prevHead}, but the chain so far ends at ${this.#head}${b.batchNo === 0n ? " (the zero head)" : ` (head of batch ${b.batchNo - 1n})`}`,
        { batchNo: b.batchNo, prevHead: b.prevHead, expected: this.#head },
      );
    }
    if (b.firstSeq !== this.#nextSeq) {
      throw new AuditFailure("sequence_gap", `${w}: batch ${b.batchNo} starts at seq ${b.firstSeq}, the chain so far ends before seq ${this.#nextSeq}`);
    }
    const head = nextHead(b.prevHead, { batchNo: b.batchNo, firstSeq: b.firstSeq, count: b.count, root: b.root });
    if (!same(head, b.head)) {
      throw new AuditFailure("chain_link_broken", `${w}: batch ${b.batchNo} records head ${b.head}, but H(prevHead, ${b.batchNo}, ${b.firstSeq}, ${b.count}, root) is ${head}`);
    }
    if (receipts.length !== b.count) {
      throw new AuditFailure("batch_root_mismatch", `${w}: batch ${b.batchNo} says ${b.count} transfers, its logs hold ${receipts.length}`);
    }
    receipts.forEach((r, i) => {
      if (r.seq !== b.firstSeq + BigInt(i)) throw new AuditFailure("sequence_gap", `${w}: transfer ${i} of batch ${b.batchNo} has seq ${r.seq}, expected ${b.firstSeq + BigInt(i)}`);
    });
    const root = receipts.length ? merkleRoot(receipts.map(receiptLeaf)) : undefined;
    if (root === undefined || !same(root, b.root)) {
      throw new AuditFailure("batch_root_mismatch", `${w}: the receipts of batch ${b.batchNo} rebuild root ${root ?? "(none)"}, BatchSettled says ${b.root}`);
    }
    if (storedRoot === undefined) throw new AuditFailure("batch_missing", `${w}: the hub stores no root for batch ${b.batchNo}`);
    if (!same(storedRoot, b.root)) {
      throw new AuditFailure("batch_root_mismatch", `${w}: the hub stores root ${storedRoot} for batch ${b.batchNo}, its event and receipts give ${b.root}: rewritten`);
    }
    const total = receipts.reduce((s, r) => s + r.amount, 0n);
    if (total !== b.total) throw new AuditFailure("batch_total_mismatch", `${w}: batch ${b.batchNo} says total ${b.total}, its receipts sum to ${total}`);

    for (const r of receipts) {
      const payee = codeOf(r.toWallet);
      this.#byPayee[payee] = (this.#byPayee[payee] ?? 0n) + r.amount;
    }
    this.#expectedBatch++;
    this.#head = b.head;
    this.#nextSeq = b.firstSeq + BigInt(b.count);
    this.#transfers += b.count;
    this.#total += total;
    this.#firstBlock ??= b.blockNumber;
    this.#lastBlock = b.blockNumber;
  }

  /** Compares the end of the chain with the hub's own count and head. */
  finish(onChain: { batchCount: bigint; head: Hex }): ChainReport {
    const w = this.#code;
    if (onChain.batchCount !== this.#expectedBatch) {
      throw new AuditFailure(
        "batch_missing",
        `${w}: the hub holds ${onChain.batchCount} batches, the events show ${this.#expectedBatch}${onChain.batchCount > this.#expectedBatch ? ` (batch ${this.#expectedBatch} is missing)` : ""}`,
      );
    }
    if (!same(onChain.head, this.#head)) {
      throw new AuditFailure("head_mismatch", `${w}: the chain of events ends at head ${this.#head}, the hub's headOf is ${onChain.head}`);
    }
    return {
      status: "verified",
      walletId: this.#walletId,
      code: w,
      batches: Number(this.#expectedBatch),
      transfers: this.#transfers,
      total: this.#total,
      byPayee: { ...this.#byPayee },
      firstSeq: 0n,
      nextSeq: this.#nextSeq,
      head: this.#head,
      firstBlock: this.#firstBlock,
      lastBlock: this.#lastBlock,
    };
  }
}

/**
 * Verifies a wallet's whole root chain from its first batch (`hulian audit chain`), reading the
 * chain in spans of `spanBlocks` so long histories stream with bounded memory.
 */
export async function checkWalletChain(
  reader: AuditChainReader,
  walletId: Hex,
  options: { spanBlocks?: bigint; onProgress?: (p: { block: bigint; latest: bigint; batches: number; transfers: number }) => void } = {},
): Promise<ChainReport> {
  if (!(await reader.operator(walletId))) {
    throw new AuditFailure("unknown_wallet", `wallet ${codeOf(walletId)} is not a member of the network`, { walletId });
  }
  const latest = await reader.latestBlock();
  // The hub's count and head at the same block as the last events read: a batch landing meanwhile is no finding.
  const [batchCount, head] = await Promise.all([reader.batchCount(walletId, latest), reader.headOf(walletId, latest)]);
  const verifier = new ChainVerifier(walletId);
  const span = options.spanBlocks ?? 10_000n;
  let batches = 0;
  let transfers = 0;
  for (let from = reader.startBlock; from <= latest; from += span) {
    const to = from + span - 1n < latest ? from + span - 1n : latest;
    const [b, t] = await Promise.all([reader.batches({ fromWallet: walletId }, { from, to }), reader.transfers({ fromWallet: walletId }, { from, to })]);
    const grouped = groupBatches(b, t);
    // A span can hold thousands of batches: read their roots a bounded number at a time.
    const roots = await mapConcurrent(grouped, DEFAULT_RPC_CONCURRENCY, (g) => reader.batchRoot(walletId, g.batch.batchNo));
    grouped.forEach((g, i) => {
      verifier.add({ ...g, storedRoot: roots[i] });
      batches++;
      transfers += g.receipts.length;
    });
    options.onProgress?.({ block: to, latest, batches, transfers });
  }
  return verifier.finish({ batchCount, head });
}
