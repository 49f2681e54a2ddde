import { randomUUID } from "node:crypto";
import { sleep } from "../timing/sleep.ts";

/** A problem answer of the node API (RFC 9457), as an error. */
export class ApiError extends Error {
  override name = "ApiError";
  readonly status: number;
  readonly code: string;
  readonly body: unknown;
  constructor(method: string, path: string, status: number, body: unknown) {
    const code = String((body as { code?: string } | undefined)?.code ?? status);
    super(`${method} ${path} → ${status} ${code}`);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** An account as the API shows it. Money fields are decimal strings of minor units. */
export interface ApiAccount {
  id: string;
  handle: string;
  address: string;
  displayName: string;
  status: "open" | "closed";
  balance: string;
}

export type ApiPaymentStatus = "accepted" | "settling" | "settled" | "returned" | "rejected";

/** A payment as the API shows it. */
export interface ApiPayment {
  id: string;
  kind: "same_wallet" | "cross_wallet";
  status: ApiPaymentStatus;
  from: string;
  to: string;
  toWallet: string;
  amount: string;
  transferId?: string;
  seq?: string;
  txHash?: string;
  reason?: string;
}

/** A problem answer (RFC 9457) as the API writes it. */
export interface ApiProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: { field: string; message: string }[];
  details?: Record<string, unknown>;
}

/** One payment of `POST /v1/payments/bulk`. */
export interface ApiBulkPayment {
  from: string;
  to: string;
  amount: bigint;
  memo?: string;
}

/** The answer of `POST /v1/payments/bulk`: one result per payment, in order. */
export interface ApiBulkResult {
  accepted: number;
  refused: number;
  results: ({ status: "accepted"; payment: ApiPayment } | { status: "refused"; problem: ApiProblemBody })[];
}

/** `GET /v1/admin/reconciliation`: the operator's on-chain balance against its ledger. */
export interface ApiReconciliation {
  wallet: string;
  atBlock: string;
  tokenBalance: string;
  /** Returns the hub holds for this wallet (made while it could not hold tokens), claimable once Active. */
  heldAtHub: string;
  liabilities: string;
  float: string;
  outboundInFlight: string;
  suspense: string;
  expected: string;
  difference: string;
  balanced: boolean;
  batchInFlight: boolean;
  outboxDepth: number;
  reconciled: boolean;
}

/**
 * Statuses a payment rests in. `settled` is final for the payer's side of the chain, but a settled
 * cross-wallet payment still comes back as `returned` when the payee's wallet cannot credit it.
 */
export const FINAL_PAYMENT_STATUSES: ReadonlySet<ApiPaymentStatus> = new Set(["settled", "returned", "rejected"]);

/** A reply with its `Idempotent-Replayed` flag. */
export type Replayable<T> = T & { replayed: boolean };

/**
 * A small typed client of one operator node's HTTP API (the wallet app's view, plus the admin
 * reconciliation), for the demo and the tests. Every POST carries an Idempotency-Key: the caller's,
 * or a fresh one.
 *
 * @example
 * const api = new NodeApiClient(node.url, node.keys);
 * const alice = await api.openAccount("alice", "Alice Wang");
 * await api.topUp(alice.id, 100_00n);
 */
export class NodeApiClient {
  readonly url: string;
  readonly keys: { app: string; admin: string; audit?: string };

  constructor(url: string, keys: { app: string; admin: string; audit?: string }) {
    this.url = url;
    this.keys = keys;
  }

  async #request<T>(method: string, path: string, key: string, body?: unknown, idempotencyKey?: string): Promise<Replayable<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${key}` };
    if (method === "POST") {
      headers["idempotency-key"] = idempotencyKey ?? randomUUID();
      headers["content-type"] = "application/json";
    }
    const res = await fetch(this.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    const json = text === "" ? undefined : (JSON.parse(text) as T);
    if (!res.ok) throw new ApiError(method, path, res.status, json);
    return { ...(json as T), replayed: res.headers.get("idempotent-replayed") === "true" };
  }

  openAccount(handle: string, displayName: string, idempotencyKey?: string): Promise<Replayable<ApiAccount>> {
    return this.#request("POST", "/v1/accounts", this.keys.app, { handle, displayName }, idempotencyKey);
  }

  account(id: string): Promise<Replayable<ApiAccount>> {
    return this.#request("GET", `/v1/accounts/${encodeURIComponent(id)}`, this.keys.app);
  }

  /** One page of an account's movements, newest first. */
  history(
    id: string,
    limit = 200,
  ): Promise<Replayable<{ items: { entryId: string; kind: string; amount: string; paymentId?: string; transferId?: string; payerWallet?: string; memo?: string }[]; nextCursor?: string }>> {
    return this.#request("GET", `/v1/accounts/${encodeURIComponent(id)}/history?limit=${limit}`, this.keys.app);
  }

  closeAccount(id: string): Promise<Replayable<ApiAccount>> {
    return this.#request("POST", `/v1/accounts/${encodeURIComponent(id)}/close`, this.keys.app, {});
  }

  /** Credits an account with money the operator received (admin key). */
  topUp(id: string, amount: bigint, reference = `bank-${randomUUID()}`): Promise<Replayable<{ balance: string }>> {
    return this.#request("POST", `/v1/accounts/${encodeURIComponent(id)}/top-ups`, this.keys.admin, { amount: amount.toString(), reference });
  }

  /** Pays `to` (a local handle or `handle@WALLET`). */
  pay(from: string, to: string, amount: bigint, options: { memo?: string; idempotencyKey?: string } = {}): Promise<Replayable<ApiPayment>> {
    const body: Record<string, string> = { from, to, amount: amount.toString() };
    if (options.memo !== undefined) body.memo = options.memo;
    return this.#request("POST", "/v1/payments", this.keys.app, body, options.idempotencyKey);
  }

  /** Submits many payments in one request (`POST /v1/payments/bulk`); each is accepted or refused on its own. */
  payBulk(payments: readonly ApiBulkPayment[], options: { idempotencyKey?: string } = {}): Promise<Replayable<ApiBulkResult>> {
    const body = {
      payments: payments.map((p) => {
        const item: Record<string, string> = { from: p.from, to: p.to, amount: p.amount.toString() };
        if (p.memo !== undefined) item.memo = p.memo;
        return item;
      }),
    };
    return this.#request("POST", "/v1/payments/bulk", this.keys.app, body, options.idempotencyKey);
  }

  payment(id: string): Promise<Replayable<ApiPayment>> {
    return this.#request("GET", `/v1/payments/${encodeURIComponent(id)}`, this.keys.app);
  }

  reconciliation(): Promise<Replayable<ApiReconciliation>> {
    return this.#request("GET", "/v1/admin/reconciliation", this.keys.admin);
  }

  /** `GET /healthz`: true when the node is ready (store writable, chain reachable). */
  async healthy(): Promise<boolean> {
    const res = await fetch(this.url + "/healthz").catch(() => undefined);
    await res?.body?.cancel();
    return res?.status === 200;
  }
}

/**
 * Calls `probe` until it returns something other than `undefined`, every `intervalMs`, for at most
 * `timeoutMs`; throws with `what` (and the last error) when it never does.
 */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`, { cause: last });
    await sleep(options.intervalMs ?? 50);
  }
}

/**
 * Reads every payment until each one is final (or, when `until` is given, has that status); returns
 * them by id.
 */
export async function waitForFinalPayments(
  payments: readonly { api: NodeApiClient; id: string; until?: ApiPaymentStatus }[],
  options: { timeoutMs?: number } = {},
): Promise<Map<string, ApiPayment>> {
  const final = new Map<string, ApiPayment>();
  await pollUntil(
    `${payments.length} payments to be final`,
    async () => {
      const open = payments.filter((p) => !final.has(p.id));
      for (let i = 0; i < open.length; i += 32) {
        await Promise.all(
          open.slice(i, i + 32).map(async (p) => {
            const r = await p.api.payment(p.id);
            if (p.until ? r.status === p.until : FINAL_PAYMENT_STATUSES.has(r.status)) final.set(p.id, r);
          }),
        );
      }
      return final.size === payments.length ? true : undefined;
    },
    { timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 100 },
  );
  return final;
}
