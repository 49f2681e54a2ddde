import { afterEach, describe, expect, test } from "vitest";
import { openStore, CommitFailedError, StoreUnavailableError } from "../../node/store/index.ts";
import type { StagedOp, Store } from "../../node/store/index.ts";
import { removeDir, tempDir } from "../ledger/helpers.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function fresh(options: Parameters<typeof openStore>[1] = {}): Promise<{ store: Store; dir: string }> {
  const dir = await tempDir("hulian-store-");
  const store = await openStore(dir, options);
  cleanups.push(async () => {
    await store.close().catch(() => {});
    await removeDir(dir);
  });
  return { store, dir };
}

const put = (store: Store, key: string, value: unknown): StagedOp => ({ type: "put", sublevel: store.sub.meta, key, value });

describe("Committer", () => {
  test("default: ops are readable once commit resolves", async () => {
    const { store } = await fresh();
    await store.committer.commit([put(store, "a", { n: 1 }), { type: "put", sublevel: store.sub.cursors, key: "c", value: "7" }]);
    expect(await store.sub.meta.get("a")).toEqual({ n: 1 });
    expect(await store.sub.cursors.get("c")).toBe("7");
  });

  test("behavior: concurrent callers are coalesced into few batches", async () => {
    const { store } = await fresh();
    const n = 2_000;
    await Promise.all(Array.from({ length: n }, (_, i) => store.committer.commit([put(store, `k${i}`, i), put(store, `j${i}`, i)])));
    const stats = store.committer.stats;
    expect(stats.callers).toBe(n);
    expect(stats.ops).toBe(2 * n);
    expect(stats.batches).toBeLessThanOrEqual(3);
    expect(await store.sub.meta.get("k1999")).toBe(1999);
  });

  test("behavior: batches are bounded but one caller's ops are never split", async () => {
    const { store } = await fresh({ maxBatchOps: 10 });
    const calls = Array.from({ length: 20 }, (_, i) => store.committer.commit([put(store, `a${i}`, i), put(store, `b${i}`, i), put(store, `c${i}`, i)]));
    const big = store.committer.commit(Array.from({ length: 25 }, (_, i) => put(store, `big${i}`, i)));
    await Promise.all([...calls, big]);
    const stats = store.committer.stats;
    expect(stats.largestBatchOps).toBe(25);
    // 20 callers × 3 ops with ≤ 10 per batch → 3 callers per batch → 7 batches, plus the big one.
    expect(stats.batches).toBe(8);
  });

  test("behavior: later batches see earlier ones (writes keep arrival order)", async () => {
    const { store } = await fresh({ maxBatchOps: 1 });
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.committer.commit([put(store, "last", i)])));
    expect(await store.sub.meta.get("last")).toBe(49);
  });

  test("error: a failed batch rejects every caller in it and the committer refuses further writes", async () => {
    const fatal: unknown[] = [];
    const { store } = await fresh({ onFatal: (e) => fatal.push(e) });
    const good = store.committer.commit([put(store, "good", 1)]);
    // A BigInt cannot be JSON-encoded: the whole batch fails before anything is written.
    const bad = store.committer.commit([put(store, "bad", 1n)]);
    const results = await Promise.allSettled([good, bad]);
    for (const r of results) {
      expect(r.status).toBe("rejected");
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(CommitFailedError);
      expect((r as PromiseRejectedResult).reason.code).toBe("commit_failed");
    }
    expect(fatal).toHaveLength(1);
    expect(store.committer.failed).toBeInstanceOf(CommitFailedError);
    expect(store.committer.healthy).toBe(false);
    await expect(store.committer.commit([put(store, "after", 1)])).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(() => store.committer.assertHealthy()).toThrow(expect.objectContaining({ code: "store_unavailable" }));
    expect(await store.sub.meta.get("good")).toBeUndefined();
  });

  test("behavior: within a batch the last write to a key wins and earlier ones are dropped", async () => {
    const { store } = await fresh();
    await Promise.all([
      store.committer.commit([put(store, "bal", 1), put(store, "x", "a")]),
      store.committer.commit([put(store, "bal", 2), { type: "del", sublevel: store.sub.meta, key: "x" }]),
      store.committer.commit([put(store, "bal", 3), { type: "put", sublevel: store.sub.payments, key: "bal", value: "other sublevel" }]),
    ]);
    expect(store.committer.stats).toMatchObject({ batches: 1, ops: 3 });
    expect(await store.sub.meta.get("bal")).toBe(3);
    expect(await store.sub.meta.get("x")).toBeUndefined();
    expect(await store.sub.payments.get("bal")).toBe("other sublevel");
  });

  test("behavior: a burst of callers is written in two batches, so staging and writing overlap; order is kept", async () => {
    const { store } = await fresh();
    const n = 3_000;
    const calls = Array.from({ length: n }, (_, i) => store.committer.commit([put(store, "last", i)]));
    // Past 1,024 ops the first batch starts at once; the rest gathers while it is written.
    expect(store.committer.stats.batches).toBe(0);
    await Promise.all(calls);
    expect(store.committer.stats).toMatchObject({ batches: 2, callers: n, ops: 2 });
    expect(await store.sub.meta.get("last")).toBe(n - 1);
  });

  test("behavior: with a write listener or a prewrite hook, batches go through level's public API", async () => {
    const { store } = await fresh();
    const seen: unknown[] = [];
    store.db.on("write", (ops: unknown[]) => seen.push(...ops));
    await Promise.all([
      store.committer.commit([put(store, "a", 1), put(store, "a", 2)]),
      store.committer.commit([{ type: "put", sublevel: store.sub.cursors, key: "c", value: "9" }]),
    ]);
    expect(await store.sub.meta.get("a")).toBe(2);
    expect(await store.sub.cursors.get("c")).toBe("9");
    expect(seen).toHaveLength(2);
    expect(store.committer.stats).toMatchObject({ batches: 1, ops: 2, callers: 2 });
  });

  test("behavior: flush waits for queued and in-flight batches", async () => {
    const { store } = await fresh();
    let done = 0;
    for (let i = 0; i < 5; i++) void store.committer.commit([put(store, `f${i}`, i)]).then(() => done++);
    await store.committer.flush();
    await Promise.resolve();
    expect(done).toBe(5);
    await store.committer.flush();
  });

  test("error: a batch whose database was closed before it was cut fails instead of reaching LevelDB", async () => {
    const { store } = await fresh();
    // Entries are write-once: this op goes straight into the native batch.
    const pending = store.committer.commit([{ type: "put", sublevel: store.sub.entries, key: "00000000000000000001", value: "[1]" }]);
    const closing = store.db.close();
    await expect(pending).rejects.toBeInstanceOf(CommitFailedError);
    await closing;
    expect(store.committer.healthy).toBe(false);
  });

  test("error: once close() has begun, new writes are refused while queued ones still land", async () => {
    const { store, dir } = await fresh();
    const queued = store.committer.commit([put(store, "before", 1)]);
    const closing = store.close();
    await expect(store.committer.commit([put(store, "after", 2)])).rejects.toBeInstanceOf(StoreUnavailableError);
    await queued;
    await closing;
    const again = await openStore(dir);
    expect(await again.sub.meta.get("before")).toBe(1);
    expect(await again.sub.meta.get("after")).toBeUndefined();
    await again.close();
  });

  test("behavior: close flushes queued writes", async () => {
    const { store, dir } = await fresh();
    const p = store.committer.commit([put(store, "x", "y")]);
    await store.close();
    await p;
    const again = await openStore(dir);
    expect(await again.sub.meta.get("x")).toBe("y");
    await again.close();
  });
});
