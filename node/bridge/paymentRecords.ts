import { sortableId } from "../ledger/ids.ts";
import type { Hex } from "viem";
import { compoundKey } from "../store/keys.ts";
import type { Store } from "../store/store.ts";
import type { StagedOp } from "../store/types.ts";
import type { PaymentStatus, PaymentView } from "./walletService.ts";

/**
 * A payment as stored: amounts as decimal strings (JSON has no bigint). The record is written once
 * when the payment is accepted; its progress lives in a separate small {@link PaymentState} key, so
 * the batcher and the inbound follower can move thousands of payments on without reading records.
 */
export interface PaymentRecord {
  id: string;
  kind: "same_wallet" | "cross_wallet";
  status: PaymentStatus;
  fromAccountId: string;
  to: string;
  toWallet: string;
  toWalletId?: Hex;
  amount: string;
  memo?: string;
  memoHash?: Hex;
  payerRef?: Hex;
  payeeRef?: Hex;
  transferId?: Hex;
  seq?: string;
  txHash?: Hex;
  blockNumber?: string;
  reason?: string;
  createdAt: string;
  updatedAt: string;
}

/** How far a payment has come. Replaces the record's fields of the same names. */
export interface PaymentState {
  status: PaymentStatus;
  transferId?: Hex;
  seq?: string;
  txHash?: Hex;
  blockNumber?: string;
  reason?: string;
  updatedAt: string;
}

const PAYMENT = "p";
const STATE = "s";
const BY_TRANSFER = "t";
// A return is the payment's last word. It lives under its own key, applied after the state, so the
// batcher recording the (earlier) settlement late — after a crash, the return can be read first —
// cannot turn a returned payment back into a settled one.
const RETURNED = "r";

/** Stages a payment's new state. */
export function putPaymentState(store: Store, paymentId: string, state: PaymentState): StagedOp {
  return { type: "put", sublevel: store.sub.payments, key: compoundKey(STATE, paymentId), value: state };
}

/** Stages a payment's return (see {@link RETURNED}): it outranks every later {@link putPaymentState}. */
export function putPaymentReturned(store: Store, paymentId: string, state: PaymentState): StagedOp {
  return { type: "put", sublevel: store.sub.payments, key: compoundKey(RETURNED, paymentId), value: state };
}

/** Stages a payment record (insert or update). */
export function putPayment(store: Store, record: PaymentRecord): StagedOp {
  return { type: "put", sublevel: store.sub.payments, key: compoundKey(PAYMENT, record.id), value: record };
}

/** Stages the index transferId → paymentId. */
export function indexTransfer(store: Store, transferId: Hex, paymentId: string): StagedOp {
  return { type: "put", sublevel: store.sub.payments, key: compoundKey(BY_TRANSFER, transferId.toLowerCase()), value: paymentId };
}

/**
 * The payment records of `ids` as they were written when each payment was accepted (no state
 * applied): what the API answered then. `undefined` for an unknown id.
 */
export async function getAcceptedPayments(store: Store, ids: readonly string[]): Promise<(PaymentRecord | undefined)[]> {
  if (ids.length === 0) return [];
  return (await store.sub.payments.getMany(ids.map((id) => compoundKey(PAYMENT, id)))) as (PaymentRecord | undefined)[];
}

/** A payment by id, with its latest state applied. */
export async function getPayment(store: Store, id: string): Promise<PaymentRecord | undefined> {
  const [record, state, returned] = (await store.sub.payments.getMany([compoundKey(PAYMENT, id), compoundKey(STATE, id), compoundKey(RETURNED, id)])) as [
    PaymentRecord | undefined,
    PaymentState | undefined,
    PaymentState | undefined,
  ];
  if (!record) return undefined;
  return { ...record, ...state, ...returned };
}

/** The payment that settled as `transferId`. */
export async function paymentByTransfer(store: Store, transferId: Hex): Promise<PaymentRecord | undefined> {
  const id = (await store.sub.payments.get(compoundKey(BY_TRANSFER, transferId.toLowerCase()))) as string | undefined;
  return id === undefined ? undefined : getPayment(store, id);
}

/** The API view of a stored payment. */
export function paymentView(r: PaymentRecord): PaymentView {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    fromAccountId: r.fromAccountId,
    to: r.to,
    toWallet: r.toWallet,
    amount: BigInt(r.amount),
    memo: r.memo,
    transferId: r.transferId,
    seq: r.seq === undefined ? undefined : BigInt(r.seq),
    txHash: r.txHash,
    blockNumber: r.blockNumber === undefined ? undefined : BigInt(r.blockNumber),
    reason: r.reason,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

/**
 * A new payment id: `pay_` and a ULID (the ledger's {@link sortableId}: time-sortable, increasing
 * within a millisecond).
 *
 * @example
 * newPaymentId() // "pay_01J9Z4Q8W5N3V6XK2T7RBMDFHC"
 */
export function newPaymentId(now?: number): string {
  return `pay_${sortableId(now)}`;
}
