import { randomBytes } from "node:crypto";
import type { Address, Hex } from "viem";
import type { AuditChainReader, BlockRange } from "./chainReader.ts";
import { AuditFailure, AuditInputError } from "./errors.ts";
import { byChainOrder } from "./hubEvents.ts";
import { codeOf } from "./transferRef.ts";

/** What moved money on an operator's settlement account. */
export type StatementEntryKind = "transfer_out" | "transfer_in" | "return_out" | "return_in" | "reserve_issued" | "reserve_redeemed";

/** One booked movement of the statement, in chain order. */
export interface StatementEntry {
  kind: StatementEntryKind;
  direction: "CRDT" | "DBIT";
  amount: bigint;
  /** The settled transfer; for returns, the transfer that was sent back. */
  transferId?: Hex;
  /** The other operator's walletId. */
  counterparty?: Hex;
  payerRef?: Hex;
  payeeRef?: Hex;
  memoHash?: Hex;
  reasonCode?: number;
  reserveRef?: Hex;
  txHash: Hex;
  blockNumber: bigint;
  logIndex: number;
  /** A transfer's place among the records of its `TransfersSettled` log (a payee group); 0 for other events. */
  record: number;
  /** ISO 8601 time of the block. */
  bookedAt: string;
}

/** The fixed facts of a statement, known before its entries stream. */
export interface StatementHeader {
  walletId: Hex;
  code: string;
  name: string;
  account: Address;
  currency: string;
  decimals: number;
  from: Date;
  /** End of the statement: the period's end, or for an {@link StatementHeader.interim} statement the moment it was made. */
  to: Date;
  /**
   * True when the period had not ended when the statement was made: `to` is then that moment and
   * the last balance is an interim one (camt.053 `ITBD`, CSV `interim_balance`), not a closing one.
   */
  interim: boolean;
  blocks: BlockRange | undefined;
  opening: bigint;
  /** The balance at `to`: the closing balance, or the interim balance of an open period. */
  closing: bigint;
  createdAt: Date;
  /** Unique per statement made (camt.053 `MsgId`): two exports of one period never share it. */
  messageId: string;
}

/** Totals after the last entry. */
export interface StatementSummary {
  entries: number;
  credits: { count: number; sum: bigint };
  debits: { count: number; sum: bigint };
  /** opening + credits − debits == closing. */
  balanced: boolean;
}

/** The first block whose timestamp is at or after `seconds` (latest + 1 when none). */
export async function blockAtOrAfter(reader: AuditChainReader, seconds: bigint, latest: bigint): Promise<bigint> {
  let lo = reader.startBlock;
  let hi = latest + 1n;
  while (lo < hi) {
    const mid = (lo + hi) / 2n;
    if ((await reader.block(mid)).timestamp >= seconds) hi = mid;
    else lo = mid + 1n;
  }
  return lo;
}

/**
 * Parses `--from` / `--to`: a date (`2025-03-01`, a whole UTC day: from its start, to its end) or
 * an ISO 8601 instant.
 */
export function parsePeriod(from: string, to: string): { from: Date; to: Date } {
  const day = /^\d{4}-\d{2}-\d{2}$/;
  const start = new Date(day.test(from) ? `${from}T00:00:00.000Z` : from);
  const end = new Date(day.test(to) ? `${to}T23:59:59.999Z` : to);
  if (Number.isNaN(start.getTime())) throw new AuditInputError(`--from "${from}" is not a date (YYYY-MM-DD) or ISO 8601 time`);
  if (Number.isNaN(end.getTime())) throw new AuditInputError(`--to "${to}" is not a date (YYYY-MM-DD) or ISO 8601 time`);
  if (end < start) throw new AuditInputError(`--to ${to} is before --from ${from}`);
  return { from: start, to: end };
}

/**
 * A message id no other statement gets: `HULIAN-` + creation time to the second + 40 random bits
 * (32 characters, within camt.053's Max35Text).
 */
export function statementMessageId(createdAt: Date, random: (size: number) => Uint8Array = randomBytes): string {
  const stamp = createdAt.toISOString().slice(0, 19).replace(/[-:T]/g, "");
  return `HULIAN-${stamp}-${Buffer.from(random(5)).toString("hex").toUpperCase()}`;
}

/** Options of {@link statementHeader}. */
export interface StatementHeaderOptions {
  /** The wall clock (tests pin it); default `new Date()`. */
  now?: Date;
}

/**
 * The statement header of a wallet's settlement account for a period: the block range the period
 * covers and the token balances before its first and after its last block.
 *
 * "Now" is the later of the wall clock and the latest block's time (a chain whose clock runs
 * ahead has booked entries at its own time). A period that starts after now is refused: nothing
 * can be stated for it, and a statement of it would show a balance dated in the future. A period
 * that has not ended yet is stated up to now, as an interim statement: its last balance is the
 * balance as of now, marked interim, because more entries may still be booked in the period and
 * a "closing" balance would be false. (Refusing open periods instead would leave an auditor no
 * way to see the month so far, and the caller would race the clock to pick an end that has passed.)
 */
export async function statementHeader(
  reader: AuditChainReader,
  walletId: Hex,
  period: { from: Date; to: Date },
  currency: string,
  options: StatementHeaderOptions = {},
): Promise<StatementHeader> {
  const op = await reader.operator(walletId);
  if (!op) throw new AuditInputError(`${codeOf(walletId)} is not an operator of this network`);
  const createdAt = options.now ?? new Date();
  const latest = await reader.latestBlock();
  const chainNow = new Date(Number((await reader.block(latest)).timestamp) * 1000);
  const now = chainNow > createdAt ? chainNow : createdAt;
  if (period.from > now) {
    throw new AuditInputError(`the period starts at ${period.from.toISOString()}, after now (${now.toISOString()}): there is nothing to state yet`);
  }
  const interim = period.to > now;
  const to = interim ? now : period.to;
  const first = await blockAtOrAfter(reader, BigInt(Math.floor(period.from.getTime() / 1000)), latest);
  // The last block of the period is the one before the first block after it.
  const after = await blockAtOrAfter(reader, BigInt(Math.floor(to.getTime() / 1000)) + 1n, latest);
  const last = after - 1n;
  const blocks = first <= last ? { from: first, to: last } : undefined;
  const before = first - 1n;
  const opening = before < 0n ? 0n : await reader.tokenBalance(op.settlementAccount, before);
  const closing = blocks ? await reader.tokenBalance(op.settlementAccount, blocks.to) : opening;
  return {
    walletId,
    code: codeOf(walletId),
    name: op.name,
    account: op.settlementAccount,
    currency,
    decimals: reader.token.decimals,
    from: period.from,
    to,
    interim,
    blocks,
    opening,
    closing,
    createdAt,
    messageId: statementMessageId(createdAt),
  };
}

/**
 * The movements of a wallet's settlement account in `range`, in chain order, read in spans of
 * `spanBlocks` so that a year of history streams with bounded memory: transfers it settled out and
 * in (one entry per transfer, though the hub moves the tokens net per batch), returns it sent and
 * received, and reserve mints and burns.
 */
export async function* statementEntries(
  reader: AuditChainReader,
  walletId: Hex,
  account: Address,
  range: BlockRange,
  options: { spanBlocks?: bigint; onProgress?: (p: { block: bigint; to: bigint; entries: number }) => void } = {},
): AsyncGenerator<StatementEntry> {
  const span = options.spanBlocks ?? 5_000n;
  let count = 0;
  for (let from = range.from; from <= range.to; from += span) {
    const to = from + span - 1n < range.to ? from + span - 1n : range.to;
    const r = { from, to };
    const [out, inn, returnsIn, returnsOut, reserve] = await Promise.all([
      reader.transfers({ fromWallet: walletId }, r),
      reader.transfers({ toWallet: walletId }, r),
      reader.returns({ fromWallet: walletId }, r),
      reader.returns({ toWallet: walletId }, r),
      reader.reserveMovements(account, r),
    ]);
    const entries: Omit<StatementEntry, "bookedAt">[] = [
      ...out.map((t) => ({ kind: "transfer_out" as const, direction: "DBIT" as const, amount: t.receipt.amount, transferId: t.receipt.transferId, counterparty: t.receipt.toWallet, payerRef: t.receipt.payerRef, payeeRef: t.receipt.payeeRef, memoHash: t.receipt.memoHash, txHash: t.txHash, blockNumber: t.blockNumber, logIndex: t.logIndex, record: t.record })),
      ...inn.map((t) => ({ kind: "transfer_in" as const, direction: "CRDT" as const, amount: t.receipt.amount, transferId: t.receipt.transferId, counterparty: t.receipt.fromWallet, payerRef: t.receipt.payerRef, payeeRef: t.receipt.payeeRef, memoHash: t.receipt.memoHash, txHash: t.txHash, blockNumber: t.blockNumber, logIndex: t.logIndex, record: t.record })),
      ...returnsIn.map((x) => ({ kind: "return_in" as const, direction: "CRDT" as const, amount: x.amount, transferId: x.originalTransferId, counterparty: x.toWallet, payerRef: x.payerRef, reasonCode: x.reasonCode, txHash: x.txHash, blockNumber: x.blockNumber, logIndex: x.logIndex, record: x.record })),
      ...returnsOut.map((x) => ({ kind: "return_out" as const, direction: "DBIT" as const, amount: x.amount, transferId: x.originalTransferId, counterparty: x.fromWallet, payerRef: x.payerRef, reasonCode: x.reasonCode, txHash: x.txHash, blockNumber: x.blockNumber, logIndex: x.logIndex, record: x.record })),
      ...reserve.map((m) => ({ kind: m.kind === "issued" ? ("reserve_issued" as const) : ("reserve_redeemed" as const), direction: m.kind === "issued" ? ("CRDT" as const) : ("DBIT" as const), amount: m.amount, reserveRef: m.reserveRef, txHash: m.txHash, blockNumber: m.blockNumber, logIndex: m.logIndex, record: m.record })),
    ].sort(byChainOrder);
    for (const e of entries) {
      const block = await reader.block(e.blockNumber);
      count++;
      yield { ...e, bookedAt: new Date(Number(block.timestamp) * 1000).toISOString() };
    }
    options.onProgress?.({ block: to, to: range.to, entries: count });
  }
}

/** Running totals of a statement; {@link StatementTotals.summary} says whether it balances. */
export class StatementTotals {
  entries = 0;
  credits = { count: 0, sum: 0n };
  debits = { count: 0, sum: 0n };

  add(e: StatementEntry): void {
    this.entries++;
    const side = e.direction === "CRDT" ? this.credits : this.debits;
    side.count++;
    side.sum += e.amount;
  }

  summary(header: StatementHeader): StatementSummary {
    return {
      entries: this.entries,
      credits: { ...this.credits },
      debits: { ...this.debits },
      balanced: header.opening + this.credits.sum - this.debits.sum === header.closing,
    };
  }
}

/** Throws `statement_unbalanced` when the entries do not explain the change of balance. */
export function assertBalanced(header: StatementHeader, summary: StatementSummary): void {
  if (summary.balanced) return;
  const moved = summary.credits.sum - summary.debits.sum;
  throw new AuditFailure(
    "statement_unbalanced",
    `${header.code}: opening ${header.opening} + credits ${summary.credits.sum} − debits ${summary.debits.sum} = ${header.opening + moved}, but the chain's closing balance is ${header.closing}: ${header.closing - header.opening - moved} moved outside the hub and the issuer`,
  );
}
