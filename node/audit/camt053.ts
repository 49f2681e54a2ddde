import { formatMinor } from "./amounts.ts";
import type { StatementEntry, StatementEntryKind, StatementHeader, StatementSummary } from "./statement.ts";
import { codeOf, endToEndId } from "./transferRef.ts";

/** The namespace of ISO 20022 `camt.053.001.08` (BankToCustomerStatementV08). */
export const CAMT053_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08";

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const clip = (s: string, max: number) => (s.length <= max ? s : s.slice(0, max));
const el = (name: string, body: string) => `<${name}>${body}</${name}>`;
const text = (name: string, value: string, max = 35) => el(name, escape(clip(value, max)));
const ymd = (d: Date) => d.toISOString().slice(0, 10).replace(/-/g, "");

/** ISO bank transaction codes (domain / family / sub-family) for settlement movements; reserves have only the proprietary code. */
const DOMAIN: Partial<Record<StatementEntryKind, [string, string, string]>> = {
  transfer_out: ["PMNT", "ICDT", "DMCT"],
  transfer_in: ["PMNT", "RCDT", "DMCT"],
  return_out: ["PMNT", "ICDT", "RRTN"],
  return_in: ["PMNT", "RCDT", "RRTN"],
};

function amount(name: string, value: bigint, h: StatementHeader): string {
  return `<${name} Ccy="${h.currency}">${formatMinor(value, h.decimals)}</${name}>`;
}

function balance(code: "OPBD" | "CLBD" | "ITBD", value: bigint, at: Date, h: StatementHeader): string {
  return el(
    "Bal",
    el("Tp", el("CdOrPrtry", text("Cd", code))) +
      amount("Amt", value < 0n ? -value : value, h) +
      text("CdtDbtInd", value < 0n ? "DBIT" : "CRDT") +
      el("Dt", text("DtTm", at.toISOString())),
  );
}

function agent(walletId: string): string {
  return el("FinInstnId", el("Othr", text("Id", codeOf(walletId as `0x${string}`)) + el("SchmeNm", text("Prtry", "HulianWalletCode")) + text("Issr", "Hulian")));
}

/**
 * The statement's opening: group header, statement id, account and balances. Entries follow.
 * `MsgId` is the header's unique message id; `Stmt/Id` names the wallet and the period. A period
 * that has not ended (`h.interim`) ends at the moment of the statement and its last balance is
 * `ITBD` (interim booked) instead of `CLBD`.
 */
export function camt053Begin(h: StatementHeader): string {
  // Max35Text: a long wallet code is shortened rather than the dates clipped (Acct/Id has it whole).
  const id = `${h.code.slice(0, 16)}-${ymd(h.from)}-${ymd(h.to)}`;
  const blocks = h.blocks ? `blocks ${h.blocks.from}-${h.blocks.to}` : "no blocks in the period";
  const open = h.interim ? `; interim: the period had not ended, balance as of ${h.to.toISOString()}` : "";
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<Document xmlns="${CAMT053_NAMESPACE}">\n<BkToCstmrStmt>\n` +
    el("GrpHdr", text("MsgId", h.messageId) + text("CreDtTm", h.createdAt.toISOString()) + text("AddtlInf", `Hulian settlement statement of ${h.code}, from chain events (${blocks})${open}`, 500)) +
    "\n<Stmt>\n" +
    text("Id", id) +
    text("CreDtTm", h.createdAt.toISOString()) +
    el("FrToDt", text("FrDtTm", h.from.toISOString()) + text("ToDtTm", h.to.toISOString())) +
    el(
      "Acct",
      el("Id", el("Othr", text("Id", h.code, 34) + el("SchmeNm", text("Prtry", "HulianWalletCode")) + text("Issr", "Hulian"))) +
        text("Ccy", h.currency) +
        text("Nm", `${h.name} settlement account`, 70) +
        el("Ownr", text("Nm", h.name, 140)),
    ) +
    "\n" +
    balance("OPBD", h.opening, h.from, h) +
    "\n" +
    balance(h.interim ? "ITBD" : "CLBD", h.closing, h.to, h) +
    "\n"
  );
}

/** One `Ntry` with its single transaction's details; the end-to-end id is the transfer id's short form. */
export function camt053Entry(e: StatementEntry, h: StatementHeader): string {
  const domain = DOMAIN[e.kind];
  const bkTxCd = el(
    "BkTxCd",
    (domain ? el("Domn", text("Cd", domain[0]) + el("Fmly", text("Cd", domain[1]) + text("SubFmlyCd", domain[2]))) : "") +
      el("Prtry", text("Cd", e.kind.toUpperCase()) + text("Issr", "Hulian")),
  );
  const out = e.direction === "DBIT";
  const agents =
    e.counterparty === undefined
      ? ""
      : el("RltdAgts", el("DbtrAgt", agent(out ? h.walletId : e.counterparty)) + el("CdtrAgt", agent(out ? e.counterparty : h.walletId)));
  const refs = e.transferId ? el("Refs", text("EndToEndId", endToEndId(e.transferId))) : el("Refs", text("EndToEndId", "NOTPROVIDED"));
  const info = [
    e.transferId && `transferId=${e.transferId}`,
    `tx=${e.txHash}`,
    `block=${e.blockNumber}`,
    `log=${e.logIndex}`,
    e.kind.startsWith("transfer_") && `record=${e.record}`,
    e.payerRef && `payerRef=${e.payerRef}`,
    e.payeeRef && `payeeRef=${e.payeeRef}`,
    e.memoHash && `memoHash=${e.memoHash}`,
    e.reserveRef && `reserveRef=${e.reserveRef}`,
  ]
    .filter(Boolean)
    .join(" ");
  const returned = e.reasonCode === undefined ? "" : el("RtrInf", el("Rsn", text("Prtry", `HULIAN-${e.reasonCode}`)));
  const tx = el(
    "TxDtls",
    refs + amount("Amt", e.amount, h) + text("CdtDbtInd", e.direction) + agents + returned + text("AddtlTxInf", info, 500),
  );
  return (
    el(
      "Ntry",
      // Unique per entry: the transfers of one payee group share their log, not their record.
      text("NtryRef", `${e.blockNumber}-${e.logIndex}-${e.record}`) +
        amount("Amt", e.amount, h) +
        text("CdtDbtInd", e.direction) +
        el("Sts", text("Cd", "BOOK")) +
        el("BookgDt", text("DtTm", e.bookedAt)) +
        el("ValDt", text("DtTm", e.bookedAt)) +
        bkTxCd +
        el("NtryDtls", tx),
    ) + "\n"
  );
}

/** Closes the statement; the totals go in the additional statement information. */
export function camt053End(h: StatementHeader, s: StatementSummary): string {
  const info = `${s.entries} entries: ${s.credits.count} credits ${formatMinor(s.credits.sum, h.decimals)}, ${s.debits.count} debits ${formatMinor(s.debits.sum, h.decimals)} ${h.currency}; settlement account ${h.account}`;
  return text("AddtlStmtInf", info, 500) + "\n</Stmt>\n</BkToCstmrStmt>\n</Document>\n";
}
