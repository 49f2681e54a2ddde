import { afterEach, beforeEach } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../node/store/index.ts";
import type { CommitterOptions, Store } from "../../node/store/index.ts";
import { Ledger, fundReserve, topUp } from "../../node/ledger/index.ts";
import type { LedgerOptions } from "../../node/ledger/index.ts";
import { prng } from "../../scripts/prng.ts";

/** Deterministic PRNG (mulberry32) so property loops are reproducible. */
export const seededRandom = prng;

/** A fresh directory under the OS temp dir. */
export async function tempDir(prefix = "hulian-ledger-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Removes a temp dir (best effort). */
export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Opens a store + ledger in `dir`. */
export async function openLedger(
  dir: string,
  options: CommitterOptions & LedgerOptions = {},
): Promise<{ store: Store; ledger: Ledger }> {
  const store = await openStore(dir, options);
  const ledger = await Ledger.open(store, options);
  return { store, ledger };
}

/** Funds the float and opens `n` customers with `each` minor units. */
export async function seedCustomers(ledger: Ledger, n: number, each: bigint, prefix = "user"): Promise<string[]> {
  if (each > 0n) await ledger.post(fundReserve(each * BigInt(n), `mint-${prefix}`));
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { account } = await ledger.openAccount({ handle: `${prefix}${i}`, displayName: `${prefix} ${i}` });
    ids.push(account.id);
    if (each > 0n) await ledger.post(topUp(account.id, each, `seed-${prefix}-${i}`));
  }
  return ids;
}


/**
 * A fresh store + ledger in a temp dir for every test of the file, closed and removed after it.
 * Read `t.store`, `t.ledger` and `t.dir` inside tests.
 */
export function useTempLedger(options: CommitterOptions & LedgerOptions = {}): { dir: string; store: Store; ledger: Ledger } {
  const t = {} as { dir: string; store: Store; ledger: Ledger };
  beforeEach(async () => {
    t.dir = await tempDir();
    Object.assign(t, await openLedger(t.dir, options));
  });
  afterEach(async () => {
    await t.store.close();
    await removeDir(t.dir);
  });
  return t;
}
