import { readNextSeq, readTokenBalance } from "../../node/chain/hubReads.ts";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Address, Hex, PublicClient } from "viem";
import { createChainClients } from "../../node/chain/clients.ts";
import { type NodeConfig, type RunningNode, startNode } from "../../node/cli/nodeRuntime.ts";
import { type Devnet, startDevnetChain } from "../../node/devnet/devnet.ts";
import type { DevnetOperatorSeed } from "../../node/devnet/devnetOperators.ts";
import { type NodeProcess, spawnNode } from "../../node/devnet/nodeProcess.ts";
import { verifyLedger } from "../../node/ledger/verify.ts";
import { type Logger, silentLogger } from "../../node/observability/logger.ts";
import { openStore, type Store } from "../../node/store/store.ts";
import { NodeApiClient } from "../helpers/http.ts";
import { writeNodeFiles } from "../helpers/testNode.ts";

/**
 * One operator of a test network: its node config, API keys and client, and its node, which the
 * test can stop and start again. A restarted node keeps its API port, so the endpoint published in
 * WalletRegistry stays right and a restart sends no transaction of its own.
 */
export interface TestOperator {
  code: string;
  walletId: Hex;
  account: Address;
  config: NodeConfig;
  configFile: string;
  keys: { app: string; admin: string; audit: string };
  api: NodeApiClient;
  /** The in-process node (in-process mode, while running). */
  node: RunningNode | undefined;
  /** The child process (process mode, while running). */
  process: NodeProcess | undefined;
  start(): Promise<void>;
  /** Clean stop (SIGTERM for a child process). */
  stop(): Promise<void>;
  /** kill -9 (process mode only). */
  kill9(): Promise<void>;
  /** Opens the stopped node's store, runs `use`, closes it again. */
  withStore<T>(use: (store: Store) => Promise<T>): Promise<T>;
}

export interface OperatorNetwork {
  devnet: Devnet;
  dataDir: string;
  client: PublicClient;
  operators: TestOperator[];
  byCode(code: string): TestOperator;
  nextSeq(walletId: Hex): Promise<bigint>;
  tokenBalance(account: Address): Promise<bigint>;
  /** EIP-1193 call on the embedded chain, in process (works while its RPC listener is down). */
  rpc(method: string, params?: unknown[]): Promise<unknown>;
  close(): Promise<void>;
}

export interface OperatorNetworkOptions {
  /** "process": each node is a real `hulian node` child process (kill -9 is real). */
  mode?: "in-process" | "process";
  batch?: NodeConfig["batch"];
  exposeGovernance?: boolean;
  /** The logger of each in-process node (default: silent). */
  logger?: (code: string) => Logger;
}

const portOf = (url: string) => Number(new URL(url).port);

/** A devnet chain with a Hulian node per seed, in this process or as child processes. */
export async function startOperatorNetwork(seeds: DevnetOperatorSeed[], options: OperatorNetworkOptions = {}): Promise<OperatorNetwork> {
  const mode = options.mode ?? "in-process";
  const dataDir = await mkdtemp(path.join(tmpdir(), "hulian-bridge-"));
  const devnet = await startDevnetChain({
    dataDir: path.join(dataDir, "chain"),
    operators: seeds,
    scryptN: 1 << 10,
    exposeGovernance: options.exposeGovernance,
  });
  const { publicClient: client } = createChainClients(devnet.chain.url, devnet.chain.chainId);
  const operators: TestOperator[] = [];

  for (const seed of seeds) {
    const files = await writeNodeFiles(devnet, dataDir, seed.code, options.batch);
    const info = devnet.operators.find((o) => o.code === seed.code)!;
    const logFile = path.join(dataDir, `${seed.code.toLowerCase()}.log`);
    const op: TestOperator = {
      code: seed.code,
      walletId: info.walletId,
      account: info.account,
      config: files.config,
      configFile: files.configFile,
      keys: files.keys,
      api: undefined as unknown as NodeApiClient,
      node: undefined,
      process: undefined,
      async start() {
        let url: string;
        if (mode === "process") {
          op.process = await spawnNode(op.configFile, devnet.keystorePassword, logFile);
          url = op.process.url;
        } else {
          op.node = await startNode(op.config, devnet.keystorePassword, { logger: options.logger?.(seed.code) ?? silentLogger });
          url = op.node.url;
        }
        if (op.config.api.port === 0) {
          op.config.api.port = portOf(url);
          await writeFile(op.configFile, JSON.stringify(op.config, null, 2));
        }
        op.api = new NodeApiClient(url, op.keys);
      },
      async stop() {
        await op.node?.close();
        op.node = undefined;
        await op.process?.stop();
        op.process = undefined;
      },
      async kill9() {
        if (!op.process) throw new Error("kill9 needs a node child process");
        await op.process.kill9();
        op.process = undefined;
      },
      async withStore(use) {
        if (op.node || op.process) throw new Error(`${op.code}'s node is running`);
        const store = await openStore(path.join(op.config.dataDir, "ledger"));
        try {
          return await use(store);
        } finally {
          await store.close();
        }
      },
    };
    operators.push(op);
  }

  const network: OperatorNetwork = {
    devnet,
    dataDir,
    client,
    operators,
    byCode: (code) => operators.find((o) => o.code === code)!,
    nextSeq: (walletId) => readNextSeq(client, devnet.manifest.contracts.settlementHub, walletId),
    tokenBalance: (account) => readTokenBalance(client, devnet.manifest.contracts.settlementToken, account),
    rpc: (method, params = []) => devnet.chain.provider.request({ method, params }),
    async close() {
      await Promise.allSettled(operators.map((o) => o.stop()));
      await devnet.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  try {
    for (const op of operators) await op.start();
  } catch (e) {
    await network.close();
    throw e;
  }
  return network;
}

/** Re-derives a stopped node's ledger from its journal (every entry balances, balances match, Σ = 0). */
export function verifyStoredLedger(op: TestOperator) {
  return op.withStore((store) => verifyLedger(store));
}
