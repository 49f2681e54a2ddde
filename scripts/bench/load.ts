import { randomBytes } from "node:crypto";
import autocannon from "autocannon";

/** One payment request body (`POST /v1/payments`). */
export interface PaymentBody {
  from: string;
  to: string;
  amount: string;
}

/** Options of {@link postPayments}. */
export interface PaymentLoad {
  url: string;
  appKey: string;
  /** The i-th payment's body (i counts from 0 across all connections). */
  body: (i: number) => PaymentBody;
  connections: number;
  /** Stop after this many requests … */
  amount?: number;
  /** … or after this many seconds. */
  durationSec?: number;
  /** Offered load in requests per second (fixed rate); unlimited when absent. */
  overallRate?: number;
  /** Called with each response's status and body. */
  onResponse?: (status: number, body: string) => void;
}

/** What one load run measured. */
export interface LoadResult {
  ok: number;
  failed: number;
  errors: number;
  seconds: number;
  /** Response times of the 2xx answers (exact, from autocannon's per-response timings). */
  latencyMs: { p50: number; p99: number; max: number };
  /** autocannon's own p99 (whole ms, corrected for coordinated omission at a fixed rate). */
  correctedP99Ms: number;
  /** First non-2xx answer, to explain failures. */
  firstFailure?: string;
}

/**
 * Fires `POST /v1/payments` at one node with autocannon: keep-alive connections, each request
 * with a fresh `Idempotency-Key` (built in `setupRequest`), so no request is a replay.
 */
export function postPayments(load: PaymentLoad): Promise<LoadResult> {
  return fire(load, "/v1/payments", (i) => JSON.stringify(load.body(i)));
}

/** Options of {@link postBulkPayments}. */
export interface BulkPaymentLoad extends Omit<PaymentLoad, "amount" | "durationSec" | "overallRate"> {
  /** How many bulk requests to send in all … */
  requests: number;
  /** … each with this many payments; `body(i)` is the i-th payment over all requests. */
  perRequest: number;
}

/**
 * Fires `POST /v1/payments/bulk` at one node: `requests` requests of `perRequest` payments each,
 * over `connections` keep-alive connections, each request with a fresh Idempotency-Key.
 */
export function postBulkPayments(load: BulkPaymentLoad): Promise<LoadResult> {
  return fire({ ...load, amount: load.requests }, "/v1/payments/bulk", (n) => {
    const payments = new Array<PaymentBody>(load.perRequest);
    for (let k = 0; k < load.perRequest; k++) payments[k] = load.body(n * load.perRequest + k);
    return JSON.stringify({ payments });
  });
}

async function fire(load: PaymentLoad, path: string, body: (n: number) => string): Promise<LoadResult> {
  const prefix = `bench-${randomBytes(4).toString("hex")}-`;
  let n = 0;
  let firstFailure: string | undefined;
  const latencies: number[] = [];
  const started = performance.now();
  const options: Record<string, unknown> = {
    url: load.url,
    connections: load.connections,
    headers: { authorization: `Bearer ${load.appKey}`, "content-type": "application/json" },
    requests: [
      {
        method: "POST",
        path,
        setupRequest: (req: Record<string, unknown>) => {
          const i = n++;
          return { ...req, body: body(i), headers: { ...(req.headers as object), "idempotency-key": prefix + i } };
        },
        onResponse: (status: number, body: string) => {
          if ((status < 200 || status >= 300) && firstFailure === undefined) firstFailure = `${status} ${String(body).slice(0, 300)}`;
          load.onResponse?.(status, body);
        },
      },
    ],
  };
  // autocannon treats a key that is present but undefined as a (bad) value.
  if (load.amount !== undefined) options.amount = load.amount;
  if (load.durationSec !== undefined) options.duration = load.durationSec;
  if (load.overallRate !== undefined) options.overallRate = load.overallRate;
  const result = await new Promise<unknown>((resolve, reject) => {
    const instance = autocannon(options, (err: unknown, res: unknown) => (err ? reject(err) : resolve(res)));
    instance.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
  const seconds = (performance.now() - started) / 1000;
  const r = result as unknown as {
    "2xx": number;
    non2xx: number;
    errors: number;
    timeouts: number;
    latency: { p50: number; p99: number; max: number };
  };
  return {
    ok: r["2xx"],
    failed: r.non2xx,
    errors: r.errors + r.timeouts,
    seconds,
    latencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: percentile(latencies, 1) },
    correctedP99Ms: r.latency.p99,
    firstFailure,
  };
}

/** The `q` quantile (nearest rank) of `values`, in place; 0 when empty. */
export function percentile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.max(0, Math.ceil(q * values.length) - 1))];
}

/** The event-loop delay a node reports in `/metrics` (its last completed window), in ms. */
export interface EventLoopDelayMs {
  p50: number;
  p99: number;
  max: number;
}

/**
 * Scrapes `hulian_event_loop_delay_seconds{quantile}` from a node's `/metrics` (a key with scope
 * `metrics` or `admin`); undefined when the node does not report it.
 */
export async function scrapeEventLoopDelay(url: string, key: string): Promise<EventLoopDelayMs | undefined> {
  const res = await fetch(new URL("/metrics", url), { headers: { authorization: `Bearer ${key}` } });
  if (!res.ok) return undefined;
  const text = await res.text();
  const q = (quantile: string) => {
    const m = new RegExp(`^hulian_event_loop_delay_seconds\\{quantile="${quantile.replace(".", "\\.")}"\\} (\\S+)$`, "m").exec(text);
    return m ? Number(m[1]) * 1000 : undefined;
  };
  const [p50, p99, max] = [q("0.5"), q("0.99"), q("1")];
  if (p50 === undefined || p99 === undefined || max === undefined) return undefined;
  return { p50, p99, max };
}

