import { formatMinor } from "./amounts.ts";
import type { ChainReport } from "./chainCheck.ts";
import type { InclusionReport } from "./inclusion.ts";
import type { ReservesReport } from "./reserves.ts";
import type { TransferTrace } from "./trace.ts";
import type { TransferCertificate } from "./verifyTransfer.ts";

/** How amounts read in the text output. */
export interface MoneyFormat {
  decimals: number;
  symbol: string;
}

const money = (v: bigint, m: MoneyFormat) => `${formatMinor(v, m.decimals)} ${m.symbol}`;
const rows = (pairs: [string, string][]) => {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join("\n");
};

/** The readable certificate of a verified transfer. */
export function renderCertificate(c: TransferCertificate, m: MoneyFormat): string {
  return [
    `TRANSFER VERIFIED  ${c.shortId}`,
    rows([
      ["transfer id", c.transferId],
      ["amount", money(c.amount, m)],
      ["payer", `${c.payer.code}  ref ${c.payer.ref}`],
      ["payee", `${c.payee.code}  ref ${c.payee.ref}`],
      ["memo hash", c.memoHash],
      ["transaction", c.transaction.hash],
      ["block", `${c.transaction.blockNumber}  ${c.transaction.blockHash}  ${c.transaction.timestamp}`],
      ["batch", `${c.payer.code} #${c.batch.batchNo}  seq ${c.batch.firstSeq}..${c.batch.firstSeq + BigInt(c.batch.count) - 1n}  (${c.batch.count} transfers, ${money(c.batch.total, m)}), position ${c.batch.index}`],
      ["receipt leaf", c.leaf],
      ["batch root", `${c.batch.root}  (stored by the hub)`],
      ["proof", c.batch.proof.length ? c.batch.proof.join("\n" + " ".repeat(16)) : "(single-transfer batch: the leaf is the root)"],
      ["chain", `prevHead ${c.chain.prevHead}\n${" ".repeat(16)}head     ${c.chain.head}`],
    ]),
    "",
    "Checks",
    ...c.checks.map((k) => `  ✓ ${k.name}: ${k.detail}`),
  ].join("\n");
}

/** A payment end to end. */
export function renderTrace(t: TransferTrace, m: MoneyFormat): string {
  const pairs: [string, string][] = [
    ["transfer", `${t.shortId}  ${t.transferId}`],
    ["amount", money(t.amount, m)],
    ["payer operator", `${t.payer.code}${t.payer.name ? ` (${t.payer.name})` : ""}  ref ${t.payer.ref}`],
    ["payee operator", `${t.payee.code}${t.payee.name ? ` (${t.payee.name})` : ""}  ref ${t.payee.ref}`],
    ["settled", `${t.settled.timestamp}  block ${t.settled.blockNumber}  tx ${t.settled.txHash}`],
    ["batch", t.settled.batchNo === undefined ? "(not found)" : `#${t.settled.batchNo} of ${t.payer.code}, ${t.settled.batchSize} transfers, head ${t.settled.batchHead}`],
  ];
  if (t.returned) pairs.push(["returned", `${t.returned.timestamp}  block ${t.returned.blockNumber}  tx ${t.returned.txHash}  (${t.returned.reason})`]);
  if (t.credit) {
    const match = t.credit.payeeRefMatches === undefined ? "" : t.credit.payeeRefMatches ? ", to the account the payee reference names" : ", but NOT to the account the payee reference names";
    pairs.push(["payee credit", `${t.credit.status}${match}  (${t.credit.source})`]);
  } else if (!t.returned) {
    pairs.push(["payee credit", "not checked (pass --payee-node URL --audit-key KEY)"]);
  }
  pairs.push(["outcome", t.outcome.toUpperCase()]);
  return rows(pairs);
}

/** A wallet's verified root chain. */
export function renderChainReport(r: ChainReport, m: MoneyFormat): string {
  return [
    `ROOT CHAIN VERIFIED  ${r.code}`,
    rows([
      ["batches", `${r.batches} (no gap, no rewrite)`],
      ["transfers", `${r.transfers} (seq 0..${r.nextSeq - 1n})`],
      ["total settled", money(r.total, m)],
      ...Object.entries(r.byPayee).map(([code, v]) => [`  to ${code}`, money(v, m)] as [string, string]),
      ["blocks", r.firstBlock === undefined ? "(no batches yet)" : `${r.firstBlock}..${r.lastBlock}`],
      ["head", `${r.head} (= headOf on chain)`],
    ]),
  ].join("\n");
}

/** Every operator's backing, as a table. */
export function renderReserves(r: ReservesReport, m: MoneyFormat): string {
  const header = ["operator", "status", "token balance", "liabilities", "ratio", "accounts", "age", "finding"];
  const body = r.operators.map((o) => [
    o.code,
    o.status,
    money(o.tokenBalance, m),
    o.liabilities === undefined ? "-" : money(o.liabilities, m),
    o.backingRatio ?? (o.liabilities === 0n ? "n/a" : "-"),
    o.accountCount === undefined ? "-" : String(o.accountCount),
    o.ageSeconds === undefined ? "-" : `${o.ageSeconds} s`,
    o.problems.length ? o.problems.map((p) => p.code).join(", ") : "ok",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => "  " + cells.map((c, i) => c.padEnd(widths[i])).join("  ");
  return [
    `RESERVES ${r.ok ? "BACKED" : "NOT BACKED"}  (checked ${r.checkedAt}, attestations must be younger than ${r.maxAgeSeconds} s)`,
    line(header),
    ...body.map(line),
    ...r.operators.flatMap((o) => o.problems.map((p) => `  ✗ ${p.message}`)),
  ].join("\n");
}

/** A customer's verified inclusion. */
export function renderInclusion(r: InclusionReport, m: MoneyFormat): string {
  return [
    `BALANCE INCLUDED  in ${r.wallet}'s attested liabilities`,
    rows([
      ["account ref", r.accountRef],
      ["balance", money(r.balance, m)],
      ["pieces", `${r.pieces} leaves of the attested tree, adding up to the balance`],
      ["attested root", r.root],
      ["attested total", `${money(r.total, m)} over ${r.accountCount} accounts`],
      ["as of", r.asOf],
      ["contract check", r.contractAgrees ? "ReserveAttestation.verifyInclusion agrees" : "disagrees"],
    ]),
  ].join("\n");
}
