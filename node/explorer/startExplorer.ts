import { access, chmod, mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { type DeploymentManifest, readManifest } from "../chain/manifest.ts";
import { type Logger, silentLogger } from "../observability/logger.ts";
import { type AlertRules, DEFAULT_ALERT_RULES } from "./alertRules.ts";
import { ExplorerKeyStore, createExplorerKey } from "./explorerKeys.ts";
import { ExplorerService } from "./explorerService.ts";
import { Indexer, type IndexerStatus } from "./indexer.ts";
import { openIndexStore } from "./indexStore.ts";
import { createReadOnlyClient } from "./readOnlyChain.ts";
import { createExplorerServer } from "./server.ts";
import { type SessionLimits, SessionStore } from "./sessions.ts";

/** Options of {@link startExplorer}. */
export interface ExplorerOptions {
  /** JSON-RPC URL of any node of the chain. */
  rpcUrl: string;
  /** The deployment manifest, or the path of its file. */
  deployment: string | DeploymentManifest;
  /** Directory of the explorer's own LevelDB index (created 0700 if needed, tightened to 0700 if looser; kept across restarts). */
  dataDir: string;
  /** Explorer key file (hashes only). Created with one new key when missing, unless `createKeyIfMissing` is false. */
  keysFile: string;
  createKeyIfMissing?: boolean;
  /** Label of a key created here. Default "regulator". */
  keyLabel?: string;
  port?: number;
  host?: string;
  rules?: Partial<AlertRules>;
  /** Currency shown with amounts. Default: the token symbol without its leading "s" (sCNY → CNY). */
  currency?: string;
  confirmations?: number;
  chunkBlocks?: number;
  /** Widest `eth_getLogs` span (the node's `rpc-max-logs-range`). Default 5,000. */
  logSpanBlocks?: number;
  pollIntervalMs?: number;
  scanReverts?: boolean;
  /** Session lifetime and bounds (default 12 h absolute, 30 min idle, 1,000 sessions, 20 per key). */
  sessions?: Partial<SessionLimits>;
  /** The sessions' clock, in ms (tests move it; default Date.now). */
  sessionClock?: () => number;
  logger?: Logger;
}

/** A running explorer. */
export interface RunningExplorer {
  url: string;
  port: number;
  /** The key created at this start (shown once), when the key file did not exist. */
  createdKey?: string;
  keysFile: string;
  status(): IndexerStatus;
  /** Resolves once every block up to `block` (default: the chain head now) is indexed. */
  waitForIndex(block?: bigint, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const exists = (file: string) => access(file).then(() => true, () => false);

/** The currency of a settlement token symbol: `sCNY` → `CNY`. */
export function currencyOfSymbol(symbol: string): string {
  return /^s[A-Z]{3}$/.test(symbol) ? symbol.slice(1) : symbol;
}

/**
 * Creates `dir` readable by its owner only (0700), and tightens it when it exists looser: the
 * index holds nothing secret now, but an older explorer kept its session secret there.
 */
async function privateDir(dir: string, log: Logger): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { mode } = await stat(dir);
  if ((mode & 0o077) !== 0) {
    await chmod(dir, 0o700);
    log.warn("explorer data directory was readable by others; now 0700", { dir, was: (mode & 0o777).toString(8) });
  }
}

/**
 * Starts the regulator explorer: opens its index, starts following the chain from the deployment
 * block (or from where it stopped), and serves the UI and the JSON API. It holds no private key
 * and its JSON-RPC client refuses every method that is not a read.
 *
 * @example
 * const explorer = await startExplorer({ rpcUrl, deployment: "deployment.json", dataDir: ".hulian/explorer", keysFile: "explorer-keys.json", port: 8700 });
 * console.log(explorer.url, explorer.createdKey);
 */
export async function startExplorer(options: ExplorerOptions): Promise<RunningExplorer> {
  const log = options.logger ?? silentLogger;
  const manifest = typeof options.deployment === "string" ? await readManifest(options.deployment) : options.deployment;
  let createdKey: string | undefined;
  let keys: ExplorerKeyStore;
  if (await exists(options.keysFile)) {
    keys = await ExplorerKeyStore.load(options.keysFile);
  } else if (options.createKeyIfMissing ?? true) {
    const { key, record } = createExplorerKey(options.keyLabel ?? "regulator");
    keys = new ExplorerKeyStore([record]);
    await mkdir(path.dirname(path.resolve(options.keysFile)), { recursive: true });
    await keys.save(options.keysFile);
    createdKey = key;
  } else {
    throw new Error(`explorer key file ${options.keysFile} does not exist`);
  }
  if (keys.size === 0) throw new Error(`explorer key file ${options.keysFile} holds no key: nobody could sign in`);

  await privateDir(options.dataDir, log);
  const index = await openIndexStore(options.dataDir);
  try {
    // Sessions used to be signed with a secret kept here, where any local user could read it and
    // forge a session that never expired. They are held in memory now: drop the old secret.
    await index.meta.del("sessionSecret");
    const client = createReadOnlyClient(options.rpcUrl, manifest.chainId);
    const chainId = await client.getChainId();
    if (chainId !== manifest.chainId) throw new Error(`the chain at ${options.rpcUrl} has id ${chainId}, the deployment says ${manifest.chainId}`);
    const rules: AlertRules = { ...DEFAULT_ALERT_RULES, ...options.rules, burst: { ...DEFAULT_ALERT_RULES.burst, ...options.rules?.burst } };
    const c = manifest.contracts;
    const indexer = new Indexer({
      client,
      index,
      chainId,
      contracts: { registry: c.walletRegistry, token: c.settlementToken, hub: c.settlementHub, attestation: c.reserveAttestation },
      startBlock: BigInt(manifest.deploymentBlock),
      rules,
      confirmations: options.confirmations,
      chunkBlocks: options.chunkBlocks,
      logSpanBlocks: options.logSpanBlocks,
      pollIntervalMs: options.pollIntervalMs,
      scanReverts: options.scanReverts,
      logger: log,
    });
    await indexer.init();
    indexer.start();
    const service = new ExplorerService({ index, client, indexer, manifest, rules, currency: options.currency ?? currencyOfSymbol(manifest.token.symbol) });
    const sessions = new SessionStore(options.sessions, options.sessionClock);
    const server = createExplorerServer({ service, keys, sessions, logger: log });
    const { url, port } = await server.listen(options.port ?? 0, options.host ?? "127.0.0.1");
    log.info("explorer listening", { url, indexedBlock: indexer.status().indexedBlock });
    let closing: Promise<void> | undefined;
    return {
      url,
      port,
      createdKey,
      keysFile: options.keysFile,
      status: () => indexer.status(),
      async waitForIndex(block, timeoutMs) {
        await indexer.waitForBlock(block ?? (await client.getBlockNumber()), timeoutMs);
      },
      close() {
        closing ??= (async () => {
          await server.close();
          await indexer.stop();
          await index.close();
        })();
        return closing;
      },
    };
  } catch (e) {
    await index.close();
    throw e;
  }
}
