import { parseArgs } from "node:util";
import { FULL, QUICK, runChaos, summaryLine } from "./chaos/run.ts";

/**
 * `npm run chaos [-- --quick] [-- --seed N]`: three operators on the embedded chain, random payments
 * under kill -9s and RPC outages, then the exactly-once and reconciliation checks. Progress goes to
 * stderr; the figures to stdout, the summary last. Exit code 1 on any violation.
 */
const { values } = parseArgs({ options: { quick: { type: "boolean", default: false }, seed: { type: "string" } } });
const seed = values.seed !== undefined ? Number(values.seed) >>> 0 : (Date.now() ^ 0xc4a05) >>> 0;
const config = values.quick ? QUICK(seed) : FULL(seed);
const result = await runChaos(config, (line) => process.stderr.write(`chaos: ${line}\n`));
const s = result.seconds;
process.stdout.write(
  [
    `seed=${result.seed} mode=${result.mode} time=${s.total.toFixed(0)}s (setup ${s.setup.toFixed(0)}s, chaos ${s.chaos.toFixed(0)}s, drain+checks ${s.drain.toFixed(0)}s)`,
    `requests=${result.requests} accepted=${JSON.stringify(result.byKind)} refused=${result.refused} retried_after_failure=${result.transientFailures} replays=${result.replays}`,
    `on_chain: settled=${result.settledOnChain} returned=${result.returnedOnChain}; kills: during_recovery=${result.monkey.killsDuringRecovery} during_rpc_outage=${result.monkey.killsDuringOutage} restarts=${result.monkey.restarts}`,
    ...result.violations.map((v) => `VIOLATION ${v}`),
    ...(result.dataDir ? [`data kept in ${result.dataDir}`] : []),
    summaryLine(result),
  ].join("\n") + "\n",
);
process.exitCode = result.violations.length === 0 && result.lost === 0 && result.duplicated === 0 && result.reconciled ? 0 : 1;
