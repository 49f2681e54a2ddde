import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Attester } from "../../node/bridge/attester.ts";
import { createChainClients } from "../../node/chain/clients.ts";
import { TransactionSender } from "../../node/chain/transactionSender.ts";
import { openKeystoreFile } from "../../node/keys/keystore.ts";
import { silentLogger } from "../../node/observability/logger.ts";
import { walletIdOf } from "../../node/receipts/index.ts";
import { type TestNodes, startTestNodes } from "../helpers/testNode.ts";

/*
 * The attester against a chain whose clock trails the wall clock (a QBFT chain between two blocks,
 * the embedded devnet, whose block time follows real time): as-of is never after the time of the
 * block the attestation lands in, which ReserveAttestation refuses (AttestationAsOfInFuture).
 */

let network: TestNodes;

beforeAll(async () => {
  network = await startTestNodes([{ code: "ALIPAY", name: "Alipay", reserve: 1_000_00n }]);
});
afterAll(async () => {
  await network?.close();
});

async function attester(now: () => number): Promise<Attester> {
  const { devnet } = network;
  const node = network.byCode("ALIPAY").node;
  const account = privateKeyToAccount((await openKeystoreFile(devnet.operators[0].keystoreFile, devnet.keystorePassword)).privateKey);
  const { publicClient, chain } = createChainClients(devnet.chain.url, devnet.manifest.chainId, account, { pollingIntervalMs: 20 });
  return new Attester({
    ledger: node.ledger,
    secret: Buffer.from((await node.ledger.store.sub.meta.get("referenceSecret")) as string, "base64"),
    sender: new TransactionSender(account, publicClient, chain),
    client: publicClient,
    attestation: devnet.manifest.contracts.reserveAttestation,
    wallet: { code: "ALIPAY", walletId: walletIdOf("ALIPAY") },
    log: silentLogger,
    now,
  });
}

describe("Attester as-of", () => {
  it("behavior: with the wall clock a minute ahead of the chain, as-of is the chain's time and the attestation lands", async () => {
    const a = await attester(() => Date.now() + 60_000);
    const posted = await a.attestNow();
    const { publicClient } = createChainClients(network.devnet.chain.url, network.devnet.manifest.chainId);
    const block = await publicClient.getBlock({ blockNumber: posted.blockNumber });
    expect(posted.asOf).toBeLessThanOrEqual(block.timestamp);
    expect(posted.asOf).toBeLessThan(BigInt(Math.floor(Date.now() / 1000) + 60));
    await a.stop();
  });

  it("behavior: a second attestation waits for the chain's clock to pass the first as-of", async () => {
    const a = await attester(() => Date.now() + 60_000);
    const first = await a.attestNow();
    const second = await a.attestNow();
    expect(second.asOf).toBeGreaterThan(first.asOf);
    await a.stop();
  });
});
