import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, test } from "vitest";
import { verifyLedger } from "../../node/ledger/index.ts";
import { openLedger, removeDir, seededRandom, tempDir } from "./helpers.ts";

const fixture = fileURLToPath(new URL("./fixtures/payer.ts", import.meta.url));

let dir = "";
afterEach(async () => {
  if (dir) await removeDir(dir);
});

/** Runs the payer until it has committed some work, then kills it with SIGKILL after `delayMs`. */
function runAndKill(round: number, delayMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, dir, String(round)], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let killed = false;
    child.stderr.on("data", (d) => (stderr += d));
    child.stdout.on("data", (d: Buffer) => {
      if (!killed && d.toString().includes("ready")) {
        killed = true;
        setTimeout(() => child.kill("SIGKILL"), delayMs);
      }
    });
    child.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve();
      else reject(new Error(`payer exited early (code ${code}): ${stderr}`));
    });
  });
}

describe("crash atomicity", () => {
  test("behavior: kill -9 mid-payments leaves balanced books and idempotency records exactly matching entries", async () => {
    dir = await tempDir("hulian-crash-");
    const rnd = seededRandom(Date.now() & 0xffff);
    let entries = 0n;
    for (let round = 0; round < 3; round++) {
      await runAndKill(round, 20 + Math.floor(rnd() * 300));
      const { store, ledger } = await openLedger(dir);
      const v = await verifyLedger(store);
      expect(v.problems).toEqual([]);
      expect(ledger.trialBalance().total).toBe(0n);
      // Only same-wallet transfers after the seed: customer money is conserved.
      expect(ledger.liabilities()).toBe(20n * 10_000n);
      expect(ledger.customerBalances().every((c) => c.balance >= 0n)).toBe(true);
      expect(ledger.entryCount).toBeGreaterThan(entries);
      entries = ledger.entryCount;
      await store.close();
    }
  });
});
