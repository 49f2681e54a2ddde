import { type Address, getAddress, zeroHash } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { settlementHubAbi, settlementTokenAbi } from "../../node/chain/abi/generated.ts";
import { RETURN_CALL_ABI, RETURN_RETRY_MAX_MS, describeReturnFailure, nextAttemptAt } from "../../node/bridge/returnRetry.ts";
import { buildMerkleTree, groupTransfers, merkleProof, receiptLeaf, receiptsOfTransfersSettled, TRANSFERS_SETTLED_TOPIC } from "../../node/receipts/index.ts";
import { type TestNetwork, startTestNetwork } from "../helpers/network.ts";

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
