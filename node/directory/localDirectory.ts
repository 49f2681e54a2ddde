import type { Hex } from "viem";
import type { Ledger } from "../ledger/ledger.ts";
import { InvalidHandleError } from "../ledger/errors.ts";
import { normalizeHandle } from "../ledger/handles.ts";
import { fakeMask } from "./fakeMask.ts";
import { maskName } from "./maskName.ts";
import { customerReference, danglingReference } from "./references.ts";

/** What a peer learns about one of this wallet's handles: the same two fields for any handle. */
export interface LocalResolution {
  payeeRef: Hex;
  maskedName: string;
}

/**
 * This wallet's side of `handle@WALLET` resolution: the payee reference of a local customer and a
 * masked name.
 *
 * Unknown (and closed) handles answer in the same shape — a reference that no account owns, and a
 * plausible mask derived from the handle under the operator's secret — with the same work done
 * (both references and both masks are computed for every handle), so the answer does not tell who
 * has an account here. A payment to such a reference settles on chain, finds no account and is
 * returned to the payer automatically (SECURITY.md says what that return reveals).
 */
export class LocalDirectory {
  readonly #ledger: Ledger;
  readonly #secret: Buffer;

  constructor(ledger: Ledger, secret: Buffer) {
    this.#ledger = ledger;
    this.#secret = secret;
  }

  /** The payee reference of an account (stored in the references index when the account opens). */
  payeeRef(accountId: string): Hex {
    return customerReference(this.#secret, "payee", accountId);
  }

  /** The payer reference of an account (put on chain with its outbound payments). */
  payerRef(accountId: string): Hex {
    return customerReference(this.#secret, "payer", accountId);
  }

  /** Resolves a handle of this wallet; throws `InvalidHandleError` for a malformed one. */
  resolve(handle: string): LocalResolution {
    return this.lookup(handle).resolution;
  }

  /**
   * {@link resolve}, also telling whether an open account has the handle: for this node's own use
   * (a lookup of an unknown handle costs the caller more of its rate limit), never for the answer.
   */
  lookup(handle: string): { resolution: LocalResolution; known: boolean } {
    const normalized = normalizeHandle(handle);
    const account = this.#ledger.accountByHandle(normalized);
    const known = account !== undefined && account.status === "open";
    // Both answers are computed whichever is given, so a known handle takes no longer than an unknown one.
    const real = customerReference(this.#secret, "payee", account?.id ?? normalized);
    const dangling = danglingReference(this.#secret, normalized);
    const realMask = maskName(account?.displayName ?? normalized);
    const fake = fakeMask(this.#secret, normalized);
    return { resolution: { payeeRef: known ? real : dangling, maskedName: known ? realMask : fake }, known };
  }
}

export { InvalidHandleError };
