import { parseArgs } from "node:util";
import { FULL, QUICK } from "./bench/config.ts";
import { formatTable } from "./bench/report.ts";
import { runBench } from "./bench/run.ts";

/**
 * `npm run bench [-- --quick] [-- --json]`: settlement gas, end-to-end throughput (payments one
 * request each, and the same payments through the bulk endpoint), ledger throughput and API
 * latency, Hulian and the naive design side by side on one chain. Prints a
 * Markdown table; with `--json`, one JSON object as the last line of stdout. Progress goes to
 * stderr. `--profile DIR` makes every node process write a V8 CPU profile into DIR when it stops.
 */
const { values } = parseArgs({ options: { quick: { type: "boolean", default: false }, json: { type: "boolean", default: false }, profile: { type: "string" } } });
const config = values.quick ? QUICK : FULL;
const result = await runBench(config, (line) => process.stderr.write(`bench: ${line}\n`), { profileDir: values.profile });
process.stdout.write(formatTable(result) + "\n");
if (values.json) process.stdout.write(JSON.stringify(result) + "\n");
