import type { Hex } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  AuditFailure,
  ChainVerifier,
  type SettledBatch,
  type TransferEvidence,
  checkTransferEvidence,
  checkWalletChain,
  gatherTransferEvidence,
  groupBatches,
  parseTransferRef,
  renderCertificate,
  shortTransferId,
  traceTransfer,
  verifyTransaction,
  verifyTransfer,
} from "../../node/audit/index.ts";
import { nextHead, transferIdOf, walletIdOf } from "../../node/receipts/index.ts";
import { type AuditNetwork, type GroupLog, overrideReader, readerWithForgedGroups, startAuditNetwork } from "./auditNetwork.ts";

let a: AuditNetwork;
let middleTx: Hex;
const ALIPAY = walletIdOf("ALIPAY");
const id = (code: string, seq: bigint) => transferIdOf(walletIdOf(code), seq);

beforeAll(async () => {
  a = await startAuditNetwork();
  // ALIPAY: batch 0 (1 transfer), batch 1 (5 transfers to two payees), batch 2 (3 transfers); WECHAT: batch 0.
  // The hub takes a batch grouped by payee, so batch 1 settles as WECHAT 1.00, 3.00, 5.00 (ALIPAY-1..3,
  // one TransfersSettled log) then YUNPAY 2.00, 4.00 (ALIPAY-4..5, a second log).
  await a.settle("ALIPAY", [{ to: "WECHAT", amount: 100_00n }]);
  middleTx = await a.settle("ALIPAY", [
    { to: "WECHAT", amount: 1_00n },
    { to: "YUNPAY", amount: 2_00n },
    { to: "WECHAT", amount: 3_00n },
    { to: "YUNPAY", amount: 4_00n },
    { to: "WECHAT", amount: 5_00n },
  ]);
  await a.settle("ALIPAY", [
    { to: "YUNPAY", amount: 7n },
    { to: "WECHAT", amount: 8n },
    { to: "WECHAT", amount: 9n },
  ]);
  await a.settle("WECHAT", [{ to: "ALIPAY", amount: 50_00n }]);
});
afterAll(async () => {
  await a?.close();
});

/** Runs `check` and returns the AuditFailure it throws. */
async function failure(check: Promise<unknown>): Promise<AuditFailure> {
  const e = await check.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, "the check should have failed").toBeInstanceOf(AuditFailure);
  return e as AuditFailure;
}

async function evidence(seq: bigint): Promise<TransferEvidence> {
  return gatherTransferEvidence(a.reader, id("ALIPAY", seq));
}

describe("verify a transfer", () => {
  test("default: a transfer in the middle of a batch gets a certificate", async () => {
    const c = await verifyTransfer(a.reader, id("ALIPAY", 3n));
    expect(c).toMatchObject({ status: "verified", shortId: "ALIPAY-3", amount: 5_00n, seq: 3n, payer: { code: "ALIPAY" }, payee: { code: "WECHAT" } });
    expect(c.batch).toMatchObject({ batchNo: 1n, firstSeq: 1n, count: 5, index: 2, total: 15_00n });
    expect(c.batch.proof.length).toBe(3);
    expect(c.transaction.hash).toBe(middleTx);
    expect(c.chain.nextPrevHead).toBe(c.chain.head);
    expect(c.checks.map((k) => k.name)).toEqual(["event", "transfer id", "batch root", "merkle proof", "root chain"]);
    expect(renderCertificate(c, { decimals: 2, symbol: "sCNY" })).toContain("TRANSFER VERIFIED  ALIPAY-3");
  });

  test("behavior: the first batch (a single transfer, empty proof) and the last batch (checked against headOf)", async () => {
    const first = await verifyTransfer(a.reader, id("ALIPAY", 0n));
    expect(first.batch).toMatchObject({ batchNo: 0n, count: 1, proof: [] });
    expect(first.chain.prevHead).toBe(`0x${"0".repeat(64)}`);
    const last = await verifyTransfer(a.reader, id("ALIPAY", 8n));
    expect(last.chain.currentHead).toBe(await a.reader.headOf(ALIPAY));
  });

  test("behavior: a transaction hash verifies every transfer it settled; short ids parse", async () => {
    const all = await verifyTransaction(a.reader, middleTx);
    expect(all.map((c) => c.shortId)).toEqual(["ALIPAY-1", "ALIPAY-2", "ALIPAY-3", "ALIPAY-4", "ALIPAY-5"]);
    expect(parseTransferRef("alipay-3")).toBe(id("ALIPAY", 3n));
    expect(shortTransferId(id("ALIPAY", 3n))).toBe("ALIPAY-3");
  });

  test("behavior: a batch is numbered in payee-group order; a group's transfers share one log, each its own record", async () => {
    const all = await verifyTransaction(a.reader, middleTx);
    expect(all.map((c) => [c.payee.code, c.amount])).toEqual([
      ["WECHAT", 1_00n],
      ["WECHAT", 3_00n],
      ["WECHAT", 5_00n],
      ["YUNPAY", 2_00n],
      ["YUNPAY", 4_00n],
    ]);
    const [wechat, yunpay] = [all[0].transaction.logIndex, all[3].transaction.logIndex];
    expect(all.map((c) => [c.transaction.logIndex, c.transaction.record])).toEqual([
      [wechat, 0],
      [wechat, 1],
      [wechat, 2],
      [yunpay, 0],
      [yunpay, 1],
    ]);
    expect(yunpay).toBeGreaterThan(wechat);
    expect(all[4].checks[0].detail).toMatch(/^record 1 of TransfersSettled in block \d+, tx 0x[0-9a-f]{64}, log \d+$/);
  });

  test("error: a transfer that never settled", async () => {
    const e = await failure(verifyTransfer(a.reader, id("ALIPAY", 999n)));
    expect(e.code).toBe("transfer_not_found");
    expect(e.message).toBe("no settled transfer ALIPAY-999 (ALIPAY sequence 999) on this chain");
  });
});

describe("tampered transfers fail, each with its own reason", () => {
  test("error: changed amount", async () => {
    const ev = await evidence(3n);
    const e = await failure(checkTransferEvidence(a.reader, { ...ev, receipt: { ...ev.receipt, amount: 5_01n } }));
    expect(e.code).toBe("amount_mismatch");
    expect(e.message).toBe("ALIPAY-3 amount: the receipt says 501, the chain recorded 500");
  });

  test("error: changed payee (wallet, or customer reference)", async () => {
    const ev = await evidence(3n);
    const wallet = await failure(checkTransferEvidence(a.reader, { ...ev, receipt: { ...ev.receipt, toWallet: walletIdOf("YUNPAY") } }));
    expect(wallet.code).toBe("payee_mismatch");
    expect(wallet.message).toMatch(/^ALIPAY-3 toWallet: the receipt says 0x59554e504159/);
    const customer = await failure(checkTransferEvidence(a.reader, { ...ev, receipt: { ...ev.receipt, payeeRef: `0x${"ab".repeat(32)}` } }));
    expect(customer.code).toBe("payee_mismatch");
    expect(customer.details.field).toBe("payeeRef");
  });

  test("error: wrong proof (one sibling flipped)", async () => {
    const ev = await evidence(3n);
    const proof = [...ev.proof];
    proof[1] = `0x${(BigInt(proof[1]) ^ 1n).toString(16).padStart(64, "0")}` as Hex;
    const e = await failure(checkTransferEvidence(a.reader, { ...ev, proof }));
    expect(e.code).toBe("proof_invalid");
    expect(e.message).toMatch(/^the Merkle proof \(3 siblings\) does not lead from ALIPAY-3's leaf 0x[0-9a-f]{64} to batch 1's root 0x[0-9a-f]{64}$/);
  });

  test("error: missing batch (the hub holds no root for it)", async () => {
    const ev = await evidence(3n);
    const reader = overrideReader(a.reader, { batchRoot: async () => undefined });
    const e = await failure(checkTransferEvidence(reader, ev));
    expect(e.code).toBe("batch_missing");
    expect(e.message).toBe("the hub has no batch 1 of ALIPAY (it holds 3 batches)");
  });

  test("error: missing batch (no BatchSettled before it)", async () => {
    const ev = await evidence(8n);
    const e = await failure(checkTransferEvidence(a.reader, { ...ev, previous: undefined }));
    expect(e.code).toBe("batch_missing");
    expect(e.message).toBe("batch 1 of ALIPAY, before batch 2, has no BatchSettled event");
  });

  test("error: broken chain link (the previous batch, sound in itself, ended at another head)", async () => {
    const ev = await evidence(3n);
    const p = ev.previous!;
    const root = `0x${"11".repeat(32)}` as Hex;
    const previous = { ...p, root, head: nextHead(p.prevHead, { batchNo: p.batchNo, firstSeq: p.firstSeq, count: p.count, root }) };
    const e = await failure(checkTransferEvidence(a.reader, { ...ev, previous }));
    expect(e.code).toBe("chain_link_broken");
    expect(e.message).toBe(`batch 1 of ALIPAY chains to prevHead ${ev.batch.prevHead}, but batch 0 ended at head ${previous.head}`);
  });

  test("error: broken chain link (the batch's own prevHead rewritten)", async () => {
    const ev = await evidence(3n);
    const e = await failure(checkTransferEvidence(a.reader, { ...ev, batch: { ...ev.batch, prevHead: `0x${"22".repeat(32)}` } }));
    expect(e.code).toBe("chain_link_broken");
    expect(e.message).toMatch(/^batch 1 of ALIPAY: head 0x[0-9a-f]{64} ≠ H\(prevHead 0x(22){32}, 1, 1, 5, root\)$/);
  });

  test("error: a batch whose leaves were swapped for others rebuilds another root", async () => {
    const ev = await evidence(3n);
    const batchLeaves = [...ev.batchLeaves];
    batchLeaves[4] = `0x${"33".repeat(32)}`;
    const e = await failure(checkTransferEvidence(a.reader, { ...ev, batchLeaves }));
    expect(e.code).toBe("batch_root_mismatch");
  });
});

describe("a forged group log: the TransfersSettled records differ from what the hub settled", () => {
  /** A reader whose view of batch 1's WECHAT group (ALIPAY-1..3, one log) went through `forge`. */
  const forgingWechatGroup = (forge: (g: GroupLog) => GroupLog) =>
    readerWithForgedGroups(a, (g) => (g.txHash.toLowerCase() === middleTx.toLowerCase() && g.firstSeq === 1n ? forge(g) : g));

  test("error: a record's amount changed", async () => {
    const ev = await evidence(3n);
    const forged = forgingWechatGroup((g) => ({ ...g, records: g.records.map((r, i) => (i === 2 ? { ...r, amount: 5_01n } : r)) }));
    const honest = await failure(checkTransferEvidence(forged, ev));
    expect(honest.code).toBe("amount_mismatch");
    expect(honest.message).toBe("ALIPAY-3 amount: the receipt says 500, the chain recorded 501");
    // Believing the forged record instead: its leaf no longer rebuilds the root the hub stores.
    const believed = await failure(verifyTransfer(forged, id("ALIPAY", 3n)));
    expect(believed.code).toBe("batch_root_mismatch");
    expect(believed.message).toMatch(/^the 5 receipts of batch 1 of ALIPAY rebuild root 0x[0-9a-f]{64}, the hub stores 0x[0-9a-f]{64}$/);
    expect((await failure(checkWalletChain(forged, ALIPAY))).code).toBe("batch_root_mismatch");
  });

  test("error: the group's payee wallet, or one record's payee reference, changed", async () => {
    const ev = await evidence(2n);
    const wallet = await failure(checkTransferEvidence(forgingWechatGroup((g) => ({ ...g, toWallet: walletIdOf("YUNPAY") })), ev));
    expect(wallet.code).toBe("payee_mismatch");
    expect(wallet.details.field).toBe("toWallet");
    const customer = await failure(
      checkTransferEvidence(forgingWechatGroup((g) => ({ ...g, records: g.records.map((r, i) => (i === 1 ? { ...r, payeeRef: `0x${"ab".repeat(32)}` } : r)) })), ev),
    );
    expect(customer.code).toBe("payee_mismatch");
    expect(customer.details.field).toBe("payeeRef");
  });

  test("error: a record dropped from the group", async () => {
    const forged = forgingWechatGroup((g) => ({ ...g, records: g.records.slice(0, 2) }));
    expect((await failure(verifyTransfer(forged, id("ALIPAY", 3n)))).code).toBe("transfer_not_found");
    const rest = await failure(verifyTransfer(forged, id("ALIPAY", 1n)));
    expect(rest.code).toBe("batch_root_mismatch");
    expect(rest.message).toBe("batch 1 of ALIPAY has 4 receipts in its logs, BatchSettled says 5");
    const chain = await failure(checkWalletChain(forged, ALIPAY));
    expect(chain.code).toBe("batch_root_mismatch");
    expect(chain.message).toBe("ALIPAY: batch 1 says 5 transfers, its logs hold 4");
  });
});

describe("root chain of a wallet", () => {
  test("default: the whole chain from batch 0, with counts and totals", async () => {
    const r = await checkWalletChain(a.reader, ALIPAY, { spanBlocks: 3n });
    expect(r).toMatchObject({ status: "verified", code: "ALIPAY", batches: 3, transfers: 9, total: 100_00n + 15_00n + 24n, nextSeq: 9n });
    expect(r.byPayee).toEqual({ WECHAT: 100_00n + 9_00n + 17n, YUNPAY: 6_00n + 7n });
    expect(r.head).toBe(await a.reader.headOf(ALIPAY));
    const wechat = await checkWalletChain(a.reader, walletIdOf("WECHAT"));
    expect(wechat).toMatchObject({ batches: 1, transfers: 1, total: 50_00n });
    expect((await checkWalletChain(a.reader, walletIdOf("YUNPAY"))).batches).toBe(0);
  });

  test("error: a wallet that is not a member has no chain to verify", async () => {
    const e = await failure(checkWalletChain(a.reader, walletIdOf("NOSUCHPAY")));
    expect(e.code).toBe("unknown_wallet");
    expect(e.message).toBe("wallet NOSUCHPAY is not a member of the network");
  });

  async function records() {
    const [batches, transfers] = await Promise.all([a.reader.batches({ fromWallet: ALIPAY }), a.reader.transfers({ fromWallet: ALIPAY })]);
    const grouped = groupBatches(batches, transfers);
    return Promise.all(grouped.map(async (g) => ({ ...g, storedRoot: await a.reader.batchRoot(ALIPAY, g.batch.batchNo) })));
  }

  test("error: missing batch (a gap in the events)", async () => {
    const all = await records();
    const v = new ChainVerifier(ALIPAY);
    v.add(all[0]);
    const e = (() => {
      try {
        v.add(all[2]);
      } catch (err) {
        return err as AuditFailure;
      }
    })();
    expect(e?.code).toBe("batch_missing");
    expect(e?.message).toBe("ALIPAY: batch 1 is missing (the next BatchSettled is batch 2)");
  });

  test("error: missing batch (the hub counts more batches than the events show)", async () => {
    const all = await records();
    const v = new ChainVerifier(ALIPAY);
    all.slice(0, 2).forEach((r) => v.add(r));
    expect(() => v.finish({ batchCount: 3n, head: all[2].batch.head })).toThrow("ALIPAY: the hub holds 3 batches, the events show 2 (batch 2 is missing)");
  });

  test("error: broken chain link and rewritten root", async () => {
    const all = await records();
    const broken = new ChainVerifier(ALIPAY);
    broken.add(all[0]);
    const relinked: SettledBatch = { ...all[1].batch, prevHead: `0x${"44".repeat(32)}` };
    try {
      broken.add({ ...all[1], batch: relinked });
      expect.unreachable();
    } catch (e) {
      expect((e as AuditFailure).code).toBe("chain_link_broken");
      expect((e as AuditFailure).message).toMatch(/^ALIPAY: batch 1 chains to prevHead 0x(44){32}, but the chain so far ends at 0x[0-9a-f]{64} \(head of batch 0\)$/);
    }
    const rewritten = new ChainVerifier(ALIPAY);
    expect(() => rewritten.add({ ...all[0], storedRoot: `0x${"55".repeat(32)}` })).toThrow(/rewritten$/);
  });
});

describe("trace", () => {
  test("default: payer, batch, transaction, block; then the return that answered it", async () => {
    const before = await traceTransfer(a.reader, id("WECHAT", 0n));
    expect(before).toMatchObject({ outcome: "settled", payer: { code: "WECHAT" }, payee: { code: "ALIPAY" }, amount: 50_00n, settled: { batchNo: 0n, batchSize: 1 } });
    await a.returnTransfer(id("WECHAT", 0n), 2);
    const after = await traceTransfer(a.reader, id("WECHAT", 0n));
    expect(after.outcome).toBe("returned");
    expect(after.returned).toMatchObject({ reasonCode: 2, reason: "payee account closed" });
  });

  test("behavior: the payee node's answer is part of the trace", async () => {
    const t = await traceTransfer(a.reader, id("ALIPAY", 1n), { credit: async (payee) => ({ status: "credited", payeeRefMatches: true, source: payee.name }) });
    expect(t).toMatchObject({ outcome: "credited", credit: { status: "credited", payeeRefMatches: true, source: "WECHAT" } });
  });
});
