import { type Hex, decodeFunctionData } from "viem";
import { describe, expect, test } from "vitest";
import { type BatchPlan, encodeBatch, planTransferIds } from "../../node/bridge/batchPlan.ts";
import type { OutboxItem } from "../../node/bridge/outbox.ts";
import { judgeRevert } from "../../node/bridge/rejections.ts";
import { settlementHubAbi } from "../../node/chain/abi/generated.ts";
import { transferIdOf, unpackTransfers, walletIdOf } from "../../node/receipts/index.ts";

const ALIPAY = walletIdOf("ALIPAY");
const item = (paymentId: string, to: string, amount: number): OutboxItem => ({
  paymentId,
  fromAccountId: "c_1",
  toWalletId: walletIdOf(to),
  amount: String(amount),
  payerRef: `0x${paymentId.charCodeAt(0).toString(16).padStart(64, "0")}` as Hex,
  payeeRef: `0x${"22".repeat(32)}` as Hex,
  memoHash: `0x${"00".repeat(32)}` as Hex,
  acceptedAt: 0,
});

describe("encodeBatch", () => {
  const accepted = [item("a", "WECHAT", 1), item("b", "YUNPAY", 2), item("c", "WECHAT", 3), item("d", "UNIONPAY", 4), item("e", "YUNPAY", 5)];

  test("default: payments are grouped by payee (first appearance, stable within a payee) and numbered in that order", () => {
    const batch = encodeBatch(10n, accepted);
    expect(batch.items.map((i) => i.paymentId)).toEqual(["a", "c", "b", "e", "d"]);
    expect(batch.groups).toEqual([
      { payee: walletIdOf("WECHAT"), count: 2 },
      { payee: walletIdOf("YUNPAY"), count: 2 },
      { payee: walletIdOf("UNIONPAY"), count: 1 },
    ]);
    const plan = { firstSeq: "10", items: batch.items } as BatchPlan;
    expect(planTransferIds(ALIPAY, plan)).toEqual([10n, 11n, 12n, 13n, 14n].map((seq) => transferIdOf(ALIPAY, seq)));
  });

  test("behavior: the calldata carries exactly the groups and the packed records of the plan's items, in its order", () => {
    const batch = encodeBatch(10n, accepted);
    const { functionName, args } = decodeFunctionData({ abi: settlementHubAbi, data: batch.data });
    expect(functionName).toBe("settleBatch");
    const [firstSeq, groups, packed] = args as unknown as [bigint, { payee: Hex; count: number }[], Hex];
    expect(firstSeq).toBe(10n);
    expect(groups).toEqual(batch.groups);
    expect(unpackTransfers(packed).map((r) => [r.amount, r.payerRef])).toEqual(batch.items.map((i) => [BigInt(i.amount), i.payerRef]));
    expect(batch.args).toEqual([10n, batch.groups, packed]);
  });

  test("behavior: encoding a plan's items again gives the same bytes (a rebroadcast or a re-simulation cannot renumber)", () => {
    const batch = encodeBatch(10n, accepted);
    expect(encodeBatch(10n, batch.items).data).toBe(batch.data);
  });
});

describe("judgeRevert", () => {
  test("behavior: a malformed batch is the encoder's fault: wait, refund no payment", () => {
    for (const [errorName, args] of [
      ["HubEmptyGroup", [1n]],
      ["HubMalformedTransfers", [111n, 112n]],
      ["HubDuplicatePayee", [walletIdOf("WECHAT")]],
    ] as const) {
      expect(judgeRevert({ errorName, args }, [item("a", "WECHAT", 1)], ALIPAY)).toMatchObject({ kind: "wait", reason: `batch_malformed:${errorName}` });
    }
  });
});
