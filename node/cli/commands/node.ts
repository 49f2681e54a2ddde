import { readFile } from "node:fs/promises";
import { readPassword } from "../../keys/password.ts";
import { type CommandSpec, parseCommand, requireString } from "../args.ts";
import { type NodeConfig, resolveConfigPaths, startNode } from "../nodeRuntime.ts";

export const nodeSpec: CommandSpec = {
  name: "node",
  summary: "Run one operator's Hulian node (ledger, settlement bridge, directory, wallet API) against any JSON-RPC chain.",
  usage: "hulian node --config FILE",
  options: {
    config: { type: "string", description: "node configuration (JSON; paths relative to it)", placeholder: "file" },
  },
  examples: ["HULIAN_KEYSTORE_PASSWORD=… hulian node --config alipay.node.json"],
};

/** `hulian node --config FILE`: runs until SIGINT/SIGTERM, then stops cleanly. */
export async function nodeCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(nodeSpec, argv);
  const file = requireString(values, "config");
  const config = resolveConfigPaths(JSON.parse(await readFile(file, "utf8")) as NodeConfig, file);
  const password = await readPassword("HULIAN_KEYSTORE_PASSWORD", `Keystore password for ${config.wallet}: `);
  const node = await startNode(config, password);
  process.stderr.write(`hulian node ${config.wallet} listening on ${node.url}\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await node.close();
}
