import { returnReason } from "../receipts/returnReasons.ts";
import { type CsvColumn, formatMinor, isoTime } from "./csv.ts";
import type { Alert, ExplorerService, OperatorRow } from "./explorerService.ts";
import type { BatchRecord, OperatorEvent, TransferRecord } from "./indexStore.ts";

// The columns of each CSV export: amounts with the token's decimals and the currency beside them,
// times in ISO 8601 UTC, hashes in full.

export const TRANSFER_COLUMNS = (service: ExplorerService): CsvColumn<TransferRecord>[] => {
  const { decimals, currency } = service.meta();
  return [
    { header: "time", value: (t) => isoTime(t.timestamp) },
    { header: "transfer_id", value: (t) => t.transferId },
    { header: "from_wallet", value: (t) => t.from },
    { header: "to_wallet", value: (t) => t.to },
    { header: "seq", value: (t) => t.seq },
    { header: "amount", value: (t) => formatMinor(t.amount, decimals) },
    { header: "currency", value: () => currency },
    { header: "amount_minor", value: (t) => t.amount },
    { header: "payer_ref", value: (t) => t.payerRef },
    { header: "payee_ref", value: (t) => t.payeeRef },
    { header: "memo_hash", value: (t) => t.memoHash },
    { header: "batch_no", value: (t) => t.batchNo },
    { header: "tx_hash", value: (t) => t.txHash },
    { header: "block", value: (t) => t.blockNumber },
    { header: "returned", value: (t) => (t.returned ? returnReason(t.returned.reasonCode).name : "") },
    { header: "return_reason_code", value: (t) => t.returned?.reasonCode },
  ];
};

export const BATCH_COLUMNS = (service: ExplorerService): CsvColumn<BatchRecord>[] => {
  const { decimals, currency } = service.meta();
  return [
    { header: "time", value: (b) => isoTime(b.timestamp) },
    { header: "wallet", value: (b) => b.wallet },
    { header: "batch_no", value: (b) => b.batchNo },
    { header: "first_seq", value: (b) => b.firstSeq },
    { header: "transfers", value: (b) => b.count },
    { header: "total", value: (b) => formatMinor(b.total, decimals) },
    { header: "currency", value: () => currency },
    { header: "payees", value: (b) => b.payees.join(" ") },
    { header: "root", value: (b) => b.root },
    { header: "head", value: (b) => b.head },
    { header: "tx_hash", value: (b) => b.txHash },
    { header: "block", value: (b) => b.blockNumber },
  ];
};

export const OPERATOR_COLUMNS = (service: ExplorerService): CsvColumn<OperatorRow>[] => {
  const { decimals, currency } = service.meta();
  const money = (v: string | null) => (v === null ? "" : formatMinor(v, decimals));
  return [
    { header: "wallet", value: (o) => o.code },
    { header: "name", value: (o) => o.name },
    { header: "status", value: (o) => o.status },
    { header: "reason_code", value: (o) => o.reasonCode || "" },
    { header: "token_balance", value: (o) => money(o.balance) },
    { header: "attested_liabilities", value: (o) => money(o.liabilities) },
    { header: "currency", value: () => currency },
    { header: "backing_ratio", value: (o) => o.backingRatio },
    { header: "fully_backed", value: (o) => (o.backed === null ? "not attested" : o.backed ? "yes" : "NO") },
    { header: "attested_at", value: (o) => isoTime(o.attestedAt) },
    { header: "sent_count", value: (o) => o.sent.count },
    { header: "sent_amount", value: (o) => money(o.sent.amount) },
    { header: "received_count", value: (o) => o.received.count },
    { header: "received_amount", value: (o) => money(o.received.amount) },
    { header: "batches", value: (o) => o.batches },
    { header: "settlement_account", value: (o) => o.settlementAccount },
  ];
};

export const EVENT_COLUMNS: CsvColumn<OperatorEvent>[] = [
  { header: "time", value: (e) => isoTime(e.timestamp) },
  { header: "wallet", value: (e) => e.wallet },
  { header: "event", value: (e) => e.kind },
  { header: "detail", value: (e) => Object.entries(e.detail).map(([k, v]) => `${k}=${v}`).join("; ") },
  { header: "tx_hash", value: (e) => e.txHash },
  { header: "block", value: (e) => e.blockNumber },
];

export const RETURN_COLUMNS: CsvColumn<OperatorEvent & { reason: { name: string } }>[] = [
  { header: "time", value: (e) => isoTime(e.timestamp) },
  { header: "wallet", value: (e) => e.wallet },
  { header: "event", value: (e) => e.kind },
  { header: "transfer_id", value: (e) => e.detail.transferId },
  { header: "amount_minor", value: (e) => e.detail.amount },
  { header: "counterparty", value: (e) => e.detail.to ?? e.detail.by },
  { header: "reason", value: (e) => e.reason.name },
  { header: "reason_code", value: (e) => e.detail.reasonCode },
  { header: "tx_hash", value: (e) => e.txHash },
  { header: "block", value: (e) => e.blockNumber },
];

export const ALERT_COLUMNS: CsvColumn<Alert>[] = [
  { header: "time", value: (a) => isoTime(a.timestamp) },
  { header: "state", value: (a) => (a.active ? "active" : "event") },
  { header: "severity", value: (a) => a.severity },
  { header: "rule", value: (a) => a.rule },
  { header: "title", value: (a) => a.title },
  { header: "detail", value: (a) => a.detail },
  { header: "wallet", value: (a) => a.wallet },
  { header: "transfer_id", value: (a) => a.transferId },
  { header: "tx_hash", value: (a) => a.txHash },
  { header: "block", value: (a) => a.blockNumber },
];
