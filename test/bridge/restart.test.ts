import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadPlans } from "../../node/bridge/batchPlan.ts";
import { openKeystoreFile } from "../../node/keys/keystore.ts";
import { TRANSFERS_SETTLED_TOPIC, receiptsOfTransfersSettled, transferIdOf } from "../../node/receipts/index.ts";
import { type ApiAccount, type ApiPayment, pollUntil, waitForFinalPayments } from "../helpers/http.ts";
import { type OperatorNetwork, type TestOperator, startOperatorNetwork, verifyStoredLedger } from "./operatorNetwork.ts";

/*
 * The crash test: the payer's node is a real child process, killed with SIGKILL while its batch
 * sits signed in the chain's mempool. Whatever happens to that transaction next — mined while the
 * node is dead, or dropped — the restarted node must settle every payment exactly once.
 */

const N = 12;
const RESERVE = 1_000_000_00n;
let net: OperatorNetwork;
let payer: TestOperator;
let payee: TestOperator;
let customer: ApiAccount;

beforeAll(async () => {
  net = await startOperatorNetwork(
    [
      { code: "ALIPAY", name: "Alipay", reserve: RESERVE },
      { code: "WECHAT", name: "WeChat Pay", reserve: RESERVE },
    ],
    // One batch of exactly N: the batcher waits for all N payments, then plans and sends them together.
    { mode: "process", batch: { maxTransfers: N, maxDelayMs: 60_000 } },
  );
  payer = net.byCode("ALIPAY");
  payee = net.byCode("WECHAT");
  await pollUntil("ALIPAY's reserve", async () => ((await payer.api.reconciliation()).float === String(RESERVE) ? true : undefined));
  customer = await payer.api.openAccount("payer", "Pan Wei");
  await payer.api.topUp(customer.id, 500_000_00n);
});

afterAll(async () => {
  if (net) await net.rpc("evm_setAutomine", [true]).catch(() => undefined);
  await net?.close();
});

const balance = async (op: TestOperator, id: string) => BigInt((await op.api.account(id)).balance);

async function pendingNonceGap(): Promise<number> {
  const pending = await net.client.getTransactionCount({ address: payer.account, blockTag: "pending" });
  const mined = await net.client.getTransactionCount({ address: payer.account, blockTag: "latest" });
  return pending - mined;
}

/**
 * Accepts N cross-wallet payments with automine off and waits until their batch is planned,
 * persisted and broadcast; then kills the payer's node with SIGKILL.
 */
async function acceptAndCrash(to: ApiAccount) {
  const nextSeq = await net.nextSeq(payer.walletId);
  await net.rpc("evm_setAutomine", [false]);
  const payments: ApiPayment[] = [];
  for (let i = 0; i < N; i++) {
    const p = await payer.api.pay(customer.id, `${to.handle}@WECHAT`, 1_00n + BigInt(i));
    expect(p).toMatchObject({ kind: "cross_wallet", status: "accepted" });
    payments.push(p);
  }
  const total = payments.reduce((s, p) => s + BigInt(p.amount), 0n);
  await pollUntil("every payment to be settling", async () => {
    const all = await Promise.all(payments.map((p) => payer.api.payment(p.id)));
    return all.every((p) => p.status === "settling") ? true : undefined;
  });
  await pollUntil("the batch transaction in the mempool", async () => ((await pendingNonceGap()) === 1 ? true : undefined));
  await payer.kill9();

  // The plan was on disk before the transaction left: N payments from the chain's nextSeq.
  const plans = await payer.withStore((store) => loadPlans(store));
  expect(plans).toHaveLength(1);
  expect(plans[0]).toMatchObject({ firstSeq: nextSeq.toString() });
  expect(plans[0].items.map((i) => i.paymentId)).toEqual(payments.map((p) => p.id));
  const pending = await net.client.getTransaction({ hash: plans[0].hash! });
  expect(pending.blockNumber).toBeNull();
  return { nextSeq, payments, total, plan: plans[0] };
}

/** Restarts the payer and checks that every payment settled exactly once, with the payee credited once. */
async function expectSettledOnce(run: Awaited<ReturnType<typeof acceptAndCrash>>, to: ApiAccount, payerBefore: bigint) {
  const final = await waitForFinalPayments(run.payments.map((p) => ({ api: payer.api, id: p.id })));
  const settled = run.payments.map((p) => final.get(p.id)!);
  expect(settled.map((p) => p.status)).toEqual(Array(N).fill("settled"));
  expect(settled.map((p) => p.seq)).toEqual(settled.map((_, i) => (run.nextSeq + BigInt(i)).toString()));
  expect(settled.map((p) => p.transferId)).toEqual(settled.map((_, i) => transferIdOf(payer.walletId, run.nextSeq + BigInt(i))));
  expect(await net.nextSeq(payer.walletId)).toBe(run.nextSeq + BigInt(N));

  // On chain: each transfer settled once, in one batch transaction.
  const logs = await net.client.getLogs({ address: net.devnet.manifest.contracts.settlementHub, fromBlock: 0n, toBlock: "latest" });
  const ids = new Set(settled.map((p) => p.transferId!.toLowerCase()));
  const events = logs
    .filter((l) => l.topics[0] === TRANSFERS_SETTLED_TOPIC)
    .flatMap((l) => receiptsOfTransfersSettled(l).map((r) => ({ transferId: r.transferId, transactionHash: l.transactionHash })))
    .filter((r) => ids.has(r.transferId.toLowerCase()));
  expect(events).toHaveLength(N);
  expect(new Set(events.map((e) => e.transactionHash)).size).toBe(1);
  expect(new Set(settled.map((p) => p.txHash))).toEqual(new Set([events[0].transactionHash as Hex]));

  // The payee was credited once per transfer; the payer was debited once per payment. The payee's
  // API shows a balance as soon as its inbound follower has applied the block range (in memory),
  // but history only once that write is on disk (after its fsync): wait for the history, the later
  // of the two, never for the balance alone.
  const credited = async () => (await payee.api.history(to.id)).items.filter((i) => i.kind === "inbound_credited");
  await expect.poll(async () => (await credited()).length, { timeout: 30_000 }).toBe(N);
  expect((await credited()).map((i) => BigInt(i.amount)).reduce((s, a) => s + a, 0n)).toBe(run.total);
  expect(await balance(payee, to.id)).toBe(run.total);
  expect(await balance(payer, customer.id)).toBe(payerBefore - run.total);

  for (const op of [payer, payee]) {
    const head = await net.client.getBlockNumber({ cacheTime: 0 });
    const r = await pollUntil(`${op.code} to reconcile`, async () => {
      const r = await op.api.reconciliation();
      return BigInt(r.atBlock) >= head && r.outboxDepth === 0 && !r.batchInFlight ? r : undefined;
    });
    expect(r).toMatchObject({ reconciled: true, balanced: true, difference: "0", outboundInFlight: "0", suspense: "0" });
  }
}

describe("restart", () => {
  test("behavior: batch mined while the payer's node is dead → recorded as settled once after restart", async () => {
    const to = await payee.api.openAccount("payee-a", "Yang Fang");
    const payerBefore = await balance(payer, customer.id);
    const run = await acceptAndCrash(to);

    await net.rpc("evm_mine");
    expect(await net.nextSeq(payer.walletId)).toBe(run.nextSeq + BigInt(N));
    await net.rpc("evm_setAutomine", [true]);
    const mined = await net.client.getTransactionCount({ address: payer.account, blockTag: "latest" });

    await payer.start();
    await expectSettledOnce(run, to, payerBefore);
    // Recovery read the chain; it sent nothing (the batch had landed, the endpoint is unchanged).
    expect(await net.client.getTransactionCount({ address: payer.account, blockTag: "latest" })).toBe(mined);
  });

  test("behavior: batch dropped from the mempool while the node is dead → sent again after restart, settled once", async () => {
    const to = await payee.api.openAccount("payee-b", "Zhao Lei");
    const payerBefore = await balance(payer, customer.id);
    const run = await acceptAndCrash(to);

    expect(await net.rpc("hardhat_dropTransaction", [run.plan.hash])).toBe(true);
    expect(await pendingNonceGap()).toBe(0);
    await net.rpc("evm_mine");
    expect(await net.nextSeq(payer.walletId)).toBe(run.nextSeq);
    await net.rpc("evm_setAutomine", [true]);

    await payer.start();
    await expectSettledOnce(run, to, payerBefore);
  });

  test("behavior: batch dropped and its nonce taken by another transaction → re-signed after restart, settled once", async () => {
    const to = await payee.api.openAccount("payee-c", "Sun Li");
    const payerBefore = await balance(payer, customer.id);
    const run = await acceptAndCrash(to);

    expect(await net.rpc("hardhat_dropTransaction", [run.plan.hash])).toBe(true);
    // The operator's key signs something else with the batch's nonce, so the saved bytes can never land.
    const key = await openKeystoreFile(net.devnet.operators.find((o) => o.code === payer.code)!.keystoreFile, net.devnet.keystorePassword);
    const other = await privateKeyToAccount(key.privateKey).signTransaction({
      chainId: net.devnet.chain.chainId,
      type: "legacy",
      nonce: run.plan.nonce!,
      gas: 21_000n,
      gasPrice: await net.client.getGasPrice(),
      to: payer.account,
      value: 0n,
    });
    await net.rpc("eth_sendRawTransaction", [other]);
    await net.rpc("evm_mine");
    expect(await net.nextSeq(payer.walletId)).toBe(run.nextSeq);
    await net.rpc("evm_setAutomine", [true]);

    await payer.start();
    await expectSettledOnce(run, to, payerBefore);
    const settled = await payer.api.payment(run.payments[0].id);
    expect(settled.txHash).not.toBe(run.plan.hash);
  });

  test("behavior: after the crashes both ledgers re-derive from their journals with a zero trial balance", async () => {
    for (const op of [payer, payee]) {
      await op.stop();
      const verified = await verifyStoredLedger(op);
      expect(verified.problems).toEqual([]);
      expect(verified).toMatchObject({ ok: true, total: 0n });
    }
    await Promise.all([payer.start(), payee.start()]);
    for (const op of [payer, payee]) expect((await op.api.reconciliation()).reconciled).toBe(true);
  });
});
