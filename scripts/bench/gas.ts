import { type Account, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient, toHex, zeroHash } from "viem";
import { naivePaymentsAbi, settlementHubAbi } from "../../node/chain/abi/generated.ts";
import { groupTransfers, receiptLeaf, transferIdOf } from "../../node/receipts/index.ts";
import { prng } from "../prng.ts";

/**
 * Gas of `SettlementHub.settleBatch` per transfer against the naive baseline (one transaction per
 * payment to `NaivePayments`: an OpenZeppelin ERC-20 transfer that also stores a receipt hash and
 * emits an event), measured on one chain. Shared by `npm run bench` and test/contracts/gas.test.ts,
 * which asserts the ratio (gas is deterministic; nothing here measures time).
 */

/** Seed of the transfer generator: the table must be reproducible run to run. */
export const GAS_SEED = 0x48554c49;

/** Batch sizes of the gas table. */
export const GAS_BATCH_SIZES = [1, 10, 100, 500] as const;

/** 32 bytes from the generator, as hex. */
export function randomBytes32(next: () => number): Hex {
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = Math.floor(next() * 256);
  return toHex(bytes);
}

/**
 * One transfer of a generated batch: a packed record (see node/receipts/transfersSettled.ts) and the
 * index of its payee in {@link GasSetup.payees}. {@link settleBatchGas} groups the transfers by payee
 * into `settleBatch`'s payee groups and packed bytes.
 */
export interface TransferInput {
  /** index into the setup's payees */
  payee: number;
  amount: bigint;
  payerRef: Hex;
  payeeRef: Hex;
  memoHash: Hex;
}

/** Realistic transfers: 3 payees, random 32-byte refs, half the memos set, 1–100,000 fen. */
export function realisticTransfers(next: () => number, count: number, payees = 3): TransferInput[] {
  return Array.from({ length: count }, () => ({
    payee: Math.floor(next() * payees),
    amount: BigInt(1 + Math.floor(next() * 100_000)),
    payerRef: randomBytes32(next),
    payeeRef: randomBytes32(next),
    memoHash: next() < 0.5 ? randomBytes32(next) : zeroHash,
  }));
}

/** A wallet client that can send as its account (local key or the simulator's). */
export type GasWallet = WalletClient<Transport, Chain, Account>;

/** Where and as whom the gas is measured. */
export interface GasSetup {
  publicClient: PublicClient;
  hub: Address;
  /** A deployed `NaivePayments` in which the payer and payees already hold tokens. */
  naive: Address;
  payer: { walletId: Hex; wallet: GasWallet };
  /** Active operators other than the payer (the batch's payees, also the naive payments' payees). */
  payees: { walletId: Hex; account: Address }[];
  next: () => number;
}

/** Settles one batch as the payer (transfers grouped by payee, packed) and returns its gas. */
export async function settleBatchGas(setup: GasSetup, transfers: TransferInput[]): Promise<bigint> {
  const { publicClient, hub, payer, payees } = setup;
  const { groups, packed } = groupTransfers(transfers.map((t) => ({ ...t, toWallet: payees[t.payee].walletId })));
  const firstSeq = (await publicClient.readContract({
    address: hub,
    abi: settlementHubAbi,
    functionName: "nextSeq",
    args: [payer.walletId],
  })) as bigint;
  const hash = await payer.wallet.writeContract({
    address: hub,
    abi: settlementHubAbi,
    functionName: "settleBatch",
    args: [firstSeq, groups, packed],
    gas: 25_000_000n,
  } as never);
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`settleBatch of ${transfers.length} transfers reverted`);
  return receipt.gasUsed;
}

/** Average gas of `count` naive payments in steady state (holders and contract already touched). */
export async function naiveGasPerPayment(setup: GasSetup, count: number): Promise<number> {
  const { publicClient, naive, payer, payees, next } = setup;
  let total = 0n;
  for (let seq = 1_000_000n; seq < 1_000_000n + BigInt(count) + 1n; seq++) {
    const [t] = realisticTransfers(next, 1, payees.length);
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
    const hash = await payer.wallet.writeContract({
      address: naive,
      abi: naivePaymentsAbi,
      functionName: "pay",
      args: [transferId, payee.account, t.amount, leaf],
    } as never);
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error("NaivePayments.pay reverted");
    if (seq > 1_000_000n) total += receipt.gasUsed; // the first payment only warms up
  }
  return Number(total) / count;
}

/** The gas table of the benchmark. */
export interface GasTable {
  /** Gas per transfer by batch size. */
  batched: Record<string, number>;
  /** Total gas of each batch, by batch size. */
  batchGasUsed: Record<string, number>;
  /** Gas per naive payment. */
  naive: number;
  /** Gas per transfer in a 500-transfer batch over a naive payment. */
  ratio: number;
}

/**
 * Measures the naive payment, warms the payer's wallet state up with one batch, then settles one
 * batch of each size in {@link GAS_BATCH_SIZES}.
 */
export async function measureGasTable(setup: GasSetup, naivePayments = 20): Promise<GasTable> {
  const naive = await naiveGasPerPayment(setup, naivePayments);
  // Steady state: the payer's wallet state and root-chain head are already non-zero.
  await settleBatchGas(setup, realisticTransfers(setup.next, 1, setup.payees.length));
  const batched: Record<string, number> = {};
  const batchGasUsed: Record<string, number> = {};
  for (const count of GAS_BATCH_SIZES) {
    const gasUsed = Number(await settleBatchGas(setup, realisticTransfers(setup.next, count, setup.payees.length)));
    batchGasUsed[count] = gasUsed;
    batched[count] = Math.round(gasUsed / count);
  }
  return { batched, batchGasUsed, naive: Math.round(naive), ratio: batchGasUsed[500] / 500 / naive };
}
