import { writeFile } from "node:fs/promises";
import path from "node:path";
import { ApiKeyStore, createApiKey } from "../api/apiKeys.ts";
import { DEFAULT_MAX_BATCH_TRANSFERS } from "../bridge/batcher.ts";
import type { NodeConfig } from "../cli/nodeRuntime.ts";
import type { Devnet, DevnetOperator } from "./devnet.ts";
import { type NodeProcess, spawnNode } from "./nodeProcess.ts";
import { NodeSupervisor, type NodeSupervisorOptions } from "./nodeSupervisor.ts";

export interface DevnetNode {
  code: string;
  operator: DevnetOperator;
  configFile: string;
  logFile: string;
  /** API keys, shown once (only their hashes are stored). */
  keys: { app: string; admin: string; audit: string };
  process: NodeProcess;
  url: string;
}

export interface DevnetNodeOptions {
  /** First API port; each next operator gets the next one. 0 = any free port. */
  apiBasePort?: number;
  batch?: { maxTransfers?: number; maxDelayMs?: number };
}

/** Writes each operator's node config and key file, and starts its node process. */
export async function startDevnetNodes(devnet: Devnet, dataDir: string, options: DevnetNodeOptions = {}): Promise<DevnetNode[]> {
  const nodes: DevnetNode[] = [];
  for (const [i, operator] of devnet.operators.entries()) {
    const code = operator.code.toLowerCase();
    const app = createApiKey(["app"]);
    const admin = createApiKey(["admin", "metrics"]);
    const audit = createApiKey(["audit"]);
    const keysFile = path.join(dataDir, `${code}.api-keys.json`);
    await new ApiKeyStore([app.record, admin.record, audit.record]).save(keysFile);
    const config: NodeConfig = {
      wallet: operator.code,
      rpcUrl: devnet.chain.url,
      deployment: path.relative(dataDir, devnet.manifestFile) || "deployment.json",
      keystore: path.relative(dataDir, operator.keystoreFile),
      dataDir: code,
      api: { host: "127.0.0.1", port: options.apiBasePort ? options.apiBasePort + i : 0, keysFile: path.basename(keysFile) },
      finalityDepth: 0,
      pollIntervalMs: 50,
      batch: { maxTransfers: options.batch?.maxTransfers ?? DEFAULT_MAX_BATCH_TRANSFERS, maxDelayMs: options.batch?.maxDelayMs ?? 100 },
      // Every devnet node listens on 127.0.0.1 over plain HTTP.
      peers: { allowLoopback: true },
    };
    const configFile = path.join(dataDir, `${code}.node.json`);
    await writeFile(configFile, JSON.stringify(config, null, 2) + "\n");
    const logFile = path.join(dataDir, `${code}.log`);
    const process = await spawnNode(configFile, devnet.keystorePassword, logFile);
    if (config.api.port === 0) {
      // Keep the port it took, so a restart (by the supervisor or by hand) comes back at the same URL.
      config.api.port = Number(new URL(process.url).port);
      await writeFile(configFile, JSON.stringify(config, null, 2) + "\n");
    }
    nodes.push({
      code: operator.code,
      operator,
      configFile,
      logFile,
      keys: { app: app.key, admin: admin.key, audit: audit.key },
      process,
      url: process.url,
    });
  }
  return nodes;
}

/** The command that starts a devnet node by hand, with the devnet's password file (a devnet-only convenience). */
export function handStartCommand(devnet: Devnet, node: DevnetNode): string {
  return `HULIAN_KEYSTORE_PASSWORD_FILE=${devnet.keystorePasswordFile} npx hulian node --config ${node.configFile}`;
}

/**
 * Puts every devnet node under a {@link NodeSupervisor}: a node that dies is started again with
 * the same config, password and log file.
 */
export function superviseDevnetNodes(devnet: Devnet, nodes: DevnetNode[], options: NodeSupervisorOptions = {}): NodeSupervisor[] {
  return nodes.map((node) => {
    const supervisor = new NodeSupervisor(node, () => spawnNode(node.configFile, devnet.keystorePassword, node.logFile), {
      handStart: handStartCommand(devnet, node),
      ...options,
    });
    supervisor.start();
    return supervisor;
  });
}
