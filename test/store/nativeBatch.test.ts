import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { afterEach, describe, expect, test } from "vitest";
import { openStore, CommitFailedError } from "../../node/store/index.ts";
import type { Store } from "../../node/store/index.ts";
import { NATIVE_BATCH_METHODS, NativeBatchUnsupportedError, missingNativeMethods } from "../../node/store/nativeBatch.ts";
import { removeDir, tempDir } from "../ledger/helpers.ts";

// The committer writes through classic-level's private batch methods; these tests are the alarm
// that goes off when an upgrade of classic-level (or level) changes them.

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function fresh(): Promise<Store> {
  const dir = await tempDir("hulian-native-");
  const store = await openStore(dir);
  cleanups.push(async () => {
    await store.close().catch(() => {});
    await removeDir(dir);
  });
  return store;
}

const require = createRequire(import.meta.url);
async function json(path: string): Promise<Record<string, any>> {
  return JSON.parse(await readFile(path, "utf8")) as Record<string, any>;
}

describe("classic-level's private batch surface", () => {
  test("default: the installed classic-level batch has every private method the committer writes through", async () => {
    const store = await fresh();
    const batch = store.db.batch() as unknown as Record<string, unknown>;
    try {
      for (const method of NATIVE_BATCH_METHODS) {
        expect(typeof batch[method], `classic-level's batch no longer has ${method}() (committer.ts writes through it)`).toBe("function");
      }
      expect(missingNativeMethods(batch)).toEqual([]);
    } finally {
      await (batch as unknown as { close(): Promise<void> }).close();
    }
  });

  test("behavior: package.json pins classic-level and level exactly, at the installed versions", async () => {
    const pkg = await json(new URL("../../package.json", import.meta.url).pathname);
    const classic = await json(require.resolve("classic-level/package.json"));
    const level = await json(require.resolve("level/package.json"));
    expect(pkg.dependencies["classic-level"]).toBe(classic.version);
    expect(pkg.dependencies.level).toBe(level.version);
  });

  test("error: a batch that lost _del fails the commit, naming _del", async () => {
    const store = await fresh();
    const db = store.db as unknown as { batch(): Record<string, unknown> };
    const original = db.batch.bind(db);
    db.batch = () => {
      const batch = original();
      batch._del = undefined;
      return batch;
    };
    const commit = store.committer.commit([{ type: "put", sublevel: store.sub.entries, key: "0001", value: { id: "0001" } }]);
    const error = await commit.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CommitFailedError);
    const cause = (error as CommitFailedError).cause;
    expect(cause).toBeInstanceOf(NativeBatchUnsupportedError);
    expect((cause as NativeBatchUnsupportedError).message).toBe(
      "classic-level's native batch has no _del: the committer writes through _put, _del, _write; keep classic-level pinned to a version that has them",
    );
    expect((cause as NativeBatchUnsupportedError).details).toEqual({ missing: ["_del"] });
  });
});
