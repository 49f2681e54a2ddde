import { afterEach, describe, expect, test } from "vitest";
import { Cursors, openStore } from "../../node/store/index.ts";
import { removeDir, tempDir } from "../ledger/helpers.ts";

let dir = "";
afterEach(async () => {
  if (dir) await removeDir(dir);
});

describe("Cursors", () => {
  test("default: advances and persists in the caller's batch", async () => {
    dir = await tempDir("hulian-cursor-");
    const store = await openStore(dir);
    const cursors = new Cursors(store);
    expect(await cursors.load("inbound")).toBeUndefined();
    const ops = cursors.stageAdvance("inbound", 100n);
    expect(ops).toHaveLength(1);
    await store.committer.commit([...ops, { type: "put", sublevel: store.sub.meta, key: "credited", value: true }]);
    await store.close();
    const again = await openStore(dir);
    expect(await new Cursors(again).load("inbound")).toBe(100n);
    await again.close();
  });

  test("behavior: same position stages nothing", async () => {
    dir = await tempDir("hulian-cursor-");
    const store = await openStore(dir);
    const cursors = new Cursors(store);
    await cursors.load("c");
    cursors.stageAdvance("c", 5n);
    expect(cursors.stageAdvance("c", 5n)).toEqual([]);
    await store.close();
  });

  test("error: refuses to move backwards, even against a staged but uncommitted value", async () => {
    dir = await tempDir("hulian-cursor-");
    const store = await openStore(dir);
    const cursors = new Cursors(store);
    await cursors.load("c");
    cursors.stageAdvance("c", 10n);
    expect(() => cursors.stageAdvance("c", 9n)).toThrow(expect.objectContaining({ code: "cursor_regression" }));
    expect(cursors.current("c")).toBe(10n);
    await store.close();
  });

  test("error: compare-and-set fails when the expected position differs", async () => {
    dir = await tempDir("hulian-cursor-");
    const store = await openStore(dir);
    const cursors = new Cursors(store);
    await cursors.load("c");
    cursors.stageAdvance("c", 10n);
    expect(() => cursors.stageAdvance("c", 20n, 11n)).toThrow(expect.objectContaining({ code: "cursor_regression" }));
    expect(cursors.stageAdvance("c", 20n, 10n)).toHaveLength(1);
    expect(() => new Cursors(store).stageAdvance("unloaded", 1n)).toThrow(expect.objectContaining({ code: "cursor_not_loaded" }));
    await store.close();
  });
});
