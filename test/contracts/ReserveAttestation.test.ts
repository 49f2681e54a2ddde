import {
  type Address,
  type Hex,
  type TransactionReceipt,
  getAddress,
  getContract,
  keccak256,
  maxUint256,
  parseEventLogs,
  toHex,
  zeroAddress,
} from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  reserveAttestationAbi,
  reserveAttestationBytecode,
  settlementTokenAbi,
  walletRegistryAbi,
} from "../../node/chain/abi/generated.ts";
import {
  type SumNode,
  type SumProofStep,
  buildMerkleSumTree,
  merkleSumProof,
  sumLeaf,
  verifySumInclusion,
} from "../../node/receipts/merkleSumTree.ts";
import { walletIdOf } from "../../node/receipts/ids.ts";
import { expectRevert } from "../helpers/expectRevert.ts";
import { type TestNetwork, type TestOperator, startTestNetwork, useEvmSnapshots } from "../helpers/network.ts";

const MINTED = 1_000_000_00n;

let net: TestNetwork;
let attestationAddress: Address;
let ops: TestOperator[];
let stranger: Address;

beforeAll(async () => {
  net = await startTestNetwork();
  attestationAddress = net.manifest.contracts.reserveAttestation;
  ops = net.operators.map((op) => ({ ...op, account: getAddress(op.account) }));
  stranger = getAddress(net.strangers[0]);
});

afterAll(async () => {
  await net.close();
});

useEvmSnapshots(() => net);

function rpc(method: string, params: unknown[]): Promise<unknown> {
  return net.publicClient.request({ method, params } as never);
}

function attestationAs(account: Address) {
  return getContract({
    address: attestationAddress,
    abi: reserveAttestationAbi,
    client: { public: net.publicClient, wallet: net.wallet(account) },
  });
}

function registryAs(account: Address) {
  return getContract({
    address: net.manifest.contracts.walletRegistry,
    abi: walletRegistryAbi,
    client: { public: net.publicClient, wallet: net.wallet(account) },
  });
}

function tokenAs(account: Address) {
  return getContract({
    address: net.manifest.contracts.settlementToken,
    abi: settlementTokenAbi,
    client: { public: net.publicClient, wallet: net.wallet(account) },
  });
}

const read = () => attestationAs(stranger).read;

async function mined(hash: Promise<Hex>): Promise<TransactionReceipt> {
  const receipt = await net.publicClient.waitForTransactionReceipt({ hash: await hash });
  expect(receipt.status).toBe("success");
  return receipt;
}

async function now(): Promise<bigint> {
  return (await net.publicClient.getBlock()).timestamp;
}

/** Customer balances of a made-up ledger: `count` pseudonymous references. */
function ledger(count: number, salt = "c"): { ref: Hex; balance: bigint }[] {
  return Array.from({ length: count }, (_, i) => ({
    ref: keccak256(toHex(`${salt}-${i}`)),
    balance: BigInt(1_000 + i * 137),
  }));
}

function treeOf(entries: { ref: Hex; balance: bigint }[]) {
  return buildMerkleSumTree(entries.map((e) => sumLeaf(e.ref, e.balance)));
}

/** Posts a tree for `op` with asOf = the current block time (or `asOf`). */
async function attestTree(op: TestOperator, root: SumNode, count: number, asOf?: bigint): Promise<TransactionReceipt> {
  const at = asOf ?? (await now());
  return mined(attestationAs(op.account).write.attest([root.hash, root.sum, at, count]));
}

/** On-chain verification of an inclusion proof against `op`'s latest attestation. */
function verifyOnChain(op: TestOperator, ref: Hex, balance: bigint, proof: readonly SumProofStep[]) {
  return read().verifyInclusion([op.walletId, ref, balance, proof.map((s) => ({ ...s }))]);
}

describe("ReserveAttestation: deployment", () => {
  it("default: points at the registry and the token", async () => {
    expect(await read().registry()).toBe(getAddress(net.manifest.contracts.walletRegistry));
    expect(await read().token()).toBe(getAddress(net.manifest.contracts.settlementToken));
  });

  it("error: a zero registry or token is refused with AttestationZeroAddress", async () => {
    for (const args of [
      [zeroAddress, net.manifest.contracts.settlementToken],
      [net.manifest.contracts.walletRegistry, zeroAddress],
    ] as const) {
      await expectRevert(
        net.wallet(net.deployer).deployContract({ abi: reserveAttestationAbi, bytecode: reserveAttestationBytecode, args }),
        "AttestationZeroAddress",
        [],
      );
    }
  });
});

describe("ReserveAttestation: attest", () => {
  it("behavior: an Active operator posts its root, emitting ReservesAttested", async () => {
    const tree = treeOf(ledger(5));
    const asOf = (await now()) - 60n;
    const receipt = await attestTree(ops[0], tree.root, 5, asOf);
    const [event] = parseEventLogs({ abi: reserveAttestationAbi, logs: receipt.logs });
    expect(event.eventName).toBe("ReservesAttested");
    expect(event.args).toEqual({
      walletId: ops[0].walletId,
      root: tree.root.hash,
      totalLiabilities: tree.root.sum,
      asOf,
      accountCount: 5,
    });
    const block = await net.publicClient.getBlock({ blockNumber: receipt.blockNumber });
    expect(await read().latest([ops[0].walletId])).toEqual({
      root: tree.root.hash,
      totalLiabilities: tree.root.sum,
      asOf,
      postedAt: block.timestamp,
      accountCount: 5,
    });
  });

  it("behavior: a later attestation replaces the latest; wallets are independent", async () => {
    const first = treeOf(ledger(3, "a")).root;
    const second = treeOf(ledger(4, "b")).root;
    const t = await now();
    await attestTree(ops[0], first, 3, t - 10n);
    await attestTree(ops[1], second, 4, t - 10n);
    await attestTree(ops[0], second, 4, t - 5n);
    expect((await read().latest([ops[0].walletId])).root).toBe(second.hash);
    expect((await read().latest([ops[0].walletId])).asOf).toBe(t - 5n);
    expect((await read().latest([ops[1].walletId])).asOf).toBe(t - 10n);
  });

  it("error: asOf not above the last one reverts with AttestationAsOfNotIncreasing", async () => {
    const root = treeOf(ledger(2)).root;
    const t = await now();
    await expectRevert(
      attestationAs(ops[0].account).write.attest([root.hash, root.sum, 0n, 2]),
      "AttestationAsOfNotIncreasing",
      [ops[0].walletId, 0n, 0n],
    );
    await attestTree(ops[0], root, 2, t - 10n);
    for (const asOf of [t - 10n, t - 11n]) {
      await expectRevert(
        attestationAs(ops[0].account).write.attest([root.hash, root.sum, asOf, 2]),
        "AttestationAsOfNotIncreasing",
        [ops[0].walletId, t - 10n, asOf],
      );
    }
  });

  it("error: asOf in the future of the block reverts with AttestationAsOfInFuture", async () => {
    const root = treeOf(ledger(2)).root;
    const asOf = (await now()) + 3_600n;
    await expectRevert(
      attestationAs(ops[0].account).write.attest([root.hash, root.sum, asOf, 2]),
      "AttestationAsOfInFuture",
      [asOf, (blockTime: unknown) => typeof blockTime === "bigint" && blockTime < asOf],
    );
  });

  it("error: a non-member, a Pending or a Suspended operator gets AttestationNotActiveOperator", async () => {
    const root = treeOf(ledger(2)).root;
    const t = await now();
    await expectRevert(
      attestationAs(stranger).write.attest([root.hash, root.sum, t, 2]),
      "AttestationNotActiveOperator",
      [stranger],
    );

    const candidate = getAddress(net.strangers[1]);
    await mined(
      registryAs(candidate).write.applyForMembership([walletIdOf("NEWPAY"), "NewPay", getAddress(net.strangers[2]), ""]),
    );
    await expectRevert(
      attestationAs(candidate).write.attest([root.hash, root.sum, t, 2]),
      "AttestationNotActiveOperator",
      [candidate],
    );

    await mined(registryAs(net.governor).write.suspend([ops[0].walletId, 1]));
    await expectRevert(
      attestationAs(ops[0].account).write.attest([root.hash, root.sum, t, 2]),
      "AttestationNotActiveOperator",
      [ops[0].account],
    );
  });

  it("error: latest, backing and verifyInclusion revert with AttestationNone before any attestation", async () => {
    await expectRevert(read().latest([ops[0].walletId]), "AttestationNone", [ops[0].walletId]);
    await expectRevert(read().backing([ops[0].walletId]), "AttestationNone", [ops[0].walletId]);
    await expectRevert(verifyOnChain(ops[0], keccak256("0x01"), 1n, []), "AttestationNone", [ops[0].walletId]);
  });
});

describe("ReserveAttestation: backing", () => {
  it("behavior: backed when the token balance covers the liabilities (equality included)", async () => {
    const t = await now();
    await mined(attestationAs(ops[0].account).write.attest([keccak256("0x01"), MINTED, t, 1]));
    expect(await read().backing([ops[0].walletId])).toEqual([MINTED, MINTED, true, t]);
  });

  it("behavior: not backed when the liabilities exceed the balance, and it follows the balance", async () => {
    const t = await now();
    await mined(attestationAs(ops[0].account).write.attest([keccak256("0x01"), MINTED + 1n, t, 1]));
    expect(await read().backing([ops[0].walletId])).toEqual([MINTED, MINTED + 1n, false, t]);

    await mined(tokenAs(net.issuer).write.mint([ops[0].account, 1n, `0x${"22".repeat(32)}`]));
    expect(await read().backing([ops[0].walletId])).toEqual([MINTED + 1n, MINTED + 1n, true, t]);

    await mined(tokenAs(net.issuer).write.burn([ops[0].account, 2n, `0x${"33".repeat(32)}`]));
    expect((await read().backing([ops[0].walletId]))[2]).toBe(false);
  });
});

describe("ReserveAttestation: Merkle-sum inclusion", () => {
  it("behavior: sumLeaf equals node/receipts/merkleSumTree.ts sumLeaf", async () => {
    for (const { ref, balance } of [...ledger(3), { ref: `0x${"00".repeat(32)}` as Hex, balance: 0n }, { ref: keccak256("0x"), balance: maxUint256 }]) {
      expect(await read().sumLeaf([ref, balance])).toBe(sumLeaf(ref, balance).hash);
    }
  });

  for (const size of [1, 2, 3, 5, 8]) {
    it(`behavior: every leaf of a ${size}-leaf tree verifies on chain and in TS`, async () => {
      const entries = ledger(size);
      const tree = treeOf(entries);
      await attestTree(ops[0], tree.root, size);
      for (const [i, { ref, balance }] of entries.entries()) {
        const proof = merkleSumProof(tree, i);
        expect(verifySumInclusion(ref, balance, proof, tree.root.hash, tree.root.sum)).toBe(true);
        expect(await verifyOnChain(ops[0], ref, balance, proof)).toBe(true);
      }
    });
  }

  describe("error: a tampered proof fails on chain and in TS", () => {
    const entries = ledger(5);
    const tree = treeOf(entries);
    const index = 2;
    const { ref, balance } = entries[index];
    const proof = merkleSumProof(tree, index);

    const cases: [string, Hex, bigint, SumProofStep[]][] = [
      ["wrong balance", ref, balance + 1n, proof],
      ["wrong reference", keccak256("0xdead"), balance, proof],
      ["wrong sibling hash", ref, balance, proof.map((s, i) => (i === 0 ? { ...s, hash: keccak256(s.hash) } : s))],
      ["wrong sibling sum", ref, balance, proof.map((s, i) => (i === 0 ? { ...s, sum: s.sum + 1n } : s))],
      ["sibling on the wrong side", ref, balance, proof.map((s, i) => (i === 0 ? { ...s, siblingOnLeft: !s.siblingOnLeft } : s))],
      ["truncated proof", ref, balance, proof.slice(0, -1)],
      ["another leaf's proof", ref, balance, merkleSumProof(tree, index + 1)],
    ];
    for (const [name, r, b, p] of cases) {
      it(name, async () => {
        await attestTree(ops[0], tree.root, entries.length);
        expect(verifySumInclusion(r, b, p, tree.root.hash, tree.root.sum)).toBe(false);
        expect(await verifyOnChain(ops[0], r, b, p)).toBe(false);
      });
    }
  });

  it("error: a proof is checked against the sum as well as the hash", async () => {
    const entries = ledger(4);
    const tree = treeOf(entries);
    const t = await now();
    // Same root hash, but a total that differs from the tree's sum.
    await mined(attestationAs(ops[0].account).write.attest([tree.root.hash, tree.root.sum - 1n, t, 4]));
    expect(await verifyOnChain(ops[0], entries[0].ref, entries[0].balance, merkleSumProof(tree, 0))).toBe(false);
  });

  it("error: a proof for another wallet or an older attestation fails", async () => {
    const old = ledger(3, "old");
    const oldTree = treeOf(old);
    const t = await now();
    await attestTree(ops[0], oldTree.root, 3, t - 10n);
    const proof = merkleSumProof(oldTree, 1);
    expect(await verifyOnChain(ops[0], old[1].ref, old[1].balance, proof)).toBe(true);

    await attestTree(ops[1], oldTree.root, 3, t - 10n);
    const fresh = treeOf(ledger(3, "new"));
    await attestTree(ops[0], fresh.root, 3, t - 5n);
    expect(await verifyOnChain(ops[0], old[1].ref, old[1].balance, proof)).toBe(false);
    expect(await verifyOnChain(ops[1], old[1].ref, old[1].balance, proof)).toBe(true);
    await expectRevert(verifyOnChain(ops[2], old[1].ref, old[1].balance, proof), "AttestationNone", [ops[2].walletId]);
  });

  it("error: a sibling sum that would overflow returns false instead of reverting", async () => {
    const entries = ledger(2);
    const tree = treeOf(entries);
    await attestTree(ops[0], tree.root, 2);
    const [step] = merkleSumProof(tree, 0);
    expect(await verifyOnChain(ops[0], entries[0].ref, entries[0].balance, [{ ...step, sum: maxUint256 }])).toBe(false);
  });
});
