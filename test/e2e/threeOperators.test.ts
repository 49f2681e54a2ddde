import { randomUUID } from "node:crypto";
import { parseEventLogs } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { settlementHubAbi } from "../../node/chain/abi/generated.ts";
import { TRANSFERS_SETTLED_TOPIC, receiptsOfTransfersSettled } from "../../node/receipts/index.ts";
import { type ApiAccount, type ApiPayment, type ApiReconciliation, type Replayable, pollUntil, waitForFinalPayments } from "../helpers/http.ts";
import { type OperatorNetwork, type TestOperator, startOperatorNetwork, verifyStoredLedger } from "../bridge/operatorNetwork.ts";
import { createRandom } from "../../scripts/prng.ts";

/*
 * Three operators on one chain, 300 random payments through the real HTTP APIs: same-wallet,
 * cross-wallet in all six directions, a few to handles nobody has (they come back as returns), and
 * a few sent twice with the same Idempotency-Key. Once everything is final, each operator's books
 * must agree with the chain to the fen, and the network must conserve money.
 */

const SEEDS = [
  { code: "ALIPAY", name: "Alipay", reserve: 10_000_000_00n },
  { code: "WECHAT", name: "WeChat Pay", reserve: 10_000_000_00n },
  { code: "YUNPAY", name: "Yunnan Pay", reserve: 1_000_000_00n },
];
const CUSTOMERS_PER_OPERATOR = 8;
const TOP_UP = 20_000_00n;
const PAYMENTS = 300;
const UNKNOWN_HANDLE_PAYMENTS = 6;
const SEED = 20_240_601;


interface Customer {
  op: TestOperator;
  account: ApiAccount;
  expected: bigint;
}

interface Planned {
  from: Customer;
  to: string;
  payee?: Customer;
  amount: bigint;
  idempotencyKey: string;
  retries: number;
  concurrentRetry: boolean;
}

let net: OperatorNetwork;
const customers: Customer[] = [];
let toppedUp = 0n;

beforeAll(async () => {
  net = await startOperatorNetwork(SEEDS);
  await Promise.all(
    net.operators.map((op) =>
      pollUntil(`${op.code}'s reserve`, async () => {
        const seed = SEEDS.find((s) => s.code === op.code)!;
        return (await op.api.reconciliation()).float === String(seed.reserve) ? true : undefined;
      }),
    ),
  );
  for (const op of net.operators) {
    for (let i = 0; i < CUSTOMERS_PER_OPERATOR; i++) {
      const account = await op.api.openAccount(`${op.code.toLowerCase()}-c${i}`, `Customer ${i} of ${op.code}`);
      await op.api.topUp(account.id, TOP_UP);
      customers.push({ op, account, expected: TOP_UP });
      toppedUp += TOP_UP;
    }
  }
});

afterAll(async () => {
  await net?.close();
});

function plan(): Planned[] {
  const rnd = createRandom(SEED);
  const planned: Planned[] = [];
  const unknownAt = new Set<number>();
  while (unknownAt.size < UNKNOWN_HANDLE_PAYMENTS) unknownAt.add(rnd.int(PAYMENTS));
  for (let i = 0; i < PAYMENTS; i++) {
    const from = rnd.pick(customers);
    const amount = 1n + BigInt(rnd.int(500_00));
    const roll = rnd.next();
    const retries = roll < 0.04 ? 1 : 0;
    const concurrentRetry = roll >= 0.04 && roll < 0.06;
    const idempotencyKey = randomUUID();
    if (unknownAt.has(i)) {
      const wallet = rnd.pick(net.operators.filter((o) => o !== from.op)).code;
      planned.push({ from, to: `ghost-${i}@${wallet}`, amount, idempotencyKey, retries, concurrentRetry });
      continue;
    }
    // About a quarter same-wallet, the rest across wallets in every direction.
    const sameWallet = rnd.next() < 0.25;
    const candidates = customers.filter((c) => c !== from && (sameWallet ? c.op === from.op : c.op !== from.op));
    const payee = rnd.pick(candidates);
    const to = payee.op === from.op ? payee.account.handle : payee.account.address;
    planned.push({ from, to, payee, amount, idempotencyKey, retries, concurrentRetry });
  }
  return planned;
}

async function inPool<T>(items: readonly T[], width: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await run(items[next++]);
    }),
  );
}

describe("three operators", () => {
  test("behavior: 300 random payments settle exactly once and every operator reconciles to the fen", async () => {
    const planned = plan();
    const accepted = new Map<Planned, ApiPayment>();
    let replays = 0;

    await inPool(planned, 12, async (p) => {
      const send = () => p.from.op.api.pay(p.from.account.id, p.to, p.amount, { idempotencyKey: p.idempotencyKey, memo: "e2e" });
      const answers: Replayable<ApiPayment>[] = [];
      if (p.concurrentRetry) {
        // A duplicate that arrives while the first is still being processed is told to come back
        // (409 idempotency_key_in_use) or gets the stored outcome; either way, one payment.
        const both = await Promise.allSettled([send(), send()]);
        for (const b of both) {
          if (b.status === "fulfilled") answers.push(b.value);
          else expect(b.reason).toMatchObject({ status: 409, code: "idempotency_key_in_use" });
        }
        answers.push(await send());
      } else {
        answers.push(await send());
      }
      for (let r = 0; r < p.retries; r++) answers.push(await send());
      const ids = new Set(answers.map((a) => a.id));
      expect(ids.size, `one payment for Idempotency-Key ${p.idempotencyKey}`).toBe(1);
      expect(answers.filter((a) => !a.replayed).length, "exactly one answer is the original").toBe(1);
      replays += answers.length - 1;
      accepted.set(p, answers.find((a) => !a.replayed)!);
      p.from.expected -= p.amount;
    });
    expect(accepted.size).toBe(PAYMENTS);
    expect(replays).toBeGreaterThan(0);

    const final = await waitForFinalPayments(
      planned.map((p) => ({ api: p.from.op.api, id: accepted.get(p)!.id, until: p.payee ? ("settled" as const) : ("returned" as const) })),
      { timeoutMs: 60_000 },
    );
    for (const p of planned) {
      const payment = final.get(accepted.get(p)!.id)!;
      expect(payment.kind).toBe(p.payee?.op === p.from.op ? "same_wallet" : "cross_wallet");
      if (p.payee) p.payee.expected += p.amount;
      else {
        expect(payment.reason).toBe("payee_account_unknown");
        p.from.expected += p.amount;
      }
    }

    // Quiescent: every node has applied the chain to its head, nothing is queued, in flight or held.
    const head = await net.client.getBlockNumber({ cacheTime: 0 });
    const recs = new Map<string, ApiReconciliation>();
    for (const op of net.operators) {
      recs.set(
        op.code,
        await pollUntil(`${op.code} to be quiescent`, async () => {
          const r = await op.api.reconciliation();
          const still = r.outboxDepth > 0 || r.batchInFlight || r.suspense !== "0" || r.outboundInFlight !== "0" || BigInt(r.atBlock) < head;
          return still ? undefined : r;
        }),
      );
    }

    // Per operator: the chain holds exactly what the ledger says, and the ledger balances.
    for (const op of net.operators) {
      const r = recs.get(op.code)!;
      expect(r).toMatchObject({ reconciled: true, difference: "0", balanced: true, suspense: "0", outboundInFlight: "0" });
      const onChain = await net.tokenBalance(op.account);
      expect(r.tokenBalance).toBe(onChain.toString());
      expect(onChain).toBe(BigInt(r.liabilities) + BigInt(r.float));
      expect(op.node!.ledger.trialBalance().total).toBe(0n);
    }

    // Per customer: the balance the model predicts (payees credited once, returns credited back once).
    for (const c of customers) expect(BigInt((await c.op.api.account(c.account.id)).balance), c.account.address).toBe(c.expected);

    // Across the network: payments conserve money; the chain holds exactly the reserves minted.
    const liabilities = net.operators.reduce((s, op) => s + BigInt(recs.get(op.code)!.liabilities), 0n);
    expect(liabilities).toBe(toppedUp);
    let tokens = 0n;
    for (const op of net.operators) tokens += await net.tokenBalance(op.account);
    expect(tokens).toBe(SEEDS.reduce((s, x) => s + x.reserve, 0n));

    // On chain: every cross-wallet payment settled once, each unknown-handle one returned once.
    const logs = await net.client.getLogs({ address: net.devnet.manifest.contracts.settlementHub, fromBlock: 0n, toBlock: "latest" });
    const settledIds = logs
      .filter((l) => l.topics[0] === TRANSFERS_SETTLED_TOPIC)
      .flatMap((l) => receiptsOfTransfersSettled(l).map((r) => r.transferId.toLowerCase()));
    const returnedIds = parseEventLogs({ abi: settlementHubAbi, logs, eventName: "TransferReturned" }).map((l) => l.args.originalTransferId.toLowerCase());
    const cross = planned.filter((p) => p.payee?.op !== p.from.op);
    const crossIds = cross.map((p) => final.get(accepted.get(p)!.id)!.transferId!.toLowerCase());
    expect(new Set(crossIds).size).toBe(cross.length);
    expect([...settledIds].sort()).toEqual([...crossIds].sort());
    const ghostIds = planned.filter((p) => !p.payee).map((p) => final.get(accepted.get(p)!.id)!.transferId!.toLowerCase());
    expect([...returnedIds].sort()).toEqual([...ghostIds].sort());
    expect(planned.filter((p) => p.payee && p.payee.op === p.from.op).every((p) => final.get(accepted.get(p)!.id)!.transferId === undefined)).toBe(true);

    // nextSeq on chain counts exactly the cross-wallet transfers each wallet sent.
    for (const op of net.operators) {
      expect(await net.nextSeq(op.walletId), op.code).toBe(BigInt(cross.filter((p) => p.from.op === op).length));
    }
    // Every direction was exercised.
    const directions = new Set(cross.filter((p) => p.payee).map((p) => `${p.from.op.code}>${p.payee!.op.code}`));
    expect(directions.size).toBe(6);

    // Every cross-wallet credit's history line names its transfer and payer wallet, and carries
    // the memo the payer's node delivered.
    const credited = cross.filter((p) => p.payee);
    for (const payee of new Set(credited.map((p) => p.payee!))) {
      const expected = credited.filter((p) => p.payee === payee).map((p) => ({ transferId: final.get(accepted.get(p)!.id)!.transferId, payerWallet: p.from.op.code, memo: "e2e" }));
      await pollUntil(`${payee.account.address}'s credits with their memos`, async () => {
        const items = (await payee.op.api.history(payee.account.id)).items.filter((i) => i.kind === "inbound_credited");
        const got = items.map((i) => ({ transferId: i.transferId, payerWallet: i.payerWallet, memo: i.memo }));
        const byId = (a: { transferId?: string }, b: { transferId?: string }) => String(a.transferId).localeCompare(String(b.transferId));
        return JSON.stringify([...got].sort(byId)) === JSON.stringify([...expected].sort(byId)) ? true : undefined;
      });
    }

    // The journals on disk re-derive to the same balances.
    for (const op of net.operators) {
      await op.stop();
      const verified = await verifyStoredLedger(op);
      expect(verified.problems).toEqual([]);
      expect(verified.total).toBe(0n);
    }
  });
});
