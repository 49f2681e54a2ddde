import { createHmac } from "node:crypto";
import type { Hex } from "viem";

/**
 * Pseudonymous customer references: an HMAC-SHA256 of the operator's own account id under the
 * operator's secret. Nobody without the secret can link a reference to a customer, and the
 * operator can recompute it at will. Payee and payer references use separate domains so the same
 * customer's two roles do not share a reference.
 */
export function customerReference(secret: Buffer, role: "payee" | "payer", accountId: string): Hex {
  return `0x${createHmac("sha256", secret).update(`hulian:${role}:${accountId}`).digest("hex")}`;
}

/** The reference under which a customer's balance enters a reserve attestation (never the handle). */
export function attestationReference(secret: Buffer, accountId: string): Hex {
  return `0x${createHmac("sha256", secret).update(`hulian:attestation:${accountId}`).digest("hex")}`;
}

/**
 * The payee reference given out for a handle that no open account has: an HMAC of the handle that
 * no account owns, so a payment to it is returned, and the same on every lookup.
 */
export function danglingReference(secret: Buffer, normalizedHandle: string): Hex {
  return `0x${createHmac("sha256", secret).update(`hulian:unknown:${normalizedHandle}`).digest("hex")}`;
}
