import { describe, expect, test } from "vitest";
import type { MetricsView } from "../../node/bridge/walletService.ts";
import { escapeLabel, HttpMetrics, renderMetrics } from "../../node/api/metrics.ts";
import { EventLoopDelayMonitor } from "../../node/observability/eventLoopDelay.ts";
import { call } from "./client.ts";
import { startApi } from "./node.ts";

const view: MetricsView = {
  paymentsAccepted: 10,
  paymentsSettled: 7,
  paymentsReturned: 1,
  paymentsRejected: 2,
  inboundCredited: 4,
  outboxDepth: 3,
  batchesSubmitted: 3,
  batchSizes: [1, 4, 300],
  chainHead: 120n,
  cursor: 117n,
  liabilities: 12_345_678_901_234_567_890n,
  tokenBalance: 500n,
  returnsSent: 5,
  returnsFailed: 6,
  returnsBlocked: 2,
};

/** Parses the text format into samples, checking every line is a comment or `name{labels} value`. */
function parse(text: string): Map<string, string> {
  expect(text.endsWith("\n")).toBe(true);
  const samples = new Map<string, string>();
  for (const line of text.trimEnd().split("\n")) {
    if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.e+]+|\+Inf|NaN)$/.exec(line);
    expect(m, line).not.toBeNull();
    samples.set(m![1], m![2]);
  }
  return samples;
}

describe("renderMetrics", () => {
  test("default: counters, gauges and the batch-size histogram in text format 0.0.4", () => {
    const text = renderMetrics(view, { wallet: "ALIPAY", currency: "CNY" });
    const s = parse(text);
    expect(s.get("hulian_payments_accepted_total")).toBe("10");
    expect(s.get("hulian_payments_settled_total")).toBe("7");
    expect(s.get("hulian_payments_returned_total")).toBe("1");
    expect(s.get("hulian_payments_rejected_total")).toBe("2");
    expect(s.get("hulian_inbound_credited_total")).toBe("4");
    expect(s.get("hulian_outbox_depth")).toBe("3");
    expect(s.get("hulian_chain_head")).toBe("120");
    expect(s.get("hulian_chain_cursor")).toBe("117");
    expect(s.get("hulian_chain_lag_blocks")).toBe("3");
    expect(s.get("hulian_liabilities_minor")).toBe("12345678901234567890");
    expect(s.get("hulian_token_balance_minor")).toBe("500");
    expect(s.get("hulian_returns_sent_total")).toBe("5");
    expect(s.get("hulian_returns_failed_total")).toBe("6");
    expect(s.get("hulian_returns_blocked")).toBe("2");
    expect(s.get('hulian_info{wallet="ALIPAY",currency="CNY"}')).toBe("1");
    expect(s.get('hulian_batch_size_bucket{le="1"}')).toBe("1");
    expect(s.get('hulian_batch_size_bucket{le="5"}')).toBe("2");
    expect(s.get('hulian_batch_size_bucket{le="250"}')).toBe("2");
    expect(s.get('hulian_batch_size_bucket{le="500"}')).toBe("3");
    expect(s.get('hulian_batch_size_bucket{le="+Inf"}')).toBe("3");
    expect(s.get("hulian_batch_size_sum")).toBe("305");
    expect(s.get("hulian_batch_size_count")).toBe("3");
    expect(text).toContain("# TYPE hulian_payments_accepted_total counter");
    expect(text).toContain("# TYPE hulian_outbox_depth gauge");
    expect(text).toContain("# TYPE hulian_batch_size histogram");
  });

  test("behavior: every family is declared once; token balance is left out when unknown", () => {
    const text = renderMetrics({ ...view, tokenBalance: undefined }, { wallet: "A", currency: "CNY" });
    const types = text.split("\n").filter((l) => l.startsWith("# TYPE "));
    expect(new Set(types).size).toBe(types.length);
    expect(text).not.toContain("hulian_token_balance_minor");
  });

  test("behavior: lag never goes below zero when the cursor is ahead of a stale head", () => {
    expect(parse(renderMetrics({ ...view, chainHead: 5n, cursor: 9n }, { wallet: "A", currency: "CNY" })).get("hulian_chain_lag_blocks")).toBe("0");
  });

  test("behavior: HTTP requests are counted by route pattern with a duration histogram", () => {
    const http = new HttpMetrics();
    http.observe("GET", "/v1/accounts/:id", 200, 0.002);
    http.observe("GET", "/v1/accounts/:id", 200, 0.02);
    http.observe("GET", "/v1/accounts/:id", 404, 0.001);
    const s = parse(renderMetrics(view, { wallet: "A", currency: "CNY" }, http));
    expect(s.get('hulian_http_requests_total{method="GET",route="/v1/accounts/:id",status="200"}')).toBe("2");
    expect(s.get('hulian_http_request_duration_seconds_bucket{method="GET",route="/v1/accounts/:id",le="0.0025"}')).toBe("2");
    expect(s.get('hulian_http_request_duration_seconds_count{method="GET",route="/v1/accounts/:id"}')).toBe("3");
  });

  test("behavior: label values are escaped", () => {
    expect(escapeLabel('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });

  test("behavior: the event-loop delay is three gauges by quantile, declared once", () => {
    const text = renderMetrics(view, { wallet: "A", currency: "CNY" }, new HttpMetrics(), { p50: 0.0001, p99: 0.012, max: 0.05, samples: 900 });
    const s = parse(text);
    expect(s.get('hulian_event_loop_delay_seconds{quantile="0.5"}')).toBe("0.0001");
    expect(s.get('hulian_event_loop_delay_seconds{quantile="0.99"}')).toBe("0.012");
    expect(s.get('hulian_event_loop_delay_seconds{quantile="1"}')).toBe("0.05");
    expect(text.split("\n").filter((l) => l === "# TYPE hulian_event_loop_delay_seconds gauge")).toHaveLength(1);
    expect(text).toContain("# HELP hulian_event_loop_delay_seconds ");
    expect(renderMetrics(view, { wallet: "A", currency: "CNY" })).not.toContain("hulian_event_loop_delay_seconds");
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("EventLoopDelayMonitor", () => {
  test("default: zeros before the first window completes, then numbers ≥ 0 in seconds", async () => {
    const monitor = new EventLoopDelayMonitor({ windowMs: 100 }).start();
    try {
      expect(monitor.last()).toEqual({ p50: 0, p99: 0, max: 0, samples: 0 });
      await sleep(250);
      const w = monitor.last();
      expect(w.samples).toBeGreaterThan(0);
      for (const v of [w.p50, w.p99, w.max]) {
        expect(Number.isFinite(v)).toBe(true);
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThan(1);
      }
      expect(w.p50).toBeLessThanOrEqual(w.p99);
      expect(w.p99).toBeLessThanOrEqual(w.max);
    } finally {
      monitor.stop();
    }
  });

  test("behavior: a 60 ms busy-wait shows up as max ≥ 0.05 s after the window ends, and a later quiet window forgets it", async () => {
    const monitor = new EventLoopDelayMonitor({ windowMs: 300 }).start();
    try {
      await sleep(20);
      const until = performance.now() + 65;
      while (performance.now() < until) {
        // busy: the loop cannot tick
      }
      // The window that saw the busy-wait ends within 300 ms; the one after it has no busy-wait.
      await sleep(320);
      expect(monitor.last().max).toBeGreaterThanOrEqual(0.05);
      expect(monitor.last().max).toBeLessThan(1);
      await sleep(300);
      expect(monitor.last().max).toBeLessThan(0.05);
    } finally {
      monitor.stop();
    }
  });

  test("behavior: rollover keeps the window's figures and resets the histogram", async () => {
    const monitor = new EventLoopDelayMonitor({ windowMs: 60_000 }).start();
    try {
      await sleep(10);
      const until = performance.now() + 65;
      while (performance.now() < until) {
        // busy
      }
      await sleep(30);
      monitor.rollover();
      expect(monitor.last().max).toBeGreaterThanOrEqual(0.05);
      await sleep(50);
      monitor.rollover();
      expect(monitor.last().max).toBeLessThan(0.05);
    } finally {
      monitor.stop();
    }
  });
});

describe("GET /metrics", () => {
  test("default: serves the process's event-loop delay gauges, numbers ≥ 0", async () => {
    const api = await startApi();
    try {
      const r = await call(api.url, "GET", "/metrics", { key: api.keys.metrics });
      expect(r.status).toBe(200);
      expect(r.text).toContain("# TYPE hulian_event_loop_delay_seconds gauge");
      const s = parse(r.text);
      for (const q of ["0.5", "0.99", "1"]) {
        const v = Number(s.get(`hulian_event_loop_delay_seconds{quantile="${q}"}`));
        expect(Number.isFinite(v), q).toBe(true);
        expect(v).toBeGreaterThanOrEqual(0);
      }
    } finally {
      await api.close();
    }
  }, 30_000);
});
