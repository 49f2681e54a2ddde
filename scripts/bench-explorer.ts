import { parseArgs } from "node:util";
import { benchExplorer, formatExplorerTable } from "./bench/explorer.ts";

/**
 * `node scripts/bench-explorer.ts [--transfers N] [--seconds S] [--connections C]`: the regulator
 * explorer over a synthetic index (default 100,000 transfers); prints a Markdown table, then the
 * result as one JSON line. Progress goes to stderr. Not part of `npm test`.
 */
const { values } = parseArgs({ options: { transfers: { type: "string" }, seconds: { type: "string" }, connections: { type: "string" } } });
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const result = await benchExplorer({
  transfers: num(values.transfers),
  durationSec: num(values.seconds),
  connections: num(values.connections),
  log: (line) => process.stderr.write(`bench-explorer: ${line}\n`),
});
process.stdout.write(formatExplorerTable(result) + "\n");
process.stdout.write(JSON.stringify(result) + "\n");
