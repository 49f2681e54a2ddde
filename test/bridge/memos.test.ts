import { randomBytes } from "node:crypto";
import type { Hex, LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MAX_MEMOS_PER_DELIVERY, MAX_TRANSACTIONS_PER_DELIVERY, MEMOS_PATH } from "../../node/bridge/memoWire.ts";
import { getMemos } from "../../node/bridge/memos.ts";
import { MemoOutbox } from "../../node/bridge/memoOutbox.ts";
import { MemoSender } from "../../node/bridge/memoSender.ts";
import { RegistryView } from "../../node/chain/registryView.ts";
import { signRequest } from "../../node/directory/signedRequest.ts";
import { openKeystoreFile } from "../../node/keys/keystore.ts";
import { canonicalJson } from "../../node/ledger/idempotency.ts";
import { Ledger } from "../../node/ledger/ledger.ts";
import { createLogger, silentLogger } from "../../node/observability/logger.ts";
import { transferIdOf, walletIdOf } from "../../node/receipts/ids.ts";
import { prefixRange } from "../../node/store/keys.ts";
import type { Store } from "../../node/store/store.ts";
import { call, expectProblem } from "../api/client.ts";
import { type ApiAccount, type ApiPayment, pollUntil, waitForFinalPayments } from "../helpers/http.ts";
import { type OperatorNetwork, type TestOperator, startOperatorNetwork } from "./operatorNetwork.ts";

/*
 * Memos travel node to node: the payer's node, once a batch settled, delivers each payment's memo
 * to the payee's node (signed with its settlement key); the payee's node checks it against the
 * memo hash settled on chain and shows it, with the transfer id and the payer wallet, in the
 * payee's history. Three real nodes on the embedded chain; ALIPAY pays WECHAT, YUNPAY is a third
 * member that tries to speak for ALIPAY's transfers.
 */

let net: OperatorNetwork;
let alipay: TestOperator;
let wechat: TestOperator;
let alice: ApiAccount;
let bob: ApiAccount;
const keys = new Map<string, LocalAccount>();
/** Every log line of every node, to check that no memo is ever logged. */
const logLines: string[] = [];

beforeAll(async () => {
  net = await startOperatorNetwork(
    [
      { code: "ALIPAY", name: "Alipay", reserve: 1_000_000_00n },
      { code: "WECHAT", name: "WeChat Pay", reserve: 1_000_000_00n },
      { code: "YUNPAY", name: "Yunnan Pay", reserve: 1_000_000_00n },
    ],
    { logger: (code) => createLogger({ level: "debug", base: { wallet: code }, sink: (line) => logLines.push(line) }) },
  );
  alipay = net.byCode("ALIPAY");
  wechat = net.byCode("WECHAT");
  for (const op of net.devnet.operators) {
    const { privateKey } = await openKeystoreFile(op.keystoreFile, net.devnet.keystorePassword);
    keys.set(op.code, privateKeyToAccount(privateKey));
  }
  await pollUntil("ALIPAY's reserve", async () => ((await alipay.api.reconciliation()).float === "100000000" ? true : undefined));
  alice = await alipay.api.openAccount("alice", "Alice Wang");
  await alipay.api.topUp(alice.id, 10_000_00n);
  bob = await wechat.api.openAccount("bob", "Bob Li");
});

afterAll(async () => {
  await net?.close();
});

/** Pays bob@WECHAT from alice and waits until the payment settled. */
async function payBob(amount: bigint, memo?: string): Promise<ApiPayment> {
  const accepted = await alipay.api.pay(alice.id, "bob@WECHAT", amount, memo === undefined ? {} : { memo });
  const final = await waitForFinalPayments([{ api: alipay.api, id: accepted.id, until: "settled" }], { timeoutMs: 30_000 });
  return final.get(accepted.id)!;
}

/** Bob's history line of the credit of `transferId`, once it has one with these fields. */
function bobsCredit(transferId: string, until: (item: Record<string, unknown>) => boolean = () => true) {
  return pollUntil(
    `bob's credit of ${transferId}`,
    async () => {
      const page = await wechat.api.history(bob.id);
      const item = page.items.find((i) => i.transferId === transferId) as Record<string, unknown> | undefined;
      return item && until(item) ? item : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  );
}

/** A delivery to WECHAT's node signed by `signer` for `wallet`, exactly as given. */
async function deliver(wallet: string, signer: LocalAccount | undefined, memos: unknown[]) {
  const body = canonicalJson({ memos } as never);
  const headers = signer ? await signRequest(signer, walletIdOf(wallet), "POST", MEMOS_PATH, body, Date.now(), walletIdOf("WECHAT")) : {};
  return call(wechat.api.url, "POST", MEMOS_PATH, { raw: body, headers });
}

async function storedMemoCount(store: Store): Promise<number> {
  return (await store.sub.inbound.keys(prefixRange("memo")).all()).length;
}

const hex32 = () => `0x${randomBytes(32).toString("hex")}` as Hex;

describe("memo delivery", () => {
  test("default: alice@ALIPAY pays bob@WECHAT with memo \"dinner\"; bob's history shows the transfer id, the payer wallet and the memo", async () => {
    const payment = await payBob(88_00n, "dinner");
    expect(payment.transferId).toMatch(/^0x[0-9a-f]{64}$/);
    const item = await bobsCredit(payment.transferId!, (i) => i.memo !== undefined);
    expect(item).toMatchObject({ kind: "inbound_credited", amount: "8800", transferId: payment.transferId, payerWallet: "ALIPAY", memo: "dinner" });

    // The same through the HTTP API as a wallet app reads it, with the documented field names.
    const r = await call(wechat.api.url, "GET", `/v1/accounts/${bob.id}/history`, { key: wechat.keys.app });
    expect(r.status).toBe(200);
    expect(r.json.items.find((i: { transferId?: string }) => i.transferId === payment.transferId)).toMatchObject({
      transferId: payment.transferId,
      payerWallet: "ALIPAY",
      memo: "dinner",
    });
    // The payer's queue is empty once the payee took it, as its /metrics shows.
    const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1]);
    await pollUntil("ALIPAY's memo queue to drain", async () => {
      const text = (await call(alipay.api.url, "GET", "/metrics", { key: alipay.keys.admin })).text;
      return metric(text, "hulian_memos_delivered_total") >= 1 && metric(text, "hulian_memos_queued") === 0 ? true : undefined;
    });
  });

  test("behavior: delivering a memo again is harmless (duplicate) and stores nothing new", async () => {
    const payment = await payBob(1_00n, "again");
    await bobsCredit(payment.transferId!, (i) => i.memo === "again");
    const before = await storedMemoCount(wechat.node!.ledger.store);
    const r = await deliver("ALIPAY", keys.get("ALIPAY"), [{ transferId: payment.transferId, txHash: payment.txHash, memo: "again" }]);
    expect(r.status, r.text).toBe(200);
    expect(r.json.results).toEqual([{ transferId: payment.transferId, status: "duplicate" }]);
    expect(await storedMemoCount(wechat.node!.ledger.store)).toBe(before);
  });

  test("error: a memo from a wallet that is not the payer is refused (not_payer), even signed by a real member", async () => {
    const payment = await payBob(2_00n, "mine");
    await bobsCredit(payment.transferId!, (i) => i.memo === "mine");
    // YUNPAY speaks for ALIPAY's transfer with its own, valid signature; even the right memo text
    // gets the same refusal (no "duplicate" that would confirm a guess).
    const r = await deliver("YUNPAY", keys.get("YUNPAY"), [{ transferId: payment.transferId, txHash: payment.txHash, memo: "mine" }]);
    expect(r.status, r.text).toBe(200);
    expect(r.json.results).toEqual([{ transferId: payment.transferId, status: "refused", code: "not_payer" }]);
    // ALIPAY itself cannot attach a memo at WECHAT to what it paid YUNPAY.
    const carol = await net.byCode("YUNPAY").api.openAccount("carol", "Carol Chen");
    const toCarol = await alipay.api.pay(alice.id, carol.address, 2_00n, { memo: "for carol" });
    const elsewhere = (await waitForFinalPayments([{ api: alipay.api, id: toCarol.id, until: "settled" }], { timeoutMs: 30_000 })).get(toCarol.id)!;
    const wrongPayee = await deliver("ALIPAY", keys.get("ALIPAY"), [{ transferId: elsewhere.transferId, txHash: elsewhere.txHash, memo: "for carol" }]);
    expect(wrongPayee.json.results).toEqual([{ transferId: elsewhere.transferId, status: "refused", code: "not_payee" }]);
    // YUNPAY signing as ALIPAY does not pass the signature check.
    expectProblem(await deliver("ALIPAY", keys.get("YUNPAY"), [{ transferId: payment.transferId, txHash: payment.txHash, memo: "x" }]), 401, "bad_signature");
  });

  test("error: a memo whose hash is not the settled memo hash is refused (memo_hash_mismatch) and the real one stays", async () => {
    const payment = await payBob(3_00n, "rent for march");
    await bobsCredit(payment.transferId!, (i) => i.memo === "rent for march");
    const spoof = await deliver("ALIPAY", keys.get("ALIPAY"), [{ transferId: payment.transferId, txHash: payment.txHash, memo: "rent for march, twice" }]);
    expect(spoof.json.results).toEqual([{ transferId: payment.transferId, status: "refused", code: "memo_hash_mismatch" }]);
    expect((await bobsCredit(payment.transferId!)).memo).toBe("rent for march");

    // A payment made without a memo settles the zero hash: no memo can be attached to it later.
    const plain = await alipay.api.pay(alice.id, "bob@WECHAT", 4_00n);
    const settled = (await waitForFinalPayments([{ api: alipay.api, id: plain.id, until: "settled" }], { timeoutMs: 30_000 })).get(plain.id)!;
    const late = await deliver("ALIPAY", keys.get("ALIPAY"), [{ transferId: settled.transferId, txHash: settled.txHash, memo: "afterthought" }]);
    expect(late.json.results).toEqual([{ transferId: settled.transferId, status: "refused", code: "memo_hash_mismatch" }]);
    const item = await bobsCredit(settled.transferId!);
    expect(item).toMatchObject({ transferId: settled.transferId, payerWallet: "ALIPAY" });
    expect(item.memo).toBeUndefined();
  });

  test("error: an unsigned delivery is refused (401 unsigned_request)", async () => {
    const payment = await payBob(5_00n, "unsigned");
    expectProblem(await deliver("ALIPAY", undefined, [{ transferId: payment.transferId, txHash: payment.txHash, memo: "unsigned" }]), 401, "unsigned_request");
    // ALIPAY's own, signed delivery of it goes through.
    await bobsCredit(payment.transferId!, (i) => i.memo === "unsigned");
  });

  test("error: a delivery sent twice is refused (replayed_request), and one addressed to another wallet (wrong_audience)", async () => {
    const payment = await payBob(6_00n);
    const memos = [{ transferId: payment.transferId, txHash: payment.txHash, memo: "replay" }];
    const body = canonicalJson({ memos } as never);
    const headers = await signRequest(keys.get("ALIPAY")!, walletIdOf("ALIPAY"), "POST", MEMOS_PATH, body, Date.now(), walletIdOf("WECHAT"));
    const first = await call(wechat.api.url, "POST", MEMOS_PATH, { raw: body, headers });
    expect(first.status).toBe(200);
    expectProblem(await call(wechat.api.url, "POST", MEMOS_PATH, { raw: body, headers }), 401, "replayed_request");
    const elsewhere = await signRequest(keys.get("ALIPAY")!, walletIdOf("ALIPAY"), "POST", MEMOS_PATH, body, Date.now(), walletIdOf("YUNPAY"));
    expectProblem(await call(wechat.api.url, "POST", MEMOS_PATH, { raw: body, headers: elsewhere }), 401, "wrong_audience");
  });

  test("error: a flood of memos for unknown transfers is bounded: refused per memo, nothing stored, at most 8 chain reads a request", async () => {
    const store = wechat.node!.ledger.store;
    // Every memo of the earlier tests has been delivered (each waited for it), so this is the last.
    const real = await payBob(6_00n, "real");
    await bobsCredit(real.transferId!, (i) => i.memo === "real");
    const stored = await storedMemoCount(store);
    const alipayId = walletIdOf("ALIPAY");

    // 100 memos for transfers of ALIPAY that do not exist, named in a real settlement transaction.
    const ghosts = Array.from({ length: MAX_MEMOS_PER_DELIVERY }, (_, i) => ({ transferId: transferIdOf(alipayId, 1_000_000n + BigInt(i)), txHash: real.txHash, memo: "x".repeat(140) }));
    const r = await deliver("ALIPAY", keys.get("ALIPAY"), ghosts);
    expect(r.status, r.text).toBe(200);
    expect(new Set(r.json.results.map((x: { code: string }) => x.code))).toEqual(new Set(["transfer_not_in_settlement"]));
    // In transactions that do not exist: "retry" for the payer, still nothing stored.
    const unknownTx = Array.from({ length: MAX_TRANSACTIONS_PER_DELIVERY }, (_, i) => ({ transferId: transferIdOf(alipayId, 2_000_000n + BigInt(i)), txHash: hex32(), memo: "y" }));
    const u = await deliver("ALIPAY", keys.get("ALIPAY"), unknownTx);
    expect(u.json.results.every((x: { status: string; code: string }) => x.status === "retry" && x.code === "settlement_not_found")).toBe(true);
    expect(await storedMemoCount(store)).toBe(stored);

    // Requests beyond the bounds are refused whole, before any chain read.
    const tooManyTx = Array.from({ length: MAX_TRANSACTIONS_PER_DELIVERY + 1 }, (_, i) => ({ transferId: transferIdOf(alipayId, 3_000_000n + BigInt(i)), txHash: hex32(), memo: "z" }));
    expectProblem(await deliver("ALIPAY", keys.get("ALIPAY"), tooManyTx), 400, "too_many_transactions");
    const tooMany = Array.from({ length: MAX_MEMOS_PER_DELIVERY + 1 }, () => ghosts[0]);
    expectProblem(await deliver("ALIPAY", keys.get("ALIPAY"), tooMany), 400, "validation_failed");
    expectProblem(await deliver("ALIPAY", keys.get("ALIPAY"), [{ ...ghosts[0], memo: "x".repeat(141) }]), 400, "validation_failed");
    // Ill-formed text has no UTF-8 form to hash: refused by the schema or, at the latest, by the inbox.
    const lone = await deliver("ALIPAY", keys.get("ALIPAY"), [{ ...ghosts[0], memo: "\ud800x" }]);
    if (lone.status === 400) expectProblem(lone, 400, "validation_failed");
    else expect(lone.json.results).toEqual([{ transferId: ghosts[0].transferId, status: "refused", code: "memo_invalid" }]);
    expect(await storedMemoCount(store)).toBe(stored);
  });

  test("behavior: a memo survives a payee outage and a payer restart (durable queue, retried with backoff)", async () => {
    await payBob(1n); // resolves bob@WECHAT, which the next payment reuses while WECHAT is down
    await wechat.stop();
    const payment = await payBob(7_00n, "lunch");
    // Stopped with the memo still queued: it is on disk.
    await pollUntil("a failed delivery", async () => (alipay.node!.memos.stats.retried > 0 ? true : undefined), { timeoutMs: 15_000 });
    await alipay.stop();
    expect(await alipay.withStore(async (store) => (await MemoOutbox.open(store)).depth)).toBe(1);
    await alipay.start();
    await wechat.start();
    const item = await bobsCredit(payment.transferId!, (i) => i.memo !== undefined);
    expect(item).toMatchObject({ transferId: payment.transferId, payerWallet: "ALIPAY", memo: "lunch" });
  });

  test("behavior: a memo the payee's node never takes is given up after a day, and the payment is unaffected", async () => {
    await payBob(1n);
    await wechat.stop();
    const payment = await payBob(9_00n, "too late");
    await alipay.stop();
    await alipay.withStore(async (store) => {
      const ledger = await Ledger.open(store);
      const memos = await MemoOutbox.open(store);
      expect(memos.depth).toBe(1);
      const sender = new MemoSender({
        ledger,
        memos,
        registry: new RegistryView(net.client, net.devnet.manifest.contracts.walletRegistry),
        account: keys.get("ALIPAY")!,
        walletId: walletIdOf("ALIPAY"),
        log: silentLogger,
      });
      await sender.sendOnce(Date.now() + 25 * 3_600_000);
      expect(sender.stats).toMatchObject({ expired: 1, delivered: 0 });
      expect(memos.depth).toBe(0);
      expect((await MemoOutbox.open(store)).depth).toBe(0);
    });
    await alipay.start();
    await wechat.start();
    const item = await bobsCredit(payment.transferId!);
    expect(item).toMatchObject({ transferId: payment.transferId, payerWallet: "ALIPAY", amount: "900" });
    expect(item.memo).toBeUndefined();
  });

  test("behavior: a memo that arrives before the credit is shown once the credit is applied; one for a transfer that goes back is deleted", async () => {
    // WECHAT's node keeps serving but stops applying the chain, so the memos arrive first.
    await wechat.node!.inbound.stop();
    const delivered = alipay.node!.memos.stats.delivered;
    const toBob = await payBob(10_00n, "early bird");
    const accepted = await alipay.api.pay(alice.id, "nobody-here@WECHAT", 11_00n, { memo: "for nobody" });
    const toNobody = (await waitForFinalPayments([{ api: alipay.api, id: accepted.id, until: "settled" }], { timeoutMs: 30_000 })).get(accepted.id)!;
    await pollUntil("both memos delivered", async () => (alipay.node!.memos.stats.delivered >= delivered + 2 ? true : undefined));
    const store = wechat.node!.ledger.store;
    expect((await getMemos(store, [toBob.transferId as Hex, toNobody.transferId as Hex])).map((m) => m?.memo)).toEqual(["early bird", "for nobody"]);
    expect((await wechat.api.history(bob.id)).items.some((i) => i.transferId === toBob.transferId)).toBe(false);

    // The follower applies the range: bob's credit shows the memo; the other transfer is held to go back, its memo deleted.
    while (await wechat.node!.inbound.pollOnce());
    expect(await bobsCredit(toBob.transferId!)).toMatchObject({ transferId: toBob.transferId, payerWallet: "ALIPAY", memo: "early bird" });
    expect((await getMemos(store, [toNobody.transferId as Hex]))[0]).toBeUndefined();
    // Delivered again now, it is refused: there is no customer to show it to.
    const again = await deliver("ALIPAY", keys.get("ALIPAY"), [{ transferId: toNobody.transferId, txHash: toNobody.txHash, memo: "for nobody" }]);
    expect(again.json.results).toEqual([{ transferId: toNobody.transferId, status: "refused", code: "transfer_not_credited" }]);

    // A fresh follower (restart) finishes the return.
    await wechat.stop();
    await wechat.start();
    await waitForFinalPayments([{ api: alipay.api, id: accepted.id, until: "returned" }], { timeoutMs: 30_000 });
  });

  test("behavior: no memo text ever reaches a log line", async () => {
    expect(logLines.length).toBeGreaterThan(100);
    for (const memo of ["dinner", "lunch", "early bird", "for nobody", "for carol", "rent for march", "rent for march, twice", "afterthought", "too late"]) {
      expect(logLines.filter((l) => l.includes(memo)), memo).toEqual([]);
    }
  });
});
