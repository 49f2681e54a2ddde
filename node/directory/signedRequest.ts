import type { Address, Hex, LocalAccount } from "viem";
import { keccak256, recoverMessageAddress, toHex } from "viem";

/** Headers that authenticate a node-to-node request. */
export const HEADER_WALLET = "x-hulian-wallet";
export const HEADER_TIMESTAMP = "x-hulian-timestamp";
export const HEADER_SIGNATURE = "x-hulian-signature";

/** How far a request's timestamp may be from the receiver's clock. */
export const MAX_CLOCK_SKEW_MS = 60_000;

/** The digest a node signs: method, path, timestamp, calling wallet and body hash, newline-joined. */
export function requestDigest(method: string, path: string, walletId: Hex, timestamp: string, body: string): Hex {
  return keccak256(toHex([method.toUpperCase(), path, walletId.toLowerCase(), timestamp, keccak256(toHex(body))].join("\n")));
}

/**
 * Signs a node-to-node request with the operator's settlement key (EIP-191 personal message over
 * {@link requestDigest}). The receiver checks the signer against WalletRegistry.
 */
export async function signRequest(
  account: LocalAccount,
  walletId: Hex,
  method: string,
  path: string,
  body: string,
  now = Date.now(),
): Promise<Record<string, string>> {
  const timestamp = String(now);
  const signature = await account.signMessage({ message: { raw: requestDigest(method, path, walletId, timestamp, body) } });
  return { [HEADER_WALLET]: walletId, [HEADER_TIMESTAMP]: timestamp, [HEADER_SIGNATURE]: signature };
}

/** Why a node-to-node request was refused. */
export class NodeAuthError extends Error {
  override name = "NodeAuthError";
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Checks a signed request: headers present, timestamp fresh, signature by the settlement account
 * that WalletRegistry lists for the claimed wallet, and that wallet Active. Returns the caller.
 */
export async function verifyRequest(
  headers: Record<string, string | string[] | undefined>,
  method: string,
  path: string,
  body: string,
  lookup: (walletId: Hex) => Promise<{ settlementAccount: Address; status: string } | undefined>,
  now = Date.now(),
): Promise<Hex> {
  const walletId = headers[HEADER_WALLET];
  const timestamp = headers[HEADER_TIMESTAMP];
  const signature = headers[HEADER_SIGNATURE];
  if (typeof walletId !== "string" || typeof timestamp !== "string" || typeof signature !== "string") {
    throw new NodeAuthError("unsigned_request", "node-to-node requests must be signed");
  }
  if (!/^0x[0-9a-fA-F]{64}$/.test(walletId) || !/^\d{1,15}$/.test(timestamp) || !/^0x[0-9a-fA-F]{130}$/.test(signature)) {
    throw new NodeAuthError("malformed_signature", "malformed node signature headers");
  }
  if (Math.abs(now - Number(timestamp)) > MAX_CLOCK_SKEW_MS) {
    throw new NodeAuthError("stale_request", "request timestamp is too far from this node's clock");
  }
  const signer = await recoverMessageAddress({
    message: { raw: requestDigest(method, path, walletId as Hex, timestamp, body) },
    signature: signature as Hex,
  }).catch(() => undefined);
  const operator = await lookup(walletId as Hex);
  if (!operator) throw new NodeAuthError("unknown_wallet", "the calling wallet is not a member");
  if (!signer || signer.toLowerCase() !== operator.settlementAccount.toLowerCase()) {
    throw new NodeAuthError("bad_signature", "signature does not match the wallet's settlement account");
  }
  if (operator.status !== "Active") throw new NodeAuthError("wallet_not_active", `the calling wallet is ${operator.status}`);
  return walletId as Hex;
}
