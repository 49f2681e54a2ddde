import type { Hex, LocalAccount } from "viem";
import { type CallerLookup, type VerifyOptions, signRequest, verifyRequest } from "../directory/signedRequest.ts";

/*
 * The node-to-node memo delivery message, `POST /node/v1/memos`: what the payer's node sends the
 * payee's node once a batch settled, and how it is signed and checked. Every call of the request
 * signing scheme (node/directory/signedRequest.ts) for memos is in this file, so a change to that
 * scheme (an audience, a nonce) is made here once.
 */

/** Path of the memo delivery endpoint. */
export const MEMOS_PATH = "/node/v1/memos";

/** Most memos in one delivery. */
export const MAX_MEMOS_PER_DELIVERY = 100;

/**
 * Most distinct settlement transactions one delivery may name: the payee's node reads each from
 * the chain to check the memos against the settled memo hashes, so this bounds what one request
 * costs it (the batch of one payer settles in one transaction, so a delivery usually names one).
 */
export const MAX_TRANSACTIONS_PER_DELIVERY = 8;

/** One memo of a settled transfer. */
export interface MemoItem {
  transferId: Hex;
  /** The transaction that settled the transfer (where the payee's node finds its memo hash). */
  txHash: Hex;
  memo: string;
}

/** The body of a delivery. */
export interface MemoDelivery {
  memos: MemoItem[];
}

/**
 * What the payee's node made of one memo. `stored` and `duplicate` are final successes;
 * `refused` is final (the payer stops sending it); `retry` means "not yet" (the settlement is not
 * final or readable on the payee's side): the payer tries again later.
 */
export type MemoOutcome =
  | { transferId: Hex; status: "stored" | "duplicate" }
  | { transferId: Hex; status: "refused" | "retry"; code: string };

/** The answer to a delivery: one outcome per memo, in the order of the request. */
export interface MemoDeliveryAnswer {
  results: MemoOutcome[];
}

/** Signs a delivery's canonical body for the payee's node (its walletId is the audience); returns the headers to send. */
export function signMemoDelivery(account: LocalAccount, walletId: Hex, payeeWalletId: Hex, body: string): Promise<Record<string, string>> {
  return signRequest(account, walletId, "POST", MEMOS_PATH, body, Date.now(), payeeWalletId);
}

/**
 * Checks a delivery's signature against WalletRegistry (see `verifyRequest`; `options` name this
 * wallet as the audience and hold the nonce cache); returns the calling wallet. Throws `NodeAuthError` when the request is unsigned, stale, forged or from a wallet that
 * is not an Active member.
 */
export function verifyMemoDelivery(
  headers: Record<string, string | string[] | undefined>,
  body: string,
  lookup: CallerLookup,
  options: VerifyOptions,
): Promise<Hex> {
  return verifyRequest(headers, "POST", MEMOS_PATH, body, lookup, Date.now(), options);
}
