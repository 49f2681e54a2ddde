import { randomUUID } from "node:crypto";
import { ApiError, type ApiPayment } from "../../node/devnet/apiClient.ts";
import type { ChaosNode } from "./network.ts";
import { type Random, sleep } from "./random.ts";

/** A customer of one operator, with the balance the model expects at the end. */
export interface Customer {
  node: ChaosNode;
  id: string;
  handle: string;
  /** Its top-up before the chaos began. */
  initial: bigint;
  /** Balance the model predicts once everything has settled. */
  expected: bigint;
}

/**
 * What the load generator asks for. `cross_wallet` pays a known customer of another wallet;
 * `unknown_handle` pays a handle nobody has at another wallet (it settles, then comes back as a
 * return); `unknown_local` pays a handle nobody has in the same wallet (refused at once, 404);
 * `top_up` credits a customer (admin key).
 */
export type RequestKind = "same_wallet" | "cross_wallet" | "unknown_handle" | "unknown_local" | "top_up";

/** How a request is repeated with its own Idempotency-Key. */
export type Duplicate = "none" | "sequential" | "concurrent";

export interface Planned {
  n: number;
  kind: RequestKind;
  from: Customer;
  to: string;
  payee?: Customer;
  amount: bigint;
  idempotencyKey: string;
  duplicate: Duplicate;
}

/** What came back for one planned request, over all its attempts and duplicates. */
export interface Outcome {
  planned: Planned;
  /** Every distinct payment (or top-up entry) id the node answered with: exactly one when accepted. */
  ids: Set<string>;
  /** The first answer that was not a replay (or the first answer at all). */
  payment?: ApiPayment;
  /** Set when the node refused the request with a 4xx that a retry cannot change. */
  refused?: { status: number; code: string };
  attempts: number;
  /** Attempts that failed because a node or the chain was away (connection refused/reset, 5xx, 409 in progress). */
  transientFailures: number;
  replays: number;
}

/** Answers a client retries with the same Idempotency-Key: the node was down, busy or timed out. */
export function isRetryable(e: unknown): boolean {
  if (e instanceof ApiError) return e.status === 408 || e.status === 409 || e.status === 429 || e.status >= 500;
  return true; // fetch failed (connection refused or reset), or a cut-off body that does not parse
}

/**
 * Sends `send` until the node gives a definitive answer (2xx or a non-retryable 4xx), like a
 * wallet app that retries with the same Idempotency-Key after a network error.
 */
async function untilAnswered<T>(
  send: () => Promise<T>,
  outcome: Outcome,
  deadline: number,
): Promise<{ ok: true; value: T } | { ok: false; error: ApiError }> {
  for (let attempt = 0; ; attempt++) {
    outcome.attempts++;
    try {
      return { ok: true, value: await send() };
    } catch (e) {
      if (!isRetryable(e)) return { ok: false, error: e as ApiError };
      outcome.transientFailures++;
      if (Date.now() > deadline) throw new Error(`request ${outcome.planned.n} (${outcome.planned.kind}) got no answer before the deadline`, { cause: e });
      await sleep(Math.min(1_000, 50 * 2 ** Math.min(attempt, 5)) + Math.random() * 100);
    }
  }
}

export interface LoadOptions {
  customers: Customer[];
  random: Random;
  /** Parallel clients. */
  width: number;
  /** Requests stop being started once this resolves. */
  stop: Promise<void>;
  /** Each request gets an answer before this many ms after the load stopped, or the run fails. */
  answerTimeoutMs: number;
  onProgress?: (line: string) => void;
}

/** Picks the next request at random: mostly payments in every direction, some duplicates, a few top-ups. */
export function planRequest(n: number, customers: Customer[], rnd: Random): Planned {
  const from = rnd.pick(customers);
  const roll = rnd.next();
  const duplicateRoll = rnd.next();
  const duplicate: Duplicate = duplicateRoll < 0.06 ? "sequential" : duplicateRoll < 0.1 ? "concurrent" : "none";
  const amount = 1n + BigInt(rnd.int(rnd.chance(0.1) ? 50_000_00 : 5_000_00));
  const base = { n, from, amount, idempotencyKey: `chaos-${n}-${randomUUID()}`, duplicate };
  const others = [...new Set(customers.map((c) => c.node))].filter((node) => node !== from.node);
  if (roll < 0.25) {
    const payee = rnd.pick(customers.filter((c) => c.node === from.node && c !== from));
    return { ...base, kind: "same_wallet", to: payee.handle, payee };
  }
  if (roll < 0.85) {
    const payee = rnd.pick(customers.filter((c) => c.node !== from.node));
    return { ...base, kind: "cross_wallet", to: `${payee.handle}@${payee.node.code}`, payee };
  }
  if (roll < 0.92) return { ...base, kind: "unknown_handle", to: `ghost-${n}@${rnd.pick(others).code}` };
  if (roll < 0.95) return { ...base, kind: "unknown_local", to: `nobody-${n}` };
  return { ...base, kind: "top_up", to: from.handle, payee: from };
}

/**
 * `POST /v1/accounts/:id/top-ups` with the caller's Idempotency-Key (the devnet client makes a fresh
 * key per call, which is right for a demo and wrong for a client that retries).
 */
async function topUp(node: ChaosNode, accountId: string, amount: bigint, reference: string, idempotencyKey: string): Promise<ApiPayment & { replayed: boolean }> {
  const path = `/v1/accounts/${encodeURIComponent(accountId)}/top-ups`;
  const res = await fetch(node.url + path, {
    method: "POST",
    headers: { authorization: `Bearer ${node.keys.admin}`, "idempotency-key": idempotencyKey, "content-type": "application/json" },
    body: JSON.stringify({ amount: amount.toString(), reference }),
  });
  const text = await res.text();
  const json = text === "" ? undefined : (JSON.parse(text) as Record<string, string>);
  if (!res.ok) throw new ApiError("POST", path, res.status, json);
  return { id: json!.entryId, amount: json!.amount, replayed: res.headers.get("idempotent-replayed") === "true" } as unknown as ApiPayment & { replayed: boolean };
}

/** Sends one planned request, with its duplicates, until every copy has a definitive answer. */
export async function execute(p: Planned, deadline: () => number): Promise<Outcome> {
  const outcome: Outcome = { planned: p, ids: new Set(), attempts: 0, transientFailures: 0, replays: 0 };
  const api = p.from.node.api;
  const once = async () => {
    const r =
      p.kind === "top_up"
        ? await untilAnswered(() => topUp(p.from.node, p.from.id, p.amount, `chaos-bank-${p.n}`, p.idempotencyKey), outcome, deadline())
        : await untilAnswered(() => api.pay(p.from.id, p.to, p.amount, { idempotencyKey: p.idempotencyKey, memo: `chaos ${p.n}` }), outcome, deadline());
    if (!r.ok) {
      outcome.refused ??= { status: r.error.status, code: r.error.code };
      return;
    }
    outcome.ids.add(r.value.id);
    if (r.value.replayed) outcome.replays++;
    else outcome.payment ??= r.value;
  };
  if (p.duplicate === "concurrent") await Promise.all([once(), once()]);
  else await once();
  if (p.duplicate === "sequential") await once();
  if (!outcome.payment && outcome.ids.size > 0 && p.kind !== "top_up") {
    // Every answer was a replay: the first attempt was committed but its answer never arrived.
    outcome.payment = await p.from.node.api.payment([...outcome.ids][0]).catch(() => undefined);
  }
  return outcome;
}

/**
 * Runs `width` clients that send random requests until `stop` resolves, then waits for every
 * request in progress to be answered. Returns every outcome.
 */
export async function runLoad(options: LoadOptions): Promise<Outcome[]> {
  let stopped = false;
  let stoppedAt = 0;
  void options.stop.then(() => {
    stopped = true;
    stoppedAt = Date.now();
  });
  const deadline = () => (stopped ? stoppedAt + options.answerTimeoutMs : Date.now() + options.answerTimeoutMs + 3_600_000);
  const outcomes: Outcome[] = [];
  let n = 0;
  const ticker = setInterval(() => {
    const accepted = outcomes.filter((o) => o.ids.size > 0).length;
    options.onProgress?.(`load: ${outcomes.length} requests answered (${accepted} accepted), ${outcomes.reduce((s, o) => s + o.transientFailures, 0)} transient failures retried`);
  }, 10_000);
  try {
    await Promise.all(
      Array.from({ length: options.width }, async () => {
        while (!stopped) {
          const p = planRequest(n++, options.customers, options.random);
          outcomes.push(await execute(p, deadline));
        }
      }),
    );
  } finally {
    clearInterval(ticker);
  }
  return outcomes;
}
