import { describe, expect, test } from "vitest";
import type { MetricsView } from "../../node/bridge/walletService.ts";
import { escapeLabel, HttpMetrics, renderMetrics } from "../../node/api/metrics.ts";

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
});
