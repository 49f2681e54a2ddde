import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { StagedOp } from "../../node/store/types.ts";
import { type ApiAccount, pollUntil, waitForFinalPayments } from "../helpers/http.ts";
import { type OperatorNetwork, type TestOperator, startOperatorNetwork, verifyStoredLedger } from "../bridge/operatorNetwork.ts";

/*
 * Bulk payments on a real network of three operators (embedded chain, one in-process node each):
 * the cross-wallet payments of one bulk request settle on chain and reach their payees, the
 * same-wallet ones settle in the ledger, and everything accepted reached the payer's ledger in one
 * group commit. Afterwards every ledger re-derives from its journal.
 */

const SEEDS = [
  { code: "ALIPAY", name: "Alipay", reserve: 10_000_000_00n },
  { code: "WECHAT", name: "WeChat Pay", reserve: 10_000_000_00n },
  { code: "YUNPAY", name: "Yunnan Pay", reserve: 1_000_000_00n },
];

let net: OperatorNetwork;
let alipay: TestOperator;
const accounts = new Map<string, ApiAccount[]>();

beforeAll(async () => {
  net = await startOperatorNetwork(SEEDS);
  alipay = net.byCode("ALIPAY");
  for (const op of net.operators) {
    const seed = SEEDS.find((s) => s.code === op.code)!;
    await pollUntil(`${op.code}'s reserve`, async () => ((await op.api.reconciliation()).float === String(seed.reserve) ? true : undefined));
    const list: ApiAccount[] = [];
    for (let i = 0; i < 3; i++) list.push(await op.api.openAccount(`bulk-${op.code.toLowerCase()}-${i}`, `Bulk ${i}`));
    accounts.set(op.code, list);
  }
  for (const a of accounts.get("ALIPAY")!) await alipay.api.topUp(a.id, 1_000_00n);
});

afterAll(async () => {
  await net?.close();
});

describe("bulk payments across wallets", () => {
  test("behavior: the accepted payments of one bulk request are written in one commit, settle on chain and reach their payees", async () => {
    const [a0, a1, a2] = accounts.get("ALIPAY")!;
    const wechat = accounts.get("WECHAT")!;
    const yunpay = accounts.get("YUNPAY")!;
    const payments = [
      { from: a0.id, to: wechat[0].address, amount: 1_50n, memo: "bulk 1" },
      { from: a0.id, to: yunpay[1].address, amount: 2_25n },
      { from: a1.id, to: a2.handle, amount: 3_00n },
      { from: a1.id, to: wechat[2].address, amount: 99n },
      { from: a2.id, to: yunpay[0].address, amount: 2_000_00n }, // more than a2 has: refused
      { from: a2.id, to: wechat[0].address, amount: 10n },
    ];

    // Every commit of the payer's ledger while the request runs.
    const committer = alipay.node!.ledger.store.committer;
    const commits: (readonly StagedOp[])[] = [];
    const original = committer.commit.bind(committer);
    committer.commit = (ops: readonly StagedOp[]) => {
      commits.push(ops);
      return original(ops);
    };
    let r;
    try {
      r = await alipay.api.payBulk(payments, { idempotencyKey: `bulk-settle-${Date.now()}` });
    } finally {
      committer.commit = original;
    }
    expect(r.accepted).toBe(5);
    expect(r.results.map((x) => x.status)).toEqual(["accepted", "accepted", "accepted", "accepted", "refused", "accepted"]);
    expect(r.results[4]).toMatchObject({ status: "refused", problem: { code: "insufficient_funds", status: 422 } });

    const accepted = r.results.flatMap((x) => (x.status === "accepted" ? [x.payment] : []));
    const keysOf = (ops: readonly StagedOp[]) => new Set(ops.map((o) => String(o.key)));
    const withAll = commits.filter((ops) => {
      const keys = keysOf(ops);
      return accepted.every((p) => [...keys].some((k) => k.includes(p.id)));
    });
    expect(withAll, "one commit holds every accepted payment").toHaveLength(1);
    expect(commits.filter((ops) => accepted.some((p) => [...keysOf(ops)].some((k) => k.includes(p.id))))).toHaveLength(1);

    const final = await waitForFinalPayments(accepted.map((p) => ({ api: alipay.api, id: p.id })), { timeoutMs: 60_000 });
    for (const p of accepted) expect(final.get(p.id)!.status, p.to).toBe("settled");
    const crossWallet = accepted.filter((p) => p.kind === "cross_wallet");
    expect(crossWallet).toHaveLength(4);
    for (const p of crossWallet) expect(final.get(p.id)).toMatchObject({ seq: expect.any(String), txHash: expect.stringMatching(/^0x/) });

    // The payees were credited by their own nodes.
    const expectBalance = (op: string, a: ApiAccount, amount: bigint) =>
      pollUntil(`${a.address} to hold ${amount}`, async () => ((await net.byCode(op).api.account(a.id)).balance === String(amount) ? true : undefined), { timeoutMs: 30_000 });
    await expectBalance("WECHAT", wechat[0], 1_50n + 10n);
    await expectBalance("WECHAT", wechat[2], 99n);
    await expectBalance("YUNPAY", yunpay[1], 2_25n);
    await expectBalance("YUNPAY", yunpay[0], 0n);
    expect((await alipay.api.account(a0.id)).balance).toBe(String(1_000_00n - 1_50n - 2_25n));
    expect((await alipay.api.account(a1.id)).balance).toBe(String(1_000_00n - 3_00n - 99n));
    expect((await alipay.api.account(a2.id)).balance).toBe(String(1_000_00n + 3_00n - 10n));

    await pollUntil("ALIPAY's outbox to drain", async () => ((await alipay.api.reconciliation()).outboxDepth === 0 ? true : undefined));
  });

  test("error: payments to a wallet whose node is down are refused as POST /v1/payments would refuse them; the others go through", async () => {
    const [a0] = accounts.get("ALIPAY")!;
    const wechat = accounts.get("WECHAT")!;
    await net.byCode("YUNPAY").stop();
    const before = (await alipay.api.account(a0.id)).balance;
    // Handles never resolved before: each would need YUNPAY's node.
    const r = await alipay.api.payBulk([
      { from: a0.id, to: "never-seen-1@YUNPAY", amount: 10n },
      { from: a0.id, to: wechat[1].address, amount: 20n },
      { from: a0.id, to: "never-seen-2@YUNPAY", amount: 30n },
      { from: a0.id, to: "never-seen-3@YUNPAY", amount: 40n },
    ]);
    const alone = await alipay.api.pay(a0.id, "never-seen-4@YUNPAY", 50n).then(
      () => undefined,
      (e: { status: number; code: string; body: { title: string } }) => e,
    );
    expect(alone?.status).toBeGreaterThanOrEqual(500);
    expect(r.results.map((x) => x.status)).toEqual(["refused", "accepted", "refused", "refused"]);
    for (const i of [0, 2, 3]) {
      const x = r.results[i];
      expect(x.status === "refused" && { code: x.problem.code, status: x.problem.status, title: x.problem.title }).toEqual({ code: alone!.code, status: alone!.status, title: alone!.body.title });
    }
    expect((await alipay.api.account(a0.id)).balance).toBe(String(BigInt(before) - 20n));
  });

  test("behavior: after bulk payments every ledger re-derives from its journal", async () => {
    for (const op of net.operators) {
      await op.stop();
      const report = await verifyStoredLedger(op);
      expect(report, op.code).toMatchObject({ ok: true });
    }
  });
});
