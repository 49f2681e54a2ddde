import { type Hex, parseEventLogs } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { settlementHubAbi } from "../../node/chain/abi/generated.ts";
import { INBOUND_CURSOR } from "../../node/bridge/inbound.ts";
import { SYSTEM_ACCOUNTS } from "../../node/ledger/accounts.ts";
import { TRANSFERS_SETTLED_TOPIC, receiptsOfTransfersSettled } from "../../node/receipts/index.ts";
import { type ApiAccount, type ApiPayment, type ApiReconciliation, pollUntil, waitForFinalPayments } from "../helpers/http.ts";
import { type OperatorNetwork, type TestOperator, startOperatorNetwork } from "./operatorNetwork.ts";

const RESERVE = 1_000_000_00n;
let net: OperatorNetwork;
let alipay: TestOperator;
let wechat: TestOperator;
let alice: ApiAccount;
let bob: ApiAccount;
let handles = 0;

beforeAll(async () => {
  net = await startOperatorNetwork([
    { code: "ALIPAY", name: "Alipay", reserve: RESERVE },
    { code: "WECHAT", name: "WeChat Pay", reserve: RESERVE },
  ]);
  alipay = net.byCode("ALIPAY");
  wechat = net.byCode("WECHAT");
  await Promise.all([alipay, wechat].map((op) => pollUntil(`${op.code}'s reserve`, async () => ((await op.api.reconciliation()).float === String(RESERVE) ? true : undefined))));
  alice = await alipay.api.openAccount("alice", "Alice Wang");
  bob = await wechat.api.openAccount("bob", "Bob Li");
  await alipay.api.topUp(alice.id, 100_000_00n);
  await wechat.api.topUp(bob.id, 100_000_00n);
});

afterAll(async () => {
  await net?.close();
});

const balance = async (op: TestOperator, id: string) => BigInt((await op.api.account(id)).balance);

/** Waits until the operator's ledger has applied the chain up to its current head and agrees with it. */
async function settledDown(op: TestOperator): Promise<ApiReconciliation> {
  const head = await net.client.getBlockNumber({ cacheTime: 0 });
  return pollUntil(`${op.code} to reconcile at block ${head}`, async () => {
    const r = await op.api.reconciliation();
    return BigInt(r.atBlock) >= head && r.reconciled && !r.batchInFlight && r.outboxDepth === 0 && r.suspense === "0" ? r : undefined;
  });
}

async function pay(from: TestOperator, account: ApiAccount, to: string, amount: bigint): Promise<ApiPayment> {
  return from.api.pay(account.id, to, amount, { memo: `test ${++handles}` });
}

async function final(op: TestOperator, p: ApiPayment, until?: ApiPayment["status"]): Promise<ApiPayment> {
  return (await waitForFinalPayments([{ api: op.api, id: p.id, until }], { timeoutMs: 20_000 })).get(p.id)!;
}

async function returnedEvent(transferId: string) {
  const logs = await net.client.getLogs({
    address: net.devnet.manifest.contracts.settlementHub,
    fromBlock: 0n,
    toBlock: "latest",
  });
  return parseEventLogs({ abi: settlementHubAbi, logs, eventName: "TransferReturned" }).filter(
    (l) => (l.args as { originalTransferId: string }).originalTransferId.toLowerCase() === transferId.toLowerCase(),
  );
}

/** Every balance a running in-process node holds, by account id. */
function balances(op: TestOperator): Map<string, bigint> {
  const trial = op.node!.ledger.trialBalance();
  const out = new Map<string, bigint>(Object.entries(trial.system));
  out.set("liabilities", trial.liabilities);
  return out;
}

describe("inbound", () => {
  test("default: a cross-wallet payment credits its payee exactly once", async () => {
    const before = await balance(wechat, bob.id);
    const p = await final(alipay, await pay(alipay, alice, "bob@WECHAT", 250_00n));
    expect(p).toMatchObject({ status: "settled", kind: "cross_wallet" });
    await settledDown(wechat);
    expect(await balance(wechat, bob.id)).toBe(before + 250_00n);
  });

  test("behavior: a payment to an unknown handle is held in op:suspense, returned on chain and credited back to the payer", async () => {
    const aliceBefore = await balance(alipay, alice.id);
    const accepted = await pay(alipay, alice, "nobody-here@WECHAT", 777_00n);
    expect(accepted.status).toMatch(/^(accepted|settling)$/);
    expect(await balance(alipay, alice.id)).toBe(aliceBefore - 777_00n);

    const p = await final(alipay, accepted, "returned");
    expect(p).toMatchObject({ status: "returned", reason: "payee_account_unknown" });
    await settledDown(alipay);
    expect(await balance(alipay, alice.id)).toBe(aliceBefore);

    const events = await returnedEvent(p.transferId!);
    expect(events).toHaveLength(1);
    expect(events[0].args).toMatchObject({ amount: 777_00n, reasonCode: 1 });

    // The payee wallet parked the money in suspense until its return settled, then released it.
    // History is read from disk, a moment (one fsync) behind the balances and the follower's
    // cursor that settledDown sees: poll it.
    await settledDown(wechat);
    const moves = async () => {
      const suspense = await wechat.node!.ledger.history(SYSTEM_ACCOUNTS.suspense, { limit: 100 });
      // History lists newest first.
      const ours = suspense.items.filter((i) => i.entry.ref?.toLowerCase().endsWith(p.transferId!.toLowerCase()));
      return ours.reverse().map((i) => [i.entry.kind, i.amount]);
    };
    await expect.poll(moves).toEqual([
      ["inbound_held", 777_00n],
      ["suspense_returned", -777_00n],
    ]);
    expect(wechat.node!.ledger.balance(SYSTEM_ACCOUNTS.suspense)).toBe(0n);
  });

  test("behavior: a payment to an account closed after it was resolved comes back with the closed reason", async () => {
    const carol = await wechat.api.openAccount("carol", "Carol Chen");
    const aliceBefore = await balance(alipay, alice.id);
    // Hold the payment in the mempool so the account closes between resolution and settlement.
    await net.rpc("evm_setAutomine", [false]);
    let accepted: ApiPayment | undefined;
    try {
      accepted = await pay(alipay, alice, "carol@WECHAT", 300_00n);
      await pollUntil("the batch to be broadcast", async () => {
        const pending = await net.client.getTransactionCount({ address: alipay.account, blockTag: "pending" });
        const mined = await net.client.getTransactionCount({ address: alipay.account, blockTag: "latest" });
        return pending > mined ? true : undefined;
      });
      expect((await wechat.api.closeAccount(carol.id)).status).toBe("closed");
    } finally {
      await net.rpc("evm_setAutomine", [true]);
      await net.rpc("evm_mine");
    }
    const p = await final(alipay, accepted!, "returned");
    expect(p).toMatchObject({ status: "returned", reason: "payee_account_closed" });
    const events = await returnedEvent(p.transferId!);
    expect(events).toHaveLength(1);
    expect(events[0].args).toMatchObject({ reasonCode: 2 });
    await settledDown(alipay);
    expect(await balance(alipay, alice.id)).toBe(aliceBefore);
    expect((await wechat.api.account(carol.id)).balance).toBe("0");
    await settledDown(wechat);
  });

  test("behavior: one payee group of several transfers: each is credited or returned on its own, the return proven against the whole batch", async () => {
    await Promise.all([settledDown(alipay), settledDown(wechat)]);
    const aliceBefore = await balance(alipay, alice.id);
    const bobBefore = await balance(wechat, bob.id);
    const broadcast = () =>
      pollUntil("a batch to be broadcast", async () => {
        const pending = await net.client.getTransactionCount({ address: alipay.account, blockTag: "pending" });
        const mined = await net.client.getTransactionCount({ address: alipay.account, blockTag: "latest" });
        return pending > mined ? true : undefined;
      });
    const accepted: ApiPayment[] = [];
    await net.rpc("evm_setAutomine", [false]);
    try {
      // While a first batch waits in the mempool the next payments queue up; they then leave
      // together: one batch, one payee group (one TransfersSettled log) of three records.
      accepted.push(await pay(alipay, alice, "bob@WECHAT", 1_00n));
      await broadcast();
      for (const [to, amount] of [["bob@WECHAT", 2_00n], ["nobody-in-group@WECHAT", 3_00n], ["bob@WECHAT", 4_00n]] as const) accepted.push(await pay(alipay, alice, to, amount));
      await net.rpc("evm_mine");
      await broadcast();
    } finally {
      await net.rpc("evm_setAutomine", [true]);
      await net.rpc("evm_mine");
    }
    const [, ...group] = await Promise.all(accepted.map((p, i) => final(alipay, p, i === 2 ? "returned" : undefined)));
    expect(group.map((p) => p.status)).toEqual(["settled", "returned", "settled"]);
    expect(new Set(group.map((p) => p.txHash)).size).toBe(1);
    const receipt = await net.client.getTransactionReceipt({ hash: group[0].txHash as Hex });
    const logs = receipt.logs.filter((l) => l.topics[0] === TRANSFERS_SETTLED_TOPIC);
    expect(logs).toHaveLength(1);
    expect(receiptsOfTransfersSettled(logs[0]).map((r) => r.transferId)).toEqual(group.map((p) => p.transferId));
    expect(await returnedEvent(group[1].transferId!)).toHaveLength(1);

    await Promise.all([settledDown(alipay), settledDown(wechat)]);
    expect(await balance(wechat, bob.id)).toBe(bobBefore + 1_00n + 2_00n + 4_00n);
    expect(await balance(alipay, alice.id)).toBe(aliceBefore - 1_00n - 2_00n - 4_00n);
  });

  test("behavior: events read again after the cursor is rewound credit nothing twice", async () => {
    await Promise.all([settledDown(alipay), settledDown(wechat)]);
    const before = new Map([alipay, wechat].map((op) => [op.code, balances(op)]));
    const customers = { alice: await balance(alipay, alice.id), bob: await balance(wechat, bob.id) };
    const entryCounts = new Map<string, number>();

    for (const op of [alipay, wechat]) {
      await op.stop();
      await op.withStore(async (store) => {
        expect(await store.sub.cursors.get(INBOUND_CURSOR)).toBeDefined();
        let entries = 0;
        for await (const _ of store.sub.entries.keys()) entries++;
        entryCounts.set(op.code, entries);
        // Back to before the deployment: every mint, transfer and return is read again.
        await store.sub.cursors.put(INBOUND_CURSOR, String(BigInt(net.devnet.manifest.deploymentBlock) - 1n));
      });
      await op.start();
    }

    for (const op of [alipay, wechat]) {
      const r = await settledDown(op);
      expect(r).toMatchObject({ reconciled: true, difference: "0", balanced: true });
      expect(balances(op)).toEqual(before.get(op.code));
    }
    expect(await balance(alipay, alice.id)).toBe(customers.alice);
    expect(await balance(wechat, bob.id)).toBe(customers.bob);

    for (const op of [alipay, wechat]) {
      await op.stop();
      const entries = await op.withStore(async (store) => {
        let n = 0;
        for await (const _ of store.sub.entries.keys()) n++;
        return n;
      });
      expect(entries, `${op.code} posted new journal entries`).toBe(entryCounts.get(op.code));
      await op.start();
    }
  });

  test("behavior: through an RPC outage the nodes wait, then resume and settle every payment", async () => {
    const start = { alice: await balance(alipay, alice.id), bob: await balance(wechat, bob.id) };
    await net.rpc("evm_setAutomine", [false]);
    const payments: { op: TestOperator; p: ApiPayment }[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        payments.push({ op: alipay, p: await pay(alipay, alice, "bob@WECHAT", 10_00n + BigInt(i)) });
        payments.push({ op: wechat, p: await pay(wechat, bob, "alice@ALIPAY", 20_00n + BigInt(i)) });
      }
      await pollUntil("both batches to be broadcast", async () => {
        for (const op of [alipay, wechat]) {
          const pending = await net.client.getTransactionCount({ address: op.account, blockTag: "pending" });
          const mined = await net.client.getTransactionCount({ address: op.account, blockTag: "latest" });
          if (pending === mined) return undefined;
        }
        return true;
      });
      await net.devnet.chain.stopRpc();
      // The chain goes on without the nodes seeing it: the batches land while the RPC is down.
      await net.rpc("evm_mine");
      await net.rpc("evm_setAutomine", [true]);
      expect(await alipay.api.healthy()).toBe(false);
      // Same-wallet payments do not need the chain.
      const dave = await alipay.api.openAccount("dave", "Dave Zhou");
      const local = await alipay.api.pay(alice.id, "dave", 1_00n);
      expect(local.status).toBe("settled");
      await new Promise((r) => setTimeout(r, 1_500));
      for (const { op, p } of payments) expect(["accepted", "settling"]).toContain((await op.api.payment(p.id)).status);
      await net.devnet.chain.startRpc();
      const all = await waitForFinalPayments(payments.map(({ op, p }) => ({ api: op.api, id: p.id })));
      expect([...all.values()].map((p) => p.status)).toEqual(Array(payments.length).fill("settled"));
      await Promise.all([settledDown(alipay), settledDown(wechat)]);
      expect(await balance(alipay, dave.id)).toBe(1_00n);
      const sentByAlice = payments.filter((x) => x.op === alipay).reduce((s, x) => s + BigInt(x.p.amount), 0n);
      const sentByBob = payments.filter((x) => x.op === wechat).reduce((s, x) => s + BigInt(x.p.amount), 0n);
      expect(await balance(alipay, alice.id)).toBe(start.alice - sentByAlice + sentByBob - 1_00n);
      expect(await balance(wechat, bob.id)).toBe(start.bob - sentByBob + sentByAlice);
      expect(await alipay.api.healthy()).toBe(true);
    } finally {
      await net.devnet.chain.startRpc();
      await net.rpc("evm_setAutomine", [true]);
    }
  });
});
