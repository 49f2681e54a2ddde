import { type Hex, toHex } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BATCH_GAS_BASE, BATCH_GAS_PER_TRANSFER, batchGasLimit } from "../../node/bridge/batchPlan.ts";
import { DEFAULT_MAX_BATCH_TRANSFERS } from "../../node/bridge/batcher.ts";
import { settlementHubAbi } from "../../node/chain/abi/generated.ts";
import { EIP7825_MAX_TRANSACTION_GAS, HUB_MAX_BATCH_TRANSFERS } from "../../node/chain/gasLimits.ts";
import { groupTransfers } from "../../node/receipts/index.ts";
import { prng } from "../../scripts/prng.ts";
import { type TestNetwork, startTestNetwork } from "../helpers/network.ts";

/**
 * The gas limit a batch is sent with must stay under EIP-7825's per-transaction cap (2^24, Osaka)
 * for every batch the hub takes, and still be enough for the costliest such batch.
 */
let net: TestNetwork;

beforeAll(async () => {
  net = await startTestNetwork(["ALIPAY", "WECHAT", "YUNPAY", "UNIONPAY", "NEWPAY"]);
});
afterAll(async () => {
  await net?.close();
});

describe("batch gas allowance", () => {
  test("default: the largest batch the hub takes is sent under the per-transaction cap", () => {
    expect(batchGasLimit(HUB_MAX_BATCH_TRANSFERS)).toBeLessThanOrEqual(EIP7825_MAX_TRANSACTION_GAS);
    expect(batchGasLimit(DEFAULT_MAX_BATCH_TRANSFERS)).toBeLessThanOrEqual(EIP7825_MAX_TRANSACTION_GAS);
    expect(batchGasLimit(1)).toBe(BATCH_GAS_BASE + BATCH_GAS_PER_TRANSFER);
  });

  test("error: a batch size the hub refuses has no gas allowance", () => {
    expect(() => batchGasLimit(HUB_MAX_BATCH_TRANSFERS + 1)).toThrow("a batch holds 1 to 2048 transfers, not 2049");
    expect(() => batchGasLimit(0)).toThrow("a batch holds 1 to 2048 transfers, not 0");
  });

  test("behavior: a full 2,048-transfer batch with every reference and memo set settles within its allowance", async () => {
    const next = prng(0x6a5);
    const bytes32 = () => toHex(Uint8Array.from({ length: 32 }, () => 1 + Math.floor(next() * 255))) as Hex;
    const [payer, ...payees] = net.operators;
    // Every byte of the references non-zero: calldata at 16 gas a byte, the costliest records.
    const { groups, packed } = groupTransfers(
      Array.from({ length: HUB_MAX_BATCH_TRANSFERS }, (_, i) => ({
        toWallet: payees[i % payees.length]!.walletId,
        amount: BigInt(10_000 + Math.floor(next() * 30_000)),
        payerRef: bytes32(),
        payeeRef: bytes32(),
        memoHash: bytes32(),
      })),
    );
    const gas = batchGasLimit(HUB_MAX_BATCH_TRANSFERS);
    const hash = await net.wallet(payer!.account).writeContract({
      address: net.manifest.contracts.settlementHub,
      abi: settlementHubAbi,
      functionName: "settleBatch",
      args: [0n, groups, packed],
      gas,
    } as never);
    const receipt = await net.publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe("success");
    expect(receipt.gasUsed).toBeLessThan(gas);
  }, 60_000);
});
