import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

/**
 * Smoke test of `npm run bench -- --quick --json`: the last line of stdout is one JSON object with
 * every figure the README and issue 6 name, each of a sane type. Figures are never compared with
 * targets here: timing belongs to the benchmark, not to tests.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

const positive = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v > 0;

describe("bench --quick --json", () => {
  it("default: prints a table, then one JSON object with every figure as the last line", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, "scripts", "bench.ts"), "--quick", "--json"], {
      cwd: ROOT,
      env: { ...process.env, CI: "1" },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 240_000,
    });
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^\| Measure/);
    const r = JSON.parse(lines.at(-1)!) as Record<string, any>;

    expect(r.mode).toBe("quick");
    for (const size of ["1", "10", "100", "500"]) expect(Number.isInteger(r.gasPerTransfer.batched[size]) && r.gasPerTransfer.batched[size] > 0).toBe(true);
    expect(Number.isInteger(r.gasPerTransfer.naive) && r.gasPerTransfer.naive > 0).toBe(true);
    // Gas is deterministic, so its ordering is not a timing assertion: bigger batches cost less per transfer.
    expect(r.gasPerTransfer.batched["500"]).toBeLessThan(r.gasPerTransfer.batched["1"]);
    expect(r.gasRatio).toBeCloseTo(r.details.gas.batchGasUsed["500"] / 500 / r.details.gas.naive, 3);
    for (const key of [
      "e2ePaymentsPerSec",
      "e2eBulkPaymentsPerSec",
      "e2eNaivePaymentsPerSec",
      "ledgerPaymentsPerSec",
      "ledgerNaivePaymentsPerSec",
      "apiSameWalletPaymentsPerSec",
      "peakRssMb",
    ]) {
      expect(positive(r[key]), key).toBe(true);
    }
    expect(positive(r.apiAcceptLatencyMs.p50)).toBe(true);
    expect(positive(r.apiAcceptLatencyMs.p99)).toBe(true);
    expect(r.apiAcceptLatencyMs.p99).toBeGreaterThanOrEqual(r.apiAcceptLatencyMs.p50);
    // The accepting node's event-loop delay, scraped from its /metrics after the latency phase.
    const loop = r.details.apiAcceptLatency.eventLoopDelayMs;
    for (const q of ["p50", "p99", "max"]) expect(typeof loop[q] === "number" && loop[q] >= 0, q).toBe(true);
    expect(loop.max).toBeGreaterThanOrEqual(loop.p99);
    expect(r.details.e2e.failed).toBe(0);
    expect(r.details.e2eBulk.failed).toBe(0);
    expect(r.details.e2eBulk.payments).toBe(r.details.e2eBulk.requests * r.details.e2eBulk.perRequest);
    expect(r.machine.cpus).toBeGreaterThan(0);
    for (const t of Object.values(r.targets) as { met: unknown; value: unknown }[]) {
      expect(typeof t.met).toBe("boolean");
      expect(typeof t.value).toBe("number");
    }
  }, 300_000);
});
