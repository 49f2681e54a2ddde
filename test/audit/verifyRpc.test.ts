import { type Hex, createPublicClient, custom, encodeFunctionData } from "viem";
import { settlementHubAbi } from "../../node/chain/abi/generated.ts";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type ChainReaderOptions, createChainReader, verifyTransaction, verifyTransfer } from "../../node/audit/index.ts";
import { HUB_TOPICS } from "../../node/audit/hubEvents.ts";
import { transferIdOf, walletIdOf } from "../../node/receipts/index.ts";
import { type AuditNetwork, startAuditNetwork } from "./auditNetwork.ts";

/*
 * How many JSON-RPC requests an audit makes. `verify <txHash>` reads the transaction once and
 * checks every transfer from it, so its cost does not grow with the number of transfers; a reader
 * remembers the batches it located, so looking up more transfers of one wallet does not rescan the
 * wallet's BatchSettled logs from the deployment.
 */

const BIG = 400;
let a: AuditNetwork;
let smallTx: Hex;
let bigTx: Hex;
const ALIPAY = walletIdOf("ALIPAY");

beforeAll(async () => {
  a = await startAuditNetwork();
  await a.settle("ALIPAY", [{ to: "WECHAT", amount: 1_00n }]);
  smallTx = await a.settle("ALIPAY", [
    { to: "WECHAT", amount: 1_00n },
    { to: "YUNPAY", amount: 2_00n },
    { to: "WECHAT", amount: 3_00n },
    { to: "YUNPAY", amount: 4_00n },
    { to: "WECHAT", amount: 5_00n },
  ]);
  bigTx = await a.settle(
    "ALIPAY",
    Array.from({ length: BIG }, (_, i) => ({ to: i % 3 === 0 ? "YUNPAY" : "WECHAT", amount: 1n + BigInt(i) })),
  );
  await a.settle("ALIPAY", [{ to: "YUNPAY", amount: 7n }]);
});
afterAll(async () => {
  await a?.close();
});

interface Counted {
  total: number;
  byMethod: Map<string, number>;
  /** `eth_getLogs` calls that scan a wallet's BatchSettled logs (topics [BatchSettled, wallet]): locating a batch. */
  batchScans: number;
  /** Where each of those scans started. */
  scanFrom: bigint[];
  /** `nextSeq` reads. */
  nextSeqReads: number;
}

const NEXT_SEQ = encodeFunctionData({ abi: settlementHubAbi, functionName: "nextSeq", args: [walletIdOf("ALIPAY")] }).slice(0, 10);

/** An audit reader over the test chain that counts every JSON-RPC request it makes. */
function countingReader(options: ChainReaderOptions = {}) {
  const counted: Counted = { total: 0, byMethod: new Map(), batchScans: 0, scanFrom: [], nextSeqReads: 0 };
  const real = a.net.publicClient;
  const client = createPublicClient({
    chain: real.chain,
    transport: custom({
      async request({ method, params }) {
        counted.total++;
        counted.byMethod.set(method, (counted.byMethod.get(method) ?? 0) + 1);
        const filter = method === "eth_getLogs" ? (params as [{ topics?: unknown[]; fromBlock: Hex }])[0] : undefined;
        if (filter?.topics?.[0] === HUB_TOPICS.batchSettled && filter.topics.length === 2) {
          counted.batchScans++;
          counted.scanFrom.push(BigInt(filter.fromBlock));
        }
        if (method === "eth_call" && (params as [{ data?: Hex }])[0].data?.startsWith(NEXT_SEQ)) counted.nextSeqReads++;
        return real.request({ method, params } as never);
      },
    }),
  });
  const reader = createChainReader(client, a.net.manifest, options);
  const reset = () => {
    counted.total = 0;
    counted.byMethod.clear();
    counted.batchScans = 0;
    counted.scanFrom = [];
    counted.nextSeqReads = 0;
  };
  return { reader, counted, reset };
}

describe("audit RPC requests", () => {
  test("behavior: verify <txHash> makes the same few requests for 5 transfers as for 400", async () => {
    const small = countingReader();
    const five = await verifyTransaction(small.reader, smallTx);
    expect(five.map((c) => c.status)).toEqual(Array(5).fill("verified"));

    const big = countingReader();
    const many = await verifyTransaction(big.reader, bigTx);
    expect(many).toHaveLength(BIG);
    expect(new Set(many.map((c) => c.status))).toEqual(new Set(["verified"]));
    expect(many.map((c) => c.seq)).toEqual(many.map((_, i) => 6n + BigInt(i)));
    expect(new Set(many.map((c) => c.batch.batchNo))).toEqual(new Set([2n]));

    // One receipt, the neighbouring batches (2 eth_getLogs, 1 eth_blockNumber), batchCount and
    // batchRoot (eth_call), the block: 7 requests whether the transaction settled 5 transfers or 400.
    const seen = `${small.counted.total} requests for 5 transfers, ${big.counted.total} for ${BIG}: ${JSON.stringify(Object.fromEntries(big.counted.byMethod))}`;
    expect(big.counted.total, seen).toBeLessThanOrEqual(small.counted.total);
    expect(big.counted.total, seen).toBeLessThanOrEqual(10);
    expect(big.counted.byMethod.get("eth_getTransactionReceipt"), seen).toBe(1);
  });

  test("behavior: once a wallet's batch is located, more lookups in it (or in batches before it) do not rescan", async () => {
    const { reader, counted, reset } = countingReader();
    const first = await verifyTransfer(reader, transferIdOf(ALIPAY, 6n));
    expect(first.batch.batchNo).toBe(2n);
    expect(counted).toMatchObject({ batchScans: 1, nextSeqReads: 1 });

    reset();
    for (const seq of [7n, 100n, 405n, 1n, 0n]) expect((await verifyTransfer(reader, transferIdOf(ALIPAY, seq))).seq).toBe(seq);
    // Located from what the first scan read: no scan, and no nextSeq read (a located batch has settled).
    expect(counted).toMatchObject({ batchScans: 0, nextSeqReads: 0 });

    // A batch settled after the reader looked: one scan, from where the last one stopped.
    await a.settle("ALIPAY", [{ to: "WECHAT", amount: 8n }]);
    reset();
    expect((await verifyTransfer(reader, transferIdOf(ALIPAY, 407n))).batch.batchNo).toBe(4n);
    expect(counted.batchScans).toBe(1);
    expect(counted.scanFrom[0]).toBeGreaterThan(reader.startBlock);
    // A sequence number nobody settled yet: nextSeq says so, nothing is scanned.
    reset();
    expect((await reader.transfers({ transferId: transferIdOf(ALIPAY, 999n) })).length).toBe(0);
    expect(counted).toMatchObject({ batchScans: 0, nextSeqReads: 1 });
  });

  test("behavior: a reader that keeps one batch per wallet still finds older ones, by scanning from the deployment", async () => {
    const { reader, counted, reset } = countingReader({ cachedBatches: 1 });
    const latest = (await reader.batches({ fromWallet: ALIPAY })).at(-1)!;
    reset();
    expect((await verifyTransfer(reader, transferIdOf(ALIPAY, latest.firstSeq))).batch.batchNo).toBe(latest.batchNo);
    expect(counted.batchScans).toBe(1);
    // The wallet's latest batch is the one kept.
    reset();
    expect((await verifyTransfer(reader, transferIdOf(ALIPAY, latest.firstSeq))).batch.batchNo).toBe(latest.batchNo);
    expect(counted.batchScans).toBe(0);
    // Batch 1 was read but not kept: found again, reading from the deployment.
    expect((await verifyTransfer(reader, transferIdOf(ALIPAY, 2n))).batch.batchNo).toBe(1n);
    expect(counted.scanFrom).toEqual([reader.startBlock]);
  });
});
