import type { MetricsView } from "../bridge/walletService.ts";
import type { EventLoopDelayWindow } from "../observability/eventLoopDelay.ts";

/** The Content-Type of the Prometheus text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Upper bounds of the batch-size histogram buckets (transfers per batch). */
export const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] as const;

/** Upper bounds of the request-duration histogram buckets, in seconds. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10] as const;

type Labels = Record<string, string>;

/** Escapes a label value as the text format requires (backslash, quote, newline). */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labels(l: Labels | undefined): string {
  if (!l || Object.keys(l).length === 0) return "";
  return `{${Object.entries(l).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
}

function value(v: number | bigint): string {
  if (typeof v === "bigint") return v.toString();
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/** Builds one exposition in the text format 0.0.4: HELP and TYPE once per family, then samples. */
export class Exposition {
  #lines: string[] = [];

  /** Starts a metric family: its HELP and TYPE lines. */
  family(name: string, type: "counter" | "gauge" | "histogram", help: string): this {
    this.#lines.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${type}`);
    return this;
  }

  /** One sample line. */
  sample(name: string, v: number | bigint, l?: Labels): this {
    this.#lines.push(`${name}${labels(l)} ${value(v)}`);
    return this;
  }

  /** The `_bucket` (cumulative), `_sum` and `_count` samples of a histogram; `counts` are per bucket. */
  histogram(name: string, bounds: readonly number[], counts: readonly number[], sum: number, count: number, l: Labels = {}): this {
    let cumulative = 0;
    bounds.forEach((b, i) => {
      cumulative += counts[i];
      this.sample(`${name}_bucket`, cumulative, { ...l, le: String(b) });
    });
    this.sample(`${name}_bucket`, count, { ...l, le: "+Inf" });
    this.sample(`${name}_sum`, sum, l);
    this.sample(`${name}_count`, count, l);
    return this;
  }

  /** The exposition text, newline-terminated. */
  text(): string {
    return this.#lines.join("\n") + "\n";
  }
}

function bucketCounts(bounds: readonly number[], values: Iterable<number>): number[] {
  const counts = bounds.map(() => 0);
  for (const v of values) {
    const i = bounds.findIndex((b) => v <= b);
    if (i >= 0) counts[i]++;
  }
  return counts;
}

/**
 * Request counts and latencies of the HTTP API, by method, route pattern and status (never the
 * raw path: that would put customer handles into metric labels).
 */
export class HttpMetrics {
  #requests = new Map<string, { labels: Labels; count: number }>();
  #durations = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  // Figures other parts of the API keep (connection guard, audit sampling), read when rendered; a few, named in code.
  #extra = new Map<string, { type: "counter" | "gauge"; help: string; read: () => number | Record<string, number>; label?: string }>();

  /** Adds a counter read at render time; `read` may return values by label (`label` names it). */
  counter(name: string, help: string, read: () => number | Record<string, number>, label?: string): void {
    this.#extra.set(name, { type: "counter", help, read, label });
  }

  /** Adds a gauge read at render time. */
  gauge(name: string, help: string, read: () => number): void {
    this.#extra.set(name, { type: "gauge", help, read });
  }

  /** Records one finished request. */
  observe(method: string, route: string, status: number, seconds: number): void {
    const dk = `${method} ${route}`;
    const rk = `${dk} ${status}`;
    const r = this.#requests.get(rk);
    if (r) r.count++;
    else this.#requests.set(rk, { labels: { method, route, status: String(status) }, count: 1 });

    let d = this.#durations.get(dk);
    if (!d) this.#durations.set(dk, (d = { labels: { method, route }, counts: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < DURATION_BUCKETS.length; i++) {
      if (seconds <= DURATION_BUCKETS[i]) {
        d.counts[i]++;
        break;
      }
    }
    d.sum += seconds;
    d.count++;
  }

  /** Appends this registry's families to an exposition. */
  render(out: Exposition): void {
    out.family("hulian_http_requests_total", "counter", "HTTP requests answered, by method, route and status.");
    for (const r of this.#requests.values()) out.sample("hulian_http_requests_total", r.count, r.labels);
    out.family("hulian_http_request_duration_seconds", "histogram", "HTTP request duration, by method and route.");
    for (const d of this.#durations.values()) {
      out.histogram("hulian_http_request_duration_seconds", DURATION_BUCKETS, d.counts, d.sum, d.count, d.labels);
    }
    for (const [name, m] of this.#extra) {
      out.family(name, m.type, m.help);
      const v = m.read();
      if (typeof v === "number") out.sample(name, v);
      else for (const [l, n] of Object.entries(v)) out.sample(name, n, { [m.label ?? "kind"]: l });
    }
  }
}

/**
 * Appends `hulian_event_loop_delay_seconds{quantile="0.5"|"0.99"|"1"}` (gauges: p50, p99 and max of
 * the last completed window of the process's event-loop delay).
 */
export function renderEventLoopDelay(out: Exposition, w: EventLoopDelayWindow): void {
  const name = "hulian_event_loop_delay_seconds";
  out
    .family(name, "gauge", "Event-loop delay beyond the 10 ms sampling interval over the last completed 10 s window: p50, p99 and max (quantile 1).")
    .sample(name, w.p50, { quantile: "0.5" })
    .sample(name, w.p99, { quantile: "0.99" })
    .sample(name, w.max, { quantile: "1" });
}

/**
 * Renders the node's figures in the Prometheus text format 0.0.4.
 *
 * Counters: `hulian_payments_{accepted,settled,returned,rejected}_total`,
 * `hulian_inbound_credited_total`, `hulian_batches_submitted_total`, `hulian_node_auth_signature_checks_total`,
 * `hulian_returns_{sent,failed}_total`. Gauges: `hulian_outbox_depth`, `hulian_returns_blocked`,
 * `hulian_chain_head`, `hulian_chain_cursor`, `hulian_chain_lag_blocks` (head − cursor, never
 * below 0), `hulian_liabilities_minor`, `hulian_token_balance_minor` (when known) and
 * `hulian_info{wallet,currency} 1`, and `hulian_event_loop_delay_seconds{quantile}` when `eventLoop`
 * is given. Histogram: `hulian_batch_size` over `batchSizes`, which the
 * service must report for every batch since start so the buckets only grow.
 *
 * @example
 * renderMetrics(await service.metrics(), { wallet: "ALIPAY", currency: "CNY" })
 */
export function renderMetrics(
  m: MetricsView,
  info: { wallet: string; currency: string },
  http?: HttpMetrics,
  eventLoop?: EventLoopDelayWindow,
): string {
  const out = new Exposition();
  out.family("hulian_info", "gauge", "This node's wallet and currency.").sample("hulian_info", 1, info);
  const counters: [string, number, string][] = [
    ["hulian_payments_accepted_total", m.paymentsAccepted, "Payments accepted from this wallet's customers."],
    ["hulian_payments_settled_total", m.paymentsSettled, "Payments settled (in the ledger or on chain)."],
    ["hulian_payments_returned_total", m.paymentsReturned, "Cross-wallet payments returned by the payee's operator."],
    ["hulian_payments_rejected_total", m.paymentsRejected, "Payments rejected before or during settlement."],
    ["hulian_inbound_credited_total", m.inboundCredited, "Inbound transfers credited to this wallet's customers."],
    ["hulian_batches_submitted_total", m.batchesSubmitted, "Settlement batches submitted to the chain."],
    ["hulian_node_auth_signature_checks_total", m.nodeAuthSignatureChecks ?? 0, "Signatures of node-to-node requests recovered (cheaper checks refuse most bad requests first)."],
    ["hulian_returns_sent_total", m.returnsSent, "Transfers this wallet could not credit, sent back on chain."],
    ["hulian_returns_failed_total", m.returnsFailed, "Failed attempts to send a return (each is retried with backoff)."],
  ];
  if (m.memos) {
    counters.push(
      ["hulian_memos_delivered_total", m.memos.delivered, "Memos of settled payments the payee's node took."],
      ["hulian_memos_refused_total", m.memos.refused, "Memos the payee's node refused for good."],
      ["hulian_memos_expired_total", m.memos.expired, "Memos given up after a day undelivered."],
      ["hulian_memos_overflowed_total", m.memos.overflowed, "Memos not queued because the memo queue was full."],
    );
  }
  for (const [name, v, help] of counters) out.family(name, "counter", help).sample(name, v);

  const lag = m.chainHead > m.cursor ? m.chainHead - m.cursor : 0n;
  const gauges: [string, number | bigint, string][] = [
    ["hulian_outbox_depth", m.outboxDepth, "Accepted cross-wallet payments not yet settled on chain."],
    ["hulian_chain_head", m.chainHead, "Latest chain block number seen."],
    ["hulian_chain_cursor", m.cursor, "Last block whose settlements this node has processed."],
    ["hulian_chain_lag_blocks", lag, "Blocks between the chain head and the inbound cursor."],
    ["hulian_liabilities_minor", m.liabilities, "Customer liabilities in minor units."],
    ["hulian_returns_blocked", m.returnsBlocked, "Returns waiting for another attempt after a failure: alert when above 0 for long."],
  ];
  if (m.memos) gauges.push(["hulian_memos_queued", m.memos.queued, "Memos of settled payments waiting for delivery to the payee's node."]);
  if (m.tokenBalance !== undefined) {
    gauges.push(["hulian_token_balance_minor", m.tokenBalance, "Settlement token held by this operator, in minor units."]);
  }
  for (const [name, v, help] of gauges) out.family(name, "gauge", help).sample(name, v);

  const sizes = m.batchSizes;
  out
    .family("hulian_batch_size", "histogram", "Transfers per settlement batch.")
    .histogram("hulian_batch_size", BATCH_SIZE_BUCKETS, bucketCounts(BATCH_SIZE_BUCKETS, sizes), sizes.reduce((a, b) => a + b, 0), sizes.length);

  if (eventLoop) renderEventLoopDelay(out, eventLoop);
  http?.render(out);
  return out.text();
}
