import type { Hex, LocalAccount } from "viem";
import type { RegistryView } from "../chain/registryView.ts";
import { canonicalJson } from "../ledger/idempotency.ts";
import { walletIdOf } from "../receipts/ids.ts";
import { signRequest } from "./signedRequest.ts";

/** Path of the node-to-node resolution endpoint. */
export const RESOLVE_PATH = "/node/v1/resolve";

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
  constructor(code: string, status: number, message: string, retryable = false, cause?: unknown) {
    super(message, { cause });
    this.code = code;
    this.status = status;
    this.retryable = retryable;
  }
}

export interface DirectoryClientOptions {
  registry: RegistryView;
  account: LocalAccount;
  walletId: Hex;
  timeoutMs?: number;
  /** How to reach peer nodes; default the global `fetch`. With TLS: node/api/tls.ts `createPeerFetch` trusting the network's CA. */
  fetch?: (url: URL, init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<Response>;
}

/**
 * Resolves `handle@WALLET` by asking the payee's node, whose endpoint WalletRegistry publishes.
 * Requests are signed with this operator's settlement key; the answer is an opaque payee reference
 * (an HMAC under the payee operator's secret) and a masked display name. No money moves here.
 */
export class DirectoryClient {
  readonly #options: DirectoryClientOptions;

  constructor(options: DirectoryClientOptions) {
    this.#options = options;
  }

  async resolve(handle: string, walletCode: string): Promise<Resolution> {
    let walletId: Hex;
    try {
      walletId = walletIdOf(walletCode);
    } catch {
      throw new DirectoryError("payee_wallet_unknown", 422, `"${walletCode}" is not a wallet code`);
    }
    const operator = await this.#options.registry.operator(walletId);
    if (!operator) throw new DirectoryError("payee_wallet_unknown", 422, `wallet ${walletCode} is not a member of the network`);
    if (operator.status !== "Active") {
      throw new DirectoryError("payee_wallet_not_active", 422, `wallet ${walletCode} is ${operator.status.toLowerCase()}`);
    }
    const payload = { handle };
    const body = canonicalJson(payload);
    const headers = await signRequest(this.#options.account, this.#options.walletId, "POST", RESOLVE_PATH, body);
    let response: Response;
    try {
      response = await (this.#options.fetch ?? fetch)(new URL(RESOLVE_PATH, operator.endpoint), {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 5_000),
      });
    } catch (cause) {
      // The node may have moved (a restart publishes a new endpoint): read the registry afresh next time.
      this.#options.registry.invalidate();
      throw new DirectoryError("directory_unavailable", 503, `wallet ${walletCode}'s node did not answer`, true, cause);
    }
    const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (response.status === 404) throw new DirectoryError("payee_not_found", 404, `no account ${handle}@${walletCode}`);
    if (!response.ok) {
      throw new DirectoryError("directory_refused", 502, `wallet ${walletCode}'s node refused: ${String(answer.code ?? response.status)}`, response.status >= 500);
    }
    const payeeRef = answer.payeeRef;
    if (typeof payeeRef !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(payeeRef)) {
      throw new DirectoryError("directory_refused", 502, `wallet ${walletCode}'s node gave no valid payee reference`);
    }
    return { walletId, wallet: walletCode, payeeRef: payeeRef as Hex, maskedName: String(answer.maskedName ?? "***") };
  }
}
