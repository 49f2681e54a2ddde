import { type Hex, keccak256, parseEventLogs, toHex, zeroHash } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { settlementHubAbi, walletRegistryAbi } from "../../node/chain/abi/generated.ts";
import { createChainClients } from "../../node/chain/clients.ts";
import path from "node:path";
import { createChainReader, verifyTransaction, verifyTransfer } from "../../node/audit/index.ts";
import { startExplorer } from "../../node/explorer/startExplorer.ts";
import { SYSTEM_ACCOUNTS } from "../../node/ledger/accounts.ts";
import { receiptsOfTransfersSettled, TRANSFERS_SETTLED_TOPIC, type Receipt } from "../../node/receipts/index.ts";
import { compoundKey } from "../../node/store/keys.ts";
import type { ReturnItem } from "../../node/bridge/returns.ts";
import { type ApiAccount, type ApiPayment, pollUntil, waitForFinalPayments } from "../helpers/http.ts";
import { type ContractMember, admitContractMember } from "../helpers/multiSettler.ts";
import { type OperatorNetwork, type TestOperator, startOperatorNetwork } from "./operatorNetwork.ts";

/**
 * The return queue against members a node does not run: contract settlement accounts
 * (contracts/test/MultiSettler.sol) that settle two batches in one transaction, or settle and then
 * leave the network. Real chain, real nodes, real LevelDB.
 */

const RESERVE = 1_000_000_00n;
let net: OperatorNetwork;
let alipay: TestOperator;
let wechat: TestOperator;
let alice: ApiAccount;
let hub: Hex;
let signers: Parameters<typeof admitContractMember>[2];
let members = 0;

beforeAll(async () => {
  net = await startOperatorNetwork(
    [
      { code: "ALIPAY", name: "Alipay", reserve: RESERVE },
      { code: "WECHAT", name: "WeChat Pay", reserve: RESERVE },
    ],
    { exposeGovernance: true },
  );
  alipay = net.byCode("ALIPAY");
  wechat = net.byCode("WECHAT");
  hub = net.devnet.manifest.contracts.settlementHub;
  const g = net.devnet.governance!;
  const signer = (account: typeof g.deployer) => createChainClients(net.devnet.chain.url, net.devnet.chain.chainId, account).signer!;
  signers = { owner: signer(g.deployer), governor: signer(g.governor), issuer: signer(g.issuer) };
  await pollUntil("ALIPAY's reserve", async () => ((await alipay.api.reconciliation()).float === String(RESERVE) ? true : undefined));
  alice = await alipay.api.openAccount("alice", "Alice Wang");
  await alipay.api.topUp(alice.id, 10_000_00n);
});

afterAll(async () => {
  await net?.close();
});

const newMember = (code: string) => admitContractMember(net.client, net.devnet.manifest, signers, `${code}${++members}`, 1_000_00n);
const ref = (s: string): Hex => keccak256(toHex(s));
/** Transfers to WECHAT references no WECHAT customer has: WECHAT must send every one back. */
const toUnknown = (label: string, amounts: bigint[]) =>
  amounts.map((amount, i) => ({ toWallet: wechat.walletId, amount, payerRef: ref(`payer ${label} ${i}`), payeeRef: ref(`nobody ${label} ${i}`), memoHash: zeroHash }));

const isReturned = (transferId: Hex) => net.client.readContract({ address: hub, abi: settlementHubAbi, functionName: "isReturned", args: [transferId] }) as Promise<boolean>;
const allReturned = (what: string, receipts: Receipt[]) =>
  pollUntil(what, async () => ((await Promise.all(receipts.map((r) => isReturned(r.transferId)))).every(Boolean) ? true : undefined), { timeoutMs: 20_000 });

async function receiptsOfTx(hash: Hex): Promise<Receipt[]> {
  const receipt = await net.client.getTransactionReceipt({ hash });
  return receipt.logs.filter((l) => l.topics[0] === TRANSFERS_SETTLED_TOPIC).flatMap((l) => receiptsOfTransfersSettled(l));
}

async function payUnknown(label: string): Promise<ApiPayment> {
  const accepted = await alipay.api.pay(alice.id, `${label}@WECHAT`, 3_00n);
  return (await waitForFinalPayments([{ api: alipay.api, id: accepted.id, until: "returned" }], { timeoutMs: 20_000 })).get(accepted.id)!;
}

/** WECHAT's suspense back at zero and its ledger agreeing with the chain. */
const wechatSettled = () =>
  pollUntil("WECHAT to reconcile with nothing in suspense", async () => {
    const r = await wechat.api.reconciliation();
    return r.reconciled && r.suspense === "0" ? r : undefined;
  });

describe("returns", () => {
  test("behavior: two batches settled in one transaction (a contract settlement account): the payee returns a transfer of each, and audit verify and the explorer prove both", async () => {
    const multi: ContractMember = await newMember("MULTI");
    const [first, second] = [toUnknown("first", [1_00n, 2_00n]), toUnknown("second", [3_00n])];
    const txHash = await multi.execute(multi.settleCalls(0n, [first, second]));
    const logs = (await net.client.getTransactionReceipt({ hash: txHash })).logs;
    const batches = parseEventLogs({ abi: settlementHubAbi, logs, eventName: "BatchSettled" }).map((e) => e.args);
    expect(batches.map((b) => [b.batchNo, b.firstSeq, b.count])).toEqual([
      [0n, 0n, 2],
      [1n, 2n, 1],
    ]);

    const receipts = await receiptsOfTx(txHash);
    expect(receipts).toHaveLength(3);
    await allReturned("WECHAT to return the transfers of both batches", receipts);
    await wechatSettled();

    const reader = createChainReader(net.client, net.devnet.manifest);
    const certificates = await verifyTransaction(reader, txHash);
    expect(certificates.map((c) => [c.batch.batchNo, c.batch.index, c.status])).toEqual([
      [0n, 0, "verified"],
      [0n, 1, "verified"],
      [1n, 0, "verified"],
    ]);
    for (const r of receipts) expect((await verifyTransfer(reader, r.transferId)).status).toBe("verified");

    // The explorer rebuilds each batch from its own records too: every proof checks against the hub.
    const explorer = await startExplorer({
      rpcUrl: net.devnet.chain.url,
      deployment: net.devnet.manifest,
      dataDir: path.join(net.dataDir, "explorer"),
      keysFile: path.join(net.dataDir, "explorer-keys.json"),
      createKeyIfMissing: true,
      port: 0,
      pollIntervalMs: 20,
    });
    try {
      await explorer.waitForIndex();
      const views = await Promise.all(
        receipts.map(async (r) => (await fetch(`${explorer.url}/api/transfers/${r.transferId}`, { headers: { authorization: `Bearer ${explorer.createdKey}` } })).json()),
      );
      expect(views.map((v) => [v.batch.batchNo, v.proof.verified, v.proof.hubVerified])).toEqual([
        ["0", true, true],
        ["0", true, true],
        ["1", true, true],
      ]);
    } finally {
      await explorer.close();
    }
  });

  test("behavior: the attack (tiny transfers to unknown references, then exit in the next transaction) blocks no return: the exited wallet's are held on chain, later ones go out", async () => {
    const evil = await newMember("EVIL");
    const tiny = toUnknown("tiny", [1n, 1n, 1n, 1n, 1n]);
    const settleHash = await evil.execute(evil.settleCalls(0n, [tiny]));
    await evil.execute([evil.exitCall()]);
    const receipts = await receiptsOfTx(settleHash);
    await allReturned("WECHAT to return the exited member's transfers", receipts);
    const held = await net.client.readContract({ address: hub, abi: settlementHubAbi, functionName: "heldReturnsOf", args: [evil.walletId] });
    expect(held).toBe(5n);

    // A later payment to an unknown handle comes back as ever.
    expect(await payUnknown("nobody-after-exit")).toMatchObject({ status: "returned", reason: "payee_account_unknown" });
    await wechatSettled();
  });

  test("behavior: a suspended operator still gets its returns: held on chain for it, credited to the customer at once, and claimed by its node once it is resumed", async () => {
    const governance = async (functionName: "suspend" | "resume") => {
      const args = functionName === "suspend" ? [alipay.walletId, 9] : [alipay.walletId];
      const hash = await signers.governor.writeContract({ address: net.devnet.manifest.contracts.walletRegistry, abi: walletRegistryAbi, functionName, args } as never);
      await net.client.waitForTransactionReceipt({ hash });
    };
    const aliceBefore = BigInt((await alipay.api.account(alice.id)).balance);
    // The payment settles while WECHAT's node is down; ALIPAY is suspended before WECHAT sees it.
    await net.rpc("evm_setAutomine", [false]);
    let accepted: ApiPayment;
    try {
      accepted = await alipay.api.pay(alice.id, "nobody-while-suspended@WECHAT", 4_00n);
      await pollUntil("the batch to be broadcast", async () => {
        const pending = await net.client.getTransactionCount({ address: alipay.account, blockTag: "pending" });
        const mined = await net.client.getTransactionCount({ address: alipay.account, blockTag: "latest" });
        return pending > mined ? true : undefined;
      });
      await wechat.stop();
      await net.rpc("evm_mine");
    } finally {
      await net.rpc("evm_setAutomine", [true]);
    }
    await governance("suspend");
    await wechat.start();

    const p = (await waitForFinalPayments([{ api: alipay.api, id: accepted.id, until: "returned" }], { timeoutMs: 20_000 })).get(accepted.id)!;
    expect(p).toMatchObject({ status: "returned", reason: "payee_account_unknown" });
    expect(BigInt((await alipay.api.account(alice.id)).balance)).toBe(aliceBefore);
    const heldFor = () => net.client.readContract({ address: hub, abi: settlementHubAbi, functionName: "heldReturnsOf", args: [alipay.walletId] });
    expect(await heldFor()).toBe(4_00n);
    // The ledger owes alice the money back; the chain holds it for ALIPAY: the two still agree.
    const whileSuspended = await pollUntil("ALIPAY to reconcile with the return held", async () => {
      const r = await alipay.api.reconciliation();
      return r.reconciled && r.heldAtHub === "400" ? r : undefined;
    });
    expect(whileSuspended.difference).toBe("0");
    await wechatSettled();

    await governance("resume");
    // The node claims what is held as soon as it looks (at start, then every 30 s).
    await alipay.stop();
    await alipay.start();
    await pollUntil("ALIPAY's node to claim its held returns", async () => ((await heldFor()) === 0n ? true : undefined));
    const after = await pollUntil("ALIPAY to reconcile after the claim", async () => {
      const r = await alipay.api.reconciliation();
      return r.reconciled && r.heldAtHub === "0" ? r : undefined;
    });
    expect(BigInt(after.tokenBalance) - BigInt(whileSuspended.tokenBalance)).toBe(4_00n);
  });

  test("behavior: a return that cannot be sent is retried with backoff, logged and counted, while every later return goes out", async () => {
    // An item that can never be sent (its proof is not even 32-byte words), queued first in key order.
    const broken: ReturnItem = {
      receipt: {
        transferId: `0x${"00".repeat(31)}01`,
        fromWallet: alipay.walletId,
        toWallet: wechat.walletId,
        seq: "1",
        amount: "1",
        payerRef: zeroHash,
        payeeRef: zeroHash,
        memoHash: zeroHash,
      },
      batchNo: "0",
      proof: ["0x1234"],
      reasonCode: 1,
    };
    const key = compoundKey("out", broken.receipt.transferId);
    await wechat.stop();
    await wechat.withStore((store) => store.sub.inbound.put(key, broken));
    await wechat.start();

    expect(await payUnknown("nobody-behind-a-stuck-return")).toMatchObject({ status: "returned" });
    const metrics = await wechat.node!.service.metrics();
    expect(metrics.returnsFailed).toBeGreaterThanOrEqual(1);
    expect(metrics.returnsBlocked).toBe(1);
    expect(wechat.node!.ledger.balance(SYSTEM_ACCOUNTS.suspense)).toBe(0n);
    const text = await (await fetch(`${wechat.node!.url}/metrics`, { headers: { authorization: `Bearer ${wechat.keys.admin}` } })).text();
    expect(text).toMatch(/^hulian_returns_blocked 1$/m);

    await wechat.stop();
    const stored = (await wechat.withStore((store) => store.sub.inbound.get(key))) as ReturnItem;
    expect(stored.attempts).toBeGreaterThanOrEqual(1);
    expect(stored.nextAttemptAt).toBeGreaterThan(Date.now() - 60_000);
    expect(stored.lastError).toMatch(/size|bytes32|0x1234/i);
    await wechat.withStore((store) => store.sub.inbound.del(key));
    await wechat.start();
  });
});
