import type { Hex } from "viem";
import { currencyOfToken, formatMinor, jsonSafe } from "./amounts.ts";
import { camt053Begin, camt053End, camt053Entry } from "./camt053.ts";
import type { AuditChainReader } from "./chainReader.ts";
import {
  type StatementEntry,
  type StatementHeader,
  type StatementSummary,
  StatementTotals,
  statementEntries,
  statementHeader,
} from "./statement.ts";
import { codeOf, endToEndId } from "./transferRef.ts";

/** The statement formats `hulian audit export` writes. */
export const STATEMENT_FORMATS = ["csv", "json", "camt053"] as const;
export type StatementFormat = (typeof STATEMENT_FORMATS)[number];

interface Writer {
  begin(h: StatementHeader): string;
  entry(e: StatementEntry, h: StatementHeader, first: boolean): string;
  end(h: StatementHeader, s: StatementSummary): string;
}

const CSV_COLUMNS = [
  "booked_at",
  "kind",
  "direction",
  "amount_minor",
  "amount",
  "currency",
  "end_to_end_id",
  "transfer_id",
  "counterparty",
  "payer_ref",
  "payee_ref",
  "memo_hash",
  "reason_code",
  "reserve_ref",
  "block",
  "log_index",
  "log_record",
  "tx_hash",
] as const;

const csvCell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

function csvRow(h: StatementHeader, r: Partial<Record<(typeof CSV_COLUMNS)[number], string>>): string {
  return CSV_COLUMNS.map((c) => csvCell(r[c] ?? "")).join(",") + "\n";
}

function balanceRow(h: StatementHeader, kind: "opening_balance" | "closing_balance" | "interim_balance", value: bigint, at: Date): string {
  return csvRow(h, { booked_at: at.toISOString(), kind, direction: "CRDT", amount_minor: value.toString(), amount: formatMinor(value, h.decimals), currency: h.currency });
}

const csv: Writer = {
  begin: (h) => CSV_COLUMNS.join(",") + "\n" + balanceRow(h, "opening_balance", h.opening, h.from),
  entry: (e, h) =>
    csvRow(h, {
      booked_at: e.bookedAt,
      kind: e.kind,
      direction: e.direction,
      amount_minor: e.amount.toString(),
      amount: formatMinor(e.amount, h.decimals),
      currency: h.currency,
      end_to_end_id: e.transferId ? endToEndId(e.transferId) : "",
      transfer_id: e.transferId,
      counterparty: e.counterparty ? codeOf(e.counterparty) : "",
      payer_ref: e.payerRef,
      payee_ref: e.payeeRef,
      memo_hash: e.memoHash,
      reason_code: e.reasonCode?.toString(),
      reserve_ref: e.reserveRef,
      block: e.blockNumber.toString(),
      log_index: String(e.logIndex),
      log_record: String(e.record),
      tx_hash: e.txHash,
    }),
  // An open period's last balance is the balance as of the statement, not a closing one.
  end: (h) => balanceRow(h, h.interim ? "interim_balance" : "closing_balance", h.closing, h.to),
};

function headerJson(h: StatementHeader) {
  return jsonSafe({
    wallet: h.code,
    walletId: h.walletId,
    name: h.name,
    settlementAccount: h.account,
    currency: h.currency,
    decimals: h.decimals,
    from: h.from.toISOString(),
    to: h.to.toISOString(),
    interim: h.interim,
    blocks: h.blocks,
    openingBalance: h.opening,
    closingBalance: h.closing,
    createdAt: h.createdAt.toISOString(),
    messageId: h.messageId,
  });
}

// Streamed as one JSON document, an entry per line, so a year of entries never sits in memory.
const json: Writer = {
  begin: (h) => `{"statement":${JSON.stringify(headerJson(h))},\n"entries":[\n`,
  entry: (e, h, first) =>
    (first ? "" : ",\n") + JSON.stringify(jsonSafe({ ...e, counterparty: e.counterparty && codeOf(e.counterparty), endToEndId: e.transferId && endToEndId(e.transferId), amountDisplay: formatMinor(e.amount, h.decimals) })),
  end: (_h, s) => `\n],\n"summary":${JSON.stringify(jsonSafe(s))}}\n`,
};

const camt053: Writer = { begin: camt053Begin, entry: (e, h) => camt053Entry(e, h), end: camt053End };

const WRITERS: Record<StatementFormat, Writer> = { csv, json, camt053 };

/**
 * Writes a statement in `format` to `sink` as its entries arrive, and returns the totals. The
 * caller checks the totals against the chain's balances ({@link assertBalanced}).
 *
 * @example
 * const summary = await writeStatement(header, statementEntries(reader, id, account, header.blocks), "camt053", (s) => out.write(s));
 */
export async function writeStatement(
  header: StatementHeader,
  entries: AsyncIterable<StatementEntry>,
  format: StatementFormat,
  sink: (chunk: string) => void | Promise<void>,
): Promise<StatementSummary> {
  const writer = WRITERS[format];
  const totals = new StatementTotals();
  await sink(writer.begin(header));
  for await (const e of entries) {
    await sink(writer.entry(e, header, totals.entries === 0));
    totals.add(e);
  }
  const summary = totals.summary(header);
  await sink(writer.end(header, summary));
  return summary;
}

/** The whole statement as one string (for the audit API and tests). */
export async function renderStatement(header: StatementHeader, entries: AsyncIterable<StatementEntry>, format: StatementFormat): Promise<{ text: string; summary: StatementSummary }> {
  const parts: string[] = [];
  const summary = await writeStatement(header, entries, format, (s) => void parts.push(s));
  return { text: parts.join(""), summary };
}

/**
 * A wallet's statement for a period, written to `sink` as it streams: header from the chain's
 * balances, then every movement of its settlement account in the period's blocks.
 */
export async function exportStatement(
  reader: AuditChainReader,
  walletId: Hex,
  period: { from: Date; to: Date },
  format: StatementFormat,
  sink: (chunk: string) => void | Promise<void>,
  options: { currency?: string; spanBlocks?: bigint; now?: Date; onProgress?: (p: { block: bigint; to: bigint; entries: number }) => void } = {},
): Promise<{ header: StatementHeader; summary: StatementSummary }> {
  const header = await statementHeader(reader, walletId, period, options.currency ?? currencyOfToken(reader.token.symbol), { now: options.now });
  const entries = header.blocks
    ? statementEntries(reader, walletId, header.account, header.blocks, { spanBlocks: options.spanBlocks, onProgress: options.onProgress })
    : (async function* () {})();
  const summary = await writeStatement(header, entries, format, sink);
  return { header, summary };
}
