import { type Hex, createPublicClient, custom, keccak256, toHex } from "viem";
import { walletRegistryAbi } from "../../node/chain/abi/generated.ts";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  AuditFailure,
  assertReserves,
  createChainReader,
  backingRatio,
  buildLiabilityTree,
  inclusionProofJson,
  inclusionProofOf,
  LIABILITY_PIECES,
  parseInclusionProof,
  pieceRef,
  renderReserves,
  reservesReport,
  verifyInclusionProof,
} from "../../node/audit/index.ts";
import { walletIdOf } from "../../node/receipts/index.ts";
import { prng } from "../../scripts/prng.ts";
import { type AuditNetwork, startAuditNetwork } from "./auditNetwork.ts";

let a: AuditNetwork;
const MINTED = 1_000_000_00n;
const ref = (i: number) => keccak256(toHex(`customer ${i}`));
const customers = [120_00n, 5n, 0n, 99_999_99n, 42n].map((balance, i) => ({ ref: ref(i), balance }));

async function chainTime(): Promise<bigint> {
  return (await a.reader.block(await a.reader.latestBlock())).timestamp;
}

async function failure(check: Promise<unknown> | (() => unknown)): Promise<AuditFailure> {
  const e = await (typeof check === "function" ? Promise.resolve().then(check) : check).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, "the check should have failed").toBeInstanceOf(AuditFailure);
  return e as AuditFailure;
}

beforeAll(async () => {
  a = await startAuditNetwork();
});
afterAll(async () => {
  await a?.close();
});

describe("reserves", () => {
  test("error: an operator that never attested", async () => {
    const report = await reservesReport(a.reader);
    expect(report.ok).toBe(false);
    expect(report.operators.map((o) => o.problems[0]?.code)).toEqual(["never_attested", "never_attested", "never_attested"]);
    expect((await failure(() => assertReserves(report))).code).toBe("never_attested");
  });

  test("default: every operator backed and fresh", async () => {
    const tree = buildLiabilityTree(customers);
    const asOf = await chainTime();
    await a.attest("ALIPAY", tree.root, tree.total, asOf, customers.length);
    await a.attest("WECHAT", tree.root, MINTED / 2n, asOf, 1);
    await a.attest("YUNPAY", tree.root, MINTED, asOf, 1);
    const report = await reservesReport(a.reader, { nowSeconds: Number(asOf) + 60 });
    expect(report.ok).toBe(true);
    expect(report.operators.map((o) => [o.code, o.tokenBalance, o.liabilities, o.backingRatio, o.ageSeconds])).toEqual([
      ["ALIPAY", MINTED, tree.total, backingRatio(MINTED, tree.total), 60],
      ["WECHAT", MINTED, MINTED / 2n, "2.0000", 60],
      ["YUNPAY", MINTED, MINTED, "1.0000", 60],
    ]);
    expect(() => assertReserves(report)).not.toThrow();
    expect(renderReserves(report, { decimals: 2, symbol: "sCNY" })).toMatch(/^RESERVES BACKED/);
  });

  test("error: liabilities above balance", async () => {
    const asOf = (await chainTime()) + 1n;
    await a.net.increaseTime(1);
    await a.attest("YUNPAY", `0x${"77".repeat(32)}`, MINTED + 1n, asOf, 3);
    const report = await reservesReport(a.reader, { nowSeconds: Number(asOf) });
    const yunpay = report.operators.find((o) => o.code === "YUNPAY")!;
    expect(yunpay.problems).toEqual([
      { code: "under_backed", message: "YUNPAY is under-backed: token balance 100000000 < attested liabilities 100000001 (short by 1)" },
    ]);
    expect(yunpay.backingRatio).toBe("0.9999");
    const e = await failure(() => assertReserves(report));
    expect(e.code).toBe("under_backed");
    expect(e.message).toBe("YUNPAY is under-backed: token balance 100000000 < attested liabilities 100000001 (short by 1)");
  });

  test("error: a stale attestation", async () => {
    const asOf = await chainTime();
    const report = await reservesReport(a.reader, { nowSeconds: Number(asOf) + 7_200, maxAgeSeconds: 3_600 });
    const alipay = report.operators.find((o) => o.code === "ALIPAY")!;
    expect(alipay.problems.map((p) => p.code)).toEqual(["stale_attestation"]);
    expect(alipay.problems[0].message).toMatch(/^ALIPAY's attestation is 72\d\d s old \(as of .*\), more than the 3600 s allowed$/);
  });
});

describe("reserves against application spam", () => {
  test("behavior: pending applications cost the report no chain reads and never show in it", async () => {
    let calls = 0;
    const real = a.net.publicClient;
    const counting = createPublicClient({
      chain: real.chain,
      transport: custom({
        request({ method, params }) {
          if (method === "eth_call") calls++;
          return real.request({ method, params } as never);
        },
      }),
    });
    const reader = createChainReader(counting, a.net.manifest);
    const before = await reservesReport(reader);
    const baseline = calls;
    // Every stranger applies under a made-up code, as a spammer would.
    for (const [i, stranger] of a.net.strangers.slice(0, 6).entries()) {
      const hash = await a.net.wallet(stranger).writeContract({
        address: a.net.manifest.contracts.walletRegistry,
        abi: walletRegistryAbi,
        functionName: "applyForMembership",
        args: [walletIdOf(`SPAM${i}`), `Spam ${i}`, `0x${(i + 1).toString(16).padStart(40, "0")}`, "http://spam.example"],
      } as never);
      await a.net.publicClient.waitForTransactionReceipt({ hash });
    }
    calls = 0;
    const after = await reservesReport(reader);
    expect(calls).toBe(baseline);
    expect(after.operators.map((o) => o.code)).toEqual(before.operators.map((o) => o.code));
    expect(after.operators.map((o) => o.code)).toEqual(["ALIPAY", "WECHAT", "YUNPAY"]);
  });
});

describe("inclusion proofs", () => {
  const ALIPAY = walletIdOf("ALIPAY");
  let current: ReturnType<typeof buildLiabilityTree>;

  async function attestAlipay(balances: { ref: Hex; balance: bigint }[]) {
    current = buildLiabilityTree(balances);
    await a.net.increaseTime(1);
    const asOf = await chainTime();
    await a.attest("ALIPAY", current.root, current.total, asOf, balances.length);
    return asOf;
  }

  test("default: a customer's proof verifies against the on-chain root, here and in the contract", async () => {
    const asOf = await attestAlipay(customers);
    const proof = inclusionProofOf(current, ref(3), { wallet: "ALIPAY", walletId: ALIPAY, asOf })!;
    expect(proof.pieces).toHaveLength(LIABILITY_PIECES);
    expect(proof.pieces.reduce((s, p) => s + p.amount, 0n)).toBe(99_999_99n);
    const parsed = parseInclusionProof(JSON.parse(JSON.stringify(inclusionProofJson(proof))));
    const report = await verifyInclusionProof(a.reader, parsed);
    expect(report).toMatchObject({ status: "included", wallet: "ALIPAY", balance: 99_999_99n, total: current.total, accountCount: 5, pieces: LIABILITY_PIECES, contractAgrees: true });
    // The contract checks each piece's leaf on its own, in the unchanged leaf and node format.
    for (const piece of proof.pieces) {
      expect(await a.reader.verifyInclusionOnChain(ALIPAY, pieceRef(ref(3), piece.salt), piece.amount, piece.proof)).toBe(true);
    }
    expect(inclusionProofOf(current, ref(99), { wallet: "ALIPAY", walletId: ALIPAY, asOf })).toBeUndefined();
  });

  test("behavior: totals and counts are unchanged by the split: root sum = Σ balances, accountCount = customers, zero balances included", () => {
    const tree = buildLiabilityTree(customers);
    expect(tree.total).toBe(customers.reduce((s, c) => s + c.balance, 0n));
    expect(tree.accountCount).toBe(customers.length);
    expect(tree.leaves).toHaveLength(customers.length * LIABILITY_PIECES);
    const zero = inclusionProofOf(tree, ref(2), { wallet: "ALIPAY", walletId: ALIPAY, asOf: 1n })!;
    expect(zero.pieces.map((p) => p.amount)).toEqual(Array(LIABILITY_PIECES).fill(0n));
    // Fresh salts every time: two attestations of the same balances share no leaf.
    const again = buildLiabilityTree(customers);
    expect(again.root).not.toBe(tree.root);
    expect(again.total).toBe(tree.total);
  });

  test("behavior: no sibling sum of any proof is another customer's balance (with one leaf per customer, the first one was)", () => {
    // Distinct, non-zero balances, so a sibling sum equal to one is a leak, not a coincidence of zeros.
    const fixture = [120_00n, 5_55n, 3_141_59n, 99_999_99n, 42_00n, 7_77n, 1_000_00n, 2_718_28n, 61_80n, 14_14n].map((balance, i) => ({ ref: ref(100 + i), balance }));
    const next = prng(20261202);
    const randomBytes = (size: number) => Uint8Array.from({ length: size }, () => Math.floor(next() * 256));
    const leaked = (tree: ReturnType<typeof buildLiabilityTree>) =>
      fixture.flatMap((c) =>
        inclusionProofOf(tree, c.ref, { wallet: "ALIPAY", walletId: ALIPAY, asOf: 1n })!.pieces.flatMap((piece) =>
          piece.proof.filter((step) => fixture.some((other) => other.ref !== c.ref && other.balance === step.sum)).map((step) => `${c.balance} sees ${step.sum}`),
        ),
      );
    const single = buildLiabilityTree(fixture, { pieces: 1, randomBytes });
    expect(leaked(single).length).toBeGreaterThan(0);
    for (let round = 0; round < 20; round++) {
      const tree = buildLiabilityTree(fixture, { randomBytes });
      expect(tree.total).toBe(fixture.reduce((s, c) => s + c.balance, 0n));
      expect(leaked(tree), `round ${round}`).toEqual([]);
    }
  });

  test("error: an inclusion proof for a different balance", async () => {
    const asOf = await attestAlipay(customers);
    const proof = inclusionProofOf(current, ref(0), { wallet: "ALIPAY", walletId: ALIPAY, asOf })!;
    const e = await failure(verifyInclusionProof(a.reader, { ...proof, balance: 121_00n }));
    expect(e.code).toBe("inclusion_invalid");
    expect(e.message).toBe(`the ${LIABILITY_PIECES} pieces of reference ${ref(0)} add up to 12000, not to the balance 12100`);
    // A piece raised to match: its leaf is not in the tree.
    const raised = proof.pieces.map((p, i) => (i === 0 ? { ...p, amount: p.amount + 100n } : p));
    const e2 = await failure(verifyInclusionProof(a.reader, { ...proof, balance: 121_00n, pieces: raised }));
    expect(e2.message).toMatch(new RegExp(`^balance 12100 for reference ${ref(0)} does not prove against ALIPAY's attested root ${current.root} \\(total ${current.total}\\): piece 0 \\(${raised[0].amount}\\) leads to 0x[0-9a-f]{64} \\(total ${current.total + 100n}\\)$`));
  });

  test("error: a proof that repeats one piece, or shows another customer's piece as its own", async () => {
    const asOf = await attestAlipay(customers);
    const proof = inclusionProofOf(current, ref(3), { wallet: "ALIPAY", walletId: ALIPAY, asOf })!;
    // Claim the balance by showing the largest piece as many times as it takes.
    const big = proof.pieces.reduce((m, p) => (p.amount > m.amount ? p : m));
    const repeated = { ...proof, balance: big.amount * 2n, pieces: [big, big] };
    expect((await failure(verifyInclusionProof(a.reader, repeated))).message).toBe(`the proof for reference ${ref(3)} repeats a piece (two pieces share a salt)`);
    // Another customer's pieces do not bind to this reference.
    const other = inclusionProofOf(current, ref(0), { wallet: "ALIPAY", walletId: ALIPAY, asOf })!;
    expect((await failure(verifyInclusionProof(a.reader, { ...other, accountRef: ref(3) }))).code).toBe("inclusion_invalid");
  });

  test("error: a proof whose sibling sum was lowered", async () => {
    const asOf = await attestAlipay(customers);
    const proof = inclusionProofOf(current, ref(1), { wallet: "ALIPAY", walletId: ALIPAY, asOf })!;
    const pieces = proof.pieces.map((p, i) => (i === 1 ? { ...p, proof: p.proof.map((s, j) => (j === 0 ? { ...s, sum: s.sum - 1n } : s)) } : p));
    expect((await failure(verifyInclusionProof(a.reader, { ...proof, pieces }))).code).toBe("inclusion_invalid");
  });

  test("error: a proof for an attestation that was since replaced", async () => {
    const asOf = await attestAlipay(customers);
    const old = inclusionProofOf(current, ref(4), { wallet: "ALIPAY", walletId: ALIPAY, asOf })!;
    await attestAlipay(customers.map((c) => ({ ...c, balance: c.balance + 1n })));
    const e = await failure(verifyInclusionProof(a.reader, old));
    expect(e.code).toBe("attestation_superseded");
    expect(e.message).toMatch(/: ask ALIPAY for a new proof$/);
  });

  test("error: malformed proof files name the field", () => {
    const good = inclusionProofJson(inclusionProofOf(buildLiabilityTree(customers), ref(2), { wallet: "ALIPAY", walletId: ALIPAY, asOf: 1n })!);
    expect(() => parseInclusionProof({ ...good, balance: 12 })).toThrow("proof.json: balance must be a decimal string of minor units");
    const pieces = good.pieces as { salt: string; amount: string; proof: unknown[] }[];
    expect(() => parseInclusionProof({ ...good, pieces: [{ ...pieces[0], proof: [{ hash: "0x1", sum: "1", siblingOnLeft: true }] }] })).toThrow("proof.json: pieces[0].proof[0].hash must be 0x + 64 hex digits");
    expect(() => parseInclusionProof({ ...good, pieces: [{ ...pieces[0], salt: "0x12" }] })).toThrow("proof.json: pieces[0].salt must be 0x + 64 hex digits");
    expect(() => parseInclusionProof({ ...good, pieces: [] })).toThrow("proof.json: pieces must be an array of 1-64 {salt, amount, proof}");
    expect(() => parseInclusionProof({ ...good, version: 1 })).toThrow("proof.json: version 1 (one leaf per customer) is no longer issued: download a new proof from the operator");
  });
});
