import {
  type Address,
  type Hex,
  type TransactionReceipt,
  encodeDeployData,
  encodeFunctionData,
  getAddress,
  getContract,
  keccak256,
  parseEventLogs,
  toHex,
  zeroAddress,
  zeroHash,
} from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  settlementHubAbi,
  settlementHubBytecode,
  settlementTokenAbi,
  walletRegistryAbi,
} from "../../node/chain/abi/generated.ts";
import {
  type BatchLink,
  type Receipt,
  buildMerkleTree,
  chainHead,
  merkleProof,
  nextHead,
  receiptLeaf,
  transferIdOf,
  walletIdOf,
} from "../../node/receipts/index.ts";
import { expectRevert } from "../helpers/expectRevert.ts";
import { type TestNetwork, type TestOperator, startTestNetwork, useEvmSnapshots } from "../helpers/network.ts";

const REGULATOR_ROLE = keccak256(toHex("REGULATOR_ROLE"));
const DEFAULT_ADMIN_ROLE = zeroHash;
const MINTED = 1_000_000_00n;
const DAY = 86_400;

interface TransferInput {
  payee: number;
  amount: bigint;
  payerRef: Hex;
  payeeRef: Hex;
  memoHash: Hex;
}

/** mulberry32: small seeded PRNG so "random" cases are the same on every run. */
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
const next = prng(20_240_601);
const randomBytes32 = (): Hex => toHex(Uint8Array.from({ length: 32 }, () => Math.floor(next() * 256)));

/** A transfer to payee index `payee`; refs and memo random unless given. */
function transfer(payee: number, amount: bigint, overrides: Partial<TransferInput> = {}): TransferInput {
  return { payee, amount, payerRef: randomBytes32(), payeeRef: randomBytes32(), memoHash: randomBytes32(), ...overrides };
}

let net: TestNetwork;
let hub: Address;
let ops: TestOperator[];
let stranger: Address;

beforeAll(async () => {
  net = await startTestNetwork();
  hub = getAddress(net.manifest.contracts.settlementHub);
  ops = net.operators.map((op) => ({ ...op, account: getAddress(op.account) }));
  stranger = getAddress(net.strangers[0]);
});

afterAll(async () => {
  await net?.close();
});

useEvmSnapshots(() => net);

function rpc(method: string, params: unknown[]): Promise<unknown> {
  return net.publicClient.request({ method, params } as never);
}

function hubAs(account: Address) {
  return getContract({
    address: hub,
    abi: settlementHubAbi,
    client: { public: net.publicClient, wallet: net.wallet(account) },
  });
}

const read = () => hubAs(stranger).read;

function registryAs(account: Address) {
  return getContract({
    address: net.manifest.contracts.walletRegistry,
    abi: walletRegistryAbi,
    client: { public: net.publicClient, wallet: net.wallet(account) },
  });
}

const balanceOf = (account: Address) =>
  net.publicClient.readContract({
    address: net.manifest.contracts.settlementToken,
    abi: settlementTokenAbi,
    functionName: "balanceOf",
    args: [account],
  }) as Promise<bigint>;

async function mined(hash: Promise<Hex>): Promise<TransactionReceipt> {
  const receipt = await net.publicClient.waitForTransactionReceipt({ hash: await hash });
  expect(receipt.status).toBe("success");
  return receipt;
}

/** Settles a batch from `payer` at its current nextSeq (unless `firstSeq` is given). */
async function settle(
  payer: TestOperator,
  payees: Hex[],
  transfers: TransferInput[],
  firstSeq?: bigint,
): Promise<TransactionReceipt> {
  const seq = firstSeq ?? (await read().nextSeq([payer.walletId]));
  return mined(hubAs(payer.account).write.settleBatch([seq, payees, transfers]));
}

/** The receipts of a settled batch, decoded from its TransferSettled logs. */
function receiptsOf(receipt: TransactionReceipt): Receipt[] {
  return parseEventLogs({ abi: settlementHubAbi, logs: receipt.logs, eventName: "TransferSettled" }).map(
    ({ args }) => ({ ...args }),
  );
}

function batchSettledOf(receipt: TransactionReceipt) {
  const [event] = parseEventLogs({ abi: settlementHubAbi, logs: receipt.logs, eventName: "BatchSettled" });
  return event.args;
}

describe("deployment", () => {
  it("default: wires registry and token and grants the roles", async () => {
    expect(getAddress(await read().registry())).toBe(getAddress(net.manifest.contracts.walletRegistry));
    expect(getAddress(await read().token())).toBe(getAddress(net.manifest.contracts.settlementToken));
    expect(await read().hasRole([REGULATOR_ROLE, getAddress(net.regulator)])).toBe(true);
    expect(await read().hasRole([DEFAULT_ADMIN_ROLE, getAddress(net.deployer)])).toBe(true);
    expect(await read().REGULATOR_ROLE()).toBe(REGULATOR_ROLE);
    expect(await read().MAX_BATCH_TRANSFERS()).toBe(2048n);
    expect(await read().MAX_BATCH_PAYEES()).toBe(64n);
    expect(await read().paused()).toBe(false);
  });

  it("error: HubZeroAddress for any zero constructor address", async () => {
    const args = [net.manifest.contracts.walletRegistry, net.manifest.contracts.settlementToken, net.deployer, net.regulator];
    for (let i = 0; i < args.length; i++) {
      const bad = args.map((value, j) => (j === i ? zeroAddress : value));
      await expectRevert(
        net.publicClient.call({
          account: net.deployer,
          data: encodeDeployData({
            abi: settlementHubAbi,
            bytecode: settlementHubBytecode,
            args: bad as never,
          }),
        }),
        "HubZeroAddress",
        [],
      );
    }
  });
});

describe("settleBatch", () => {
  it("default: debits the payer once, credits each payee once, emits a receipt per transfer", async () => {
    const [alipay, wechat, yunpay] = ops;
    const transfers = [transfer(0, 100n), transfer(1, 250n), transfer(0, 7n, { memoHash: zeroHash })];
    const payees = [wechat.walletId, yunpay.walletId];
    const simulated = await hubAs(alipay.account).simulate.settleBatch([0n, payees, transfers], { account: alipay.account });
    const receipt = await settle(alipay, payees, transfers);

    expect(await balanceOf(alipay.account)).toBe(MINTED - 357n);
    expect(await balanceOf(wechat.account)).toBe(MINTED + 107n);
    expect(await balanceOf(yunpay.account)).toBe(MINTED + 250n);
    expect(await balanceOf(hub)).toBe(0n);
    expect(await read().nextSeq([alipay.walletId])).toBe(3n);
    expect(await read().batchCount([alipay.walletId])).toBe(1n);
    expect(await read().outflowToday([alipay.walletId])).toBe(357n);

    const receipts = receiptsOf(receipt);
    expect(receipts).toHaveLength(3);
    receipts.forEach((r, i) => {
      expect(r.transferId).toBe(transferIdOf(alipay.walletId, BigInt(i)));
      expect(r.fromWallet).toBe(alipay.walletId);
      expect(r.toWallet).toBe(payees[transfers[i].payee]);
      expect(r.seq).toBe(BigInt(i));
      expect(r.amount).toBe(transfers[i].amount);
      expect(r.payerRef).toBe(transfers[i].payerRef);
      expect(r.payeeRef).toBe(transfers[i].payeeRef);
      expect(r.memoHash).toBe(transfers[i].memoHash);
    });

    // One debit into the hub and one credit per payee: three token Transfer events in all.
    const tokenMoves = parseEventLogs({ abi: settlementTokenAbi, logs: receipt.logs, eventName: "Transfer" });
    expect(tokenMoves.map(({ args }) => [getAddress(args.from), getAddress(args.to), args.value])).toEqual([
      [alipay.account, hub, 357n],
      [hub, wechat.account, 107n],
      [hub, yunpay.account, 250n],
    ]);

    const batch = batchSettledOf(receipt);
    const root = buildMerkleTree(receipts.map(receiptLeaf)).root;
    expect(batch).toEqual({
      fromWallet: alipay.walletId,
      batchNo: 0n,
      firstSeq: 0n,
      count: 3,
      total: 357n,
      root,
      prevHead: zeroHash,
      head: nextHead(zeroHash, { batchNo: 0n, firstSeq: 0n, count: 3, root }),
    });
    expect(simulated.result).toEqual([0n, root]);
  });

  it("behavior: a payee listed but unused is neither credited nor charged", async () => {
    const [alipay, wechat, yunpay] = ops;
    await settle(alipay, [wechat.walletId, yunpay.walletId], [transfer(1, 5n)]);
    expect(await balanceOf(wechat.account)).toBe(MINTED);
    expect(await balanceOf(yunpay.account)).toBe(MINTED + 5n);
  });

  it("behavior: receipts prove in TypeScript and on chain; roots and head match", async () => {
    const [alipay, wechat, yunpay] = ops;
    const payees = [wechat.walletId, yunpay.walletId];
    const links: BatchLink[] = [];
    for (const size of [1, 2, 7, 16]) {
      const transfers = Array.from({ length: size }, (_, i) =>
        transfer(i % 2, BigInt(1 + Math.floor(next() * 100_000)), { memoHash: i % 2 ? zeroHash : randomBytes32() }),
      );
      const receipt = await settle(alipay, payees, transfers);
      const receipts = receiptsOf(receipt);
      const tree = buildMerkleTree(receipts.map(receiptLeaf));
      const batch = batchSettledOf(receipt);
      expect(batch.root).toBe(tree.root);
      expect(await read().batchRoot([alipay.walletId, batch.batchNo])).toBe(tree.root);
      links.push({ batchNo: batch.batchNo, firstSeq: batch.firstSeq, count: batch.count, root: batch.root });
      for (let i = 0; i < receipts.length; i++) {
        expect(await read().verifyReceipt([receipts[i], batch.batchNo, merkleProof(tree, i)])).toBe(true);
        expect(await read().receiptLeaf([receipts[i]])).toBe(receiptLeaf(receipts[i]));
      }
      // A tampered receipt, or the right receipt against another batch, does not prove.
      const tampered = { ...receipts[0], amount: receipts[0].amount + 1n };
      expect(await read().verifyReceipt([tampered, batch.batchNo, merkleProof(tree, 0)])).toBe(false);
      expect(await read().verifyReceipt([receipts[0], batch.batchNo + 1n, merkleProof(tree, 0)])).toBe(false);
    }
    expect(await read().headOf([alipay.walletId])).toBe(chainHead(links));
    expect(await read().nextSeq([alipay.walletId])).toBe(26n);
    expect(await read().batchCount([alipay.walletId])).toBe(4n);
  });

  it("behavior: sequences are per sending wallet", async () => {
    const [alipay, wechat, yunpay] = ops;
    await settle(alipay, [wechat.walletId], [transfer(0, 1n), transfer(0, 1n)]);
    const receipt = await settle(wechat, [yunpay.walletId], [transfer(0, 1n)]);
    expect(receiptsOf(receipt)[0].transferId).toBe(transferIdOf(wechat.walletId, 0n));
    expect(await read().nextSeq([alipay.walletId])).toBe(2n);
    expect(await read().nextSeq([wechat.walletId])).toBe(1n);
    expect(await read().nextSeq([yunpay.walletId])).toBe(0n);
  });

  it("behavior: settles the largest batch allowed", async () => {
    const [alipay, wechat] = ops;
    const transfers = Array.from({ length: 2048 }, () => transfer(0, 1n));
    const receipt = await settle(alipay, [wechat.walletId], transfers);
    expect(batchSettledOf(receipt).count).toBe(2048);
  });

  it("error: HubSequenceReplayed when the batch starts below nextSeq", async () => {
    const [alipay, wechat] = ops;
    await settle(alipay, [wechat.walletId], [transfer(0, 1n), transfer(0, 1n)]);
    for (const start of [0n, 1n]) {
      await expectRevert(
        hubAs(alipay.account).write.settleBatch([start, [wechat.walletId], [transfer(0, 1n)]]),
        "HubSequenceReplayed",
        [alipay.walletId, 2n, start],
      );
    }
  });

  it("error: HubSequenceGap when the batch starts above nextSeq", async () => {
    const [alipay, wechat] = ops;
    await expectRevert(
      hubAs(alipay.account).write.settleBatch([1n, [wechat.walletId], [transfer(0, 1n)]]),
      "HubSequenceGap",
      [alipay.walletId, 0n, 1n],
    );
  });

  it("error: HubUnknownSender when the caller is no operator's account", async () => {
    await expectRevert(
      hubAs(stranger).write.settleBatch([0n, [ops[1].walletId], [transfer(0, 1n)]]),
      "HubUnknownSender",
      [stranger],
    );
  });

  it("error: HubOperatorNotActive for a suspended sender, and settles again once resumed", async () => {
    const [alipay, wechat] = ops;
    await mined(registryAs(net.governor).write.suspend([alipay.walletId, 7]));
    await expectRevert(
      hubAs(alipay.account).write.settleBatch([0n, [wechat.walletId], [transfer(0, 1n)]]),
      "HubOperatorNotActive",
      [alipay.walletId],
    );
    await mined(registryAs(net.governor).write.resume([alipay.walletId]));
    await settle(alipay, [wechat.walletId], [transfer(0, 1n)]);
  });

  it("error: HubOperatorNotActive for a suspended or unknown payee", async () => {
    const [alipay, wechat, yunpay] = ops;
    await mined(registryAs(net.governor).write.suspend([yunpay.walletId, 7]));
    await expectRevert(
      hubAs(alipay.account).write.settleBatch([0n, [wechat.walletId, yunpay.walletId], [transfer(0, 1n)]]),
      "HubOperatorNotActive",
      [yunpay.walletId],
    );
    const unknown = walletIdOf("NOBODY");
    await expectRevert(
      hubAs(alipay.account).write.settleBatch([0n, [unknown], [transfer(0, 1n)]]),
      "HubOperatorNotActive",
      [unknown],
    );
  });

  it("error: HubEmptyBatch", async () => {
    await expectRevert(hubAs(ops[0].account).write.settleBatch([0n, [ops[1].walletId], []]), "HubEmptyBatch", []);
  });

  it("error: HubBatchTooLarge for too many transfers or payees", async () => {
    const [alipay, wechat] = ops;
    const tooMany = Array.from({ length: 2049 }, () => transfer(0, 1n));
    await expectRevert(
      hubAs(alipay.account).simulate.settleBatch([0n, [wechat.walletId], tooMany], { account: alipay.account }),
      "HubBatchTooLarge",
      [2049n, 1n],
    );
    const payees = Array.from({ length: 65 }, (_, i) => walletIdOf(`P${i}`));
    await expectRevert(
      hubAs(alipay.account).write.settleBatch([0n, payees, [transfer(0, 1n)]]),
      "HubBatchTooLarge",
      [1n, 65n],
    );
  });

  it("error: HubInvalidPayeeIndex for an index past the payees", async () => {
    const [alipay, wechat] = ops;
    await expectRevert(
      hubAs(alipay.account).write.settleBatch([0n, [wechat.walletId], [transfer(0, 1n), transfer(1, 1n)]]),
      "HubInvalidPayeeIndex",
      [1n, 1],
    );
  });

  it("error: HubDuplicatePayee", async () => {
    const [alipay, wechat, yunpay] = ops;
    await expectRevert(
      hubAs(alipay.account).write.settleBatch([
        0n,
        [wechat.walletId, yunpay.walletId, wechat.walletId],
        [transfer(0, 1n)],
      ]),
      "HubDuplicatePayee",
      [wechat.walletId],
    );
  });

  it("error: HubSelfTransfer", async () => {
    const [alipay, wechat] = ops;
    await expectRevert(
      hubAs(alipay.account).write.settleBatch([0n, [wechat.walletId, alipay.walletId], [transfer(0, 1n)]]),
      "HubSelfTransfer",
      [alipay.walletId],
    );
  });

  it("error: HubZeroAmount names the transfer", async () => {
    const [alipay, wechat] = ops;
    await expectRevert(
      hubAs(alipay.account).write.settleBatch([0n, [wechat.walletId], [transfer(0, 1n), transfer(0, 2n), transfer(0, 0n)]]),
      "HubZeroAmount",
      [2n],
    );
  });

  it("behavior: an out-of-range uint8 payee word is rejected like any malformed calldata", async () => {
    const [alipay, wechat] = ops;
    const data = encodeFunctionData({
      abi: settlementHubAbi,
      functionName: "settleBatch",
      args: [0n, [wechat.walletId], [transfer(0, 1n)]],
    });
    // The first transfer's payee word sits after selector, 3 head words, payees (length + 1) and
    // the transfers length: set it to 256.
    const offset = 2 + 8 + 64 * 6;
    const bad = (data.slice(0, offset) + (256).toString(16).padStart(64, "0") + data.slice(offset + 64)) as Hex;
    await expect(net.publicClient.call({ account: alipay.account, to: hub, data: bad })).rejects.toThrow();
  });
});

describe("limits", () => {
  it("default: no limits until the regulator sets them", async () => {
    expect(await read().limitsOf([ops[0].walletId])).toEqual({ perTransfer: 0n, daily: 0n });
  });

  it("default: setLimits stores and emits; the same values again do nothing", async () => {
    const regulator = hubAs(net.regulator);
    const first = await mined(regulator.write.setLimits([ops[0].walletId, 1_000n, 5_000n]));
    expect(parseEventLogs({ abi: settlementHubAbi, logs: first.logs, eventName: "LimitsSet" })[0].args).toEqual({
      walletId: ops[0].walletId,
      perTransfer: 1_000n,
      daily: 5_000n,
    });
    expect(await read().limitsOf([ops[0].walletId])).toEqual({ perTransfer: 1_000n, daily: 5_000n });
    const again = await mined(regulator.write.setLimits([ops[0].walletId, 1_000n, 5_000n]));
    expect(again.logs).toHaveLength(0);
  });

  it("error: HubTransferLimitExceeded above the per-transfer limit; at the limit it settles", async () => {
    const [alipay, wechat] = ops;
    await mined(hubAs(net.regulator).write.setLimits([alipay.walletId, 1_000n, 0n]));
    await expectRevert(
      hubAs(alipay.account).write.settleBatch([0n, [wechat.walletId], [transfer(0, 1_000n), transfer(0, 1_001n)]]),
      "HubTransferLimitExceeded",
      [alipay.walletId, 1_001n, 1_000n],
    );
    await settle(alipay, [wechat.walletId], [transfer(0, 1_000n)]);
  });

  it("error: HubDailyLimitExceeded over the UTC day, which resets the next day", async () => {
    const [alipay, wechat] = ops;
    // Start at the beginning of a UTC day so the batches below share one.
    const block = await net.publicClient.getBlock();
    const dayStart = (block.timestamp / BigInt(DAY) + 1n) * BigInt(DAY);
    await rpc("evm_setNextBlockTimestamp", [toHex(dayStart)]);
    await rpc("evm_mine", []);
    await mined(hubAs(net.regulator).write.setLimits([alipay.walletId, 0n, 1_000n]));
    await settle(alipay, [wechat.walletId], [transfer(0, 600n)]);
    await expectRevert(
      hubAs(alipay.account).write.settleBatch([1n, [wechat.walletId], [transfer(0, 300n), transfer(0, 101n)]]),
      "HubDailyLimitExceeded",
      [alipay.walletId, 1_001n, 1_000n],
    );
    await settle(alipay, [wechat.walletId], [transfer(0, 400n)]);
    expect(await read().outflowToday([alipay.walletId])).toBe(1_000n);
    await net.increaseTime(DAY);
    expect(await read().outflowToday([alipay.walletId])).toBe(0n);
    await settle(alipay, [wechat.walletId], [transfer(0, 1_000n)]);
    expect(await read().outflowToday([alipay.walletId])).toBe(1_000n);
  });

  it("behavior: returns are exempt from limits", async () => {
    const [alipay, wechat] = ops;
    const receipt = await settle(alipay, [wechat.walletId], [transfer(0, 5_000n)]);
    await mined(hubAs(net.regulator).write.setLimits([wechat.walletId, 1n, 1n]));
    const [r] = receiptsOf(receipt);
    await mined(hubAs(wechat.account).write.returnTransfer([r, 0n, [], 1]));
    expect(await balanceOf(alipay.account)).toBe(MINTED);
  });
});

describe("frozen references", () => {
  it("default: freeze and unfreeze emit once; repeats do nothing", async () => {
    const regulator = hubAs(net.regulator);
    const ref = randomBytes32();
    const frozen = await mined(regulator.write.freezeReference([ref]));
    expect(parseEventLogs({ abi: settlementHubAbi, logs: frozen.logs, eventName: "ReferenceFrozen" })[0].args.ref).toBe(ref);
    expect(await read().isFrozen([ref])).toBe(true);
    expect((await mined(regulator.write.freezeReference([ref]))).logs).toHaveLength(0);
    const unfrozen = await mined(regulator.write.unfreezeReference([ref]));
    expect(parseEventLogs({ abi: settlementHubAbi, logs: unfrozen.logs, eventName: "ReferenceUnfrozen" })[0].args.ref).toBe(ref);
    expect(await read().isFrozen([ref])).toBe(false);
    expect((await mined(regulator.write.unfreezeReference([ref]))).logs).toHaveLength(0);
  });

  it("error: HubReferenceFrozen for a frozen payer ref and a frozen payee ref", async () => {
    const [alipay, wechat] = ops;
    const payerRef = randomBytes32();
    const payeeRef = randomBytes32();
    await mined(hubAs(net.regulator).write.freezeReference([payerRef]));
    await mined(hubAs(net.regulator).write.freezeReference([payeeRef]));
    await expectRevert(
      hubAs(alipay.account).write.settleBatch([0n, [wechat.walletId], [transfer(0, 1n), transfer(0, 1n, { payerRef })]]),
      "HubReferenceFrozen",
      [payerRef],
    );
    await expectRevert(
      hubAs(alipay.account).write.settleBatch([0n, [wechat.walletId], [transfer(0, 1n, { payeeRef })]]),
      "HubReferenceFrozen",
      [payeeRef],
    );
  });

  it("behavior: an unfrozen ref settles while others stay frozen (filter bits stay, the lookup says no)", async () => {
    const [alipay, wechat] = ops;
    const refs = Array.from({ length: 5 }, randomBytes32);
    for (const ref of refs) await mined(hubAs(net.regulator).write.freezeReference([ref]));
    await mined(hubAs(net.regulator).write.unfreezeReference([refs[0]]));
    await settle(alipay, [wechat.walletId], [transfer(0, 1n, { payerRef: refs[0], payeeRef: refs[0] })]);
    await expectRevert(
      hubAs(alipay.account).write.settleBatch([1n, [wechat.walletId], [transfer(0, 1n, { payeeRef: refs[4] })]]),
      "HubReferenceFrozen",
      [refs[4]],
    );
    // Unfreezing the rest empties the filter; everything settles again.
    for (const ref of refs.slice(1)) await mined(hubAs(net.regulator).write.unfreezeReference([ref]));
    await settle(alipay, [wechat.walletId], refs.map((ref) => transfer(0, 1n, { payerRef: ref, payeeRef: ref })));
  });

  it("behavior: structured (non-random) references are caught too", async () => {
    const [alipay, wechat] = ops;
    const refs = [zeroHash, toHex(1n, { size: 32 }), walletIdOf("CUSTOMER1")];
    for (const ref of refs) await mined(hubAs(net.regulator).write.freezeReference([ref]));
    for (const ref of refs) {
      await expectRevert(
        hubAs(alipay.account).write.settleBatch([0n, [wechat.walletId], [transfer(0, 1n, { payerRef: ref })]]),
        "HubReferenceFrozen",
        [ref],
      );
    }
    await settle(alipay, [wechat.walletId], [transfer(0, 1n, { payerRef: walletIdOf("CUSTOMER2") })]);
  });
});

describe("pause", () => {
  it("default: pause stops settlement and returns; unpause resumes; repeats do nothing", async () => {
    const [alipay, wechat] = ops;
    const receipt = await settle(alipay, [wechat.walletId], [transfer(0, 10n)]);
    const regulator = hubAs(net.regulator);
    expect((await mined(regulator.write.pause())).logs).toHaveLength(1);
    expect((await mined(regulator.write.pause())).logs).toHaveLength(0);
    expect(await read().paused()).toBe(true);
    await expectRevert(
      hubAs(alipay.account).write.settleBatch([1n, [wechat.walletId], [transfer(0, 1n)]]),
      "EnforcedPause",
      [],
    );
    const [r] = receiptsOf(receipt);
    await expectRevert(hubAs(wechat.account).write.returnTransfer([r, 0n, [], 1]), "EnforcedPause", []);
    expect((await mined(regulator.write.unpause())).logs).toHaveLength(1);
    expect((await mined(regulator.write.unpause())).logs).toHaveLength(0);
    await settle(alipay, [wechat.walletId], [transfer(0, 1n)]);
  });
});

describe("roles", () => {
  it("error: AccessControlUnauthorizedAccount for every regulator function called by others", async () => {
    for (const caller of [stranger, getAddress(net.deployer), ops[0].account]) {
      const hubOf = hubAs(caller);
      const calls: Promise<unknown>[] = [
        hubOf.write.setLimits([ops[0].walletId, 1n, 1n]),
        hubOf.write.freezeReference([zeroHash]),
        hubOf.write.unfreezeReference([zeroHash]),
        hubOf.write.pause(),
        hubOf.write.unpause(),
      ];
      for (const call of calls) await expectRevert(call, "AccessControlUnauthorizedAccount", [caller, REGULATOR_ROLE]);
    }
  });
});

describe("returnTransfer", () => {
  async function settledBatch() {
    const [alipay, wechat, yunpay] = ops;
    const transfers = [transfer(0, 100n), transfer(1, 200n), transfer(0, 300n)];
    const receipt = await settle(alipay, [wechat.walletId, yunpay.walletId], transfers);
    const receipts = receiptsOf(receipt);
    return { receipts, tree: buildMerkleTree(receipts.map(receiptLeaf)) };
  }

  it("default: moves the amount back to the payer's operator and records the return", async () => {
    const [alipay, wechat] = ops;
    const { receipts, tree } = await settledBatch();
    const r = receipts[2];
    const receipt = await mined(hubAs(wechat.account).write.returnTransfer([r, 0n, merkleProof(tree, 2), 2]));
    expect(await balanceOf(alipay.account)).toBe(MINTED - 600n + 300n);
    expect(await balanceOf(wechat.account)).toBe(MINTED + 400n - 300n);
    expect(await balanceOf(hub)).toBe(0n);
    expect(await read().isReturned([r.transferId])).toBe(true);
    expect(await read().isReturned([receipts[0].transferId])).toBe(false);
    const [event] = parseEventLogs({ abi: settlementHubAbi, logs: receipt.logs, eventName: "TransferReturned" });
    expect(event.args).toEqual({
      originalTransferId: r.transferId,
      fromWallet: alipay.walletId,
      toWallet: wechat.walletId,
      amount: 300n,
      payerRef: r.payerRef,
      reasonCode: 2,
    });
    // Returns consume no sequence numbers and count as no outflow.
    expect(await read().nextSeq([wechat.walletId])).toBe(0n);
    expect(await read().outflowToday([wechat.walletId])).toBe(0n);
  });

  it("error: HubNotPayee when anyone but the payee operator returns", async () => {
    const [alipay, wechat, yunpay] = ops;
    const { receipts, tree } = await settledBatch();
    for (const caller of [alipay, yunpay]) {
      await expectRevert(
        hubAs(caller.account).write.returnTransfer([receipts[0], 0n, merkleProof(tree, 0), 1]),
        "HubNotPayee",
        [receipts[0].transferId, caller.walletId],
      );
    }
    await expectRevert(
      hubAs(stranger).write.returnTransfer([receipts[0], 0n, merkleProof(tree, 0), 1]),
      "HubUnknownSender",
      [stranger],
    );
    expect(wechat.walletId).toBe(receipts[0].toWallet);
  });

  it("error: HubUnknownBatch for a batch past the sender's last", async () => {
    const [alipay, wechat] = ops;
    const { receipts, tree } = await settledBatch();
    await expectRevert(
      hubAs(wechat.account).write.returnTransfer([receipts[0], 1n, merkleProof(tree, 0), 1]),
      "HubUnknownBatch",
      [alipay.walletId, 1n],
    );
    await expectRevert(read().batchRoot([alipay.walletId, 1n]), "HubUnknownBatch", [alipay.walletId, 1n]);
  });

  it("error: HubInvalidReceiptProof for a bad proof or an altered receipt", async () => {
    const [, wechat] = ops;
    const { receipts, tree } = await settledBatch();
    await expectRevert(
      hubAs(wechat.account).write.returnTransfer([receipts[0], 0n, merkleProof(tree, 2), 1]),
      "HubInvalidReceiptProof",
      [receipts[0].transferId],
    );
    const inflated = { ...receipts[0], amount: 10_000n };
    await expectRevert(
      hubAs(wechat.account).write.returnTransfer([inflated, 0n, merkleProof(tree, 0), 1]),
      "HubInvalidReceiptProof",
      [inflated.transferId],
    );
  });

  it("error: HubAlreadyReturned the second time", async () => {
    const [, wechat] = ops;
    const { receipts, tree } = await settledBatch();
    await mined(hubAs(wechat.account).write.returnTransfer([receipts[0], 0n, merkleProof(tree, 0), 1]));
    await expectRevert(
      hubAs(wechat.account).write.returnTransfer([receipts[0], 0n, merkleProof(tree, 0), 1]),
      "HubAlreadyReturned",
      [receipts[0].transferId],
    );
  });
});

describe("pure functions match node/receipts", () => {
  it("behavior: transferIdOf and receiptLeaf equal the TypeScript for random inputs", async () => {
    for (let i = 0; i < 25; i++) {
      const walletId = walletIdOf(`W${Math.floor(next() * 1e9)}`);
      const seq = BigInt(Math.floor(next() * 2 ** 32)) * BigInt(Math.floor(next() * 2 ** 32));
      expect(await read().transferIdOf([walletId, seq])).toBe(transferIdOf(walletId, seq));
      const r: Receipt = {
        transferId: transferIdOf(walletId, seq),
        fromWallet: walletId,
        toWallet: randomBytes32(),
        seq,
        amount: BigInt(randomBytes32()) >> BigInt(Math.floor(next() * 256)),
        payerRef: randomBytes32(),
        payeeRef: randomBytes32(),
        memoHash: next() < 0.5 ? zeroHash : randomBytes32(),
      };
      expect(await read().receiptLeaf([r])).toBe(receiptLeaf(r));
    }
    const max = (1n << 64n) - 1n;
    expect(await read().transferIdOf([walletIdOf("ALIPAY"), max])).toBe(transferIdOf(walletIdOf("ALIPAY"), max));
  });
});
