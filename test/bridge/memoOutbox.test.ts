import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { MemoOutbox, type QueuedMemo } from "../../node/bridge/memoOutbox.ts";
import { transferIdOf, walletIdOf } from "../../node/receipts/ids.ts";
import { type Store, openStore } from "../../node/store/store.ts";

/*
 * The payer's memo queue on a real LevelDB: due-time order, backoff by moving an item later, a
 * count that survives a reopen, and a hard limit.
 */

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "hulian-memos-"));
  store = await openStore(path.join(dir, "ledger"));
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const item = (n: number, queuedAt: number): QueuedMemo => ({
  paymentId: `pay_${String(n).padStart(4, "0")}`,
  toWalletId: walletIdOf("WECHAT"),
  transferId: transferIdOf(walletIdOf("ALIPAY"), BigInt(n)),
  txHash: `0x${"ab".repeat(32)}`,
  attempts: 0,
  queuedAt,
});

describe("memo outbox", () => {
  test("default: items are due from the time they were queued, longest due first; a retry moves one later", async () => {
    const memos = await MemoOutbox.open(store);
    await store.committer.commit([...memos.stageEnqueue(item(2, 2_000)), ...memos.stageEnqueue(item(1, 1_000))]);
    expect((await memos.due(999, 10)).length).toBe(0);
    const due = await memos.due(5_000, 10);
    expect(due.map((d) => [d.dueAt, d.item.paymentId])).toEqual([
      [1_000, "pay_0001"],
      [2_000, "pay_0002"],
    ]);
    await store.committer.commit(memos.stageReschedule(due[0], 60_000));
    expect((await memos.due(5_000, 10)).map((d) => d.item.paymentId)).toEqual(["pay_0002"]);
    const later = await memos.due(60_000, 10);
    expect(later.map((d) => [d.item.paymentId, d.item.attempts])).toEqual([
      ["pay_0002", 0],
      ["pay_0001", 1],
    ]);
    expect(memos.depth).toBe(2);
    await store.committer.commit(memos.stageRemove(later));
    expect(memos.depth).toBe(0);
    expect(await memos.due(Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
  });

  test("behavior: the count is the store's after a reopen", async () => {
    const memos = await MemoOutbox.open(store);
    await store.committer.commit([...memos.stageEnqueue(item(1, 1)), ...memos.stageEnqueue(item(2, 2)), ...memos.stageEnqueue(item(3, 3))]);
    await store.committer.commit(memos.stageReschedule((await memos.due(1, 1))[0], 100));
    await store.close();
    store = await openStore(path.join(dir, "ledger"));
    expect((await MemoOutbox.open(store)).depth).toBe(3);
  });

  test("behavior: a full queue queues nothing more and counts what it turned away", async () => {
    const memos = await MemoOutbox.open(store, 2);
    const ops = [...memos.stageEnqueue(item(1, 1)), ...memos.stageEnqueue(item(2, 2)), ...memos.stageEnqueue(item(3, 3))];
    expect(ops).toHaveLength(2);
    await store.committer.commit(ops);
    expect({ depth: memos.depth, overflowed: memos.overflowed }).toEqual({ depth: 2, overflowed: 1 });
    // Delivering one makes room again.
    await store.committer.commit(memos.stageRemove(await memos.due(1, 1)));
    expect(memos.stageEnqueue(item(4, 4))).toHaveLength(1);
  });
});
