import type { Hex } from "viem";
import type { AuditChainReader, OperatorInfo } from "./chainReader.ts";
import { groupBatches } from "./hubEvents.ts";
import { AuditFailure } from "./errors.ts";
import { codeOf, shortTransferId } from "./transferRef.ts";

/** What the payee operator's node says about an inbound transfer (`GET /v1/audit/transfers/:id/credit`). */
export interface PayeeCredit {
  /** `credited`: booked to a customer; `returning`/`returned`: sent back; `unknown`: the node has not seen it (yet). */
  status: "credited" | "returning" | "returned" | "unknown";
  /** True when the credited account is the one the transfer's payee reference names. */
  payeeRefMatches?: boolean;
  /** Where the answer came from, or why there is none. */
  source: string;
}

/** Reads the payee node's credit record; undefined when the auditor has no way to ask. */
export type CreditLookup = (payee: OperatorInfo, transferId: Hex) => Promise<PayeeCredit | undefined>;

/** A payment end to end: payer operator, batch, transaction, block, and how the payee side answered. */
export interface TransferTrace {
  transferId: Hex;
  shortId: string;
  amount: bigint;
  payer: { code: string; name?: string; walletId: Hex; ref: Hex };
  payee: { code: string; name?: string; walletId: Hex; ref: Hex };
  /** `logIndex` of the payee group's `TransfersSettled`, `record` the transfer's place in it. */
  settled: { txHash: Hex; blockNumber: bigint; logIndex: number; record: number; timestamp: string; batchNo?: bigint; batchSize?: number; batchHead?: Hex };
  returned?: { txHash: Hex; blockNumber: bigint; timestamp: string; reasonCode: number; reason: string };
  credit?: PayeeCredit;
  /** `returned` when a return answered it, `credited` when the payee node confirms, else `settled`. */
  outcome: "settled" | "credited" | "returned";
}

const REASONS: Record<number, string> = { 1: "payee account unknown", 2: "payee account closed" };

/** Traces a transfer from the chain, and asks the payee operator's node about the credit when `credit` can. */
export async function traceTransfer(reader: AuditChainReader, transferId: Hex, options: { credit?: CreditLookup } = {}): Promise<TransferTrace> {
  const [settled] = await reader.transfers({ transferId });
  if (!settled) throw new AuditFailure("transfer_not_found", `no settled transfer ${shortTransferId(transferId)} on this chain`, { transferId });
  const r = settled.receipt;
  const [payer, payee, block, tx, returns] = await Promise.all([
    reader.operator(r.fromWallet),
    reader.operator(r.toWallet),
    reader.block(settled.blockNumber),
    reader.transaction(settled.txHash),
    reader.returns({ originalTransferId: transferId }, { from: settled.blockNumber, to: await reader.latestBlock() }),
  ]);
  const batch = tx && groupBatches(tx.batches, tx.transfers).find((g) => g.receipts.some((x) => x.transferId === r.transferId))?.batch;
  const trace: TransferTrace = {
    transferId: r.transferId,
    shortId: shortTransferId(r.transferId),
    amount: r.amount,
    payer: { code: codeOf(r.fromWallet), name: payer?.name, walletId: r.fromWallet, ref: r.payerRef },
    payee: { code: codeOf(r.toWallet), name: payee?.name, walletId: r.toWallet, ref: r.payeeRef },
    settled: {
      txHash: settled.txHash,
      blockNumber: settled.blockNumber,
      logIndex: settled.logIndex,
      record: settled.record,
      timestamp: new Date(Number(block.timestamp) * 1000).toISOString(),
      batchNo: batch?.batchNo,
      batchSize: batch?.count,
      batchHead: batch?.head,
    },
    outcome: "settled",
  };
  const back = returns[0];
  if (back) {
    const at = await reader.block(back.blockNumber);
    trace.returned = {
      txHash: back.txHash,
      blockNumber: back.blockNumber,
      timestamp: new Date(Number(at.timestamp) * 1000).toISOString(),
      reasonCode: back.reasonCode,
      reason: REASONS[back.reasonCode] ?? `reason ${back.reasonCode}`,
    };
    trace.outcome = "returned";
  }
  if (payee && options.credit) {
    trace.credit = await options.credit(payee, transferId).catch((e) => ({ status: "unknown" as const, source: `payee node unreachable: ${(e as Error).message}` }));
    if (!back && trace.credit?.status === "credited") trace.outcome = "credited";
  }
  return trace;
}

/**
 * A {@link CreditLookup} over HTTP: asks `baseUrl` (the payee node; default its registry endpoint)
 * with an audit-scoped key.
 */
export function httpCreditLookup(auditKey: string, baseUrl?: string, fetchImpl: typeof fetch = fetch): CreditLookup {
  return async (payee, transferId) => {
    const base = (baseUrl ?? payee.endpoint).replace(/\/+$/, "");
    const url = `${base}/v1/audit/transfers/${transferId}/credit`;
    const res = await fetchImpl(url, { headers: { authorization: `Bearer ${auditKey}` }, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return { status: "unknown", source: `${url} answered ${res.status}` };
    const body = (await res.json()) as { status: PayeeCredit["status"]; payeeRefMatches?: boolean };
    return { status: body.status, payeeRefMatches: body.payeeRefMatches, source: base };
  };
}
