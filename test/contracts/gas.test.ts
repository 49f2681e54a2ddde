import type { Address } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { naivePaymentsAbi, naivePaymentsBytecode, settlementHubAbi } from "../../node/chain/abi/generated.ts";
import {
  GAS_SEED,
  type GasSetup,
  type TransferInput,
  naiveGasPerPayment,
  prng,
  randomBytes32,
  realisticTransfers,
  settleBatchGas,
} from "../../scripts/bench/gas.ts";
import { type TestNetwork, startTestNetwork } from "../helpers/network.ts";

/**
 * Gas of SettlementHub.settleBatch per transfer against the naive baseline (one transaction per
 * payment: an OpenZeppelin ERC-20 transfer that also stores a receipt hash and emits an event).
 * Gas is deterministic, so the ratio is asserted; nothing here measures time. The measuring code is
 * shared with `npm run bench` (scripts/bench/gas.ts).
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

  it("behavior: a 500-transfer batch costs at most 1/10 of a naive payment per transfer", async () => {
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
