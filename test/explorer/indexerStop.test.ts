import { zeroAddress } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createChainClients } from "../../node/chain/clients.ts";
import { DEFAULT_ALERT_RULES } from "../../node/explorer/alertRules.ts";
import { Indexer } from "../../node/explorer/indexer.ts";
import { openIndexStore } from "../../node/explorer/indexStore.ts";
import { createLogger } from "../../node/observability/logger.ts";
import { type HeldRpc, startHeldRpc } from "../helpers/heldRpc.ts";
import { removeDir, tempDir } from "../ledger/helpers.ts";

/**
 * `stop()` of the explorer's indexer while its poll of the chain is in flight: the poll then fails
 * and the loop would pause (ten minutes here); `stop()` must end that pause, not wait it out.
 * Before the shared Wakeable, a stop during a poll found no pause to wake and the next one ran its
 * full time. Real LevelDB, a real HTTP endpoint on 127.0.0.1 that holds every call, then refuses it.
 */

const TEN_MINUTES = 600_000;

let rpc: HeldRpc;
beforeAll(async () => {
  rpc = await startHeldRpc();
});
afterAll(async () => {
  await rpc?.close();
});

describe("Indexer.stop()", () => {
  test("behavior: a stop during a failing poll returns without waiting out the ten-minute pause, and a restart polls again", { timeout: 60_000 }, async () => {
    const dir = await tempDir("hulian-indexer-stop-");
    const index = await openIndexStore(dir);
    try {
      const lines: string[] = [];
      const indexer = new Indexer({
        client: createChainClients(rpc.url, 31337).publicClient,
        index,
        chainId: 31337,
        contracts: { registry: zeroAddress, token: zeroAddress, hub: zeroAddress, attestation: zeroAddress },
        startBlock: 1n,
        rules: DEFAULT_ALERT_RULES,
        pollIntervalMs: TEN_MINUTES,
        logger: createLogger({ level: "warn", sink: (line) => lines.push(line) }),
      });
      await indexer.init();
      const before = rpc.requests;
      indexer.start();
      await expect.poll(() => rpc.requests).toBeGreaterThan(before);
      const stopped = indexer.stop();
      rpc.release();
      await stopped;
      expect(lines.filter((l) => l.includes("explorer indexing failed; retrying"))).toHaveLength(1);
      expect(indexer.status().lastError).not.toBeNull();

      // Started again after a stop, it polls again (a stopped wait does not stay stopped) and stops again.
      const again = rpc.requests;
      indexer.start();
      await expect.poll(() => lines.filter((l) => l.includes("explorer indexing failed; retrying")).length).toBe(2);
      expect(rpc.requests).toBeGreaterThan(again);
      await indexer.stop();
    } finally {
      await index.close();
      await removeDir(dir);
    }
  });
});
