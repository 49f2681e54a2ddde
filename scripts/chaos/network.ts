import { readNextSeq, readTokenBalance } from "../../node/chain/hubReads.ts";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Address, type Hex, type PublicClient } from "viem";
import { ApiKeyStore, createApiKey } from "../../node/api/apiKeys.ts";
import { createChainClients } from "../../node/chain/clients.ts";
import type { NodeConfig } from "../../node/cli/nodeRuntime.ts";
import { NodeApiClient } from "../../node/devnet/apiClient.ts";
import { type Devnet, startDevnetChain } from "../../node/devnet/devnet.ts";
import type { DevnetOperatorSeed } from "../../node/devnet/devnetOperators.ts";
import { type NodeProcess, spawnNode } from "../../node/devnet/nodeProcess.ts";
import { openStore, type Store } from "../../node/store/store.ts";

/**
 * One operator of the chaos network: a `hulian node` child process on a port that never changes,
 * so a restart finds its endpoint in WalletRegistry unchanged and sends no transaction of its own.
 */
export interface ChaosNode {
  readonly code: string;
  readonly walletId: Hex;
  readonly account: Address;
  readonly reserve: bigint;
  readonly url: string;
  readonly configFile: string;
  readonly logFile: string;
  readonly config: NodeConfig;
  readonly keys: { app: string; admin: string; audit: string };
  readonly api: NodeApiClient;
  /** The running process, or undefined while the node is down. */
  process: NodeProcess | undefined;
  /** How many times it was started (the first start included). */
  starts: number;
}

/** The chain, its contracts and three (or more) operator nodes as child processes. */
export interface ChaosNetwork {
  devnet: Devnet;
  dataDir: string;
  client: PublicClient;
  nodes: ChaosNode[];
  /** Starts a node that is down; retries while it exits before listening (e.g. the RPC went away mid-start). */
  start(node: ChaosNode): Promise<void>;
  /** kill -9: no shutdown code runs. */
  kill9(node: ChaosNode): Promise<void>;
  /** SIGTERM and wait. */
  stop(node: ChaosNode): Promise<void>;
  /** Opens a stopped node's store, runs `use`, closes it. */
  withStore<T>(node: ChaosNode, use: (store: Store) => Promise<T>): Promise<T>;
  nextSeq(walletId: Hex): Promise<bigint>;
  tokenBalance(account: Address): Promise<bigint>;
  close(options?: { keepData?: boolean }): Promise<void>;
}

export interface ChaosNetworkOptions {
  operators: DevnetOperatorSeed[];
  batch?: { maxTransfers?: number; maxDelayMs?: number };
  /** Where the data goes (a fresh temp folder by default). */
  dataDir?: string;
  onProgress?: (line: string) => void;
}

/**
 * A free TCP port outside the kernel's ephemeral range (32768–60999 on Linux). Nodes and the RPC
 * listener keep their port across restarts; a port from the ephemeral range could meanwhile be
 * taken as the local end of some outgoing connection, and the restart would fail.
 */
export async function freeStablePort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    const ok = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (ok) {
      taken.add(port);
      return port;
    }
  }
  throw new Error("no free port in 20000-31999");
}

/**
 * Brings up the chain (embedded, on a stable port so RPC outages can be staged with
 * `stopRpc`/`startRpc`), deploys the contracts, admits the operators and starts one node process
 * per operator.
 */
export async function startChaosNetwork(options: ChaosNetworkOptions): Promise<ChaosNetwork> {
  const say = options.onProgress ?? (() => {});
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), "hulian-chaos-")));
  const ports = new Set<number>();
  const devnet = await startDevnetChain({
    dataDir: path.join(dataDir, "chain"),
    rpcPort: await freeStablePort(ports),
    operators: options.operators,
    scryptN: 1 << 10,
  });
  const { publicClient: client } = createChainClients(devnet.chain.url, devnet.chain.chainId);
  const nodes: ChaosNode[] = [];
  for (const seed of options.operators) {
    const info = devnet.operators.find((o) => o.code === seed.code)!;
    const code = seed.code.toLowerCase();
    const app = createApiKey(["app"]);
    const admin = createApiKey(["admin", "metrics"]);
    const audit = createApiKey(["audit"]);
    const keysFile = path.join(dataDir, `${code}.api-keys.json`);
    await new ApiKeyStore([app.record, admin.record, audit.record]).save(keysFile);
    const port = await freeStablePort(ports);
    const config: NodeConfig = {
      wallet: seed.code,
      rpcUrl: devnet.chain.url,
      deployment: devnet.manifestFile,
      keystore: info.keystoreFile,
      dataDir: path.join(dataDir, code),
      api: { host: "127.0.0.1", port, keysFile },
      finalityDepth: 0,
      pollIntervalMs: 50,
      batch: { maxTransfers: options.batch?.maxTransfers ?? 200, maxDelayMs: options.batch?.maxDelayMs ?? 50 },
      attestation: { intervalMs: 0 },
      peers: { allowLoopback: true },
    };
    const configFile = path.join(dataDir, `${code}.node.json`);
    await writeFile(configFile, JSON.stringify(config, null, 2));
    const keys = { app: app.key, admin: admin.key, audit: audit.key };
    const url = `http://127.0.0.1:${port}`;
    nodes.push({
      code: seed.code,
      walletId: info.walletId,
      account: info.account,
      reserve: seed.reserve,
      url,
      configFile,
      logFile: path.join(dataDir, `${code}.log`),
      config,
      keys,
      api: new NodeApiClient(url, keys),
      process: undefined,
      starts: 0,
    });
  }

  const network: ChaosNetwork = {
    devnet,
    dataDir,
    client,
    nodes,
    async start(node) {
      if (node.process) return;
      for (let attempt = 1; ; attempt++) {
        try {
          node.process = await spawnNode(node.configFile, devnet.keystorePassword, node.logFile, 90_000);
          node.starts++;
          if (node.process.url !== node.url) throw new Error(`${node.code} listens on ${node.process.url}, expected ${node.url}`);
          // A supervisor would restart a node that dies on its own; so does the harness.
          return;
        } catch (e) {
          if (attempt >= 5) throw e;
          say(`${node.code} failed to start (attempt ${attempt}): ${(e as Error).message.split("\n")[0]}; retrying`);
          await new Promise((r) => setTimeout(r, 500 * attempt));
        }
      }
    },
    async kill9(node) {
      const p = node.process;
      node.process = undefined;
      await p?.kill9();
    },
    async stop(node) {
      const p = node.process;
      node.process = undefined;
      await p?.stop();
    },
    async withStore(node, use) {
      if (node.process) throw new Error(`${node.code}'s node is running`);
      const store = await openStore(path.join(node.config.dataDir, "ledger"));
      try {
        return await use(store);
      } finally {
        await store.close();
      }
    },
    nextSeq: (walletId) => readNextSeq(client, devnet.manifest.contracts.settlementHub, walletId),
    tokenBalance: (account) => readTokenBalance(client, devnet.manifest.contracts.settlementToken, account),
    async close(closeOptions = {}) {
      await Promise.allSettled(nodes.map((n) => network.stop(n)));
      await devnet.chain.startRpc().catch(() => undefined);
      await devnet.close();
      if (!closeOptions.keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
  try {
    for (const node of nodes) {
      say(`starting ${node.code} on ${node.url}`);
      await network.start(node);
    }
  } catch (e) {
    await network.close({ keepData: true });
    throw e;
  }
  return network;
}

/** Reads a node's log file (empty when it has none yet). */
export async function readLog(node: ChaosNode): Promise<string> {
  return readFile(node.logFile, "utf8").catch(() => "");
}
