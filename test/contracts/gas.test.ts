import { type Address, hexToBytes, size } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { naivePaymentsAbi, naivePaymentsBytecode, settlementHubAbi } from "../../node/chain/abi/generated.ts";
import { TRANSFERS_SETTLED_TOPIC } from "../../node/receipts/index.ts";
import {
  GAS_SEED,
  type GasSetup,
  type TransferInput,
  naiveGasPerPayment,
  randomBytes32,
  realisticTransfers,
  settleBatchGas,
} from "../../scripts/bench/gas.ts";
import { prng } from "../../scripts/prng.ts";
import { type TestNetwork, startTestNetwork } from "../helpers/network.ts";

/**
 * Gas of SettlementHub.settleBatch per transfer against the naive baseline (one transaction per
 * payment: an OpenZeppelin ERC-20 transfer that also stores a receipt hash and emits an event).
 * Gas is deterministic, so the ratio is asserted; nothing here measures time. The measuring code is
 * shared with `npm run bench` (scripts/bench/gas.ts).
 *
 * Per transfer in the 500-transfer batch (3 payee groups, random refs, half the memos set), as
 * printed below: calldata ≈ 1,450 (the 112-byte packed record), TransfersSettled ≈ 900 (8 gas per
 * log byte; the 1,500 gas of a LOG3 itself is paid once per group), the rest ≈ 880 (the hot loop,
 * the two receipt hashes, the Merkle root, and the batch's fixed cost spread over 500): ≈ 3,230 in
 * all, against ≈ 5,800 with one 4-topic TransferSettled and a 5-word ABI struct per transfer.
 */

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
  const next = prng(GAS_SEED);

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

  function setup(): GasSetup {
    const [payer, ...payees] = net.operators;
    return {
      publicClient: net.publicClient,
      hub,
      naive,
      payer: { walletId: payer.walletId, wallet: net.wallet(payer.account) },
      payees: payees.map((op) => ({ walletId: op.walletId, account: op.account })),
      next,
    };
  }

  const settle = (transfers: TransferInput[]) => settleBatchGas(setup(), transfers);

  /**
   * Splits the gas of the last transaction per transfer: its calldata (16 gas a non-zero byte, 4 a
   * zero byte), its TransfersSettled logs (375 + 375 per topic + 8 per data byte), and the rest
   * (execution, memory, the 21,000 of any transaction).
   */
  async function breakdown(gasUsed: number, count: number) {
    const block = await net.publicClient.getBlock({ includeTransactions: true });
    const tx = block.transactions.at(-1)!;
    const receipt = await net.publicClient.getTransactionReceipt({ hash: tx.hash });
    const calldata = hexToBytes(tx.input).reduce((sum, byte) => sum + (byte === 0 ? 4 : 16), 0);
    const logs = receipt.logs
      .filter((log) => log.topics[0] === TRANSFERS_SETTLED_TOPIC)
      .reduce((sum, log) => sum + 375 + 375 * log.topics.length + 8 * size(log.data), 0);
    const per = (gas: number) => Math.round(gas / count);
    return { calldata: per(calldata), transfersSettled: per(logs), rest: per(gasUsed - calldata - logs) };
  }

  it("behavior: a 500-transfer batch costs at most 4,000 gas and 1/10 of a naive payment per transfer", async () => {
    const naiveGas = await naiveGasPerPayment(setup(), 20);
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
    const split = await breakdown(rows.at(-1)!.gasUsed, 500);

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
    console.log(`gas per transfer at 500: ${JSON.stringify(split)}`);
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
    expect(full.gasUsed / 500).toBeLessThanOrEqual(4_000);
  });
});
