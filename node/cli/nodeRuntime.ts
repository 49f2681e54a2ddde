import { randomBytes } from "node:crypto";
import path from "node:path";
import type { Address, Hex, LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ApiKeyStore } from "../api/apiKeys.ts";
import { RateLimiter } from "../api/rateLimit.ts";
import { loadPeerFetch, loadTlsServerOptions } from "../api/tls.ts";
import { AuditLog } from "../observability/auditLog.ts";
import { sleep } from "../timing/sleep.ts";
import { registerAuditRoutes } from "../api/routes/audit.ts";
import { registerNodeDirectoryRoutes } from "../api/routes/directory.ts";
import { registerNodeMemoRoutes } from "../api/routes/nodeMemos.ts";
import { createChainReader } from "../audit/chainReader.ts";
import { Attester } from "../bridge/attester.ts";
import { ApiProblem } from "../api/problem.ts";
import { type ApiLimits, type ApiServer, createApiServer } from "../api/server.ts";
import { Batcher, DEFAULT_MAX_BATCH_TRANSFERS } from "../bridge/batcher.ts";
import { InboundFollower } from "../bridge/inbound.ts";
import { BridgeMetrics } from "../bridge/metrics.ts";
import { MemoInbox } from "../bridge/memoInbox.ts";
import { MemoOutbox } from "../bridge/memoOutbox.ts";
import { MemoSender } from "../bridge/memoSender.ts";
import { Outbox } from "../bridge/outbox.ts";
import { reconcile } from "../bridge/reconciler.ts";
import { Returner } from "../bridge/returns.ts";
import { WalletNode } from "../bridge/walletNode.ts";
import { walletRegistryAbi } from "../chain/abi/generated.ts";
import { createChainClients } from "../chain/clients.ts";
import { readHeldReturns, readTokenBalance } from "../chain/hubReads.ts";
import { readManifest } from "../chain/manifest.ts";
import { RegistryView } from "../chain/registryView.ts";
import { sendAndConfirm } from "../chain/signing.ts";
import { TransactionSender } from "../chain/transactionSender.ts";
import { DirectoryClient } from "../directory/directoryClient.ts";
import type { PeerEndpointPolicy } from "../directory/peerEndpoint.ts";
import { LocalDirectory } from "../directory/localDirectory.ts";
import { openKeystoreFile } from "../keys/keystore.ts";
import { Ledger } from "../ledger/ledger.ts";
import { type LogLevel, type Logger, createLogger } from "../observability/logger.ts";
import { walletIdOf } from "../receipts/ids.ts";
import { Cursors } from "../store/cursor.ts";
import { checkSecretFile, ensurePrivateDir } from "../store/privateFiles.ts";
import { type Store, openStore } from "../store/store.ts";

/** One operator node's configuration (a JSON file for `hulian node --config`). No secrets in it. */
export interface NodeConfig {
  /** The wallet code, e.g. "ALIPAY". */
  wallet: string;
  rpcUrl: string;
  /** Deployment manifest written by `hulian deploy` / `hulian network init`. */
  deployment: string;
  /** Encrypted operator keystore; its password comes from HULIAN_KEYSTORE_PASSWORD or a prompt. */
  keystore: string;
  dataDir: string;
  api: {
    host?: string;
    port: number;
    /** File of hashed API keys (`hulian`-generated). */
    keysFile: string;
    /** The URL other nodes reach this node at; published in WalletRegistry when it differs. */
    publicUrl?: string;
    /** HTTPS for the API and the node-to-node endpoint (PEM files); `caFile` signs the other nodes' certificates. */
    tls?: { certFile: string; keyFile: string; caFile?: string };
    /**
     * Token bucket per API key, and per client address for requests without a valid key (checked
     * before authentication; a failed authentication costs `failedAuthCost`, default 100); `false`
     * turns it off. Default 10,000 requests/s, burst 20,000, for keys and addresses alike.
     */
    rateLimit?: { ratePerSecond?: number; burst?: number; perKey?: Record<string, { ratePerSecond?: number; burst?: number }>; perAddress?: { ratePerSecond?: number; burst?: number }; failedAuthCost?: number } | false;
    /** Connection caps and timeouts of the HTTP server (node/api/server.ts `DEFAULT_LIMITS`: 4,096 connections, 256 per address…). */
    limits?: Partial<ApiLimits>;
    /** Append-only, hash-chained log of admin actions (JSON lines). Default `<dataDir>/audit.log`. */
    auditLog?: string;
  };
  /** Confirmations before an inbound event counts (0 on QBFT). */
  finalityDepth?: number;
  /** Widest `eth_getLogs` span of the inbound follower and the audit API: at most the node's `rpc-max-logs-range`. Default 5,000. */
  logSpanBlocks?: number;
  pollIntervalMs?: number;
  batch?: { maxTransfers?: number; maxDelayMs?: number };
  /** Reserve attestations: how often the node posts one (0 = only on demand), and when one counts as stale. */
  attestation?: { intervalMs?: number; maxAgeSeconds?: number };
  logLevel?: LogLevel;
  /**
   * Which endpoints published by other members this node will call. Default: `https:` on public
   * addresses only. Devnets and tests set `allowLoopback` (127.0.0.1 and plain `http:`).
   */
  peers?: Pick<PeerEndpointPolicy, "allowLoopback" | "allowHttp" | "allowPrivateNetworks">;
}

export interface RunningNode {
  url: string;
  service: WalletNode;
  ledger: Ledger;
  account: Address;
  inbound: InboundFollower;
  batcher: Batcher;
  attester: Attester;
  memos: MemoSender;
  close(): Promise<void>;
}

/** Resolves paths in a config relative to the config file's folder. */
export function resolveConfigPaths(config: NodeConfig, configFile: string): NodeConfig {
  const base = path.dirname(path.resolve(configFile));
  const abs = (p: string) => path.resolve(base, p);
  return {
    ...config,
    deployment: abs(config.deployment),
    keystore: abs(config.keystore),
    dataDir: abs(config.dataDir),
    api: {
      ...config.api,
      keysFile: abs(config.api.keysFile),
      tls: config.api.tls && {
        certFile: abs(config.api.tls.certFile),
        keyFile: abs(config.api.tls.keyFile),
        caFile: config.api.tls.caFile && abs(config.api.tls.caFile),
      },
      auditLog: config.api.auditLog && abs(config.api.auditLog),
    },
  };
}

async function referenceSecret(store: Store): Promise<Buffer> {
  const existing = (await store.sub.meta.get("referenceSecret")) as string | undefined;
  if (existing) return Buffer.from(existing, "base64");
  const secret = randomBytes(32);
  await store.committer.commit([{ type: "put", sublevel: store.sub.meta, key: "referenceSecret", value: secret.toString("base64") }]);
  return secret;
}

async function waitForChain(check: () => Promise<unknown>, log: Logger): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await check();
      return;
    } catch (e) {
      if (attempt % 10 === 0) log.warn("waiting for the chain RPC", { error: (e as Error).message.split("\n")[0] });
      await sleep(500);
    }
  }
}

/**
 * Creates the data directory 0700 (or checks it), and checks that the keystore, the API key file
 * and the audit log are 0600: the data directory holds the reference secret and customer records,
 * which would let any local user link on-chain references to named customers. Runs before the
 * keystore is decrypted, so a node with loose permissions never starts.
 */
async function checkPrivateFiles(config: NodeConfig): Promise<void> {
  await ensurePrivateDir(config.dataDir);
  await checkSecretFile(config.keystore);
  await checkSecretFile(config.api.keysFile);
  await checkSecretFile(config.api.auditLog ?? path.join(config.dataDir, "audit.log"), { optional: true });
}

/**
 * Starts one operator's Hulian node: ledger, settlement bridge (batcher, inbound follower,
 * returner), directory and the HTTP API, against any JSON-RPC chain.
 */
export async function startNode(config: NodeConfig, password: string, options: { logger?: Logger } = {}): Promise<RunningNode> {
  const log = options.logger ?? createLogger({ level: config.logLevel ?? "info", base: { service: "hulian-node", wallet: config.wallet } });
  await checkPrivateFiles(config);
  const manifest = await readManifest(config.deployment);
  const key = await openKeystoreFile(config.keystore, password);
  const account: LocalAccount = privateKeyToAccount(key.privateKey);
  const walletId = walletIdOf(config.wallet);
  const { publicClient, chain } = createChainClients(config.rpcUrl, manifest.chainId, account, { pollingIntervalMs: config.pollIntervalMs ?? 50 });
  await waitForChain(async () => {
    const id = await publicClient.getChainId();
    if (id !== manifest.chainId) throw new Error(`RPC serves chain ${id}, the manifest says ${manifest.chainId}`);
  }, log);
  const registered = (await publicClient.readContract({
    address: manifest.contracts.walletRegistry,
    abi: walletRegistryAbi,
    functionName: "walletIdOf",
    args: [account.address],
  })) as Hex;
  if (registered.toLowerCase() !== walletId.toLowerCase()) {
    throw new Error(`the keystore's account ${account.address} is not ${config.wallet}'s settlement account`);
  }

  const store = await openStore(path.join(config.dataDir, "ledger"), {
    onFatal: (e) => {
      log.error("store write failed: stopping so the node restarts from disk", { error: e.message });
      process.exitCode = 70;
      setImmediate(() => process.exit(70));
    },
  });
  const ledger = await Ledger.open(store);
  const outbox = await Outbox.open(store);
  const memoOutbox = await MemoOutbox.open(store);
  const cursors = new Cursors(store);
  const metrics = new BridgeMetrics();
  const registry = new RegistryView(publicClient, manifest.contracts.walletRegistry);
  const secret = await referenceSecret(store);
  const local = new LocalDirectory(ledger, secret);
  const sender = new TransactionSender(account, publicClient, chain);
  const attester = new Attester({
    ledger,
    secret,
    sender,
    client: publicClient,
    attestation: manifest.contracts.reserveAttestation,
    wallet: { code: config.wallet, walletId },
    log: log.child({ part: "attester" }),
  });
  const peerFetch = await loadPeerFetch(config.api.tls?.caFile);
  const directory = new DirectoryClient({ registry, account, walletId, fetch: peerFetch, peers: config.peers });
  const contracts = { hub: manifest.contracts.settlementHub, token: manifest.contracts.settlementToken };

  const memos = new MemoSender({ ledger, memos: memoOutbox, registry, account, walletId, fetch: peerFetch, peers: config.peers, log: log.child({ part: "memos" }) });
  const batcher = new Batcher(
    { ledger, outbox, sender, client: publicClient, hub: contracts.hub, walletId, metrics, log: log.child({ part: "batcher" }), memos: memoOutbox, onMemosQueued: () => memos.notify() },
    { maxTransfers: config.batch?.maxTransfers ?? DEFAULT_MAX_BATCH_TRANSFERS, maxDelayMs: config.batch?.maxDelayMs ?? 100 },
  );
  const returner = new Returner({ ledger, sender, client: publicClient, hub: contracts.hub, walletId, metrics, log: log.child({ part: "returner" }) });
  const inbound = new InboundFollower(
    {
      ledger,
      cursors,
      client: publicClient,
      contracts,
      walletId,
      account: account.address,
      metrics,
      log: log.child({ part: "inbound" }),
      onReturnQueued: () => returner.notify(),
    },
    {
      finalityDepth: config.finalityDepth ?? 0,
      startBlock: BigInt(manifest.deploymentBlock),
      pollIntervalMs: config.pollIntervalMs ?? 50,
      logSpanBlocks: config.logSpanBlocks,
    },
  );
  const tokenBalance = async () =>
    readTokenBalance(publicClient, contracts.token, account.address);
  const service = new WalletNode({
    wallet: { code: config.wallet, walletId, currency: "CNY", decimals: manifest.token.decimals },
    ledger,
    outbox,
    batcher,
    directory,
    local,
    metrics,
    tokenBalance,
    memoMetrics: () => ({ queued: memoOutbox.depth, overflowed: memoOutbox.overflowed, ...memos.stats }),
    healthDetails: async () => {
      const head = await publicClient.getBlockNumber({ cacheTime: 0 }).catch(() => undefined);
      return {
        chainReachable: head !== undefined,
        lagBlocks: head === undefined ? -1 : Number(head - inbound.cursor),
        batchInFlight: batcher.inFlight,
      };
    },
  });

  const auditLog = await AuditLog.open(config.api.auditLog ?? path.join(config.dataDir, "audit.log"));
  const api: ApiServer = createApiServer({
    service,
    keys: await ApiKeyStore.load(config.api.keysFile),
    logger: log.child({ part: "api" }),
    tls: config.api.tls ? await loadTlsServerOptions(config.api.tls) : undefined,
    limits: config.api.limits,
    rateLimit: config.api.rateLimit === false ? undefined : new RateLimiter(config.api.rateLimit ?? {}),
    audit: (event) => auditLog.append(event),
  });
  registerNodeDirectoryRoutes(api, {
    walletId,
    member: (id) => registry.member(id),
    local,
    onSignatureCheck: () => void metrics.nodeAuthSignatureChecks++,
  });
  registerNodeMemoRoutes(api, {
    inbox: new MemoInbox({ ledger, client: publicClient, hub: contracts.hub, walletId, finalityDepth: config.finalityDepth ?? 0 }),
    walletId,
    lookup: (id) => registry.member(id),
    onSignatureCheck: () => void metrics.nodeAuthSignatureChecks++,
  });
  registerAuditRoutes(api, {
    reader: createChainReader(publicClient, manifest, config.logSpanBlocks === undefined ? {} : { maxBlockRange: BigInt(config.logSpanBlocks) }),
    wallet: { code: config.wallet, walletId },
    store,
    payeeRefOf: (id) => local.payeeRef(id),
    hasAccount: (id) => ledger.account(id)?.kind === "customer",
    attester,
    maxAttestationAgeSeconds: config.attestation?.maxAgeSeconds,
  });
  api.route(
    "GET",
    "/v1/admin/reconciliation",
    async () => {
      // Read the chain at the block the ledger has applied, so both sides describe the same moment.
      await inbound.ready();
      const block = inbound.cursor;
      if (block < BigInt(manifest.deploymentBlock)) {
        throw new ApiProblem("catching_up", 503, "the node has not applied the chain up to its deployment yet", {
          headers: { "retry-after": "1" },
        });
      }
      const [balance, held] = (await Promise.all([
        readTokenBalance(publicClient, contracts.token, account.address, block),
        readHeldReturns(publicClient, contracts.hub, walletId, block),
      ]).catch((cause: unknown) => {
          throw new ApiProblem("chain_unavailable", 503, "the chain did not answer; try again", { headers: { "retry-after": "1" }, details: { cause: String((cause as Error).message).split("\n")[0] } });
        })) as [bigint, bigint];
      const r = reconcile(ledger, balance, held);
      const s = (v: bigint) => v.toString();
      return {
        status: 200,
        body: {
          wallet: config.wallet,
          atBlock: s(block),
          tokenBalance: s(r.tokenBalance),
          heldAtHub: s(r.heldAtHub),
          liabilities: s(r.liabilities),
          float: s(r.float),
          outboundInFlight: s(r.outboundInFlight),
          suspense: s(r.suspense),
          expected: s(r.expected),
          difference: s(r.difference),
          balanced: r.balanced,
          batchInFlight: batcher.inFlight,
          outboxDepth: outbox.depth,
          reconciled: r.reconciled,
        },
      };
    },
    {
      auth: ["admin", "audit"],
      doc: {
        operationId: "getReconciliation",
        summary: "On-chain settlement balance against the ledger (liabilities, float, in flight, suspense)",
        tags: ["operations"],
        responses: { "200": { description: "the reconciliation at the last block the ledger applied", schema: { $ref: "#/components/schemas/Reconciliation" } } },
        problems: [503],
      },
    },
  );
  const { url } = await api.listen(config.api.port, config.api.host ?? "127.0.0.1");
  const publicUrl = config.api.publicUrl ?? url;
  const me = await registry.operator(walletId);
  if (me && me.endpoint !== publicUrl) {
    await sendAndConfirm(createChainClients(config.rpcUrl, manifest.chainId, account).signer!, publicClient, {
      address: manifest.contracts.walletRegistry,
      abi: walletRegistryAbi,
      functionName: "setEndpoint",
      args: [walletId, publicUrl],
    });
    log.info("published node endpoint in WalletRegistry", { endpoint: publicUrl });
  }
  batcher.start();
  inbound.start();
  returner.start();
  memos.start();
  const attestEvery = config.attestation?.intervalMs ?? 300_000;
  if (attestEvery > 0) attester.start(attestEvery);
  log.info("node started", { api: url, account: account.address, chainId: manifest.chainId });

  return {
    url,
    service,
    ledger,
    account: account.address,
    inbound,
    batcher,
    attester,
    memos,
    async close() {
      await api.close();
      await Promise.all([batcher.stop(), inbound.stop(), returner.stop(), attester.stop(), memos.stop()]);
      await auditLog.close();
      // Balances are checkpointed every few thousand entries; one more on a clean stop means the
      // next start replays nothing.
      await ledger.checkpoint();
      await store.close();
    },
  };
}
