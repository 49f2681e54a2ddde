import path from "node:path";
import { createLogger } from "../../observability/logger.ts";
import { startExplorer } from "../../explorer/startExplorer.ts";
import { type CommandSpec, UsageError, parseCommand, requireString } from "../args.ts";
import { LOG_SPAN_OPTION, logSpan } from "../logSpan.ts";

export const explorerSpec: CommandSpec = {
  name: "explorer",
  summary: "Run the read-only regulator explorer over a Hulian chain (holds no key, sends no transaction).",
  usage: "hulian explorer --rpc URL --deployment FILE [--port N] [--keys FILE] [--data-dir DIR]",
  options: {
    rpc: { type: "string", description: "JSON-RPC URL of a node of the chain", placeholder: "url" },
    deployment: { type: "string", description: "deployment manifest written by `hulian deploy` or the devnet", placeholder: "file" },
    port: { type: "string", default: "8700", description: "HTTP port (0 = any free port)", placeholder: "port" },
    host: { type: "string", default: "127.0.0.1", description: "address to listen on", placeholder: "host" },
    keys: { type: "string", default: ".hulian/explorer-keys.json", description: "explorer key file (SHA-256 hashes); created with one new key if missing", placeholder: "file" },
    "data-dir": { type: "string", default: ".hulian/explorer", description: "the explorer's own LevelDB index (kept across restarts)", placeholder: "dir" },
    "large-amount": { type: "string", description: "alert on single transfers at or above this many minor units (default 5000000 = 50,000.00)", placeholder: "minor" },
    confirmations: { type: "string", default: "0", description: "blocks to trail the head (0 on QBFT: blocks are final when sealed)", placeholder: "n" },
    "log-span": LOG_SPAN_OPTION,
  },
  examples: [
    "hulian explorer --rpc http://127.0.0.1:8545 --deployment .hulian/devnet/deployment.json",
    "hulian explorer --rpc https://besu-1.example:8545 --deployment deployment.json --port 8700 --keys /etc/hulian/explorer-keys.json --data-dir /var/lib/hulian/explorer",
  ],
};

function whole(values: Record<string, unknown>, name: string, max: number): number {
  const raw = String(values[name]);
  if (!/^[0-9]{1,6}$/.test(raw) || Number(raw) > max) throw new UsageError(`--${name} must be a whole number from 0 to ${max}`);
  return Number(raw);
}

/** `hulian explorer`: runs until SIGINT/SIGTERM, then stops cleanly. */
export async function explorerCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(explorerSpec, argv);
  const rpcUrl = requireString(values, "rpc");
  const deployment = requireString(values, "deployment");
  const large = values["large-amount"];
  if (large !== undefined && !/^[1-9][0-9]{0,30}$/.test(String(large))) throw new UsageError("--large-amount must be a positive whole number of minor units");
  const explorer = await startExplorer({
    rpcUrl,
    deployment,
    dataDir: path.resolve(String(values["data-dir"])),
    keysFile: path.resolve(String(values.keys)),
    port: whole(values, "port", 65_535),
    host: String(values.host),
    confirmations: whole(values, "confirmations", 10_000),
    logSpanBlocks: logSpan(values),
    rules: large === undefined ? undefined : { largeAmount: BigInt(String(large)) },
    logger: createLogger({ base: { service: "hulian-explorer" } }),
  });
  process.stderr.write(`hulian explorer listening on ${explorer.url}\n`);
  if (explorer.createdKey) {
    process.stderr.write(`new explorer key (shown once; its hash is in ${explorer.keysFile}):\n  ${explorer.createdKey}\n`);
  }
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await explorer.close();
}
