import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { type Address, type PublicClient, numberToHex } from "viem";
import type { DeploymentManifest } from "../../node/chain/manifest.ts";
import { BurstDetector, DEFAULT_ALERT_RULES } from "../../node/explorer/alertRules.ts";
import { RangeApplier } from "../../node/explorer/applyEvents.ts";
import { type ChainEvent, posKey } from "../../node/explorer/decodeEvents.ts";
import { ExplorerKeyStore, createExplorerKey } from "../../node/explorer/explorerKeys.ts";
import { SessionStore } from "../../node/explorer/sessions.ts";
import { ExplorerService } from "../../node/explorer/explorerService.ts";
import type { Indexer, IndexerStatus } from "../../node/explorer/indexer.ts";
import { type IndexStore, openIndexStore } from "../../node/explorer/indexStore.ts";
import { createExplorerServer } from "../../node/explorer/server.ts";
import { type Receipt, packTransfers, transferIdOf, walletIdOf } from "../../node/receipts/index.ts";
import { percentile } from "./load.ts";
import { prng } from "../prng.ts";

const require = createRequire(import.meta.url);

/** Options of {@link benchExplorer}. */
export interface ExplorerBenchOptions {
  /** Synthetic transfers in the index. Default 100,000. */
  transfers?: number;
  /** Days they span, ending now. Default 14. */
  days?: number;
  /** autocannon run per endpoint, seconds. Default 3. */
  durationSec?: number;
  /** autocannon keep-alive connections. Default 10. */
  connections?: number;
  /** Pages followed before the deep-page run. Default 20. */
  deepPages?: number;
  log?: (line: string) => void;
}

/** One autocannon run. */
export interface RunResult {
  connections: number;
  /** 2xx answers completed within the run (requests still in flight at the end are not counted). */
  requests: number;
  non2xx: number;
  errors: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** True when the timed run completed fewer than 5 answers and this is a run of 5 requests per connection instead. */
  byCount?: boolean;
}

/** One endpoint's measurement: one client alone, then `connections` at once. */
export interface EndpointResult {
  name: string;
  path: string;
  single: RunResult;
  loaded: RunResult;
  /** From one answer fetched before the run: index used, entries examined, items, summary. */
  sample: { index?: string; examined?: number; items?: number; summaryCount?: number; summaryPartial?: boolean; bytes: number };
}

/** What {@link benchExplorer} measured. */
export interface ExplorerBenchResult {
  transfers: number;
  days: number;
  wallets: string[];
  blocks: number;
  buildSeconds: number;
  durationSec: number;
  connections: number;
  node: string;
  endpoints: EndpointResult[];
}

const WALLETS = ["ALIPAY", "WECHAT", "YUNPAY", "UNIONPAY"];
/** Share of payers per wallet (ALIPAY and WECHAT carry most of the traffic). */
const WALLET_WEIGHTS = [0.38, 0.34, 0.16, 0.12];
const BLOCK_SECONDS = 2;
const APPLY_RANGE = 10_000;


function pick(r: number, weights: readonly number[]): number {
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i];
    if (r < acc) return i;
  }
  return weights.length - 1;
}

/**
 * Builds the explorer index the way `test/explorer/units.test.ts` does: synthetic chain events
 * folded by {@link RangeApplier} and written as LevelDB batches, here in ranges of ~10,000
 * transfers cut at block boundaries (as the indexer cuts its ranges). The four wallets are
 * registered and approved first, so the overview and the flow matrix list them. Times follow a
 * day/night curve over `days` days ending now (UTC), one block every 2 s; amounts are log-normal
 * around 200.00 (minor units, 2 decimals), from 1.00 up to 200,000.00.
 */
export async function buildSyntheticIndex(index: IndexStore, n: number, days: number, nowSec: number): Promise<{ blocks: number; lastTime: number }> {
  const rand = prng(20_260_101);
  const start = nowSec - days * 86_400;
  // Transfer times: rejection sampling against a diurnal curve (busy 09–22 Beijing time = 01–14 UTC).
  const times: number[] = [];
  while (times.length < n) {
    const t = start + rand() * (nowSec - 60 - start);
    const hourBj = (((t / 3600) % 24) + 8) % 24;
    const density = 0.15 + 0.85 * Math.max(0, Math.sin(((hourBj - 7) / 17) * Math.PI));
    if (rand() < density) times.push(Math.floor(t));
  }
  times.sort((a, b) => a - b);

  const blockTimes = new Map<bigint, number>();
  const blockOf = (t: number) => BigInt(Math.floor((t - start) / BLOCK_SECONDS) + 2);
  const timeOf = (b: bigint) => start + Number(b - 2n) * BLOCK_SECONDS;
  blockTimes.set(1n, start - BLOCK_SECONDS);
  const accounts = new Map<string, string>();
  const bursts = new BurstDetector(DEFAULT_ALERT_RULES.burst);
  const seqs = new Map<string, bigint>();

  // Block 1: the four operators apply and are approved.
  let applier = new RangeApplier(index, DEFAULT_ALERT_RULES, bursts, blockTimes, accounts);
  await applier.load();
  let logIndex = 0;
  for (const [i, code] of WALLETS.entries()) {
    const account = numberToHex(0xa0 + i, { size: 20 }) as Address;
    const common = { contract: "registry" as const, blockNumber: 1n, txHash: numberToHex(1_000 + i, { size: 32 }) };
    await applier.apply({ ...common, name: "OperatorApplied", args: { walletId: walletIdOf(code), name: `${code} Payments`, settlementAccount: account, validator: account, endpoint: `https://${code.toLowerCase()}.example` }, logIndex, pos: posKey(1n, logIndex++) } as ChainEvent);
    await applier.apply({ ...common, name: "OperatorApproved", args: { walletId: walletIdOf(code), approver: numberToHex(0xff, { size: 20 }) }, logIndex, pos: posKey(1n, logIndex++) } as ChainEvent);
  }
  let inRange = 0;
  let lastBlock = 1n;
  for (let i = 0; i < n; i++) {
    const blockNumber = blockOf(times[i]);
    if (blockNumber !== lastBlock) {
      if (inRange >= APPLY_RANGE) {
        applier.finish();
        await index.db.batch(applier.ops as never);
        applier = new RangeApplier(index, DEFAULT_ALERT_RULES, bursts, blockTimes, accounts);
        await applier.load();
        inRange = 0;
      }
      blockTimes.set(blockNumber, timeOf(blockNumber));
      lastBlock = blockNumber;
      logIndex = 0;
    }
    const fi = pick(rand(), WALLET_WEIGHTS);
    let ti = pick(rand(), WALLET_WEIGHTS);
    if (ti === fi) ti = (fi + 1 + Math.floor(rand() * (WALLETS.length - 1))) % WALLETS.length;
    const from = WALLETS[fi];
    const to = WALLETS[ti];
    const seq = seqs.get(from) ?? 0n;
    seqs.set(from, seq + 1n);
    // log-normal: median 200.00, σ = 1.3 → p99 ≈ 4,100.00; clamp to [1.00, 200,000.00].
    const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    const amount = BigInt(Math.min(20_000_000, Math.max(100, Math.round(20_000 * Math.exp(1.3 * z)))));
    const receipt: Receipt = {
      transferId: transferIdOf(walletIdOf(from), seq),
      fromWallet: walletIdOf(from),
      toWallet: walletIdOf(to),
      seq,
      amount,
      payerRef: numberToHex(1_000_000 + Math.floor(rand() * 20_000), { size: 32 }),
      payeeRef: numberToHex(2_000_000 + Math.floor(rand() * 20_000), { size: 32 }),
      memoHash: numberToHex(i, { size: 32 }),
    };
    // One transfer per payee group (a TransfersSettled log with one record), as decodeChainEvent makes it.
    const e: ChainEvent = {
      contract: "hub",
      name: "TransfersSettled",
      args: { fromWallet: receipt.fromWallet, toWallet: receipt.toWallet, firstSeq: seq, transfers: packTransfers([receipt]) },
      receipts: [receipt],
      blockNumber,
      logIndex,
      txHash: numberToHex((blockNumber << 16n) | BigInt(logIndex), { size: 32 }),
      pos: posKey(blockNumber, logIndex),
    };
    logIndex++;
    inRange++;
    await applier.apply(e);
  }
  applier.finish();
  applier.ops.push({ type: "put", sublevel: index.meta, key: "headTime", value: blockTimes.get(lastBlock) ?? null } as never);
  applier.ops.push({ type: "put", sublevel: index.meta, key: "cursor", value: lastBlock.toString() } as never);
  await index.db.batch(applier.ops as never);
  return { blocks: Number(lastBlock), lastTime: blockTimes.get(lastBlock)! };
}

/** A GET load with autocannon; latencies of the 2xx answers from the per-response timings (as load.ts). */
async function hammer(url: string, key: string, p: string, durationSec: number, connections: number): Promise<RunResult> {
  const timed = await hammerOnce(url, key, p, { duration: durationSec }, connections);
  // An answer slower than the run leaves too few samples: then count requests instead (5 per connection).
  return timed.requests >= 5 ? timed : { ...(await hammerOnce(url, key, p, { amount: 5 * connections }, connections)), byCount: true };
}

/**
 * The load generator runs in a worker thread, so autocannon's request building and parsing do not
 * share the event loop of the explorer under test.
 */
const LOAD_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const autocannon = require(workerData.autocannonPath);
const latencies = [];
const instance = autocannon(workerData.options, (err, res) => {
  if (err) throw err;
  parentPort.postMessage({ result: { "2xx": res["2xx"], non2xx: res.non2xx, errors: res.errors, timeouts: res.timeouts }, latencies });
});
instance.on("response", (_client, status, _bytes, ms) => { if (status >= 200 && status < 300) latencies.push(ms); });
`;

async function hammerOnce(url: string, key: string, p: string, limit: { duration: number } | { amount: number }, connections: number): Promise<RunResult> {
  const started = performance.now();
  const options = { url: url + p, connections, ...limit, timeout: 120, headers: { authorization: `Bearer ${key}` } };
  const worker = new Worker(LOAD_WORKER, { eval: true, workerData: { options, autocannonPath: require.resolve("autocannon") } });
  const { result, latencies } = await new Promise<{ result: unknown; latencies: number[] }>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`load worker exited with ${code}`)));
  });
  await worker.terminate();
  const seconds = (performance.now() - started) / 1000;
  const r = result as { "2xx": number; non2xx: number; errors: number; timeouts: number };
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    connections,
    requests: r["2xx"],
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    reqPerSec: Math.round((r["2xx"] / seconds) * 10) / 10,
    p50Ms: round(percentile(latencies, 0.5)),
    p99Ms: round(percentile(latencies, 0.99)),
    maxMs: round(percentile(latencies, 1)),
  };
}

/**
 * "The explorer loads fast on 100,000 transfers": builds an index of `transfers` synthetic
 * transfers, serves it with the real explorer HTTP server (keys, routing, JSON) on 127.0.0.1:0,
 * and measures each heavy read with autocannon: overview, today's flows, the first transfers page
 * (with its summary), a page 20 cursors deep, a pair + today search with its total, an amount
 * band, and one transfer by id.
 *
 * The service runs over the index without a chain: the indexer is a stub reporting the indexed
 * block as unknown, so operator balances are not read (the live service reads them once per
 * indexed block and caches them), and the synthetic transfers have no batches, so `/api/transfers/:id`
 * answers "batch not indexed" instead of checking a Merkle proof on chain. Everything measured is
 * index work plus HTTP.
 */
export async function benchExplorer(options: ExplorerBenchOptions = {}): Promise<ExplorerBenchResult> {
  const n = options.transfers ?? 100_000;
  const days = options.days ?? 14;
  const durationSec = options.durationSec ?? 3;
  const connections = options.connections ?? 10;
  const deepPages = options.deepPages ?? 20;
  const log = options.log ?? (() => {});
  const dir = await mkdtemp(path.join(tmpdir(), "hulian-bench-explorer-"));
  let index: IndexStore | undefined;
  let server: ReturnType<typeof createExplorerServer> | undefined;
  try {
    index = await openIndexStore(dir);
    const nowSec = Math.floor(Date.now() / 1000);
    log(`building the index: ${n} transfers over ${days} days, wallets ${WALLETS.join(", ")}`);
    const t0 = performance.now();
    const built = await buildSyntheticIndex(index, n, days, nowSec);
    const buildSeconds = Math.round((performance.now() - t0) / 10) / 100;
    log(`index built in ${buildSeconds} s (${built.blocks} blocks)`);

    const status: IndexerStatus = { indexedBlock: String(built.blocks), headBlock: String(built.blocks), lagBlocks: 0, caughtUp: true, lastError: null, lastSyncAt: Date.now() };
    const indexer = { status: () => status, indexedBlock: undefined } as unknown as Indexer;
    const zero = "0x0000000000000000000000000000000000000000" as Address;
    const manifest: DeploymentManifest = {
      network: "bench",
      chainId: 1337,
      deploymentBlock: "1",
      deployedAt: new Date((nowSec - days * 86_400) * 1000).toISOString(),
      contracts: { walletRegistry: zero, settlementToken: zero, settlementHub: zero, reserveAttestation: zero },
      roles: { admin: zero, governor: zero, issuer: zero, regulator: zero },
      token: { name: "Settlement CNY", symbol: "sCNY", decimals: 2 },
      transactions: {},
    };
    const client = new Proxy({}, { get: () => () => Promise.reject(new Error("the explorer bench has no chain")) }) as unknown as PublicClient;
    const service = new ExplorerService({ index, client, indexer, manifest, rules: DEFAULT_ALERT_RULES, currency: "CNY" });
    const { key, record } = createExplorerKey("bench");
    server = createExplorerServer({ service, keys: new ExplorerKeyStore([record]), sessions: new SessionStore() });
    const { url } = await server.listen(0, "127.0.0.1");

    const getJson = async (p: string) => {
      const res = await fetch(url + p, { headers: { authorization: `Bearer ${key}` } });
      const text = await res.text();
      if (!res.ok) throw new Error(`GET ${p}: ${res.status} ${text.slice(0, 300)}`);
      return { json: JSON.parse(text), bytes: Buffer.byteLength(text) };
    };
    const midnight = Math.floor(built.lastTime / 86_400) * 86_400;

    // The deep cursor: follow 20 pages of 50 from the first page.
    let cursor: string | undefined;
    for (let page = 0; page < deepPages; page++) {
      const { json } = await getJson(`/api/transfers?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      cursor = json.nextCursor;
      if (!cursor) throw new Error(`no cursor after page ${page + 1}`);
    }
    const first = await getJson("/api/transfers?limit=50");
    const someId = first.json.items[17].transferId as string;

    const targets: [string, string][] = [
      ["overview (24 h)", "/api/overview"],
      ["flows (today)", `/api/flows?since=${midnight}`],
      ["transfers, first page", "/api/transfers?limit=50"],
      [`transfers, page ${deepPages + 1} (cursor)`, `/api/transfers?limit=50&cursor=${encodeURIComponent(cursor!)}`],
      ["WECHAT→ALIPAY today + total", `/api/transfers?from=WECHAT&to=ALIPAY&since=${midnight}&limit=50`],
      ["amount 1,000–5,000 CNY + total", "/api/transfers?min=100000&max=500000&limit=50"],
      ["transfer by id", `/api/transfers/${someId}`],
    ];
    const endpoints: EndpointResult[] = [];
    for (const [name, p] of targets) {
      const { json, bytes } = await getJson(p);
      const sample: EndpointResult["sample"] = { bytes };
      if (Array.isArray(json.items)) Object.assign(sample, { index: json.index, examined: json.examined, items: json.items.length });
      if (json.summary) Object.assign(sample, { summaryCount: json.summary.count, summaryPartial: json.summary.partial });
      log(`${name}: ${p}`);
      const single = await hammer(url, key, p, durationSec, 1);
      const loaded = await hammer(url, key, p, durationSec, connections);
      endpoints.push({ name, path: p, single, loaded, sample });
    }
    return { transfers: n, days, wallets: WALLETS, blocks: built.blocks, buildSeconds, durationSec, connections, node: process.version, endpoints };
  } finally {
    await server?.close().catch(() => {});
    await index?.close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

/** The result as a Markdown table. */
export function formatExplorerTable(r: ExplorerBenchResult): string {
  const lines = [
    `Explorer over ${r.transfers.toLocaleString("en-US")} transfers (${r.days} days, ${r.wallets.length} wallets, ${r.blocks.toLocaleString("en-US")} blocks); index built in ${r.buildSeconds} s; autocannon (worker thread) ${r.durationSec} s per run, 1 then ${r.connections} connections; Node ${r.node}`,
    "",
    `| endpoint | 1 conn p50 ms | 1 conn p99 ms | 1 conn req/s | ${r.connections} conn p50 ms | ${r.connections} conn p99 ms | ${r.connections} conn req/s | non-2xx | index | examined | items | total |`,
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
  ];
  const cells = (x: RunResult) => [x.p50Ms, x.p99Ms, x.byCount ? `${x.reqPerSec}†` : x.reqPerSec];
  for (const e of r.endpoints) {
    const s = e.sample;
    const total = s.summaryCount === undefined ? "" : `${s.summaryCount}${s.summaryPartial ? " (partial)" : ""}`;
    const bad = e.single.non2xx + e.single.errors + e.loaded.non2xx + e.loaded.errors;
    lines.push(`| ${e.name} | ${[...cells(e.single), ...cells(e.loaded)].join(" | ")} | ${bad} | ${s.index ?? ""} | ${s.examined ?? ""} | ${s.items ?? ""} | ${total} |`);
  }
  if (r.endpoints.some((e) => e.single.byCount || e.loaded.byCount)) {
    lines.push("", `† fewer than 5 answers completed in ${r.durationSec} s; measured instead over 5 requests per connection.`);
  }
  return lines.join("\n");
}
