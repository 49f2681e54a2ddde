export { Ledger, BALANCES_CHECKPOINT_KEY } from "./ledger.ts";
export type {
  LedgerOptions,
  LedgerTx,
  Staged,
  Prepared,
  ExecuteOptions,
  Executed,
  Posted,
  TrialBalance,
} from "./ledger.ts";
export { SYSTEM_ACCOUNTS, isSystemAccount, mayGoNegative, systemAccount } from "./accounts.ts";
export type { Account, AccountStatus, OpenAccountInput, SystemAccountId } from "./accounts.ts";
export { ENTRY_KINDS, validateDraft, assertPositiveAmount, entryToRecord, entryFromRecord } from "./entries.ts";
export type { Entry, EntryDraft, EntryKind, EntryRecord, Posting, JsonValue } from "./entries.ts";
export {
  topUp,
  withdraw,
  fundReserve,
  transferInternal,
  reserveOutbound,
  settleOutbound,
  refundOutbound,
  creditInbound,
  holdInbound,
  creditFromSuspense,
  releaseSuspenseOnReturn,
  creditReturn,
} from "./movements.ts";
export { Idempotency, canonicalJson, fingerprint } from "./idempotency.ts";
export type { IdempotencyRequest, IdempotencyRecord, IdempotencyLookup, IdempotencyClaim, ClaimResult } from "./idempotency.ts";
export { readHistory, historyKey } from "./history.ts";
export type { HistoryItem, HistoryPage, HistoryOptions, HistoryRecord } from "./history.ts";
export { normalizeHandle, classifyHandle } from "./handles.ts";
export type { HandleKind } from "./handles.ts";
export { newCustomerId, sortableId } from "./ids.ts";
export { verifyLedger } from "./verify.ts";
export type { LedgerVerification } from "./verify.ts";
export * from "./errors.ts";
