import { readFile, readdir } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { type CommandSpec, UsageError, parseCommand, portFlag } from "../args.ts";
import { progress } from "../progress.ts";

export const devnetSpec: CommandSpec = {
  name: "devnet",
  summary: "Run the whole Hulian network on this machine: embedded chain, contracts, operators.",
  usage: "hulian devnet [--data-dir DIR] [--rpc-port N] [--api-port N]",
  options: {
    "data-dir": { type: "string", default: ".hulian/devnet", description: "where keystores, manifest and node data go (wiped at start)", placeholder: "dir" },
    "rpc-port": { type: "string", default: "8545", description: "JSON-RPC port of the embedded chain (0 = any free port)", placeholder: "port" },
    "api-port": { type: "string", default: "8601", description: "API port of the first operator node, the next ones follow (0 = any free ports)", placeholder: "port" },
    "explorer-port": { type: "string", default: "8700", description: "port of the regulator explorer (0 = any free port)", placeholder: "port" },
  },
  examples: ["hulian devnet", "hulian devnet --rpc-port 0 --data-dir /tmp/hulian"],
};

/** `hulian devnet`: runs until Ctrl-C, then shuts down cleanly. */
export async function devnetCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(devnetSpec, argv);
  const dataDir = path.resolve(String(values["data-dir"]));
  const rpcPort = portFlag(values, "rpc-port");
  const apiBasePort = portFlag(values, "api-port");
  const explorerPort = portFlag(values, "explorer-port");
  await ensureWipeable(dataDir);
  // Loaded only now, so --help and usage errors answer without loading Hardhat and viem.
  const [{ formatUnits }, { startDevnetChain }, { startDevnetNodes, superviseDevnetNodes, handStartCommand }, { DEFAULT_DEVNET_OPERATORS }] = await Promise.all([
    import("viem"),
    import("../../devnet/devnet.ts"),
    import("../../devnet/devnetNodes.ts"),
    import("../../devnet/devnetOperators.ts"),
  ]);
  const devnet = await startDevnetChain({
    dataDir,
    rpcPort,
    operators: DEFAULT_DEVNET_OPERATORS,
    onProgress: progress,
  });
  progress("starting the operator nodes");
  const nodes = await startDevnetNodes(devnet, dataDir, { apiBasePort }).catch(async (e) => {
    await devnet.close();
    throw e;
  });
  // A node that dies (crash, kill -9) is started again; one stopped cleanly stays stopped.
  const supervisors = superviseDevnetNodes(devnet, nodes, { onEvent: progress });
  const stopNodes = () => Promise.all(supervisors.map((s) => s.stop()));
  progress("starting the regulator explorer");
  const { startExplorer } = await import("../../explorer/startExplorer.ts");
  const explorer = await startExplorer({
    rpcUrl: devnet.chain.url,
    deployment: devnet.manifestFile,
    dataDir: path.join(dataDir, "explorer"),
    keysFile: path.join(dataDir, "explorer-keys.json"),
    port: explorerPort,
  }).catch(async (e) => {
    await stopNodes();
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
    `  explorer         ${explorer.url}  (read only; explorer key ${explorer.createdKey ?? "in " + explorer.keysFile})`,
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
          m.token.decimals,
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
    "  a node that dies is restarted; one stopped cleanly (kill PID) stays stopped until started by hand:",
    `    ${handStartCommand(devnet, nodes[0])}`,
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
  await explorer.close();
  await stopNodes();
  await devnet.close();
  progress("stopped");
}

/**
 * The devnet wipes its data folder at start; refuse unless the folder is new, empty or an earlier
 * devnet's (its deployment.json says network "devnet"), so a mistyped --data-dir cannot delete someone's files.
 */
async function ensureWipeable(dataDir: string): Promise<void> {
  if ([path.parse(dataDir).root, homedir(), process.cwd()].includes(dataDir)) {
    throw new UsageError(`--data-dir ${dataDir} would be wiped at start; pick a folder of its own`);
  }
  const entries: string[] = await readdir(dataDir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return [];
    if (e.code === "ENOTDIR") throw new UsageError(`--data-dir ${dataDir} is a file, not a folder`);
    throw e;
  });
  if (entries.length === 0) return;
  // `hulian deploy` writes deployment.json too; only a devnet's own manifest says network "devnet".
  const manifest = await readFile(path.join(dataDir, "deployment.json"), "utf8").catch(() => "");
  let network: unknown;
  try {
    network = (JSON.parse(manifest) as { network?: unknown }).network;
  } catch {
    network = undefined;
  }
  if (network !== "devnet") {
    throw new UsageError(`--data-dir ${dataDir} is not empty and holds no devnet; refusing to wipe it`);
  }
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
