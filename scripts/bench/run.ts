import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type Hex, createPublicClient, createWalletClient, http } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { naivePaymentsAbi, naivePaymentsBytecode } from "../../node/chain/abi/generated.ts";
import { hulianChain } from "../../node/chain/clients.ts";
import type { DevnetNode } from "../../node/devnet/devnetNodes.ts";
import { openKeystoreFile } from "../../node/keys/keystore.ts";
import { benchAcceptLatency, benchSameWalletApi } from "./api.ts";
import type { BenchConfig } from "./config.ts";
import { benchE2e, benchE2eBulk, benchNaiveE2e, openCustomers } from "./e2e.ts";
import { prng } from "../prng.ts";
import { GAS_SEED, type GasWallet, measureGasTable } from "./gas.ts";
import { benchLedger } from "./ledger.ts";
import { scrapeEventLoopDelay } from "./load.ts";
import { GAS_OPERATORS, NODE_OPERATORS, type BenchChain, peakRssMb, startBenchChain, startBenchNodes } from "./network.ts";

/** The benchmark's figures: the JSON object `npm run bench -- --json` prints last. */
export interface BenchResult {
  mode: "full" | "quick";
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string; loadAvgBefore: number[]; loadAvgAfter: number[] };
  gasPerTransfer: { batched: Record<string, number>; naive: number };
  gasRatio: number;
  e2ePaymentsPerSec: number;
  /** The same cross-wallet payments submitted through `POST /v1/payments/bulk`. */
  e2eBulkPaymentsPerSec: number;
  e2eNaivePaymentsPerSec: number;
  ledgerPaymentsPerSec: number;
  ledgerNaivePaymentsPerSec: number;
  apiSameWalletPaymentsPerSec: number;
  apiAcceptLatencyMs: { p50: number; p99: number };
  peakRssMb: number;
  details: Record<string, unknown>;
  targets: Record<string, { target: string; value: number; met: boolean }>;
  seconds: number;
}

const round = (v: number, digits = 0) => Number(v.toFixed(digits));

/**
 * Runs every part of the benchmark, in this order: the ledger alone (in this process), then a
 * chain process with the contracts, the gas table, three operator nodes as child processes, the
 * end-to-end runs (ours one payment a request, ours through `POST /v1/payments/bulk`, then the
 * naive design on the same chain), and the API runs.
 */
export async function runBench(config: BenchConfig, say: (line: string) => void, options: { profileDir?: string } = {}): Promise<BenchResult> {
  const started = performance.now();
  const loadAvgBefore = os.loadavg().map((v) => round(v, 2));
  const details: Record<string, unknown> = {};

  say(`ledger: ${config.ledger.payments} same-wallet payments (naive baseline: ${config.ledger.naivePayments})`);
  const ledger = await benchLedger(config.ledger);
  details.ledger = ledger;

  const dataDir = await mkdtemp(path.join(os.tmpdir(), "hulian-bench-"));
  let chain: BenchChain | undefined;
  let nodes: DevnetNode[] = [];
  try {
    say("chain: starting the embedded chain in its own process, deploying, admitting operators");
    chain = await startBenchChain(path.join(dataDir, "chain"), options.profileDir);
    const { url, chainId } = chain;
    const viemChain = hulianChain(chainId, url);
    const publicClient = createPublicClient({ chain: viemChain, transport: http(url), pollingInterval: 20 });
    const gasOps = chain.operators.filter((o) => GAS_OPERATORS.some((g) => g.code === o.code));
    const gasKey = await openKeystoreFile(gasOps[0].keystoreFile, chain.keystorePassword);
    const gasWallet = createWalletClient({ account: privateKeyToAccount(gasKey.privateKey), chain: viemChain, transport: http(url) }) as GasWallet;
    const naiveSenders: Hex[] = [0, 1, 2].map(() => generatePrivateKey());
    // Gas money for the naive senders, as a signed transfer: the chain's endpoint serves no balance cheat.
    for (const key of naiveSenders) {
      const hash = await gasWallet.sendTransaction({ to: privateKeyToAccount(key).address, value: 10n ** 23n } as never);
      await publicClient.waitForTransactionReceipt({ hash });
    }
    const deployHash = await gasWallet.deployContract({
      abi: naivePaymentsAbi,
      bytecode: naivePaymentsBytecode,
      args: [[...gasOps.map((o) => o.account), ...naiveSenders.map((k) => privateKeyToAccount(k).address)], 1_000_000_000_00n],
    } as never);
    const naive = (await publicClient.waitForTransactionReceipt({ hash: deployHash })).contractAddress!;

    say("gas: naive payments, then batches of 1, 10, 100 and 500 transfers");
    const gas = await measureGasTable(
      {
        publicClient: publicClient as never,
        hub: chain.manifest.contracts.settlementHub,
        naive,
        payer: { walletId: gasOps[0].walletId, wallet: gasWallet },
        payees: gasOps.slice(1).map((o) => ({ walletId: o.walletId, account: o.account })),
        next: prng(GAS_SEED),
      },
      config.naiveGasPayments,
    );
    details.gas = gas;

    say("nodes: starting ALIPAY, WECHAT, YUNPAY as child processes (batches of up to 2,000, 100 ms)");
    nodes = await startBenchNodes(chain, path.join(dataDir, "nodes"), {}, options.profileDir);
    say(`nodes: opening ${config.customers} customers per wallet and topping them up`);
    const customers = await openCustomers(nodes, config.customers, 10_000_000n);

    say(`e2e: ${config.e2e.payments} cross-wallet payments through the API of all three nodes`);
    const e2e = await benchE2e(nodes, customers, config.e2e.payments, config.e2e.connections);
    details.e2e = e2e;

    say(`e2e bulk: ${config.e2eBulk.payments} cross-wallet payments through POST /v1/payments/bulk, ${config.e2eBulk.perRequest} a request`);
    const e2eBulk = await benchE2eBulk(nodes, customers, config.e2eBulk.payments, config.e2eBulk.perRequest, config.e2eBulk.connections);
    details.e2eBulk = e2eBulk;

    say(`e2e naive: ${config.e2e.naivePayments} NaivePayments.pay transactions, pre-signed, on the same chain`);
    const nodeOps = chain.operators.filter((o) => NODE_OPERATORS.some((n) => n.code === o.code));
    const naiveE2e = await benchNaiveE2e(url, chainId, naive, naiveSenders, nodeOps.map((o) => ({ walletId: o.walletId, account: o.account })), config.e2e.naivePayments);
    details.e2eNaive = naiveE2e;

    say(`api: same-wallet payments for ${config.api.sameWalletSec} s`);
    const sameWallet = await benchSameWalletApi(nodes[0], customers, config.api.sameWalletSec, config.api.connections);
    details.apiSameWallet = sameWallet;

    say(`api: cross-wallet accepts at ${config.api.latencyRate} req/s for ${config.api.latencySec} s`);
    const latency = await benchAcceptLatency(nodes[0], nodes.slice(1).map((n) => n.code), customers, config.api.latencyRate, config.api.latencySec);
    // The node's event-loop delay over its last completed 10 s window, which (scraped right after a
    // phase of at least 20 s) lies within the latency phase; in a quick run it reaches back before it.
    const loopDelay = await scrapeEventLoopDelay(nodes[0].url, nodes[0].keys.admin).catch(() => undefined);
    details.apiAcceptLatency = {
      ...latency,
      ...(loopDelay && {
        eventLoopDelayMs: { p50: round(loopDelay.p50, 2), p99: round(loopDelay.p99, 2), max: round(loopDelay.max, 2), windowSec: 10 },
      }),
    };

    const rss = await Promise.all(nodes.map(async (n) => [n.code, round((await peakRssMb(n.process.child.pid!)) ?? 0, 1)] as const));
    details.peakRssMbByNode = Object.fromEntries(rss);
    details.chainPeakRssMb = round((await peakRssMb(chain.pid)) ?? 0, 1);
    const peak = Math.max(...rss.map(([, v]) => v));

    const result: BenchResult = {
      mode: config.mode,
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? "unknown",
        memoryGb: round(os.totalmem() / 2 ** 30, 1),
        node: process.version,
        loadAvgBefore,
        loadAvgAfter: os.loadavg().map((v) => round(v, 2)),
      },
      gasPerTransfer: { batched: gas.batched, naive: gas.naive },
      gasRatio: round(gas.ratio, 4),
      e2ePaymentsPerSec: round(e2e.perSec),
      e2eBulkPaymentsPerSec: round(e2eBulk.perSec),
      e2eNaivePaymentsPerSec: round(naiveE2e.perSec),
      ledgerPaymentsPerSec: round(ledger.perSec),
      ledgerNaivePaymentsPerSec: round(ledger.naivePerSec),
      apiSameWalletPaymentsPerSec: round(sameWallet.perSec),
      apiAcceptLatencyMs: { p50: round(latency.p50, 2), p99: round(latency.p99, 2) },
      peakRssMb: peak,
      details,
      targets: {},
      seconds: 0,
    };
    result.targets = {
      gasRatio: { target: "<= 0.10", value: result.gasRatio, met: result.gasRatio <= 0.1 },
      gasPerTransfer500: { target: "<= 4000", value: gas.batched["500"], met: gas.batched["500"] <= 4000 },
      e2ePaymentsPerSec: { target: ">= 5000", value: result.e2ePaymentsPerSec, met: result.e2ePaymentsPerSec >= 5000 },
      e2eBulkPaymentsPerSec: { target: ">= 5000", value: result.e2eBulkPaymentsPerSec, met: result.e2eBulkPaymentsPerSec >= 5000 },
      ledgerPaymentsPerSec: { target: ">= 50000", value: result.ledgerPaymentsPerSec, met: result.ledgerPaymentsPerSec >= 50_000 },
      apiAcceptP99Ms: { target: "< 10 at 1000 req/s", value: result.apiAcceptLatencyMs.p99, met: result.apiAcceptLatencyMs.p99 < 10 },
    };
    result.seconds = round((performance.now() - started) / 1000, 1);
    return result;
  } finally {
    await Promise.allSettled(nodes.map((n) => n.process.stop()));
    await chain?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
