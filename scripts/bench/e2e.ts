import { type Address, type Hex, encodeFunctionData, parseGwei } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { naivePaymentsAbi } from "../../node/chain/abi/generated.ts";
import { NodeApiClient, pollUntil } from "../../node/devnet/apiClient.ts";
import type { DevnetNode } from "../../node/devnet/devnetNodes.ts";
import { receiptLeaf, transferIdOf, walletIdOf } from "../../node/receipts/index.ts";
import { postPayments } from "./load.ts";
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

/** Result of {@link benchE2e}. */
export interface E2eBench {
  perSec: number;
  payments: number;
  seconds: number;
  /** Seconds from the first accept to the last accept (the API side alone). */
  acceptSeconds: number;
  failed: number;
}

/**
 * Cross-wallet payments end to end: each node's customers pay customers of the two other wallets
 * through the HTTP API (all three nodes loaded at once), and the clock runs from the first
 * accepted payment to the moment every payee node has credited every payment it was sent
 * (`hulian_inbound_credited_total` on the payee nodes' /metrics).
 */
export async function benchE2e(nodes: DevnetNode[], customers: Customers, total: number, connections: number): Promise<E2eBench> {
  const codes = nodes.map((n) => n.code);
  const creditedBefore = await Promise.all(nodes.map((n) => metric(n, "hulian_inbound_credited_total")));
  const expected = new Map<string, number>(codes.map((c) => [c, 0]));
  let firstAccept = Infinity;
  let lastAccept = 0;
  let failed = 0;
  const perNode = Math.ceil(total / nodes.length);
  const runs = nodes.map((node, k) => {
    const others = codes.filter((c) => c !== node.code);
    const payers = customers.ids.get(node.code)!;
    return postPayments({
      url: node.url,
      appKey: node.keys.app,
      connections,
      amount: perNode,
      body: (i) => ({
        from: payers[i % payers.length],
        to: `u${(i * 7 + k) % customers.count}@${others[i % others.length]}`,
        amount: String(1 + (i % 97)),
      }),
      onResponse: (status, body) => {
        if (status !== 202) {
          failed++;
          return;
        }
        const now = performance.now();
        if (now < firstAccept) firstAccept = now;
        if (now > lastAccept) lastAccept = now;
        const toWallet = /"toWallet":"([A-Z0-9_-]+)"/.exec(body)?.[1];
        if (toWallet) expected.set(toWallet, expected.get(toWallet)! + 1);
      },
    });
  });
  const loads = await Promise.all(runs);
  const accepted = loads.reduce((s, r) => s + r.ok, 0);
  if (accepted === 0) throw new Error(`no payment was accepted: ${loads.find((r) => r.firstFailure)?.firstFailure}`);
  let done = 0;
  await pollUntil(
    `${accepted} payments to be credited`,
    async () => {
      const credited = await Promise.all(nodes.map((n) => metric(n, "hulian_inbound_credited_total")));
      const complete = nodes.every((n, i) => credited[i] - creditedBefore[i] >= expected.get(n.code)!);
      if (complete) done = performance.now();
      return complete ? true : undefined;
    },
    { timeoutMs: 300_000, intervalMs: 25 },
  );
  const seconds = (done - firstAccept) / 1000;
  return { perSec: accepted / seconds, payments: accepted, seconds, acceptSeconds: (lastAccept - firstAccept) / 1000, failed: failed + loads.reduce((s, r) => s + r.errors, 0) };
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
