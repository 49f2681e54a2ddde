import { randomBytes } from "node:crypto";
import type { Address, Hex, LocalAccount } from "viem";
import { keccak256, recoverMessageAddress, toHex } from "viem";
import type { NonceCache } from "./nonceCache.ts";

/** Headers that authenticate a node-to-node request. */
export const HEADER_WALLET = "x-hulian-wallet";
export const HEADER_TIMESTAMP = "x-hulian-timestamp";
export const HEADER_SIGNATURE = "x-hulian-signature";
/** The walletId the request is meant for: a node refuses a request addressed to another wallet. */
export const HEADER_AUDIENCE = "x-hulian-audience";
/** 16 random bytes per request: a node refuses a nonce it has seen within the freshness window. */
export const HEADER_NONCE = "x-hulian-nonce";

/** How far a request's timestamp may be from the receiver's clock. */
export const MAX_CLOCK_SKEW_MS = 60_000;

/** Half the secp256k1 group order: a signature's `s` above it is the malleated twin (EIP-2). */
const HALF_CURVE_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

const WALLET_ID = /^0x[0-9a-fA-F]{64}$/;
const TIMESTAMP = /^\d{1,15}$/;
const SIGNATURE = /^0x[0-9a-fA-F]{130}$/;
const NONCE = /^[0-9a-f]{32}$/;

/**
 * The digest a node signs, newline-joined: method, path, calling wallet, timestamp, body hash, and
 * then the audience (target walletId) and nonce. A request signed without an audience or nonce
 * signs empty strings there, and a verifier that requires them refuses it.
 */
export function requestDigest(method: string, path: string, walletId: Hex, timestamp: string, body: string, audience = "", nonce = ""): Hex {
  return keccak256(
    toHex([method.toUpperCase(), path, walletId.toLowerCase(), timestamp, keccak256(toHex(body)), audience.toLowerCase(), nonce].join("\n")),
  );
}

/**
 * Signs a node-to-node request with the operator's settlement key (EIP-191 personal message over
 * {@link requestDigest}). The receiver checks the signer against WalletRegistry. `audience` is the
 * walletId of the node the request is for; every request gets a fresh random nonce.
 *
 * @example
 * const headers = await signRequest(account, myWalletId, "POST", RESOLVE_PATH, body, Date.now(), payeeWalletId);
 */
export async function signRequest(
  account: LocalAccount,
  walletId: Hex,
  method: string,
  path: string,
  body: string,
  now = Date.now(),
  audience?: Hex,
): Promise<Record<string, string>> {
  const timestamp = String(now);
  const nonce = randomBytes(16).toString("hex");
  const digest = requestDigest(method, path, walletId, timestamp, body, audience ?? "", nonce);
  const signature = await account.signMessage({ message: { raw: digest } });
  const headers: Record<string, string> = { [HEADER_WALLET]: walletId, [HEADER_TIMESTAMP]: timestamp, [HEADER_NONCE]: nonce, [HEADER_SIGNATURE]: signature };
  if (audience !== undefined) headers[HEADER_AUDIENCE] = audience;
  return headers;
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

/** What {@link verifyRequest} checks beyond the signature. */
export interface VerifyOptions {
  /** This node's walletId: the request must name it in {@link HEADER_AUDIENCE}. Unset: not checked. */
  audience?: Hex;
  /** Nonces seen within the freshness window: a repeated one is refused. Unset: not checked. */
  nonces?: NonceCache;
  /** Called once per signature recovery, the expensive step (for a metric). */
  onSignatureCheck?: () => void;
}

/** The caller as WalletRegistry lists it. */
export type CallerLookup = (walletId: Hex) => Promise<{ settlementAccount: Address; status: string } | undefined>;

/** True when `signature` (65 bytes hex) has `s` in the lower half of the curve order and v 27/28 (or 0/1). */
export function isLowS(signature: Hex): boolean {
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130, 132), 16);
  return s > 0n && s <= HALF_CURVE_ORDER && (v === 27 || v === 28 || v === 0 || v === 1);
}

/**
 * Checks a signed request, cheapest checks first so that a flood of forged requests costs little:
 * headers present and well-formed, timestamp fresh, addressed to this node, nonce not seen, the
 * claimed wallet a member (`lookup`, which should answer from a cache) and Active, low-s; only then
 * the signature recovery, which must give the settlement account WalletRegistry lists. The nonce
 * is remembered once the signature holds. Returns the caller's walletId.
 */
export async function verifyRequest(
  headers: Record<string, string | string[] | undefined>,
  method: string,
  path: string,
  body: string,
  lookup: CallerLookup,
  now = Date.now(),
  options: VerifyOptions = {},
): Promise<Hex> {
  const walletId = headers[HEADER_WALLET];
  const timestamp = headers[HEADER_TIMESTAMP];
  const signature = headers[HEADER_SIGNATURE];
  const audience = headers[HEADER_AUDIENCE];
  const nonce = headers[HEADER_NONCE];
  if (typeof walletId !== "string" || typeof timestamp !== "string" || typeof signature !== "string") {
    throw new NodeAuthError("unsigned_request", "node-to-node requests must be signed");
  }
  if (!WALLET_ID.test(walletId) || !TIMESTAMP.test(timestamp) || !SIGNATURE.test(signature)) {
    throw new NodeAuthError("malformed_signature", "malformed node signature headers");
  }
  if ((audience !== undefined && (typeof audience !== "string" || !WALLET_ID.test(audience))) || (nonce !== undefined && (typeof nonce !== "string" || !NONCE.test(nonce)))) {
    throw new NodeAuthError("malformed_signature", "malformed node signature headers");
  }
  const sentAt = Number(timestamp);
  if (Math.abs(now - sentAt) > MAX_CLOCK_SKEW_MS) {
    throw new NodeAuthError("stale_request", "request timestamp is too far from this node's clock");
  }
  if (options.audience !== undefined && (typeof audience !== "string" || audience.toLowerCase() !== options.audience.toLowerCase())) {
    throw new NodeAuthError("wrong_audience", "the request is not addressed to this wallet's node");
  }
  const nonceKey = `${walletId.toLowerCase()}:${nonce ?? ""}`;
  if (options.nonces) {
    if (typeof nonce !== "string") throw new NodeAuthError("unsigned_request", "node-to-node requests must carry a nonce");
    if (options.nonces.has(nonceKey, now)) throw new NodeAuthError("replayed_request", "this request was already received");
  }
  const operator = await lookup(walletId as Hex);
  if (!operator) throw new NodeAuthError("unknown_wallet", "the calling wallet is not a member");
  // Membership status is public on chain: saying it before the signature is checked tells nobody anything new.
  if (operator.status !== "Active") throw new NodeAuthError("wallet_not_active", `the calling wallet is ${operator.status}`);
  if (!isLowS(signature as Hex)) throw new NodeAuthError("malformed_signature", "the signature's s must be in the lower half of the curve order (EIP-2)");
  options.onSignatureCheck?.();
  const signer = await recoverMessageAddress({
    message: { raw: requestDigest(method, path, walletId as Hex, timestamp, body, typeof audience === "string" ? audience : "", typeof nonce === "string" ? nonce : "") },
    signature: signature as Hex,
  }).catch(() => undefined);
  if (!signer || signer.toLowerCase() !== operator.settlementAccount.toLowerCase()) {
    throw new NodeAuthError("bad_signature", "signature does not match the wallet's settlement account");
  }
  // Checked again now that the signature holds: two copies of one request may have raced here.
  const added = options.nonces?.add(nonceKey, sentAt + MAX_CLOCK_SKEW_MS, now);
  if (added === "seen") throw new NodeAuthError("replayed_request", "this request was already received");
  if (added === "full") throw new NodeAuthError("node_busy", "too many requests within the freshness window; retry shortly");
  return walletId as Hex;
}
