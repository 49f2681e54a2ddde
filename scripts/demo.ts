/**
 * `npm run demo`: the whole network on this machine, driven end to end and checked.
 *
 * Brings up the devnet (embedded chain, contracts, three operator nodes as child processes, in a
 * temporary folder), opens customers on every wallet and tops them up with exactly the operator's
 * minted reserve, drives a few hundred payments through the wallet APIs (same-wallet, cross-wallet
 * in every direction, one to a handle nobody has, which comes back as a return), waits until
 * everything is final, prints each operator's books against the chain, shuts down, and ends with
 * one `demo:` line. Exit code 0 only when every operator's token balance equals its customers'
 * liabilities to the fen. Progress goes to stderr.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { formatMinor } from "../node/api/amounts.ts";
import { progress } from "../node/cli/progress.ts";
import { type ApiPayment, type ApiReconciliation, NodeApiClient, pollUntil, waitForFinalPayments } from "../node/devnet/apiClient.ts";
import { type Devnet, startDevnetChain } from "../node/devnet/devnet.ts";
import { type DevnetNode, startDevnetNodes } from "../node/devnet/devnetNodes.ts";
import { DEFAULT_DEVNET_OPERATORS } from "../node/devnet/devnetOperators.ts";
import { createRandom } from "./prng.ts";

const CUSTOMERS_PER_WALLET = 10;
const PAYMENTS = 400;
const SAME_WALLET_SHARE = 0.25;
const MAX_AMOUNT = 5_000_00;
const CONCURRENCY = 16;

interface Operator {
  code: string;
  reserve: bigint;
  api: NodeApiClient;
  customers: { id: string; handle: string; address: string }[];
}

interface Sent {
  api: NodeApiClient;
  payment: ApiPayment;
  expect: "settled" | "returned";
}

async function inPool<T>(items: readonly T[], width: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await run(items[next++]);
    }),
  );
}

async function setUpCustomers(op: Operator): Promise<void> {
  await pollUntil(`${op.code}'s minted reserve in its ledger`, async () => ((await op.api.reconciliation()).float === op.reserve.toString() ? true : undefined));
  const share = op.reserve / BigInt(CUSTOMERS_PER_WALLET);
  for (let i = 0; i < CUSTOMERS_PER_WALLET; i++) {
    const handle = `${op.code.toLowerCase()}-${String(i + 1).padStart(2, "0")}`;
    const account = await op.api.openAccount(handle, `Demo Customer ${i + 1}`);
    // The last customer takes the remainder, so the whole reserve is allocated.
    const amount = i === CUSTOMERS_PER_WALLET - 1 ? op.reserve - share * BigInt(CUSTOMERS_PER_WALLET - 1) : share;
    await op.api.topUp(account.id, amount, `demo-deposit-${handle}`);
    op.customers.push({ id: account.id, handle, address: account.address });
  }
}

async function drivePayments(operators: Operator[]): Promise<Sent[]> {
  const rnd = createRandom(7);
  const ghostAt = rnd.int(PAYMENTS);
  const jobs = Array.from({ length: PAYMENTS }, (_, i) => {
    const from = rnd.pick(operators);
    const payer = rnd.pick(from.customers);
    const amount = 1n + BigInt(rnd.int(MAX_AMOUNT));
    if (i === ghostAt) {
      const other = rnd.pick(operators.filter((o) => o !== from));
      return { from, payer, to: `no-such-customer@${other.code}`, amount, expect: "returned" as const };
    }
    const same = rnd.next() < SAME_WALLET_SHARE;
    const payeeWallet = same ? from : rnd.pick(operators.filter((o) => o !== from));
    const payee = rnd.pick(payeeWallet.customers.filter((c) => c.id !== payer.id));
    return { from, payer, to: same ? payee.handle : payee.address, amount, expect: "settled" as const };
  });
  const sent: Sent[] = [];
  await inPool(jobs, CONCURRENCY, async (job) => {
    const payment = await job.from.api.pay(job.payer.id, job.to, job.amount, { memo: "demo" });
    sent.push({ api: job.from.api, payment, expect: job.expect });
    if (sent.length % 100 === 0) progress(`${sent.length} payments accepted`);
  });
  return sent;
}

async function quiescent(op: Operator, head: bigint): Promise<ApiReconciliation> {
  return pollUntil(`${op.code} to settle down`, async () => {
    const r = await op.api.reconciliation();
    const busy = r.outboxDepth > 0 || r.batchInFlight || r.outboundInFlight !== "0" || r.suspense !== "0" || BigInt(r.atBlock) < head;
    return busy ? undefined : r;
  });
}

function table(recs: ApiReconciliation[], symbol: string): string {
  const money = (v: string) => formatMinor(BigInt(v), 2);
  const rows = [
    ["operator", `token balance (${symbol})`, "liabilities", "float", "in flight", "suspense", "difference"],
    ...recs.map((r) => [r.wallet, money(r.tokenBalance), money(r.liabilities), money(r.float), money(r.outboundInFlight), money(r.suspense), money(r.difference)]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ")).join("\n");
}

async function main(): Promise<number> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "hulian-demo-"));
  let devnet: Devnet | undefined;
  let nodes: DevnetNode[] = [];
  const stopAll = async () => {
    await Promise.allSettled(nodes.map((n) => n.process.stop()));
    await devnet?.close().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  };
  const interrupted = () => {
    progress("interrupted: shutting down");
    void stopAll().finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    devnet = await startDevnetChain({ dataDir, rpcPort: 0, operators: DEFAULT_DEVNET_OPERATORS, onProgress: progress });
    progress("starting the operator nodes");
    nodes = await startDevnetNodes(devnet, dataDir, { apiBasePort: 0 });
    const operators: Operator[] = nodes.map((n) => ({
      code: n.code,
      reserve: DEFAULT_DEVNET_OPERATORS.find((s) => s.code === n.code)!.reserve,
      api: new NodeApiClient(n.url, n.keys),
      customers: [],
    }));

    progress(`opening ${CUSTOMERS_PER_WALLET} customers per wallet and allocating each reserve to them`);
    await Promise.all(operators.map(setUpCustomers));

    progress(`sending ${PAYMENTS} payments`);
    const sent = await drivePayments(operators);
    progress("waiting until every payment is final");
    const final = await waitForFinalPayments(
      sent.map((s) => ({ api: s.api, id: s.payment.id, until: s.expect })),
      { timeoutMs: 60_000 },
    );
    const head = await pollUntil("the chain head", async () => {
      const res = await fetch(devnet!.chain.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] }),
      });
      return BigInt(((await res.json()) as { result: string }).result);
    });
    const recs = await Promise.all(operators.map((op) => quiescent(op, head)));

    console.log(table(recs, devnet.manifest.token.symbol));
    const payments = sent.length;
    const crossWallet = sent.filter((s) => s.payment.kind === "cross_wallet").length;
    const returned = [...final.values()].filter((p) => p.status === "returned").length;
    const off = recs.filter(
      (r) => !r.reconciled || r.tokenBalance !== r.liabilities || r.float !== "0" || r.outboundInFlight !== "0" || r.suspense !== "0",
    );

    progress("shutting down");
    await stopAll();
    const summary = `demo: payments=${payments} cross_wallet=${crossWallet} returned=${returned} operators=${operators.length}`;
    if (off.length === 0) {
      console.log(`${summary} reconciled`);
      return 0;
    }
    const why = off.map((r) => `${r.wallet}(token=${r.tokenBalance} liabilities=${r.liabilities} float=${r.float} in_flight=${r.outboundInFlight} suspense=${r.suspense} difference=${r.difference})`);
    console.log(`${summary} NOT reconciled ${why.join(" ")}`);
    return 1;
  } catch (e) {
    progress(`failed: ${(e as Error).stack ?? String(e)}`);
    await stopAll();
    console.log(`demo: failed (${(e as Error).message}) NOT reconciled`);
    return 1;
  }
}

process.exitCode = await main();
