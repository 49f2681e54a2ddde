import { type Address, type Hex, toHex, zeroHash } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { naivePaymentsAbi, naivePaymentsBytecode, settlementHubAbi } from "../../node/chain/abi/generated.ts";
import { receiptLeaf, transferIdOf } from "../../node/receipts/index.ts";
import { type TestNetwork, startTestNetwork } from "../helpers/network.ts";

/**
 * Gas of SettlementHub.settleBatch per transfer against the naive baseline (one transaction per
 * payment: an OpenZeppelin ERC-20 transfer that also stores a receipt hash and emits an event).
 * Gas is deterministic, so the ratio is asserted; nothing here measures time.
 */

const SEED = 0x48554c49; // fixed: the table must be reproducible run to run

/** mulberry32: a tiny seeded PRNG, so the "random" refs and amounts are the same every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes32(next: () => number): Hex {
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = Math.floor(next() * 256);
  return toHex(bytes);
}

interface TransferInput {
  payee: number;
  amount: bigint;
  payerRef: Hex;
  payeeRef: Hex;
  memoHash: Hex;
}

/** Realistic transfers: 3 payees, random 32-byte refs, half the memos set, 1–100,000 fen. */
function realisticTransfers(next: () => number, count: number): TransferInput[] {
  return Array.from({ length: count }, () => ({
    payee: Math.floor(next() * 3),
    amount: BigInt(1 + Math.floor(next() * 100_000)),
    payerRef: randomBytes32(next),
    payeeRef: randomBytes32(next),
    memoHash: next() < 0.5 ? randomBytes32(next) : zeroHash,
  }));
}

interface Row {
  scenario: string;
  transfers: number;
  gasUsed: number;
  gasPerTransfer: number;
  naivePerPayment: number;
  ratio: number;
}

describe("SettlementHub gas", () => {
  let net: TestNetwork;
  let hub: Address;
  let naive: Address;
  const next = prng(SEED);

  beforeAll(async () => {
    net = await startTestNetwork(["ALIPAY", "WECHAT", "YUNPAY", "UNIONPAY"]);
    hub = net.manifest.contracts.settlementHub;
    const deployHash = await net.wallet(net.deployer).deployContract({
      abi: naivePaymentsAbi,
      bytecode: naivePaymentsBytecode,
      args: [net.operators.map((op) => op.account), 1_000_000_00n],
    } as never);
    const deployed = await net.publicClient.waitForTransactionReceipt({ hash: deployHash });
    naive = deployed.contractAddress as Address;
  });

  afterAll(async () => {
    await net?.close();
  });

  async function settle(transfers: TransferInput[]): Promise<bigint> {
    const [payer, ...payees] = net.operators;
    const firstSeq = (await net.publicClient.readContract({
      address: hub,
      abi: settlementHubAbi,
      functionName: "nextSeq",
      args: [payer.walletId],
    })) as bigint;
    const hash = await net.wallet(payer.account).writeContract({
      address: hub,
      abi: settlementHubAbi,
      functionName: "settleBatch",
      args: [firstSeq, payees.map((op) => op.walletId), transfers],
      gas: 25_000_000n,
    } as never);
    const receipt = await net.publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe("success");
    return receipt.gasUsed;
  }

  /** Average gas of `count` naive payments in steady state (holders and contract already touched). */
  async function naivePerPayment(count: number): Promise<number> {
    const [payer, ...payees] = net.operators;
    const sender = net.wallet(payer.account);
    let total = 0n;
    for (let seq = 1_000_000n; seq < 1_000_000n + BigInt(count) + 1n; seq++) {
      const [t] = realisticTransfers(next, 1);
      const payee = payees[t.payee];
      const transferId = transferIdOf(payer.walletId, seq);
      const leaf = receiptLeaf({
        transferId,
        fromWallet: payer.walletId,
        toWallet: payee.walletId,
        seq,
        amount: t.amount,
        payerRef: t.payerRef,
        payeeRef: t.payeeRef,
        memoHash: t.memoHash,
      });
      const hash = await sender.writeContract({
        address: naive,
        abi: naivePaymentsAbi,
        functionName: "pay",
        args: [transferId, payee.account, t.amount, leaf],
      } as never);
      const receipt = await net.publicClient.waitForTransactionReceipt({ hash });
      expect(receipt.status).toBe("success");
      if (seq > 1_000_000n) total += receipt.gasUsed; // the first payment only warms up
    }
    return Number(total) / count;
  }

  it("behavior: a 500-transfer batch costs at most 1/10 of a naive payment per transfer", async () => {
    const naiveGas = await naivePerPayment(20);
    // Steady state: the payer's wallet state and root-chain head are already non-zero.
    await settle(realisticTransfers(next, 1));

    const rows: Row[] = [];
    const measure = async (scenario: string, count: number) => {
      const gasUsed = Number(await settle(realisticTransfers(next, count)));
      const row: Row = {
        scenario,
        transfers: count,
        gasUsed,
        gasPerTransfer: Math.round(gasUsed / count),
        naivePerPayment: Math.round(naiveGas),
        ratio: Number((gasUsed / count / naiveGas).toFixed(4)),
      };
      rows.push(row);
      return row;
    };
    for (const count of [1, 10, 100, 500]) await measure("batch", count);

    // The same 500-transfer batch while 20 references are frozen: the Bloom filter is loaded and
    // every reference pays two bit tests (and, rarely, a false-positive mapping lookup).
    const regulator = net.wallet(net.regulator);
    for (let i = 0; i < 20; i++) {
      const hash = await regulator.writeContract({
        address: hub,
        abi: settlementHubAbi,
        functionName: "freezeReference",
        args: [randomBytes32(next)],
      } as never);
      await net.publicClient.waitForTransactionReceipt({ hash });
    }
    await measure("batch, 20 refs frozen", 500);

    console.table(rows);
    console.log(
      "gas: " +
        JSON.stringify({
          naivePerPayment: Math.round(naiveGas),
          batches: rows.map(({ scenario, transfers, gasUsed, gasPerTransfer, ratio }) => ({
            scenario,
            transfers,
            gasUsed,
            gasPerTransfer,
            ratio,
          })),
        }),
    );

    const full = rows.find((row) => row.scenario === "batch" && row.transfers === 500)!;
    expect(full.gasUsed / 500 / naiveGas).toBeLessThanOrEqual(0.1);
  });
});
