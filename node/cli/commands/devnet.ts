import path from "node:path";
import { formatUnits } from "viem";
import { startDevnetChain } from "../../devnet/devnet.ts";
import { startDevnetNodes } from "../../devnet/devnetNodes.ts";
import { DEFAULT_DEVNET_OPERATORS } from "../../devnet/devnetOperators.ts";
import { type CommandSpec, parseCommand } from "../args.ts";
import { progress } from "../progress.ts";

export const devnetSpec: CommandSpec = {
  name: "devnet",
  summary: "Run the whole Hulian network on this machine: embedded chain, contracts, operators.",
  usage: "hulian devnet [--data-dir DIR] [--rpc-port N]",
  options: {
    "data-dir": { type: "string", default: ".hulian/devnet", description: "where keystores, manifest and node data go (wiped at start)", placeholder: "dir" },
    "rpc-port": { type: "string", default: "8545", description: "JSON-RPC port of the embedded chain (0 = any free port)", placeholder: "port" },
    "api-port": { type: "string", default: "8601", description: "API port of the first operator node, the next ones follow (0 = any free ports)", placeholder: "port" },
  },
  examples: ["hulian devnet", "hulian devnet --rpc-port 0 --data-dir /tmp/hulian"],
};

/** `hulian devnet`: runs until Ctrl-C, then shuts down cleanly. */
export async function devnetCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(devnetSpec, argv);
  const dataDir = path.resolve(String(values["data-dir"]));
  const devnet = await startDevnetChain({
    dataDir,
    rpcPort: Number(values["rpc-port"]),
    operators: DEFAULT_DEVNET_OPERATORS,
    onProgress: progress,
  });
  progress("starting the operator nodes");
  const nodes = await startDevnetNodes(devnet, dataDir, { apiBasePort: Number(values["api-port"]) }).catch(async (e) => {
    await devnet.close();
    throw e;
  });
  const m = devnet.manifest;
  const lines = [
    "",
    "Hulian devnet is up.",
    "",
    `  chain            ${devnet.chain.url}  (chain id ${m.chainId})`,
    `  manifest         ${devnet.manifestFile}`,
    `  WalletRegistry   ${m.contracts.walletRegistry}`,
    `  SettlementToken  ${m.contracts.settlementToken}  (${m.token.symbol}, ${m.token.decimals} decimals)`,
    `  SettlementHub    ${m.contracts.settlementHub}`,
    `  ReserveAttest.   ${m.contracts.reserveAttestation}`,
    "",
    "  operators:",
    ...devnet.operators.map(
      (op) =>
        `    ${op.code.padEnd(8)} ${op.name.padEnd(24)} account ${op.account}  reserve ${formatUnits(
          DEFAULT_DEVNET_OPERATORS.find((s) => s.code === op.code)!.reserve,
          2,
        )} ${m.token.symbol}`,
    ),
    "",
    "  operator nodes (wallet API; OpenAPI at /openapi.json):",
    ...nodes.flatMap((n) => [
      `    ${n.code.padEnd(8)} ${n.url}`,
      `             app key   ${n.keys.app}`,
      `             admin key ${n.keys.admin}`,
      `             audit key ${n.keys.audit}`,
    ]),
    "",
    `  logs in ${dataDir}/<wallet>.log`,
    "",
    "Try it (creates an account, tops it up, pays a WECHAT customer):",
    `  curl -s -X POST ${nodes[0].url}/v1/accounts -H "Authorization: Bearer ${nodes[0].keys.app}" \\`,
    `       -H "Idempotency-Key: acct-1" -H "content-type: application/json" -d '{"handle":"alice","displayName":"Alice Wang"}'`,
    "",
    "Press Ctrl-C to stop.",
  ];
  console.log(lines.join("\n"));
  await waitForSignal();
  progress("shutting down");
  await Promise.all(nodes.map((n) => n.process.stop()));
  await devnet.close();
  progress("stopped");
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    };
    process.on("SIGINT", done);
    process.on("SIGTERM", done);
  });
}
