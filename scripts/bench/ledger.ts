import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fingerprint } from "../../node/ledger/idempotency.ts";
import { Ledger } from "../../node/ledger/ledger.ts";
import { fundReserve, topUp, transferInternal } from "../../node/ledger/movements.ts";
import { openStore } from "../../node/store/store.ts";

/** Result of {@link benchLedger}. */
export interface LedgerBench {
  /** Same-wallet payments per second through `Ledger.post` with group commit. */
  perSec: number;
  payments: number;
  /** The same payments, one awaited LevelDB batch each (no group commit). */
  naivePerSec: number;
  naivePayments: number;
  /** Batches the group committer wrote for `payments`. */
  batches: number;
  /** LevelDB puts and deletes per payment (entry, history items, idempotency record, balance checkpoints). */
  opsPerPayment: number;
  /** CPU time of this process (all threads) per payment, µs: steadier than rates on a shared machine. */
  cpuMicrosPerPayment: number;
}

const ACCOUNTS = 1_000;

/**
 * Same-wallet payments through the internal ledger, as the API makes them: each one is a journal
 * entry with its history items and idempotency record (key + SHA-256 body fingerprint), plus its
 * share of the balance checkpoints, committed durably (`sync: true`, the node's default).
 * `concurrency` payments are in flight at a time, as concurrent HTTP requests would be; the group
 * committer coalesces them.
 *
 * The naive baseline writes exactly the same operations, but one awaited `db.batch` per payment.
 */
export async function benchLedger(options: { payments: number; naivePayments: number; concurrency: number }): Promise<LedgerBench> {
  const dir = await mkdtemp(path.join(tmpdir(), "hulian-bench-ledger-"));
  try {
    const store = await openStore(path.join(dir, "ledger"));
    const ledger = await Ledger.open(store);
    await ledger.post(fundReserve(10n ** 15n, "mint"));
    const accounts: string[] = [];
    for (let i = 0; i < ACCOUNTS; i++) {
      const { account } = await ledger.openAccount({ handle: `payer${i}`, displayName: `Payer ${i}` });
      accounts.push(account.id);
    }
    await Promise.all(accounts.map((id, i) => ledger.post(topUp(id, 10n ** 9n, `t${i}`))));

    const pay = (i: number, scope: string) => {
      const from = accounts[i % ACCOUNTS];
      const to = accounts[(i * 7 + 1) % ACCOUNTS];
      const body = { from, to: `payer${(i * 7 + 1) % ACCOUNTS}`, amount: "1" };
      return { draft: transferInternal(from, to, 1n, undefined, `bench:${i}`), idempotency: { scope, key: `k${i}`, fingerprint: fingerprint(body) } };
    };

    // Warm-up (JIT, LevelDB memtable), not counted.
    await runConcurrent(2_000, options.concurrency, (i) => {
      const p = pay(i, "warm");
      return ledger.post(p.draft, { idempotency: p.idempotency });
    });

    const before = store.committer.stats;
    const cpu = process.cpuUsage();
    let started = performance.now();
    await runConcurrent(options.payments, options.concurrency, (i) => {
      const p = pay(i, "bench");
      return ledger.post(p.draft, { idempotency: p.idempotency });
    });
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const after = store.committer.stats;

    // Naive: stage through the same ledger (same validation, same operations), but write each
    // payment with its own awaited, synced LevelDB batch.
    started = performance.now();
    for (let i = 0; i < options.naivePayments; i++) {
      const p = pay(i, "naive");
      const claimed = await ledger.idempotency.claim(p.idempotency);
      if (claimed.status !== "new") throw new Error("naive baseline: key already used");
      const prepared = ledger.prepare((tx) => ({ entryId: tx.stage(p.draft).id }), p.idempotency);
      prepared.ops.push(claimed.claim.stage(prepared.result, [prepared.result.entryId], new Date().toISOString()));
      await store.db.batch(prepared.ops as never, { sync: true } as never);
      claimed.claim.settle();
    }
    const naiveSeconds = (performance.now() - started) / 1000;
    await store.close();
    return {
      perSec: options.payments / seconds,
      payments: options.payments,
      naivePerSec: options.naivePayments / naiveSeconds,
      naivePayments: options.naivePayments,
      batches: after.batches - before.batches,
      opsPerPayment: (after.ops - before.ops) / options.payments,
      cpuMicrosPerPayment: (used.user + used.system) / options.payments,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs `task(0..count-1)` with at most `concurrency` in flight. */
export async function runConcurrent(count: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
