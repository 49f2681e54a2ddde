import { type Address, type Hex, encodeFunctionData, parseGwei } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { naivePaymentsAbi } from "../../node/chain/abi/generated.ts";
import { NodeApiClient, pollUntil } from "../../node/devnet/apiClient.ts";
import type { DevnetNode } from "../../node/devnet/devnetNodes.ts";
import { receiptLeaf, transferIdOf, walletIdOf } from "../../node/receipts/index.ts";
import { type LoadResult, postBulkPayments, postPayments } from "./load.ts";
import { rpc } from "./network.ts";

/** Customer accounts opened in each wallet: `u0` … `u{n-1}`, each payer and payee. */
export interface Customers {
  /** Account ids by wallet code, index i has handle `u{i}`. */
  ids: Map<string, string[]>;
  count: number;
}

/** Opens `count` accounts in every node and tops each up (waiting for the node to see its reserve). */
export async function openCustomers(nodes: DevnetNode[], count: number, balance: bigint): Promise<Customers> {
  const ids = new Map<string, string[]>();
  await Promise.all(
    nodes.map(async (node) => {
      const api = new NodeApiClient(node.url, node.keys);
      const list: string[] = [];
      for (let i = 0; i < count; i++) list.push((await api.openAccount(`u${i}`, `User ${i}`)).id);
      // The float is funded once the node has applied its reserve mint from the chain.
      await pollUntil(`${node.code} to see its reserve`, () => api.topUp(list[0], balance).then(() => true), { timeoutMs: 30_000, intervalMs: 100 });
      for (let i = 1; i < count; i += 16) await Promise.all(list.slice(i, i + 16).map((id) => api.topUp(id, balance)));
      ids.set(node.code, list);
    }),
  );
  return { ids, count };
}

/** Reads one counter from a node's `/metrics` (admin key). */
export async function metric(node: DevnetNode, name: string): Promise<number> {
  const res = await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${node.keys.admin}` } });
  const text = await res.text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, "m").exec(text);
  if (!m) throw new Error(`${node.code} /metrics has no ${name}`);
  return Number(m[1]);
}

/** Result of {@link benchE2e} and {@link benchE2eBulk}. */
export interface E2eBench {
  perSec: number;
  payments: number;
  seconds: number;
  /** Seconds from the first accept to the last accept (the API side alone). */
  acceptSeconds: number;
  /** Seconds from the last accept until every payee node had credited everything. */
  settleLagSeconds: number;
  failed: number;
  /** Bulk only: payments per request and requests sent. */
  perRequest?: number;
  requests?: number;
}

/**
 * Cross-wallet payments end to end: each node's customers pay customers of the two other wallets
 * through the HTTP API (all three nodes loaded at once), and the clock runs from the first
 * accepted payment to the moment every payee node has credited every payment it was sent
 * (`hulian_inbound_credited_total` on the payee nodes' /metrics).
 */
export async function benchE2e(nodes: DevnetNode[], customers: Customers, total: number, connections: number): Promise<E2eBench> {
  const tally = await startTally(nodes);
  const perNode = Math.ceil(total / nodes.length);
  const runs = nodes.map((node, k) =>
    postPayments({
      url: node.url,
      appKey: node.keys.app,
      connections,
      amount: perNode,
      body: e2ePayment(nodes, node, k, customers),
      onResponse: (status, body) => {
        if (status !== 202) {
          tally.failed++;
          return;
        }
        tally.accepted(1);
        const toWallet = /"toWallet":"([A-Z0-9_-]+)"/.exec(body)?.[1];
        if (toWallet) tally.expect(toWallet, 1);
      },
    }),
  );
  return tally.finish(await Promise.all(runs));
}

/**
 * The same cross-wallet payments as {@link benchE2e}, submitted as wallet back ends submit
 * batches: `POST /v1/payments/bulk` with `perRequest` payments each, `connections` requests in
 * flight per node. The clock starts when the first request is sent (a bulk request answers only
 * once all its payments are accepted) and stops when every payee node has credited every payment.
 */
export async function benchE2eBulk(nodes: DevnetNode[], customers: Customers, total: number, perRequest: number, connections: number): Promise<E2eBench> {
  const tally = await startTally(nodes);
  const requestsPerNode = Math.ceil(total / nodes.length / perRequest);
  tally.started = performance.now();
  const runs = nodes.map((node, k) =>
    postBulkPayments({
      url: node.url,
      appKey: node.keys.app,
      connections,
      requests: requestsPerNode,
      perRequest,
      body: e2ePayment(nodes, node, k, customers),
      onResponse: (status, body) => {
        if (status !== 200) {
          tally.failed += perRequest;
          return;
        }
        const answer = JSON.parse(body) as { accepted: number; results: { status: string; payment?: { toWallet: string } }[] };
        tally.accepted(answer.accepted);
        tally.failed += answer.results.length - answer.accepted;
        for (const r of answer.results) if (r.payment) tally.expect(r.payment.toWallet, 1);
      },
    }),
  );
  const bench = await tally.finish(await Promise.all(runs));
  return { ...bench, perRequest, requests: requestsPerNode * nodes.length };
}

/** The i-th payment node `k` sends: its customers pay customers of the two other wallets in turn. */
function e2ePayment(nodes: DevnetNode[], node: DevnetNode, k: number, customers: Customers) {
  const others = nodes.map((n) => n.code).filter((c) => c !== node.code);
  const payers = customers.ids.get(node.code)!;
  return (i: number) => ({
    from: payers[i % payers.length],
    to: `u${(i * 7 + k) % customers.count}@${others[i % others.length]}`,
    amount: String(1 + (i % 97)),
  });
}

/** Counts accepts per payee wallet during a run, then waits until the payee nodes credited them all. */
async function startTally(nodes: DevnetNode[]) {
  const creditedBefore = await Promise.all(nodes.map((n) => metric(n, "hulian_inbound_credited_total")));
  const expected = new Map<string, number>(nodes.map((n) => [n.code, 0]));
  const tally = {
    /** When the clock starts: the first accept, unless a run sets it. */
    started: undefined as number | undefined,
    firstAccept: Infinity,
    lastAccept: 0,
    failed: 0,
    count: 0,
    accepted(n: number) {
      const now = performance.now();
      if (now < tally.firstAccept) tally.firstAccept = now;
      if (now > tally.lastAccept) tally.lastAccept = now;
      tally.count += n;
    },
    expect(toWallet: string, n: number) {
      expected.set(toWallet, (expected.get(toWallet) ?? 0) + n);
    },
    async finish(loads: LoadResult[]): Promise<E2eBench> {
      if (tally.count === 0) throw new Error(`no payment was accepted: ${loads.find((r) => r.firstFailure)?.firstFailure}`);
      let done = 0;
      await pollUntil(
        `${tally.count} payments to be credited`,
        async () => {
          const credited = await Promise.all(nodes.map((n) => metric(n, "hulian_inbound_credited_total")));
          const complete = nodes.every((n, i) => credited[i] - creditedBefore[i] >= expected.get(n.code)!);
          if (complete) done = performance.now();
          return complete ? true : undefined;
        },
        // Each poll reads three /metrics; 50 ms keeps the clock fine enough without loading the nodes.
        { timeoutMs: 300_000, intervalMs: 50 },
      );
      const from = tally.started ?? tally.firstAccept;
      const seconds = (done - from) / 1000;
      return {
        perSec: tally.count / seconds,
        payments: tally.count,
        seconds,
        acceptSeconds: (tally.lastAccept - from) / 1000,
        settleLagSeconds: (done - tally.lastAccept) / 1000,
        failed: tally.failed + loads.reduce((s, r) => s + r.errors, 0),
      };
    },
  };
  return tally;
}

/** Result of {@link benchNaiveE2e}. */
export interface NaiveE2eBench {
  perSec: number;
  payments: number;
  seconds: number;
}

/**
 * The naive design on the same chain: one `NaivePayments.pay` transaction per payment, pre-signed
 * (so signing is not counted), three senders (one per operator) broadcasting at once, each in nonce
 * order; the clock runs from the first broadcast to the last payment's receipt.
 */
export async function benchNaiveE2e(rpcUrl: string, chainId: number, naive: Address, senders: Hex[], payees: { walletId: Hex; account: Address }[], total: number): Promise<NaiveE2eBench> {
  const gasPrice = BigInt(await rpc<string>(rpcUrl, "eth_gasPrice"));
  const perSender = Math.ceil(total / senders.length);
  const signed: Hex[][] = [];
  for (const [s, key] of senders.entries()) {
    const account = privateKeyToAccount(key);
    const fromWallet = walletIdOf(`NAIVE${s}`);
    const nonce = Number(BigInt(await rpc<string>(rpcUrl, "eth_getTransactionCount", [account.address, "pending"])));
    const list: Hex[] = [];
    for (let i = 0; i < perSender; i++) {
      const payee = payees[i % payees.length];
      const seq = BigInt(i + 1);
      const transferId = transferIdOf(fromWallet, seq);
      const leaf = receiptLeaf({ transferId, fromWallet, toWallet: payee.walletId, seq, amount: 1n, payerRef: transferId, payeeRef: transferId, memoHash: transferId });
      const data = encodeFunctionData({ abi: naivePaymentsAbi, functionName: "pay", args: [transferId, payee.account, BigInt(1 + (i % 97)), leaf] });
      list.push(await account.signTransaction({ chainId, type: "legacy", nonce: nonce + i, gas: 150_000n, gasPrice: gasPrice > 0n ? gasPrice : parseGwei("1"), to: naive, data }));
    }
    signed.push(list);
  }
  const started = performance.now();
  const lastHashes = await Promise.all(
    signed.map(async (list) => {
      let hash: Hex | undefined;
      for (const raw of list) hash = await rpc<Hex>(rpcUrl, "eth_sendRawTransaction", [raw]);
      return hash!;
    }),
  );
  for (const hash of lastHashes) {
    const receipt = await pollUntil("naive receipt", () => rpc<{ status: string } | null>(rpcUrl, "eth_getTransactionReceipt", [hash]).then((r) => r ?? undefined), { timeoutMs: 120_000, intervalMs: 10 });
    if (receipt.status !== "0x1") throw new Error(`naive payment ${hash} reverted`);
  }
  const seconds = (performance.now() - started) / 1000;
  const payments = perSender * senders.length;
  return { perSec: payments / seconds, payments, seconds };
}
