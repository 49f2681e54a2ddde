import type { BenchResult } from "./run.ts";

const n = (v: number) => Math.round(v).toLocaleString("en-US");

/** The human-readable table of a benchmark run (Markdown, so it pastes into the README as is). */
export function formatTable(r: BenchResult): string {
  const d = r.details as Record<string, Record<string, number>>;
  const mark = (key: string) => (r.targets[key]?.met ? "met" : "NOT met");
  const rows: [string, string, string, string][] = [
    ["Gas per transfer, batch of 1 / 10 / 100", `${n(r.gasPerTransfer.batched["1"])} / ${n(r.gasPerTransfer.batched["10"])} / ${n(r.gasPerTransfer.batched["100"])}`, `${n(r.gasPerTransfer.naive)} per payment`, ""],
    ["Gas per transfer, batch of 500", n(r.gasPerTransfer.batched["500"]), `${n(r.gasPerTransfer.naive)} per payment`, `≤ 4,000: ${mark("gasPerTransfer500")}`],
    ["Gas ratio (batch of 500 / naive)", r.gasRatio.toFixed(4), "1", `≤ 0.10: ${mark("gasRatio")}`],
    ["Cross-wallet payments/s end to end (3 nodes)", n(r.e2ePaymentsPerSec), n(r.e2eNaivePaymentsPerSec), `≥ 5,000: ${mark("e2ePaymentsPerSec")}`],
    [
      `… submitted in bulk (${n(d.e2eBulk?.perRequest ?? 0)} a request)`,
      n(r.e2eBulkPaymentsPerSec),
      n(r.e2eNaivePaymentsPerSec),
      `≥ 5,000: ${mark("e2eBulkPaymentsPerSec")}`,
    ],
    ["Same-wallet payments/s through the ledger", n(r.ledgerPaymentsPerSec), n(r.ledgerNaivePaymentsPerSec), `≥ 50,000: ${mark("ledgerPaymentsPerSec")}`],
    ["Same-wallet payments/s through the HTTP API", n(r.apiSameWalletPaymentsPerSec), "", ""],
    [`Accept latency p50 / p99 at ${n(d.apiAcceptLatency?.offeredRate ?? 0)} req/s`, `${r.apiAcceptLatencyMs.p50.toFixed(2)} / ${r.apiAcceptLatencyMs.p99.toFixed(2)} ms`, "", `p99 < 10 ms: ${mark("apiAcceptP99Ms")}`],
    ["Peak RSS of a node", `${r.peakRssMb.toFixed(0)} MB`, "", ""],
  ];
  const head: [string, string, string, string] = ["Measure", "Hulian", "Naive baseline", "Target"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  const m = r.machine;
  return [
    line(head),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.map(line),
    "",
    `${r.mode} run, ${r.seconds} s; ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, Node ${m.node}; ` +
      `load average before ${m.loadAvgBefore.join(" ")}, after ${m.loadAvgAfter.join(" ")}.`,
    `e2e: ${n(d.e2e?.payments ?? 0)} payments in ${(d.e2e?.seconds ?? 0).toFixed(2)} s (accepts took ${(d.e2e?.acceptSeconds ?? 0).toFixed(2)} s); ` +
      `e2e bulk: ${n(d.e2eBulk?.payments ?? 0)} payments in ${n(d.e2eBulk?.requests ?? 0)} requests, ${(d.e2eBulk?.seconds ?? 0).toFixed(2)} s ` +
      `(accepts took ${(d.e2eBulk?.acceptSeconds ?? 0).toFixed(2)} s, settlement trailed by ${(d.e2eBulk?.settleLagSeconds ?? 0).toFixed(2)} s); ` +
      `naive: ${n(d.e2eNaive?.payments ?? 0)} transactions in ${(d.e2eNaive?.seconds ?? 0).toFixed(2)} s; ` +
      `ledger: ${n(d.ledger?.payments ?? 0)} payments in ${n(d.ledger?.batches ?? 0)} batches; ` +
      `accepts: ${n(d.apiAcceptLatency?.requests ?? 0)} at ${n(d.apiAcceptLatency?.achievedRate ?? 0)} req/s achieved.`,
    eventLoopLine(r),
  ]
    .filter((l) => l !== undefined)
    .join("\n");
}

/** The accepting node's event-loop delay after the latency phase, when it reported one. */
function eventLoopLine(r: BenchResult): string | undefined {
  const e = (r.details.apiAcceptLatency as { eventLoopDelayMs?: { p50: number; p99: number; max: number; windowSec: number } } | undefined)?.eventLoopDelayMs;
  if (!e) return undefined;
  return `Event-loop delay of the accepting node (last ${e.windowSec} s window after the latency phase): p50 ${e.p50.toFixed(2)} ms, p99 ${e.p99.toFixed(2)} ms, max ${e.max.toFixed(2)} ms.`;
}
