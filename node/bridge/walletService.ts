import type { Hex } from "viem";

/**
 * What the wallet API can ask of an operator's node. The HTTP layer (node/api) speaks only to this
 * interface; node/bridge implements it over the ledger, the directory and the settlement bridge.
 * Money is bigint minor units (fen); the API turns it into decimal strings.
 */
export interface WalletService {
  /** This node's wallet, e.g. `{ code: "ALIPAY", walletId: "0x4150…" }`. */
  readonly wallet: { code: string; walletId: Hex; currency: string; decimals: number };

  createAccount(input: { handle: string; displayName: string }, idem: Idempotency): Promise<AccountView>;
  getAccount(accountId: string): Promise<AccountView>;
  getAccountByHandle(handle: string): Promise<AccountView>;
  history(accountId: string, page: { limit: number; cursor?: string }): Promise<HistoryPage>;
  closeAccount(accountId: string, idem: Idempotency): Promise<AccountView>;

  topUp(input: { accountId: string; amount: bigint; reference: string }, idem: Idempotency): Promise<MovementView>;
  withdraw(input: { accountId: string; amount: bigint; reference: string }, idem: Idempotency): Promise<MovementView>;

  /**
   * Accepts a payment. `to` is a local handle (same wallet, settled at once in the ledger) or
   * `handle@WALLET` (cross-wallet: resolved through the payee's node, then settled on chain).
   */
  pay(input: PaymentInput, idem: Idempotency): Promise<PaymentView>;
  /**
   * Accepts many independent payments at once (a wallet back end's bulk submission). Each is
   * accepted or refused on its own, exactly as {@link pay} would accept or refuse it alone; a
   * refused one changes nothing. The accepted ones, their payment records and the outcome of the
   * whole request under `idem` are written in one atomic ledger write. A replay returns the stored
   * outcome; the same key with another request fails with `idempotency_key_reused`.
   */
  payBulk(inputs: readonly PaymentInput[], idem: Idempotency): Promise<BulkPaymentResult>;
  getPayment(paymentId: string): Promise<PaymentView>;

  /** Resolves `handle@WALLET` without moving money (masked name, for a confirmation screen). */
  /** Resolves `handle@WALLET`; `fromAccountId`, the paying customer, lets the payee's node rate-limit per payer. */
  resolve(address: string, options?: { fromAccountId?: string }): Promise<{ address: string; wallet: string; maskedName: string }>;

  /** Readiness and figures for /healthz and /metrics. */
  health(): Promise<HealthView>;
  metrics(): Promise<MetricsView>;
}

/**
 * The client's Idempotency-Key and a fingerprint of the canonical request (method, path, body).
 * The service stores the outcome under the key in the same atomic write as the movement: a retry
 * with the same fingerprint gets the stored outcome (`replayed: true`) and moves nothing; the same
 * key with another fingerprint fails with `idempotency_key_reused` (422).
 */
export interface Idempotency {
  key: string;
  fingerprint: string;
  /** The API key's id: keys are scoped per client, so two apps may use the same Idempotency-Key. */
  scope: string;
}

/** One payment to make: `to` is a local handle or `handle@WALLET`. */
export interface PaymentInput {
  fromAccountId: string;
  to: string;
  amount: bigint;
  memo?: string;
}

/** The outcome of one payment of a bulk request, in the order of the request. */
export type BulkPaymentItem = { ok: true; payment: PaymentView } | { ok: false; error: ServiceError };

/** The outcome of {@link WalletService.payBulk}. */
export interface BulkPaymentResult extends Replayable {
  items: BulkPaymentItem[];
}

/** Results of mutating calls carry whether they were replayed from the idempotency store. */
export interface Replayable {
  replayed?: boolean;
}

export interface AccountView extends Replayable {
  id: string;
  handle: string;
  address: string;
  displayName: string;
  status: "open" | "closed";
  balance: bigint;
  createdAt: string;
}

export interface HistoryItem {
  entryId: string;
  kind: string;
  amount: bigint;
  balanceAfter?: bigint;
  paymentId?: string;
  counterparty?: string;
  /** The on-chain transfer of a cross-wallet credit (or of a payment that came back). */
  transferId?: Hex;
  /** The paying wallet's code of a cross-wallet credit, e.g. "ALIPAY". */
  payerWallet?: string;
  /** The payer's memo: a same-wallet payment's, or a cross-wallet one once the payer's node delivered it. */
  memo?: string;
  createdAt: string;
}

export interface HistoryPage {
  items: HistoryItem[];
  nextCursor?: string;
}

export interface MovementView extends Replayable {
  entryId: string;
  accountId: string;
  kind: "top_up" | "withdrawal";
  amount: bigint;
  balance: bigint;
  createdAt: string;
}

export type PaymentStatus = "accepted" | "settling" | "settled" | "returned" | "rejected";

export interface PaymentView extends Replayable {
  id: string;
  kind: "same_wallet" | "cross_wallet";
  status: PaymentStatus;
  fromAccountId: string;
  to: string;
  toWallet: string;
  amount: bigint;
  memo?: string;
  transferId?: Hex;
  seq?: bigint;
  txHash?: Hex;
  blockNumber?: bigint;
  reason?: string;
  createdAt: string;
  updatedAt: string;
}

export interface HealthView {
  ok: boolean;
  wallet: string;
  chainHead?: bigint;
  cursor?: bigint;
  details: Record<string, string | number | boolean>;
}

export interface MetricsView {
  paymentsAccepted: number;
  paymentsSettled: number;
  paymentsReturned: number;
  paymentsRejected: number;
  inboundCredited: number;
  /** Signatures of node-to-node requests recovered (refusals before that cost none). */
  nodeAuthSignatureChecks?: number;
  outboxDepth: number;
  batchesSubmitted: number;
  batchSizes: number[];
  chainHead: bigint;
  cursor: bigint;
  liabilities: bigint;
  tokenBalance?: bigint;
  /** Memo delivery to payees' nodes: waiting now, and outcomes since start. */
  memos?: { queued: number; delivered: number; refused: number; expired: number; overflowed: number };
  /** Returns sent back on chain since start. */
  returnsSent: number;
  /** Failed attempts to send a return since start. */
  returnsFailed: number;
  /** Returns waiting for another attempt after a failure. */
  returnsBlocked: number;
}

/**
 * A failure the API maps to a problem+json response. `code` is stable (clients branch on it),
 * `status` the HTTP status.
 */
export class ServiceError extends Error {
  override name = "ServiceError";
  readonly code: string;
  readonly status: number;
  readonly details?: Record<string, unknown>;
  constructor(code: string, status: number, message: string, details?: Record<string, unknown>, cause?: unknown) {
    super(message, { cause });
    this.code = code;
    this.status = status;
    this.details = details;
  }
}
