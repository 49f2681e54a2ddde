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
  TRANSFERS_SETTLED_TOPIC,
  type TransferRecord,
  buildMerkleTree,
  chainHead,
  merkleProof,
  nextHead,
  packTransfers,
  receiptLeaf,
  receiptsOfTransfersSettled,
  transferIdOf,
  walletIdOf,
} from "../../node/receipts/index.ts";
import { expectRevert } from "../helpers/expectRevert.ts";
import { type TestNetwork, type TestOperator, startTestNetwork, useEvmSnapshots } from "../helpers/network.ts";
import { prng } from "../../scripts/prng.ts";

const REGULATOR_ROLE = keccak256(toHex("REGULATOR_ROLE"));
const DEFAULT_ADMIN_ROLE = zeroHash;
const MINTED = 1_000_000_00n;
const DAY = 86_400;

const next = prng(20_240_601);
const randomBytes32 = (): Hex => toHex(Uint8Array.from({ length: 32 }, () => Math.floor(next() * 256)));

/** A packed transfer record; refs and memo random unless given. */
function record(amount: bigint, overrides: Partial<TransferRecord> = {}): TransferRecord {
  return { amount, payerRef: randomBytes32(), payeeRef: randomBytes32(), memoHash: randomBytes32(), ...overrides };
}

/** A payee group as the tests write it: the payee wallet and its records. */
type Group = readonly [payee: Hex, records: readonly TransferRecord[]];

/** `settleBatch`'s arguments: the groups' counts and their records packed in group order. */
function batch(firstSeq: bigint, groups: readonly Group[]) {
  return [
    firstSeq,
    groups.map(([payee, records]) => ({ payee, count: records.length })),
    packTransfers(groups.flatMap(([, records]) => records)),
  ] as const;
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
async function settle(payer: TestOperator, groups: readonly Group[], firstSeq?: bigint): Promise<TransactionReceipt> {
  const seq = firstSeq ?? (await read().nextSeq([payer.walletId]));
  return mined(hubAs(payer.account).write.settleBatch(batch(seq, groups)));
}

/** The hub's TransfersSettled logs of a transaction, in log order. */
function transfersSettledLogs(receipt: TransactionReceipt) {
  return receipt.logs.filter((log) => getAddress(log.address) === hub && log.topics[0] === TRANSFERS_SETTLED_TOPIC);
}

/** The receipts of a settled batch, in sequence order, decoded from its TransfersSettled logs. */
function receiptsOf(receipt: TransactionReceipt): Receipt[] {
  return transfersSettledLogs(receipt).flatMap((log) => receiptsOfTransfersSettled(log));
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
  it("default: debits the payer once, credits each payee group once, emits one log per group", async () => {
    const [alipay, wechat, yunpay] = ops;
    const groups: Group[] = [
      [wechat.walletId, [record(100n), record(7n, { memoHash: zeroHash })]],
      [yunpay.walletId, [record(250n)]],
    ];
    const simulated = await hubAs(alipay.account).simulate.settleBatch(batch(0n, groups), { account: alipay.account });
    const receipt = await settle(alipay, groups);

    expect(await balanceOf(alipay.account)).toBe(MINTED - 357n);
    expect(await balanceOf(wechat.account)).toBe(MINTED + 107n);
    expect(await balanceOf(yunpay.account)).toBe(MINTED + 250n);
    expect(await balanceOf(hub)).toBe(0n);
    expect(await read().nextSeq([alipay.walletId])).toBe(3n);
    expect(await read().batchCount([alipay.walletId])).toBe(1n);
    expect(await read().outflowToday([alipay.walletId])).toBe(357n);

    // One TransfersSettled per group, decoded the same by the generated ABI.
    const events = parseEventLogs({ abi: settlementHubAbi, logs: receipt.logs, eventName: "TransfersSettled" });
    expect(events.map(({ args }) => args)).toEqual([
      { fromWallet: alipay.walletId, toWallet: wechat.walletId, firstSeq: 0n, transfers: packTransfers(groups[0][1]) },
      { fromWallet: alipay.walletId, toWallet: yunpay.walletId, firstSeq: 2n, transfers: packTransfers(groups[1][1]) },
    ]);
    const receipts = receiptsOf(receipt);
    const expected = groups.flatMap(([toWallet, records]) => records.map((r) => ({ toWallet, ...r })));
    expect(receipts).toHaveLength(3);
    receipts.forEach((r, i) => {
      expect(r).toEqual({
        transferId: transferIdOf(alipay.walletId, BigInt(i)),
        fromWallet: alipay.walletId,
        seq: BigInt(i),
        ...expected[i],
      });
    });

    // One debit into the hub and one credit per payee: three token Transfer events in all.
    const tokenMoves = parseEventLogs({ abi: settlementTokenAbi, logs: receipt.logs, eventName: "Transfer" });
    expect(tokenMoves.map(({ args }) => [getAddress(args.from), getAddress(args.to), args.value])).toEqual([
      [alipay.account, hub, 357n],
      [hub, wechat.account, 107n],
      [hub, yunpay.account, 250n],
    ]);

    const batchEvent = batchSettledOf(receipt);
    const root = buildMerkleTree(receipts.map(receiptLeaf)).root;
    expect(batchEvent).toEqual({
      fromWallet: alipay.walletId,
      batchNo: 0n,
      firstSeq: 0n,
      count: 3,
      total: 357n,
      root,
      prevHead: zeroHash,
      head: nextHead(zeroHash, { batchNo: 0n, firstSeq: 0n, count: 3, root }),
    });
    // The group logs come before BatchSettled.
    const [batchLog] = parseEventLogs({ abi: settlementHubAbi, logs: receipt.logs, eventName: "BatchSettled" });
    expect(transfersSettledLogs(receipt).every((log) => log.logIndex < batchLog.logIndex)).toBe(true);
    expect(simulated.result).toEqual([0n, root]);
  });

  it("behavior: each TransfersSettled is standard ABI (firstSeq, bytes), zero-padded for an odd count", async () => {
    const [alipay, wechat, yunpay] = ops;
    for (const [odd, even] of [
      [1, 2],
      [3, 4],
      [5, 8],
    ]) {
      const groups: Group[] = [
        [wechat.walletId, Array.from({ length: odd }, (_, i) => record(BigInt(i + 1)))],
        [yunpay.walletId, Array.from({ length: even }, (_, i) => record(BigInt(i + 1), { memoHash: zeroHash }))],
      ];
      const firstSeq = await read().nextSeq([alipay.walletId]);
      const receipt = await settle(alipay, groups);
      const logs = transfersSettledLogs(receipt);
      expect(logs).toHaveLength(2);
      let seq = firstSeq;
      logs.forEach((log, j) => {
        const [toWallet, records] = groups[j];
        expect(log.topics).toEqual([TRANSFERS_SETTLED_TOPIC, alipay.walletId, toWallet]);
        const packed = packTransfers(records).slice(2);
        const body = log.data.slice(2);
        const word = (k: number) => body.slice(64 * k, 64 * (k + 1));
        expect(BigInt(`0x${word(0)}`)).toBe(seq);
        expect(BigInt(`0x${word(1)}`)).toBe(0x40n);
        expect(BigInt(`0x${word(2)}`)).toBe(BigInt(112 * records.length));
        const padded = Math.ceil((112 * records.length) / 32) * 32;
        expect(body.length).toBe(2 * (96 + padded));
        expect(body.slice(192, 192 + packed.length)).toBe(packed);
        expect(body.slice(192 + packed.length)).toBe(records.length % 2 ? "0".repeat(32) : "");
        seq += BigInt(records.length);
      });
    }
  });

  it("behavior: receipts decoded from the logs prove in TypeScript and on chain; roots and head match", async () => {
    const [alipay, wechat, yunpay] = ops;
    const links: BatchLink[] = [];
    for (const size of [1, 2, 7, 16]) {
      const records = Array.from({ length: size }, (_, i) =>
        record(BigInt(1 + Math.floor(next() * 100_000)), { memoHash: i % 2 ? zeroHash : randomBytes32() }),
      );
      // Even-indexed records to WECHAT, odd ones to YUNPAY (so the groups are odd or even in size).
      const groups: Group[] = (
        [
          [wechat.walletId, records.filter((_, i) => i % 2 === 0)],
          [yunpay.walletId, records.filter((_, i) => i % 2 === 1)],
        ] as const
      ).filter(([, rs]) => rs.length > 0);
      const receipt = await settle(alipay, groups);
      const receipts = receiptsOf(receipt);
      expect(receipts).toHaveLength(size);
      const tree = buildMerkleTree(receipts.map(receiptLeaf));
      const batchEvent = batchSettledOf(receipt);
      expect(batchEvent.root).toBe(tree.root);
      expect(await read().batchRoot([alipay.walletId, batchEvent.batchNo])).toBe(tree.root);
      links.push({ batchNo: batchEvent.batchNo, firstSeq: batchEvent.firstSeq, count: batchEvent.count, root: batchEvent.root });
      for (let i = 0; i < receipts.length; i++) {
        expect(receipts[i].seq).toBe(batchEvent.firstSeq + BigInt(i));
        expect(await read().verifyReceipt([receipts[i], batchEvent.batchNo, merkleProof(tree, i)])).toBe(true);
        expect(await read().receiptLeaf([receipts[i]])).toBe(receiptLeaf(receipts[i]));
      }
      // A tampered receipt, or the right receipt against another batch, does not prove.
      const tampered = { ...receipts[0], amount: receipts[0].amount + 1n };
      expect(await read().verifyReceipt([tampered, batchEvent.batchNo, merkleProof(tree, 0)])).toBe(false);
      expect(await read().verifyReceipt([receipts[0], batchEvent.batchNo + 1n, merkleProof(tree, 0)])).toBe(false);
    }
    expect(await read().headOf([alipay.walletId])).toBe(chainHead(links));
    expect(await read().nextSeq([alipay.walletId])).toBe(26n);
    expect(await read().batchCount([alipay.walletId])).toBe(4n);
  });

  it("behavior: sequences are per sending wallet", async () => {
    const [alipay, wechat, yunpay] = ops;
    await settle(alipay, [[wechat.walletId, [record(1n), record(1n)]]]);
    const receipt = await settle(wechat, [[yunpay.walletId, [record(1n)]]]);
    expect(receiptsOf(receipt)[0].transferId).toBe(transferIdOf(wechat.walletId, 0n));
    expect(await read().nextSeq([alipay.walletId])).toBe(2n);
    expect(await read().nextSeq([wechat.walletId])).toBe(1n);
    expect(await read().nextSeq([yunpay.walletId])).toBe(0n);
  });

  it("behavior: settles the largest batch allowed", async () => {
    const [alipay, wechat, yunpay] = ops;
    const receipt = await settle(alipay, [
      [wechat.walletId, Array.from({ length: 1024 }, () => record(1n))],
      [yunpay.walletId, Array.from({ length: 1024 }, () => record(2n))],
    ]);
    expect(batchSettledOf(receipt).count).toBe(2048);
    const receipts = receiptsOf(receipt);
    expect(receipts).toHaveLength(2048);
    expect(batchSettledOf(receipt).root).toBe(buildMerkleTree(receipts.map(receiptLeaf)).root);
    expect(await balanceOf(yunpay.account)).toBe(MINTED + 2048n);
  });

  it("error: HubSequenceReplayed when the batch starts below nextSeq", async () => {
    const [alipay, wechat] = ops;
    await settle(alipay, [[wechat.walletId, [record(1n), record(1n)]]]);
    for (const start of [0n, 1n]) {
      await expectRevert(
        hubAs(alipay.account).write.settleBatch(batch(start, [[wechat.walletId, [record(1n)]]])),
        "HubSequenceReplayed",
        [alipay.walletId, 2n, start],
      );
    }
  });

  it("error: HubSequenceGap when the batch starts above nextSeq", async () => {
    const [alipay, wechat] = ops;
    await expectRevert(
      hubAs(alipay.account).write.settleBatch(batch(1n, [[wechat.walletId, [record(1n)]]])),
      "HubSequenceGap",
      [alipay.walletId, 0n, 1n],
    );
  });

  it("error: HubUnknownSender when the caller is no operator's account", async () => {
    await expectRevert(
      hubAs(stranger).write.settleBatch(batch(0n, [[ops[1].walletId, [record(1n)]]])),
      "HubUnknownSender",
      [stranger],
    );
  });

  it("error: HubOperatorNotActive for a suspended sender, and settles again once resumed", async () => {
    const [alipay, wechat] = ops;
    await mined(registryAs(net.governor).write.suspend([alipay.walletId, 7]));
    await expectRevert(
      hubAs(alipay.account).write.settleBatch(batch(0n, [[wechat.walletId, [record(1n)]]])),
      "HubOperatorNotActive",
      [alipay.walletId],
    );
    await mined(registryAs(net.governor).write.resume([alipay.walletId]));
    await settle(alipay, [[wechat.walletId, [record(1n)]]]);
  });

  it("error: HubOperatorNotActive for a suspended or unknown payee", async () => {
    const [alipay, wechat, yunpay] = ops;
    await mined(registryAs(net.governor).write.suspend([yunpay.walletId, 7]));
    await expectRevert(
      hubAs(alipay.account).write.settleBatch(
        batch(0n, [
          [wechat.walletId, [record(1n)]],
          [yunpay.walletId, [record(1n)]],
        ]),
      ),
      "HubOperatorNotActive",
      [yunpay.walletId],
    );
    const unknown = walletIdOf("NOBODY");
    await expectRevert(
      hubAs(alipay.account).write.settleBatch(batch(0n, [[unknown, [record(1n)]]])),
      "HubOperatorNotActive",
      [unknown],
    );
  });

  it("error: HubEmptyBatch for no groups or no records", async () => {
    const [alipay, wechat, yunpay] = ops;
    await expectRevert(hubAs(alipay.account).write.settleBatch([0n, [], "0x"]), "HubEmptyBatch", []);
    await expectRevert(hubAs(alipay.account).write.settleBatch(batch(0n, [[wechat.walletId, []]])), "HubEmptyBatch", []);
    await expectRevert(
      hubAs(alipay.account).write.settleBatch(
        batch(0n, [
          [wechat.walletId, []],
          [yunpay.walletId, []],
        ]),
      ),
      "HubEmptyBatch",
      [],
    );
  });

  it("error: HubEmptyGroup names the first group with a count of zero", async () => {
    const [alipay, wechat, yunpay] = ops;
    await expectRevert(
      hubAs(alipay.account).write.settleBatch(
        batch(0n, [
          [wechat.walletId, [record(1n)]],
          [yunpay.walletId, []],
        ]),
      ),
      "HubEmptyGroup",
      [1n],
    );
    await expectRevert(
      hubAs(alipay.account).write.settleBatch(
        batch(0n, [
          [yunpay.walletId, []],
          [wechat.walletId, [record(1n)]],
        ]),
      ),
      "HubEmptyGroup",
      [0n],
    );
    expect(await read().nextSeq([alipay.walletId])).toBe(0n);
  });

  it("error: HubBatchTooLarge for too many records or groups", async () => {
    const [alipay, wechat] = ops;
    const tooMany = Array.from({ length: 2049 }, () => record(1n));
    await expectRevert(
      hubAs(alipay.account).simulate.settleBatch(batch(0n, [[wechat.walletId, tooMany]]), { account: alipay.account }),
      "HubBatchTooLarge",
      [2049n, 1n],
    );
    const groups: Group[] = Array.from({ length: 65 }, (_, i) => [walletIdOf(`P${i}`), [record(1n)]]);
    await expectRevert(hubAs(alipay.account).write.settleBatch(batch(0n, groups)), "HubBatchTooLarge", [65n, 65n]);
    // Counts are summed without wrapping: a uint32-max count is too large, not malformed.
    await expectRevert(
      hubAs(alipay.account).write.settleBatch([0n, [{ payee: wechat.walletId, count: 2 ** 32 - 1 }], packTransfers([record(1n)])]),
      "HubBatchTooLarge",
      [2n ** 32n - 1n, 1n],
    );
  });

  it("error: HubMalformedTransfers unless the bytes are exactly 112 per counted record", async () => {
    const [alipay, wechat, yunpay] = ops;
    const two = packTransfers([record(1n), record(2n)]);
    const one = packTransfers([record(1n)]);
    const cases: [groups: { payee: Hex; count: number }[], transfers: Hex, length: bigint, expected: bigint][] = [
      // too short: a whole record missing, or part of one
      [[{ payee: wechat.walletId, count: 2 }], one, 112n, 224n],
      [[{ payee: wechat.walletId, count: 2 }], two.slice(0, -2) as Hex, 223n, 224n],
      [[{ payee: wechat.walletId, count: 1 }], "0x", 0n, 112n],
      // too long: an extra record, or a stray byte (not a multiple of 112)
      [[{ payee: wechat.walletId, count: 1 }], two, 224n, 112n],
      [[{ payee: wechat.walletId, count: 1 }], `${one}00`, 113n, 112n],
      // the counts of all groups add up
      [
        [
          { payee: wechat.walletId, count: 1 },
          { payee: yunpay.walletId, count: 2 },
        ],
        two,
        224n,
        336n,
      ],
    ];
    for (const [groups, transfers, length, expected] of cases) {
      await expectRevert(
        hubAs(alipay.account).write.settleBatch([0n, groups, transfers]),
        "HubMalformedTransfers",
        [length, expected],
      );
    }
    expect(await read().nextSeq([alipay.walletId])).toBe(0n);
  });

  it("error: HubDuplicatePayee for the same payee in two groups", async () => {
    const [alipay, wechat, yunpay] = ops;
    await expectRevert(
      hubAs(alipay.account).write.settleBatch(
        batch(0n, [
          [wechat.walletId, [record(1n)]],
          [yunpay.walletId, [record(1n)]],
          [wechat.walletId, [record(1n)]],
        ]),
      ),
      "HubDuplicatePayee",
      [wechat.walletId],
    );
    // Adjacent groups too: the same payee's transfers belong in one group.
    await expectRevert(
      hubAs(alipay.account).write.settleBatch(
        batch(0n, [
          [wechat.walletId, [record(1n)]],
          [wechat.walletId, [record(2n)]],
        ]),
      ),
      "HubDuplicatePayee",
      [wechat.walletId],
    );
  });

  it("error: HubSelfTransfer", async () => {
    const [alipay, wechat] = ops;
    await expectRevert(
      hubAs(alipay.account).write.settleBatch(
        batch(0n, [
          [wechat.walletId, [record(1n)]],
          [alipay.walletId, [record(1n)]],
        ]),
      ),
      "HubSelfTransfer",
      [alipay.walletId],
    );
  });

  it("error: HubZeroAmount names the record by its index in the batch", async () => {
    const [alipay, wechat, yunpay] = ops;
    await expectRevert(
      hubAs(alipay.account).write.settleBatch(batch(0n, [[wechat.walletId, [record(1n), record(2n), record(0n)]]])),
      "HubZeroAmount",
      [2n],
    );
    // Counted across groups: the second record of the second group is record 3.
    await expectRevert(
      hubAs(alipay.account).write.settleBatch(
        batch(0n, [
          [wechat.walletId, [record(1n), record(2n)]],
          [yunpay.walletId, [record(3n), record(0n), record(5n)]],
        ]),
      ),
      "HubZeroAmount",
      [3n],
    );
  });

  it("behavior: an out-of-range uint32 count word is rejected like any malformed calldata", async () => {
    const [alipay, wechat] = ops;
    const data = encodeFunctionData({ abi: settlementHubAbi, functionName: "settleBatch", args: batch(0n, [[wechat.walletId, [record(1n)]]]) });
    // The first group's count word sits after selector, 3 head words, the groups length and the
    // group's payee: set it to 2^32 + 1 (a uint32 view of it would read 1, which would settle).
    const offset = 2 + 8 + 64 * 5;
    const bad = (data.slice(0, offset) + (2 ** 32 + 1).toString(16).padStart(64, "0") + data.slice(offset + 64)) as Hex;
    // The ABI decoder's own revert, without data: not, say, HubBatchTooLarge from the whole word.
    await expect(
      expectRevert(net.publicClient.call({ account: alipay.account, to: hub, data: bad }), "HubBatchTooLarge"),
    ).rejects.toThrow(/without revert data/);
    const good = (data.slice(0, offset) + (1).toString(16).padStart(64, "0") + data.slice(offset + 64)) as Hex;
    await net.publicClient.call({ account: alipay.account, to: hub, data: good });
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
      hubAs(alipay.account).write.settleBatch(batch(0n, [[wechat.walletId, [record(1_000n), record(1_001n)]]])),
      "HubTransferLimitExceeded",
      [alipay.walletId, 1_001n, 1_000n],
    );
    await settle(alipay, [[wechat.walletId, [record(1_000n)]]]);
  });

  it("error: HubDailyLimitExceeded over the UTC day, which resets the next day", async () => {
    const [alipay, wechat] = ops;
    // Start at the beginning of a UTC day so the batches below share one.
    const block = await net.publicClient.getBlock();
    const dayStart = (block.timestamp / BigInt(DAY) + 1n) * BigInt(DAY);
    await rpc("evm_setNextBlockTimestamp", [toHex(dayStart)]);
    await rpc("evm_mine", []);
    await mined(hubAs(net.regulator).write.setLimits([alipay.walletId, 0n, 1_000n]));
    await settle(alipay, [[wechat.walletId, [record(600n)]]]);
    await expectRevert(
      hubAs(alipay.account).write.settleBatch(batch(1n, [[wechat.walletId, [record(300n), record(101n)]]])),
      "HubDailyLimitExceeded",
      [alipay.walletId, 1_001n, 1_000n],
    );
    await settle(alipay, [[wechat.walletId, [record(400n)]]]);
    expect(await read().outflowToday([alipay.walletId])).toBe(1_000n);
    await net.increaseTime(DAY);
    expect(await read().outflowToday([alipay.walletId])).toBe(0n);
    await settle(alipay, [[wechat.walletId, [record(1_000n)]]]);
    expect(await read().outflowToday([alipay.walletId])).toBe(1_000n);
  });

  it("behavior: returns are exempt from limits", async () => {
    const [alipay, wechat] = ops;
    const receipt = await settle(alipay, [[wechat.walletId, [record(5_000n)]]]);
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
    const [alipay, wechat, yunpay] = ops;
    const payerRef = randomBytes32();
    const payeeRef = randomBytes32();
    await mined(hubAs(net.regulator).write.freezeReference([payerRef]));
    await mined(hubAs(net.regulator).write.freezeReference([payeeRef]));
    await expectRevert(
      hubAs(alipay.account).write.settleBatch(batch(0n, [[wechat.walletId, [record(1n), record(1n, { payerRef })]]])),
      "HubReferenceFrozen",
      [payerRef],
    );
    await expectRevert(
      hubAs(alipay.account).write.settleBatch(batch(0n, [[wechat.walletId, [record(1n, { payeeRef })]]])),
      "HubReferenceFrozen",
      [payeeRef],
    );
    // In a later group too, and a payer ref before a payee ref of the same record.
    await expectRevert(
      hubAs(alipay.account).write.settleBatch(
        batch(0n, [
          [wechat.walletId, [record(1n), record(2n)]],
          [yunpay.walletId, [record(3n), record(4n, { payerRef, payeeRef })]],
        ]),
      ),
      "HubReferenceFrozen",
      [payerRef],
    );
    // Other records, in several groups, settle while refs are frozen.
    const receipt = await settle(alipay, [
      [wechat.walletId, [record(1n), record(2n), record(3n)]],
      [yunpay.walletId, [record(4n), record(5n)]],
    ]);
    expect(receiptsOf(receipt).map((r) => r.amount)).toEqual([1n, 2n, 3n, 4n, 5n]);
  });

  it("behavior: an unfrozen ref settles while others stay frozen (filter bits stay, the lookup says no)", async () => {
    const [alipay, wechat] = ops;
    const refs = Array.from({ length: 5 }, randomBytes32);
    for (const ref of refs) await mined(hubAs(net.regulator).write.freezeReference([ref]));
    await mined(hubAs(net.regulator).write.unfreezeReference([refs[0]]));
    await settle(alipay, [[wechat.walletId, [record(1n, { payerRef: refs[0], payeeRef: refs[0] })]]]);
    await expectRevert(
      hubAs(alipay.account).write.settleBatch(batch(1n, [[wechat.walletId, [record(1n, { payeeRef: refs[4] })]]])),
      "HubReferenceFrozen",
      [refs[4]],
    );
    // Unfreezing the rest empties the filter; everything settles again.
    for (const ref of refs.slice(1)) await mined(hubAs(net.regulator).write.unfreezeReference([ref]));
    await settle(alipay, [[wechat.walletId, refs.map((ref) => record(1n, { payerRef: ref, payeeRef: ref }))]]);
  });

  it("behavior: structured (non-random) references are caught too", async () => {
    const [alipay, wechat] = ops;
    const refs = [zeroHash, toHex(1n, { size: 32 }), walletIdOf("CUSTOMER1")];
    for (const ref of refs) await mined(hubAs(net.regulator).write.freezeReference([ref]));
    for (const ref of refs) {
      await expectRevert(
        hubAs(alipay.account).write.settleBatch(batch(0n, [[wechat.walletId, [record(1n, { payerRef: ref })]]])),
        "HubReferenceFrozen",
        [ref],
      );
    }
    await settle(alipay, [[wechat.walletId, [record(1n, { payerRef: walletIdOf("CUSTOMER2") })]]]);
  });
});

describe("pause", () => {
  it("default: pause stops settlement and returns; unpause resumes; repeats do nothing", async () => {
    const [alipay, wechat] = ops;
    const receipt = await settle(alipay, [[wechat.walletId, [record(10n)]]]);
    const regulator = hubAs(net.regulator);
    expect((await mined(regulator.write.pause())).logs).toHaveLength(1);
    expect((await mined(regulator.write.pause())).logs).toHaveLength(0);
    expect(await read().paused()).toBe(true);
    await expectRevert(
      hubAs(alipay.account).write.settleBatch(batch(1n, [[wechat.walletId, [record(1n)]]])),
      "EnforcedPause",
      [],
    );
    const [r] = receiptsOf(receipt);
    await expectRevert(hubAs(wechat.account).write.returnTransfer([r, 0n, [], 1]), "EnforcedPause", []);
    expect((await mined(regulator.write.unpause())).logs).toHaveLength(1);
    expect((await mined(regulator.write.unpause())).logs).toHaveLength(0);
    await settle(alipay, [[wechat.walletId, [record(1n)]]]);
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
        hubOf.write.setReturnWindow([7]),
        hubOf.write.releaseHeldReturns([ops[0].walletId, ops[1].account]),
      ];
      for (const call of calls) await expectRevert(call, "AccessControlUnauthorizedAccount", [caller, REGULATOR_ROLE]);
    }
  });
});

describe("returnTransfer", () => {
  /** Seq 0 and 1 to WECHAT (100, 300), seq 2 to YUNPAY (200). */
  async function settledBatch() {
    const [alipay, wechat, yunpay] = ops;
    const receipt = await settle(alipay, [
      [wechat.walletId, [record(100n), record(300n)]],
      [yunpay.walletId, [record(200n)]],
    ]);
    const receipts = receiptsOf(receipt);
    return { receipts, tree: buildMerkleTree(receipts.map(receiptLeaf)) };
  }

  it("default: moves the amount back to the payer's operator and records the return", async () => {
    const [alipay, wechat] = ops;
    const { receipts, tree } = await settledBatch();
    const r = receipts[1];
    const receipt = await mined(hubAs(wechat.account).write.returnTransfer([r, 0n, merkleProof(tree, 1), 2]));
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

describe("returns to a member that may not hold tokens", () => {
  /** ALIPAY pays WECHAT 100 and 300 (seq 0, 1); WECHAT returns either on demand. */
  async function paidToWechat() {
    const [alipay, wechat] = ops;
    const receipts = receiptsOf(await settle(alipay, [[wechat.walletId, [record(100n), record(300n)]]]));
    const tree = buildMerkleTree(receipts.map(receiptLeaf));
    const giveBack = (i: number) => mined(hubAs(wechat.account).write.returnTransfer([receipts[i], 0n, merkleProof(tree, i), 1]));
    return { receipts, giveBack };
  }

  it("behavior: a return to a suspended payer is held for its wallet, and claimed to its account once it is resumed", async () => {
    const [alipay, wechat] = ops;
    const { receipts, giveBack } = await paidToWechat();
    await mined(registryAs(net.governor).write.suspend([alipay.walletId, 5]));
    const receipt = await giveBack(1);
    expect(parseEventLogs({ abi: settlementHubAbi, logs: receipt.logs, eventName: "TransferReturned" })).toHaveLength(1);
    const [held] = parseEventLogs({ abi: settlementHubAbi, logs: receipt.logs, eventName: "ReturnHeld" });
    expect(held.args).toEqual({ originalTransferId: receipts[1].transferId, fromWallet: alipay.walletId, amount: 300n });
    expect(await read().heldReturnsOf([alipay.walletId])).toBe(300n);
    expect(await balanceOf(hub)).toBe(300n);
    expect(await balanceOf(alipay.account)).toBe(MINTED - 400n);
    expect(await balanceOf(wechat.account)).toBe(MINTED + 100n);

    await expectRevert(hubAs(stranger).write.claimHeldReturns([alipay.walletId]), "HubOperatorNotActive", [alipay.walletId]);
    await mined(registryAs(net.governor).write.resume([alipay.walletId]));
    // Anyone may trigger the claim: the money goes to the wallet's own account only.
    const claim = await mined(hubAs(stranger).write.claimHeldReturns([alipay.walletId]));
    const [claimed] = parseEventLogs({ abi: settlementHubAbi, logs: claim.logs, eventName: "HeldReturnsClaimed" });
    expect(claimed.args).toEqual({ walletId: alipay.walletId, to: alipay.account, amount: 300n, by: stranger });
    expect(await balanceOf(alipay.account)).toBe(MINTED - 100n);
    expect(await balanceOf(hub)).toBe(0n);
    expect(await read().heldReturnsOf([alipay.walletId])).toBe(0n);
    await expectRevert(hubAs(stranger).write.claimHeldReturns([alipay.walletId]), "HubNothingHeld", [alipay.walletId]);
  });

  it("behavior: the attack (tiny transfers to unknown refs, then exit in the next transaction) strands nothing: every return goes out, held for the exited wallet", async () => {
    const [alipay, wechat, yunpay] = ops;
    const tiny = Array.from({ length: 5 }, () => record(1n));
    const receipts = receiptsOf(await settle(alipay, [[wechat.walletId, tiny]]));
    await mined(registryAs(alipay.account).write.exit([alipay.walletId]));
    const tree = buildMerkleTree(receipts.map(receiptLeaf));
    for (const [i, r] of receipts.entries()) await mined(hubAs(wechat.account).write.returnTransfer([r, 0n, merkleProof(tree, i), 1]));
    expect(await read().heldReturnsOf([alipay.walletId])).toBe(5n);
    expect(await balanceOf(wechat.account)).toBe(MINTED);

    // Later returns, to an active payer, go out as ever.
    const later = receiptsOf(await settle(yunpay, [[wechat.walletId, [record(700n)]]]));
    await mined(hubAs(wechat.account).write.returnTransfer([later[0], 0n, merkleProof(buildMerkleTree(later.map(receiptLeaf)), 0), 1]));
    expect(await balanceOf(yunpay.account)).toBe(MINTED);

    // An exited member can never hold tokens again: its claim fails, the regulator directs the money.
    await expectRevert(hubAs(stranger).write.claimHeldReturns([alipay.walletId]), "HubOperatorNotActive", [alipay.walletId]);
    await expectRevert(hubAs(net.regulator).write.releaseHeldReturns([alipay.walletId, alipay.account]), "HubRecipientNotActive", [alipay.account]);
    await expectRevert(hubAs(net.regulator).write.releaseHeldReturns([yunpay.walletId, wechat.account]), "HubWalletNotExited", [yunpay.walletId, 2]);
    const release = await mined(hubAs(net.regulator).write.releaseHeldReturns([alipay.walletId, yunpay.account]));
    const [event] = parseEventLogs({ abi: settlementHubAbi, logs: release.logs, eventName: "HeldReturnsClaimed" });
    expect(event.args).toEqual({ walletId: alipay.walletId, to: yunpay.account, amount: 5n, by: getAddress(net.regulator) });
    expect(await balanceOf(yunpay.account)).toBe(MINTED + 5n);
    expect(await balanceOf(hub)).toBe(0n);
    await expectRevert(hubAs(net.regulator).write.releaseHeldReturns([alipay.walletId, yunpay.account]), "HubNothingHeld", [alipay.walletId]);
  });

  it("behavior: a suspended payee can still send a return, to an active payer directly", async () => {
    const [alipay, wechat] = ops;
    const { giveBack } = await paidToWechat();
    await mined(registryAs(net.governor).write.suspend([wechat.walletId, 5]));
    await giveBack(0);
    expect(await balanceOf(alipay.account)).toBe(MINTED - 300n);
    expect(await read().heldReturnsOf([alipay.walletId])).toBe(0n);
  });

  it("behavior: returns are counted per wallet, sent by the payee and received by the payer (held or not)", async () => {
    const [alipay, wechat] = ops;
    const { giveBack } = await paidToWechat();
    await giveBack(0);
    await mined(registryAs(net.governor).write.suspend([alipay.walletId, 5]));
    await giveBack(1);
    const totals = async (walletId: Hex) => {
      const [sent, received] = await read().returnTotalsOf([walletId]);
      return { sent, received };
    };
    expect(await totals(wechat.walletId)).toEqual({ sent: { count: 2n, amount: 400n }, received: { count: 0n, amount: 0n } });
    expect(await totals(alipay.walletId)).toEqual({ sent: { count: 0n, amount: 0n }, received: { count: 2n, amount: 400n } });
  });
});

describe("return window", () => {
  async function mineAt(timestamp: bigint) {
    await rpc("evm_setNextBlockTimestamp", [toHex(timestamp)]);
    await rpc("evm_mine", []);
  }

  it("default: 30 days; the regulator sets it, the same value again emits nothing", async () => {
    expect(await read().returnWindowDays()).toBe(30);
    const receipt = await mined(hubAs(net.regulator).write.setReturnWindow([7]));
    expect(parseEventLogs({ abi: settlementHubAbi, logs: receipt.logs, eventName: "ReturnWindowSet" }).map((e) => e.args)).toEqual([{ returnWindowDays: 7 }]);
    expect((await mined(hubAs(net.regulator).write.setReturnWindow([7]))).logs).toEqual([]);
    expect(await read().returnWindowDays()).toBe(7);
  });

  it("error: HubReturnWindowClosed after the last day of the window; on the last day the return goes out", async () => {
    const [alipay, wechat] = ops;
    const day = (await net.publicClient.getBlock()).timestamp / BigInt(DAY) + 1n;
    await mineAt(day * BigInt(DAY) + 10n);
    const first = receiptsOf(await settle(alipay, [[wechat.walletId, [record(100n), record(200n)]]]));
    // Batch 1 the next day, batch 2 the same day: each batch's day is its own.
    await mineAt((day + 1n) * BigInt(DAY) + 10n);
    const second = receiptsOf(await settle(alipay, [[wechat.walletId, [record(300n)]]]));
    await settle(alipay, [[wechat.walletId, [record(400n)]]]);
    expect([await read().settledDayOf([alipay.walletId, 0n]), await read().settledDayOf([alipay.walletId, 1n]), await read().settledDayOf([alipay.walletId, 2n])]).toEqual([day, day + 1n, day + 1n]);
    await expectRevert(read().settledDayOf([alipay.walletId, 3n]), "HubUnknownBatch", [alipay.walletId, 3n]);

    const tree = buildMerkleTree(first.map(receiptLeaf));
    const giveBack = (i: number) => hubAs(wechat.account).write.returnTransfer([first[i], 0n, merkleProof(tree, i), 1]);
    // The last day of the window: day + 30, until its last second.
    await mineAt((day + 31n) * BigInt(DAY) - 2n);
    await mined(giveBack(0));
    await mineAt((day + 31n) * BigInt(DAY));
    await expectRevert(giveBack(1), "HubReturnWindowClosed", [first[1].transferId, day, day + 30n]);
    // Batch 1 settled a day later: still inside its window.
    await mined(hubAs(wechat.account).write.returnTransfer([second[0], 1n, merkleProof(buildMerkleTree(second.map(receiptLeaf)), 0), 1]));
    // A window of 0 means no limit.
    await mined(hubAs(net.regulator).write.setReturnWindow([0]));
    await mined(giveBack(1));
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
