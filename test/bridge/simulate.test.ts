import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Hex } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { simulateSettleBatch } from "../../node/bridge/batcher.ts";
import { encodeBatch } from "../../node/bridge/batchPlan.ts";
import type { OutboxItem } from "../../node/bridge/outbox.ts";
import { settlementHubAbi } from "../../node/chain/abi/generated.ts";
import { decodeRevert } from "../../node/chain/errors.ts";
import { createChainClients } from "../../node/chain/clients.ts";
import { readNextSeq } from "../../node/chain/hubReads.ts";
import { type Devnet, startDevnetChain } from "../../node/devnet/devnet.ts";

const item = (toWalletId: Hex, i: number): OutboxItem => ({
  paymentId: `p${i}`,
  fromAccountId: "c_1",
  toWalletId,
  amount: String(100 + i),
  payerRef: `0x${(i + 1).toString(16).padStart(64, "0")}`,
  payeeRef: `0x${"22".repeat(32)}`,
  memoHash: `0x${"00".repeat(32)}`,
  acceptedAt: 0,
});

describe("simulateSettleBatch", () => {
  let dir: string;
  let devnet: Devnet;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "hulian-simulate-"));
    devnet = await startDevnetChain({ dataDir: path.join(dir, "chain"), scryptN: 1 << 10 });
  }, 60_000);
  afterAll(async () => {
    await devnet?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("behavior: passes a valid batch and decodes a refusal exactly as simulateContract does", async () => {
    const [payer, payee] = devnet.operators;
    const { publicClient: client } = createChainClients(devnet.chain.url, devnet.chain.chainId);
    const hub = devnet.manifest.contracts.settlementHub;
    const items = [0, 1, 2].map((i) => item(payee.walletId, i));
    const next = await readNextSeq(client, hub, payer.walletId);
    expect(await simulateSettleBatch(client, hub, payer.account, encodeBatch(next, items))).toBeUndefined();

    // A sequence gap: the hub refuses it with a custom error, decoded the same way both ways.
    const bad = encodeBatch(next + 5n, items);
    const decoded = await simulateSettleBatch(client, hub, payer.account, bad);
    expect(decoded?.errorName).toBeTruthy();
    const viaViem = await client
      .simulateContract({ address: hub, abi: settlementHubAbi, functionName: "settleBatch", args: bad.args, account: payer.account })
      .then(() => undefined, decodeRevert);
    expect(decoded).toEqual(viaViem);
  }, 60_000);
});
