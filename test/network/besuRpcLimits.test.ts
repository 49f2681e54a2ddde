import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Hex, type PublicClient, numberToHex } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  AuditFailure,
  type AuditChainReader,
  checkWalletChain,
  createChainReader,
  parsePeriod,
  renderStatement,
  statementEntries,
  statementHeader,
  verifyTransfer,
} from "../../node/audit/index.ts";
import { InboundFollower } from "../../node/bridge/inbound.ts";
import { BridgeMetrics } from "../../node/bridge/metrics.ts";
import { createChainClients } from "../../node/chain/clients.ts";
import { writeManifest } from "../../node/chain/manifest.ts";
import { DEFAULT_RPC_CONCURRENCY } from "../../node/chain/concurrency.ts";
import { DEFAULT_ALERT_RULES } from "../../node/explorer/alertRules.ts";
import { Indexer } from "../../node/explorer/indexer.ts";
import { openIndexStore } from "../../node/explorer/indexStore.ts";
import { createReadOnlyClient } from "../../node/explorer/readOnlyChain.ts";
import { Ledger } from "../../node/ledger/ledger.ts";
import { silentLogger } from "../../node/observability/logger.ts";
import { transferIdOf, walletIdOf } from "../../node/receipts/index.ts";
import { Cursors } from "../../node/store/cursor.ts";
import { openStore } from "../../node/store/store.ts";
import { type AuditNetwork, startAuditNetwork } from "../audit/auditNetwork.ts";
import { runHulian } from "../cli/runHulian.ts";
import { type LimitingRpcProxy, startLimitingRpcProxy } from "../helpers/limitingRpcProxy.ts";

/**
 * Every log reader against an endpoint that behaves as Besu does with its defaults: `eth_getLogs`
 * refused over 5,000 blocks, sockets beyond a small limit closed, and (for the pruning test) no
 * state older than 512 blocks. The chain's history spans more than 12,000 blocks, with settlements
 * at its start, in its middle and at its end, so a reader that asks for one wide span, or opens a
 * socket per request, fails here.
 */

const MAX_LOGS_RANGE = 5_000;
// Far below the explorer's old burst (2,000 block reads at once, 100 per HTTP batch: 20 sockets per
// range, 40 with the indexer's default range), a little above what one client keeps in flight
// (DEFAULT_RPC_CONCURRENCY), since a released keep-alive socket may close a moment after a new one opens.
const MAX_CONNECTIONS = DEFAULT_RPC_CONCURRENCY + 4;
const GAP_BLOCKS = 6_000;
const ALIPAY = walletIdOf("ALIPAY");
const WECHAT = walletIdOf("WECHAT");
const ALL_TIME = parsePeriod("2000-01-01", "2100-12-31");

let a: AuditNetwork;
let proxy: LimitingRpcProxy;
let client: PublicClient;
let reader: AuditChainReader;
let dirs: string[] = [];
/** Transfers settled to WECHAT, and ALIPAY's batches. */
let toWechat = 0;
let alipayBatches = 0;

const mine = (blocks: number) => a.net.publicClient.request({ method: "hardhat_mine", params: [numberToHex(blocks)] } as never);

beforeAll(async () => {
  a = await startAuditNetwork();
  // Mined in-process (not over HTTP): thousands of empty blocks in one call.
  await a.settle("ALIPAY", [{ to: "WECHAT", amount: 1_00n }, { to: "YUNPAY", amount: 2_00n }]);
  await mine(GAP_BLOCKS);
  await a.settle("WECHAT", [{ to: "ALIPAY", amount: 3_00n }]);
  await a.settle("ALIPAY", [{ to: "WECHAT", amount: 4_00n }]);
  await mine(GAP_BLOCKS);
  await a.settle("ALIPAY", [{ to: "WECHAT", amount: 5_00n }, { to: "WECHAT", amount: 6_00n }]);
  await a.returnTransfer(transferIdOf(ALIPAY, 0n));
  toWechat = 4;
  alipayBatches = 3;
  proxy = await startLimitingRpcProxy(a.net.provider, { maxLogsRange: MAX_LOGS_RANGE, maxConnections: MAX_CONNECTIONS });
  client = createChainClients(proxy.url, a.net.chain.id).publicClient;
  reader = createChainReader(client, a.net.manifest);
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await a?.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const tempDir = async () => {
  const d = await mkdtemp(path.join(tmpdir(), "hulian-limits-"));
  dirs.push(d);
  return d;
};

/** Nothing was refused and nothing exceeded Besu's limits. */
function withinBesuLimits(): void {
  expect(proxy.stats.refusedLogRanges).toBe(0);
  expect(proxy.stats.refusedConnections).toBe(0);
  expect(proxy.stats.widestLogSpan).toBeLessThanOrEqual(MAX_LOGS_RANGE);
  expect(proxy.stats.peakConnections).toBeLessThanOrEqual(MAX_CONNECTIONS);
}

describe("log readers under Besu's default limits", () => {
  test("default: the history is longer than one eth_getLogs span", async () => {
    expect(await client.getBlockNumber()).toBeGreaterThan(BigInt(2 * GAP_BLOCKS));
  });

  test("behavior: audit verify finds the last batch of a wallet across a history of 12,000 blocks", async () => {
    const certificate = await verifyTransfer(reader, transferIdOf(ALIPAY, 3n));
    expect(certificate).toMatchObject({ status: "verified", amount: 5_00n, batch: { batchNo: 2n } });
    withinBesuLimits();
  });

  test("behavior: audit chain verifies the whole root chain page by page", async () => {
    const report = await checkWalletChain(reader, ALIPAY);
    expect(report).toMatchObject({ status: "verified", batches: alipayBatches });
    withinBesuLimits();
  });

  test("behavior: a statement over the whole history balances", async () => {
    const header = await statementHeader(reader, WECHAT, ALL_TIME, "CNY");
    const { summary } = await renderStatement(header, statementEntries(reader, WECHAT, header.account, header.blocks!), "json");
    expect(summary.balanced).toBe(true);
    // 4 transfers in, a mint, one transfer out, one return out (WECHAT sent ALIPAY-0 back).
    expect(summary.credits.count).toBe(toWechat + 1);
    withinBesuLimits();
  });

  test("behavior: the explorer indexer catches up over 12,000 blocks with bounded requests", async () => {
    const index = await openIndexStore(await tempDir());
    try {
      const c = a.net.manifest.contracts;
      const indexer = new Indexer({
        client: createReadOnlyClient(proxy.url, a.net.chain.id),
        index,
        chainId: a.net.chain.id,
        contracts: { registry: c.walletRegistry, token: c.settlementToken, hub: c.settlementHub, attestation: c.reserveAttestation },
        startBlock: BigInt(a.net.manifest.deploymentBlock),
        rules: DEFAULT_ALERT_RULES,
        // Wider than one eth_getLogs span: the range is written atomically, its logs read in pages.
        chunkBlocks: 12_000,
      });
      await indexer.init();
      while (await indexer.step());
      expect(indexer.indexedBlock).toBe(await client.getBlockNumber());
      let batches = 0;
      for await (const _ of index.batches.keys()) batches++;
      expect(batches).toBe(alipayBatches + 1);
      withinBesuLimits();
    } finally {
      await index.close();
    }
  }, 120_000);

  test("behavior: the inbound follower applies ranges wider than one eth_getLogs span", async () => {
    const store = await openStore(path.join(await tempDir(), "ledger"));
    try {
      const ledger = await Ledger.open(store);
      const metrics = new BridgeMetrics();
      const follower = new InboundFollower(
        {
          ledger,
          cursors: new Cursors(store),
          client,
          contracts: { hub: a.net.manifest.contracts.settlementHub, token: a.net.manifest.contracts.settlementToken },
          walletId: WECHAT,
          account: a.op("WECHAT").account,
          metrics,
          log: silentLogger,
        },
        { finalityDepth: 0, startBlock: BigInt(a.net.manifest.deploymentBlock), pollIntervalMs: 10, maxBlockRange: 20_000 },
      );
      while (await follower.pollOnce());
      expect(follower.cursor).toBe(await client.getBlockNumber());
      // No WECHAT customer holds these refs: every transfer in is held for return.
      expect(metrics.inboundHeld).toBe(toWechat);
      withinBesuLimits();
    } finally {
      await store.close();
    }
  });
});

describe("hulian audit against the same endpoint", () => {
  test("behavior: hulian audit chain pages by the default span; a --log-span above the node's limit is refused by the node", async () => {
    const deployment = path.join(await tempDir(), "deployment.json");
    await writeManifest(deployment, a.net.manifest);
    const ok = await runHulian(["audit", "chain", "--wallet", "ALIPAY", "--rpc", proxy.url, "--deployment", deployment, "--json"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ status: "verified", batches: alipayBatches });
    withinBesuLimits();
    const wide = await runHulian(["audit", "chain", "--wallet", "ALIPAY", "--rpc", proxy.url, "--deployment", deployment, "--log-span", "6000"]);
    expect(wide.code).not.toBe(0);
    expect(wide.stderr).toContain("Requested range exceeds maximum RPC range limit");
  }, 60_000);
});

describe("a node that prunes old state", () => {
  test("error: a statement whose opening balance is pruned fails with state_unavailable, in the library and in hulian audit export", async () => {
    const pruning = await startLimitingRpcProxy(a.net.provider, { stateHistoryBlocks: 512 });
    try {
      const pruned = createChainReader(createChainClients(pruning.url, a.net.chain.id).publicClient, a.net.manifest);
      const failure = await statementHeader(pruned, WECHAT, ALL_TIME, "CNY").catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(AuditFailure);
      expect(failure).toMatchObject({ code: "state_unavailable" });
      expect((failure as Error).message).toMatch(/^the node has no state for block \d+ any more .*archive node \(data-storage-format=FOREST/);
      expect(pruning.stats.refusedStateReads).toBeGreaterThan(0);
      const deployment = path.join(await tempDir(), "deployment.json");
      await writeManifest(deployment, a.net.manifest);
      const cli = await runHulian(["audit", "export", "--wallet", "WECHAT", "--from", "2000-01-01", "--to", "2100-12-31", "--rpc", pruning.url, "--deployment", deployment]);
      expect(cli.code).toBe(1);
      expect(cli.stdout).toContain("✗ EXPORT FAILED [state_unavailable]");
    } finally {
      await pruning.close();
    }
  });
});
