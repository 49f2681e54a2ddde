import { zeroAddress, zeroHash } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { Batcher } from "../../node/bridge/batcher.ts";
import { BridgeMetrics } from "../../node/bridge/metrics.ts";
import { Outbox } from "../../node/bridge/outbox.ts";
import { type ReturnItem, Returner, stageReturn } from "../../node/bridge/returns.ts";
import { createChainClients } from "../../node/chain/clients.ts";
import { TransactionSender } from "../../node/chain/transactionSender.ts";
import type { Ledger } from "../../node/ledger/ledger.ts";
import { createLogger, silentLogger } from "../../node/observability/logger.ts";
import type { Store } from "../../node/store/store.ts";
import { type HeldRpc, startHeldRpc } from "../helpers/heldRpc.ts";
import { openLedger, removeDir, tempDir } from "../ledger/helpers.ts";

/**
 * `stop()` of the bridge's loops while a call to the chain is in flight, with that call then
 * failing: the loop goes into its backoff (ten minutes here) and `stop()` must end it rather than
 * wait it out. A stop that waited would outlast the test's timeout. Real LevelDB, a real HTTP
 * endpoint on 127.0.0.1 that holds every call and then refuses it.
 */

const TEN_MINUTES = 600_000;
/** Far below the ten-minute backoff, far above what a prompt stop takes on a loaded machine. */
const STOP_TIMEOUT_MS = 60_000;

let rpc: HeldRpc;
let dir: string;
let store: Store;
let ledger: Ledger;

beforeAll(async () => {
  rpc = await startHeldRpc();
});
afterAll(async () => {
  await rpc?.close();
});
beforeEach(async () => {
  dir = await tempDir("hulian-stop-");
  ({ store, ledger } = await openLedger(dir));
});
afterEach(async () => {
  await store.close();
  await removeDir(dir);
});

function chain() {
  const { chain, publicClient } = createChainClients(rpc.url, 31337);
  const sender = new TransactionSender(privateKeyToAccount(generatePrivateKey()), publicClient, chain);
  return { client: publicClient, sender };
}

/** Resolves once the held endpoint got a call: the loop is now waiting on the chain. */
async function callInFlight(before: number): Promise<void> {
  await expect.poll(() => rpc.requests).toBeGreaterThan(before);
}

describe("stop() during a backoff", () => {
  test("behavior: a batcher whose recovery failed stops without waiting out its ten-minute backoff", { timeout: STOP_TIMEOUT_MS }, async () => {
    const lines: string[] = [];
    const { client, sender } = chain();
    const batcher = new Batcher(
      {
        ledger,
        outbox: await Outbox.open(store),
        sender,
        client,
        hub: zeroAddress,
        walletId: zeroHash,
        metrics: new BridgeMetrics(),
        log: createLogger({ level: "warn", sink: (line) => lines.push(line) }),
      },
      { maxTransfers: 10, maxDelayMs: 10, retry: { baseMs: TEN_MINUTES, maxMs: TEN_MINUTES, jitter: "none" } },
    );
    const before = rpc.requests;
    batcher.start();
    await callInFlight(before);
    const stopped = batcher.stop();
    rpc.release();
    await stopped;
    // It did fail and back off (it was not stopped before its first read of nextSeq).
    expect(lines.some((l) => l.includes("batcher: recover failed, retrying"))).toBe(true);
  });

  test("behavior: a returner that found the chain unreachable stops without waiting out its ten-minute pause", { timeout: STOP_TIMEOUT_MS }, async () => {
    const { client, sender } = chain();
    const item: ReturnItem = {
      receipt: { transferId: `0x${"1".padStart(64, "0")}`, fromWallet: zeroHash, toWallet: zeroHash, seq: "1", amount: "1", payerRef: zeroHash, payeeRef: zeroHash, memoHash: zeroHash },
      batchNo: "0",
      proof: [],
      reasonCode: 1,
    };
    await ledger.commit([stageReturn(store, item)]);
    const metrics = new BridgeMetrics();
    const returner = new Returner({ ledger, sender, client, hub: zeroAddress, metrics, log: silentLogger, unreachableRetryMs: TEN_MINUTES });
    const before = rpc.requests;
    returner.start();
    await callInFlight(before);
    const stopped = returner.stop();
    rpc.release();
    await stopped;
    // An unreachable chain is not the item's failure: it stays queued, untouched.
    expect(metrics.returnsFailed).toBe(0);
    expect(await store.sub.inbound.get(stageReturn(store, item).key)).toEqual(item);
  });

  test("behavior: a returner whose only item waits out a ten-minute backoff stops at once", { timeout: STOP_TIMEOUT_MS }, async () => {
    const { client, sender } = chain();
    const now = Date.now();
    const item: ReturnItem = {
      receipt: { transferId: `0x${"2".padStart(64, "0")}`, fromWallet: zeroHash, toWallet: zeroHash, seq: "2", amount: "1", payerRef: zeroHash, payeeRef: zeroHash, memoHash: zeroHash },
      batchNo: "0",
      proof: [],
      reasonCode: 1,
      attempts: 11,
      nextAttemptAt: now + TEN_MINUTES,
      lastError: "HubPaused()",
    };
    await ledger.commit([stageReturn(store, item)]);
    const metrics = new BridgeMetrics();
    const returner = new Returner({ ledger, sender, client, hub: zeroAddress, metrics, log: silentLogger, now: () => now });
    const before = rpc.requests;
    returner.start();
    await expect.poll(() => metrics.returnsBlocked).toBe(1);
    await returner.stop();
    // Nothing due: the chain was never called.
    expect(rpc.requests).toBe(before);
  });
});
