import type { Hex } from "viem";
import type { Ledger } from "../ledger/ledger.ts";
import { InvalidHandleError } from "../ledger/errors.ts";
import { normalizeHandle } from "../ledger/handles.ts";
import { maskName } from "./maskName.ts";
import { customerReference } from "./references.ts";
import { createHmac } from "node:crypto";

/**
 * This wallet's side of `handle@WALLET` resolution: the payee reference of a local customer and a
 * masked name.
 *
 * Unknown handles get a reference too — an HMAC that no account owns — so the directory cannot be
 * used to find out who has an account here. A payment to it settles on chain, finds no account,
 * and is returned to the payer automatically.
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
  resolve(handle: string): { payeeRef: Hex; maskedName: string } {
    const normalized = normalizeHandle(handle);
    const account = this.#ledger.accountByHandle(normalized);
    if (account && account.status === "open") {
      return { payeeRef: this.payeeRef(account.id), maskedName: maskName(account.displayName) };
    }
    const dangling = `0x${createHmac("sha256", this.#secret).update(`hulian:unknown:${normalized}`).digest("hex")}` as Hex;
    return { payeeRef: dangling, maskedName: "***" };
  }
}

export { InvalidHandleError };
