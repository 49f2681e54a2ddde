import type { DevnetNode } from "../../node/devnet/devnetNodes.ts";
import type { Customers } from "./e2e.ts";
import { type LoadResult, postPayments } from "./load.ts";

/** Result of {@link benchSameWalletApi}. */
export interface SameWalletApiBench {
  perSec: number;
  payments: number;
  seconds: number;
  failed: number;
  latencyMs: { p50: number; p99: number };
}

function assertClean(what: string, r: LoadResult): void {
  if (r.failed > 0 || r.errors > 0) throw new Error(`${what}: ${r.failed} non-2xx answers, ${r.errors} errors; first: ${r.firstFailure}`);
}

/**
 * Same-wallet payments through the HTTP API of one node, as fast as `connections` keep-alive
 * clients can send them, for `durationSec`. Each is authenticated, validated, idempotent and
 * committed durably before its 201.
 */
export async function benchSameWalletApi(node: DevnetNode, customers: Customers, durationSec: number, connections: number): Promise<SameWalletApiBench> {
  const ids = customers.ids.get(node.code)!;
  const r = await postPayments({
    url: node.url,
    appKey: node.keys.app,
    connections,
    durationSec,
    body: (i) => ({ from: ids[i % ids.length], to: `u${(i + 1 + (i % 5)) % customers.count}`, amount: "1" }),
  });
  assertClean("same-wallet API payments", r);
  return { perSec: r.ok / r.seconds, payments: r.ok, seconds: r.seconds, failed: r.failed, latencyMs: { p50: r.latencyMs.p50, p99: r.latencyMs.p99 } };
}

/** Result of {@link benchAcceptLatency}. */
export interface AcceptLatencyBench {
  p50: number;
  p99: number;
  max: number;
  offeredRate: number;
  achievedRate: number;
  requests: number;
}

/**
 * Latency of accepting cross-wallet payments at a fixed offered load (autocannon `overallRate`),
 * corrected for coordinated omission. The accepted payments settle and are credited in the
 * background meanwhile, as they would in production.
 */
export async function benchAcceptLatency(node: DevnetNode, others: string[], customers: Customers, rate: number, durationSec: number): Promise<AcceptLatencyBench> {
  const ids = customers.ids.get(node.code)!;
  const r = await postPayments({
    url: node.url,
    appKey: node.keys.app,
    connections: 50,
    durationSec,
    overallRate: rate,
    body: (i) => ({ from: ids[i % ids.length], to: `u${(i * 3) % customers.count}@${others[i % others.length]}`, amount: "1" }),
  });
  assertClean("cross-wallet accepts", r);
  return { p50: r.latencyMs.p50, p99: r.latencyMs.p99, max: r.latencyMs.max, offeredRate: rate, achievedRate: r.ok / r.seconds, requests: r.ok };
}
