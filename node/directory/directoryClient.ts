import type { Hex, LocalAccount } from "viem";
import type { RegistryView } from "../chain/registryView.ts";
import { canonicalJson } from "../ledger/idempotency.ts";
import { normalizeHandle } from "../ledger/handles.ts";
import { walletIdOf } from "../receipts/ids.ts";
import { isMaskedName } from "./maskName.ts";
import { type PeerEndpointPolicy, checkPeerEndpoint } from "./peerEndpoint.ts";
import { signRequest } from "./signedRequest.ts";

/** Path of the node-to-node resolution endpoint. */
export const RESOLVE_PATH = "/node/v1/resolve";

/** Largest answer read from a peer's resolve endpoint, bytes (a real one is about 120). */
const MAX_ANSWER_BYTES = 4_096;
const PAYEE_REF = /^0x[0-9a-fA-F]{64}$/;

/** What the payee's node tells the payer's node about `handle@WALLET`. */
export interface Resolution {
  walletId: Hex;
  wallet: string;
  payeeRef: Hex;
  maskedName: string;
}

/** Resolution failed; `code` is stable for the API. */
export class DirectoryError extends Error {
  override name = "DirectoryError";
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;
  /** Seconds to wait before asking again (`rate_limited`). */
  readonly retryAfterSeconds?: number;
  constructor(code: string, status: number, message: string, retryable = false, cause?: unknown, retryAfterSeconds?: number) {
    super(message, { cause });
    this.code = code;
    this.status = status;
    this.retryable = retryable;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The request init the directory client passes to `fetch`. */
export interface PeerRequestInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Never follow a redirect: a peer could point it anywhere (the global fetch honours this). */
  redirect?: "error";
}

export interface DirectoryClientOptions {
  registry: RegistryView;
  account: LocalAccount;
  walletId: Hex;
  timeoutMs?: number;
  /** How to reach peer nodes; default the global `fetch`. With TLS: node/api/tls.ts `createPeerFetch` trusting the network's CA. */
  fetch?: (url: URL, init: PeerRequestInit) => Promise<Response>;
  /** Which published endpoints may be called (default: public `https:` addresses only). */
  peers?: PeerEndpointPolicy;
}

/**
 * Resolves `handle@WALLET` by asking the payee's node, whose endpoint WalletRegistry publishes.
 * Requests are signed with this operator's settlement key, addressed to the payee's wallet, and
 * carry the payer's pseudonymous reference (the payee's node rate-limits per operator and per
 * payer). The answer is an opaque payee reference (an HMAC under the payee operator's secret) and a
 * masked display name. No money moves here.
 *
 * Nothing a peer sends reaches the customer unchecked: the endpoint is checked before it is called
 * (see {@link checkPeerEndpoint}), every failure becomes one fixed `payee_wallet_unreachable`
 * problem (the peer's status and text are never repeated), and the answer must be a 32-byte
 * reference and a name of the masked shape.
 */
export class DirectoryClient {
  readonly #options: DirectoryClientOptions;

  constructor(options: DirectoryClientOptions) {
    this.#options = options;
  }

  /** Resolves `handle@walletCode`; `payer` is the paying customer's payer reference, when there is one. */
  async resolve(handle: string, walletCode: string, payer?: Hex): Promise<Resolution> {
    let walletId: Hex;
    try {
      walletId = walletIdOf(walletCode);
    } catch {
      throw new DirectoryError("payee_wallet_unknown", 422, `"${walletCode}" is not a wallet code`);
    }
    try {
      normalizeHandle(handle);
    } catch {
      throw new DirectoryError("invalid_handle", 400, "Handle must be a phone number (+8613800000000), an email address or a user name.");
    }
    const operator = await this.#options.registry.operator(walletId);
    if (!operator) throw new DirectoryError("payee_wallet_unknown", 422, `wallet ${walletCode} is not a member of the network`);
    if (operator.status !== "Active") {
      throw new DirectoryError("payee_wallet_not_active", 422, `wallet ${walletCode} is ${operator.status.toLowerCase()}`);
    }
    const unreachable = (retryable: boolean, cause?: unknown) =>
      new DirectoryError("payee_wallet_unreachable", 502, `wallet ${walletCode}'s node could not be reached; try again later`, retryable, cause);
    let endpoint: URL;
    try {
      endpoint = await checkPeerEndpoint(operator.endpoint, this.#options.peers);
    } catch (cause) {
      throw unreachable(false, cause);
    }
    const body = canonicalJson(payer === undefined ? { handle } : { handle, payer: payer.toLowerCase() });
    const headers = await signRequest(this.#options.account, this.#options.walletId, "POST", RESOLVE_PATH, body, Date.now(), walletId);
    let response: Response;
    let text: string;
    try {
      response = await (this.#options.fetch ?? fetch)(new URL(RESOLVE_PATH, endpoint), {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 5_000),
        redirect: "error",
      });
      text = await readCapped(response, MAX_ANSWER_BYTES);
    } catch (cause) {
      // The node may have moved (a restart publishes a new endpoint): read the registry afresh next time.
      this.#options.registry.invalidate();
      throw unreachable(true, cause);
    }
    if (response.status === 429) {
      const seconds = Math.min(3_600, Math.max(1, Number.parseInt(response.headers.get("retry-after") ?? "", 10) || 1));
      throw new DirectoryError("rate_limited", 429, `wallet ${walletCode}'s directory asks to slow down; retry in ${seconds} s`, true, undefined, seconds);
    }
    if (response.status !== 200) throw unreachable(response.status >= 500, new Error(`peer answered HTTP ${response.status}`));
    let answer: Record<string, unknown>;
    try {
      answer = JSON.parse(text) as Record<string, unknown>;
    } catch (cause) {
      throw unreachable(false, cause);
    }
    const { payeeRef, maskedName } = answer ?? {};
    if (typeof payeeRef !== "string" || !PAYEE_REF.test(payeeRef) || typeof maskedName !== "string" || !isMaskedName(maskedName)) {
      throw unreachable(false, new Error("peer answered without a valid payee reference and masked name"));
    }
    return { walletId, wallet: walletCode, payeeRef: payeeRef.toLowerCase() as Hex, maskedName };
  }
}

/** The response body as text, refusing more than `max` bytes (a peer could otherwise send gigabytes). */
async function readCapped(response: Response, max: number): Promise<string> {
  if (Number(response.headers.get("content-length") ?? 0) > max) {
    await response.body?.cancel();
    throw new Error(`peer answer larger than ${max} bytes`);
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new Error(`peer answer larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
