import { type Address, getAddress, zeroHash } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { settlementHubAbi, settlementTokenAbi } from "../../node/chain/abi/generated.ts";
import { RETURN_CALL_ABI, RETURN_RETRY_MAX_MS, describeReturnFailure, nextAttemptAt } from "../../node/bridge/returnRetry.ts";
import { buildMerkleTree, groupTransfers, merkleProof, receiptLeaf, receiptsOfTransfersSettled, TRANSFERS_SETTLED_TOPIC } from "../../node/receipts/index.ts";
import { privateKeyToAccount, generatePrivateKey } from "viem/accounts";
import { BridgeMetrics } from "../../node/bridge/metrics.ts";
import { RETURN_PAGE_SIZE, type ReturnItem, Returner, stageReturn } from "../../node/bridge/returns.ts";
import { TransactionSender } from "../../node/chain/transactionSender.ts";
import { silentLogger } from "../../node/observability/logger.ts";
import { type TestNetwork, startTestNetwork } from "../helpers/network.ts";
import { openLedger, removeDir, tempDir } from "../ledger/helpers.ts";

describe("nextAttemptAt", () => {
  test("default: doubles from 1 s per failed attempt, capped at 10 minutes", () => {
    expect([1, 2, 3, 4].map((n) => nextAttemptAt(n, 1_000))).toEqual([2_000, 3_000, 5_000, 9_000]);
    expect(nextAttemptAt(20, 0)).toBe(RETURN_RETRY_MAX_MS);
    expect(nextAttemptAt(10_000, 0)).toBe(RETURN_RETRY_MAX_MS);
  });
});

describe("describeReturnFailure", () => {
  let net: TestNetwork;
  beforeAll(async () => {
    net = await startTestNetwork(["ALIPAY", "WECHAT"], 1_000_00n);
  });
  afterAll(async () => {
    await net?.close();
  });

  test("behavior: a return that fails inside the token is named by the token's error, which the hub's ABI alone cannot decode", async () => {
    const [alipay, wechat] = net.operators;
    const hub = net.manifest.contracts.settlementHub;
    const { groups, packed } = groupTransfers([{ toWallet: wechat.walletId, amount: 500n, payerRef: zeroHash, payeeRef: zeroHash, memoHash: zeroHash }]);
    const settled = await net.publicClient.waitForTransactionReceipt({
      hash: await net.wallet(alipay.account).writeContract({ address: hub, abi: settlementHubAbi, functionName: "settleBatch", args: [0n, groups, packed] } as never),
    });
    const receipts = settled.logs.filter((l) => l.topics[0] === TRANSFERS_SETTLED_TOPIC).flatMap((l) => receiptsOfTransfersSettled(l));
    // WECHAT redeems everything it holds: it can no longer pay the return.
    await net.publicClient.waitForTransactionReceipt({
      hash: await net.wallet(net.issuer).writeContract({
        address: net.manifest.contracts.settlementToken,
        abi: settlementTokenAbi,
        functionName: "burn",
        args: [wechat.account, 1_000_00n + 500n, zeroHash],
      } as never),
    });
    const args = [receipts[0], 0n, merkleProof(buildMerkleTree(receipts.map(receiptLeaf)), 0), 1] as const;
    const fail = (abi: typeof settlementHubAbi) =>
      net.publicClient.simulateContract({ address: hub, abi, functionName: "returnTransfer", args, account: wechat.account as Address }).then(
        () => "succeeded",
        (e: unknown) => describeReturnFailure(e),
      );
    expect(await fail(RETURN_CALL_ABI)).toBe(`ERC20InsufficientBalance(${getAddress(wechat.account)}, 0, 500)`);
    expect(await fail(settlementHubAbi)).toBe("unknown revert 0xe450d38c");
  });
});

describe("Returner pass", () => {
  let net: TestNetwork;
  beforeAll(async () => {
    net = await startTestNetwork(["ALIPAY", "WECHAT"], 0n);
  });
  afterAll(async () => {
    await net?.close();
  });

  test("behavior: a queue longer than a page, whose first items all wait out a backoff, still reaches the item behind them", async () => {
    const dir = await tempDir("hulian-returner-");
    const { store, ledger } = await openLedger(dir);
    try {
      const now = 1_000_000;
      const item = (n: number, waiting: boolean): ReturnItem => ({
        receipt: {
          transferId: `0x${n.toString(16).padStart(64, "0")}`,
          fromWallet: net.operators[0].walletId,
          toWallet: net.operators[1].walletId,
          seq: String(n),
          amount: "1",
          payerRef: zeroHash,
          payeeRef: zeroHash,
          memoHash: zeroHash,
        },
        batchNo: "0",
        // Never sendable: a proof word that is not 32 bytes fails before any chain call.
        proof: ["0x1234"],
        reasonCode: 1,
        ...(waiting ? { attempts: 3, nextAttemptAt: now + 60_000 } : {}),
      });
      const waiting = RETURN_PAGE_SIZE + 10;
      await ledger.commit([...Array.from({ length: waiting }, (_, i) => stageReturn(store, item(i + 1, true))), stageReturn(store, item(waiting + 1, false))]);
      const metrics = new BridgeMetrics();
      const account = privateKeyToAccount(generatePrivateKey());
      const returner = new Returner({
        ledger,
        sender: new TransactionSender(account, net.publicClient, net.chain),
        client: net.publicClient,
        hub: net.manifest.contracts.settlementHub,
        metrics,
        log: silentLogger,
        now: () => now,
      });
      expect(await returner.passOnce()).toBe(1);
      expect(metrics.returnsFailed).toBe(1);
      expect(metrics.returnsBlocked).toBe(waiting + 1);
      const last = (await store.sub.inbound.get(stageReturn(store, item(waiting + 1, false)).key)) as ReturnItem;
      expect(last).toMatchObject({ attempts: 1, nextAttemptAt: now + 1_000 });
    } finally {
      await store.close();
      await removeDir(dir);
    }
  });
});
