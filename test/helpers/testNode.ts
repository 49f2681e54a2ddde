import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ApiKeyStore, createApiKey } from "../../node/api/apiKeys.ts";
import type { WalletService } from "../../node/bridge/walletService.ts";
import { type NodeConfig, type RunningNode, startNode } from "../../node/cli/nodeRuntime.ts";
import { type Devnet, startDevnetChain } from "../../node/devnet/devnet.ts";
import type { DevnetOperatorSeed } from "../../node/devnet/devnetOperators.ts";
import { silentLogger } from "../../node/observability/logger.ts";

export interface TestNode {
  code: string;
  url: string;
  node: RunningNode;
  service: WalletService;
  keys: { app: string; admin: string; audit: string };
  configFile: string;
  close(): Promise<void>;
}

export interface TestNodes {
  devnet: Devnet;
  dataDir: string;
  nodes: TestNode[];
  byCode(code: string): TestNode;
  /** Stops every node and the chain, removes the data. */
  close(): Promise<void>;
}

const DEFAULT_SEEDS: DevnetOperatorSeed[] = [
  { code: "ALIPAY", name: "Alipay", reserve: 10_000_000_00n },
  { code: "WECHAT", name: "WeChat Pay", reserve: 10_000_000_00n },
  { code: "YUNPAY", name: "Yunnan Pay", reserve: 1_000_000_00n },
];

/** Writes a node's API key file and config; returns the config and the keys (shown once). */
export async function writeNodeFiles(devnet: Devnet, dataDir: string, code: string, batch?: NodeConfig["batch"]) {
  const operator = devnet.operators.find((o) => o.code === code)!;
  const app = createApiKey(["app"]);
  const admin = createApiKey(["admin", "metrics"]);
  const audit = createApiKey(["audit"]);
  const keysFile = path.join(dataDir, `${code.toLowerCase()}.api-keys.json`);
  await new ApiKeyStore([app.record, admin.record, audit.record]).save(keysFile);
  const config: NodeConfig = {
    wallet: code,
    rpcUrl: devnet.chain.url,
    deployment: devnet.manifestFile,
    keystore: operator.keystoreFile,
    dataDir: path.join(dataDir, code.toLowerCase()),
    api: { host: "127.0.0.1", port: 0, keysFile },
    finalityDepth: 0,
    pollIntervalMs: 20,
    batch: batch ?? { maxTransfers: 200, maxDelayMs: 30 },
    // Tests post reserve attestations when they mean to (node.attester.attestNow()).
    attestation: { intervalMs: 0 },
    // Test nodes publish http://127.0.0.1 endpoints.
    peers: { allowLoopback: true },
  };
  const configFile = path.join(dataDir, `${code.toLowerCase()}.node.json`);
  await writeFile(configFile, JSON.stringify(config, null, 2));
  return { config, configFile, keys: { app: app.key, admin: admin.key, audit: audit.key } };
}

/**
 * A real network for tests: the embedded chain on 127.0.0.1 (port 0), the contracts, operators
 * admitted and funded, and one real Hulian node per operator running in this process (LevelDB in
 * a temp dir, HTTP API on 127.0.0.1). Nothing is mocked.
 */
export async function startTestNodes(
  seeds: DevnetOperatorSeed[] = DEFAULT_SEEDS,
  options: { batch?: NodeConfig["batch"] } = {},
): Promise<TestNodes> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "hulian-test-"));
  const devnet = await startDevnetChain({ dataDir: path.join(dataDir, "chain"), operators: seeds, scryptN: 1 << 10 });
  const nodes: TestNode[] = [];
  try {
    for (const seed of seeds) {
      const { config, configFile, keys } = await writeNodeFiles(devnet, dataDir, seed.code, options.batch);
      const node = await startNode(config, devnet.keystorePassword, { logger: silentLogger });
      nodes.push({ code: seed.code, url: node.url, node, service: node.service, keys, configFile, close: () => node.close() });
    }
  } catch (e) {
    await Promise.allSettled(nodes.map((n) => n.close()));
    await devnet.close();
    throw e;
  }
  return {
    devnet,
    dataDir,
    nodes,
    byCode: (code) => nodes.find((n) => n.code === code)!,
    async close() {
      await Promise.allSettled(nodes.map((n) => n.close()));
      await devnet.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** One real node (ALIPAY) with a second wallet (WECHAT) to pay: what the API route tests run against. */
export async function startTestNode(): Promise<{ service: WalletService; close(): Promise<void> }> {
  const network = await startTestNodes(DEFAULT_SEEDS.slice(0, 2));
  return { service: network.nodes[0].service, close: () => network.close() };
}
