import { describe, expect, test } from "vitest";
import { TEST, runChaos, summaryLine } from "../../scripts/chaos/run.ts";

/*
 * The short chaos run of `npm test`: three operators with their nodes as child processes, random
 * payments from retrying clients, a few kill -9s (one possibly during recovery) and one RPC outage;
 * then every accepted payment must be settled or returned exactly once, every operator reconciled,
 * money conserved, and the keystore password in no node log. `npm run chaos` is the long version.
 * Replay a failure with HULIAN_CHAOS_SEED=<seed printed below>.
 */

const SEED = process.env.HULIAN_CHAOS_SEED ? Number(process.env.HULIAN_CHAOS_SEED) >>> 0 : (Date.now() ^ 0xc4a05) >>> 0;

describe("chaos", () => {
  test("behavior: kill -9s and an RPC outage under load lose nothing and double nothing", { timeout: 240_000 }, async () => {
    const lines: string[] = [];
    const r = await runChaos(TEST(SEED), (line) => lines.push(line));
    const summary = summaryLine(r);
    console.log(`chaos seed ${SEED}: ${summary} (${r.requests} requests, ${r.transientFailures} retried, ${r.seconds.total.toFixed(0)} s)`);
    expect(r.violations, lines.slice(-30).join("\n")).toEqual([]);
    expect(summary).toMatch(/ lost=0 duplicated=0 reconciled$/);
    expect(r.monkey.kills).toBeGreaterThanOrEqual(3);
    expect(r.monkey.rpcOutages).toBe(1);
    // The faults really hit traffic: clients saw failures and retried them with the same key.
    expect(r.transientFailures).toBeGreaterThan(0);
    expect(r.byKind.cross_wallet).toBeGreaterThan(20);
    expect(r.byKind.unknown_handle).toBeGreaterThan(0);
    expect(r.settledOnChain).toBe(r.byKind.cross_wallet + r.byKind.unknown_handle);
    expect(r.returnedOnChain).toBe(r.byKind.unknown_handle);
    expect(r.logBytesChecked).toBeGreaterThan(0);
  });
});
