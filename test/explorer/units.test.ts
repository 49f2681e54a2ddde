import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Hex, encodeAbiParameters, encodeEventTopics, keccak256, numberToHex, toHex, toRlp } from "viem";
import { generatePrivateKey, privateKeyToAccount, sign } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Receipt, TRANSFERS_SETTLED_TOPIC, packTransfers, transferIdOf, transfersSettledEvent, walletIdOf } from "../../node/receipts/index.ts";
import { BurstDetector, DEFAULT_ALERT_RULES } from "../../node/explorer/alertRules.ts";
import { RangeApplier } from "../../node/explorer/applyEvents.ts";
import { formatMinor, toCsv } from "../../node/explorer/csv.ts";
import { type ChainEvent, type ContractAddresses, decodeChainEvent, posKey } from "../../node/explorer/decodeEvents.ts";
import { ExplorerKeyStore, SessionSigner, createExplorerKey } from "../../node/explorer/explorerKeys.ts";
import { type IndexStore, openIndexStore } from "../../node/explorer/indexStore.ts";
import { decodeQbftExtraData } from "../../node/explorer/qbftExtraData.ts";
import { PAGE_SCAN_BUDGET, searchTransfers, summarizeTransfers } from "../../node/explorer/transferSearch.ts";
import { currencyOfSymbol } from "../../node/explorer/startExplorer.ts";

describe("csv", () => {
  test("default: RFC 4180 quoting, CRLF, and no spreadsheet formulas", () => {
    const csv = toCsv(
      [
        { header: "a", value: (r: { a: string; n: string }) => r.a },
        { header: "n", value: (r) => r.n },
      ],
      [
        { a: 'he said "hi", then left', n: "-12.50" },
        { a: "=HYPERLINK(\"http://x\")", n: "@SUM(A1)" },
        { a: "line\nbreak", n: "+1" },
      ],
    );
    expect(csv).toBe('a,n\r\n"he said ""hi"", then left",-12.50\r\n"\'=HYPERLINK(""http://x"")",\'@SUM(A1)\r\n"line\nbreak",\'+1\r\n');
  });

  test("default: minor units format with the token's decimals, exactly", () => {
    expect(formatMinor(123456n, 2)).toBe("1234.56");
    expect(formatMinor("5", 2)).toBe("0.05");
    expect(formatMinor(-5n, 2)).toBe("-0.05");
    expect(formatMinor(10n ** 30n + 1n, 2)).toBe("10000000000000000000000000000.01");
    expect(formatMinor(7n, 0)).toBe("7");
    expect(currencyOfSymbol("sCNY")).toBe("CNY");
    expect(currencyOfSymbol("TOKEN")).toBe("TOKEN");
  });
});

describe("QBFT extraData", () => {
  test("default: decodes vanity, validators, round and commit seals, and recovers the sealers", async () => {
    const keys = [generatePrivateKey(), generatePrivateKey(), generatePrivateKey()];
    const validators = keys.map((k) => privateKeyToAccount(k).address);
    const blockHash = keccak256(toHex("block 42"));
    // Besu writes v as 0/1.
    const seals = await Promise.all(
      keys.slice(0, 2).map(async (privateKey) => {
        const sig = await sign({ hash: blockHash, privateKey });
        return `${sig.r}${sig.s.slice(2)}${numberToHex(Number(sig.yParity), { size: 1 }).slice(2)}` as Hex;
      }),
    );
    const extra = toRlp([`0x${"00".repeat(32)}`, validators, [], "0x02", seals]);
    const decoded = await decodeQbftExtraData(extra, blockHash);
    expect(decoded).toMatchObject({ validators, vote: null, round: 2 });
    expect(decoded!.seals.map((s) => [s.signer, s.inValidatorSet])).toEqual([
      [validators[0], true],
      [validators[1], true],
    ]);
    const otherHash = await decodeQbftExtraData(extra, keccak256(toHex("another block")));
    expect(otherHash!.seals.every((s) => !s.inValidatorSet)).toBe(true);
  });

  test("behavior: a chain without QBFT data (the embedded chain, Clique, garbage) decodes to null", async () => {
    expect(await decodeQbftExtraData("0x")).toBeNull();
    expect(await decodeQbftExtraData(`0x${"ab".repeat(97)}`)).toBeNull();
    expect(await decodeQbftExtraData(toRlp(["0x01", "0x02"]))).toBeNull();
  });
});

describe("keys and sessions", () => {
  test("default: only the hash is kept; the key verifies; sessions are signed and expire", () => {
    const { key, record } = createExplorerKey("supervisor");
    expect(JSON.stringify(record)).not.toContain(key);
    const store = new ExplorerKeyStore([record]);
    expect(store.verify(key)).toEqual({ id: record.id, label: "supervisor" });
    expect(store.verify(key + "x")).toBeUndefined();
    const sessions = new SessionSigner(Buffer.alloc(32, 7), 1_000);
    const token = sessions.issue(record.id, 10_000);
    expect(sessions.check(token, 10_500)).toBe(record.id);
    expect(sessions.check(token, 11_001)).toBeUndefined();
    expect(sessions.check(token.replace(record.id, "xk_other"), 10_500)).toBeUndefined();
    expect(new SessionSigner(Buffer.alloc(32, 8)).check(token, 10_500)).toBeUndefined();
  });
});

describe("alerts", () => {
  test("behavior: a burst fires once when a payer crosses the limit, and again only after falling back", () => {
    const d = new BurstDetector({ windowSeconds: 60, maxTransfers: 3 });
    const fired = [0, 1, 2, 3, 4, 5, 200, 201, 202, 203].map((t) => d.observe("WECHAT!0xabc", t));
    expect(fired).toEqual([undefined, undefined, undefined, 4, undefined, undefined, undefined, undefined, undefined, 4]);
    expect(d.observe("ALIPAY!0xabc", 5)).toBeUndefined();
  });
});

/** A `TransfersSettled` event of one payee group, as `decodeChainEvent` makes it (receipts included). */
function groupEvent(receipts: Receipt[], blockNumber: bigint, logIndex: number): ChainEvent {
  const [{ fromWallet, toWallet, seq }] = receipts;
  return {
    contract: "hub",
    name: "TransfersSettled",
    args: { fromWallet, toWallet, firstSeq: seq, transfers: packTransfers(receipts) },
    receipts,
    blockNumber,
    logIndex,
    txHash: numberToHex(blockNumber, { size: 32 }),
    pos: posKey(blockNumber, logIndex),
  };
}

describe("payee groups", () => {
  const hub = "0x00000000000000000000000000000000000000b0" as const;
  const contracts: ContractAddresses = { registry: "0x00000000000000000000000000000000000000a0", token: "0x00000000000000000000000000000000000000a1", hub, attestation: "0x00000000000000000000000000000000000000a2" };
  let dir: string;
  let index: IndexStore;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "hulian-explorer-groups-"));
    index = await openIndexStore(dir);
  });
  afterAll(async () => {
    await index?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("default: each record of a TransfersSettled log is a transfer of its own, at position block.log.record", async () => {
    const [alipay, wechat] = [walletIdOf("ALIPAY"), walletIdOf("WECHAT")];
    const records = [5_00n, 7_00n, 9_00n].map((amount, i) => ({ amount, payerRef: numberToHex(10 + i, { size: 32 }), payeeRef: numberToHex(20 + i, { size: 32 }), memoHash: numberToHex(0, { size: 32 }) }));
    const log = {
      address: hub,
      topics: encodeEventTopics({ abi: [transfersSettledEvent], eventName: "TransfersSettled", args: { fromWallet: alipay, toWallet: wechat } }) as Hex[],
      data: encodeAbiParameters([{ type: "uint64" }, { type: "bytes" }], [40n, packTransfers(records)]),
      blockNumber: "0x7" as Hex,
      transactionHash: numberToHex(7, { size: 32 }),
      logIndex: "0x2" as Hex,
    };
    expect(log.topics[0]).toBe(TRANSFERS_SETTLED_TOPIC);
    const e = decodeChainEvent(log, contracts)!;
    expect(e).toMatchObject({ name: "TransfersSettled", pos: posKey(7n, 2), logIndex: 2 });
    expect(e.receipts!.map((r) => [r.transferId, r.amount])).toEqual([40n, 41n, 42n].map((seq, i) => [transferIdOf(alipay, seq), records[i].amount]));

    const applier = new RangeApplier(index, DEFAULT_ALERT_RULES, new BurstDetector(DEFAULT_ALERT_RULES.burst), new Map([[7n, 1_700_000_000]]), new Map());
    await applier.load();
    await applier.apply(e);
    applier.finish();
    await index.db.batch(applier.ops as never);
    const page = await searchTransfers(index, { txHash: log.transactionHash }, { limit: 10 });
    expect(page.items.map((t) => [t.pos, t.seq, t.amount, t.logIndex, t.record])).toEqual([
      ["000000000007.000002.0002", "42", "900", 2, 2],
      ["000000000007.000002.0001", "41", "700", 2, 1],
      ["000000000007.000002.0000", "40", "500", 2, 0],
    ]);
    expect((await searchTransfers(index, { transferId: transferIdOf(alipay, 41n) })).items[0].amount).toBe("700");
    expect(await summarizeTransfers(index, {})).toMatchObject({ count: 3, amount: "2100" });
    // The raw event feed leaves the group log out: its transfers are records of their own.
    expect(await index.events.keys().all()).toEqual([]);
  });

  test("error: a position part that does not fit its width", () => {
    expect(posKey(1234n, 17, 3)).toBe("000000001234.000017.0003");
    expect(() => posKey(1n, 0, 10_000)).toThrow(RangeError);
    expect(() => posKey(1n, 1_000_000)).toThrow(RangeError);
  });
});

describe("index keys at volume", () => {
  const N = 30_000;
  let dir: string;
  let index: IndexStore;
  const wallets = ["ALIPAY", "WECHAT", "YUNPAY", "RARE"];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "hulian-explorer-index-"));
    index = await openIndexStore(dir);
    // Synthetic one-transfer payee groups, 100 per block, 12 s apart; RARE receives one in a thousand.
    const times = new Map<bigint, number>();
    for (let b = 0; b < N / 100; b++) times.set(BigInt(b + 1), 1_700_000_000 + b * 12);
    const applier = new RangeApplier(index, DEFAULT_ALERT_RULES, new BurstDetector({ windowSeconds: 1, maxTransfers: 1_000_000 }), times, new Map());
    await applier.load();
    const seqs = new Map<string, bigint>();
    for (let i = 0; i < N; i++) {
      const from = wallets[i % 3];
      const to = i % 1000 === 999 ? "RARE" : wallets[(i + 1) % 3];
      const seq = seqs.get(from) ?? 0n;
      seqs.set(from, seq + 1n);
      const blockNumber = BigInt(Math.floor(i / 100) + 1);
      const receipt: Receipt = {
        transferId: transferIdOf(walletIdOf(from), seq),
        fromWallet: walletIdOf(from),
        toWallet: walletIdOf(to),
        seq,
        amount: BigInt(100 + (i % 997) * 10),
        payerRef: numberToHex(1_000_000 + (i % 500), { size: 32 }),
        payeeRef: numberToHex(2_000_000 + (i % 700), { size: 32 }),
        memoHash: numberToHex(i, { size: 32 }),
      };
      const e = groupEvent([receipt], blockNumber, i % 100);
      await applier.apply(e);
    }
    applier.finish();
    await index.db.batch(applier.ops as never);
  }, 60_000);

  afterAll(async () => {
    await index?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("behavior: a selective filter reads its own index range, not the whole index", async () => {
    const page = await searchTransfers(index, { to: "RARE" }, { limit: 50 });
    expect(page.index).toBe("byWallet");
    expect(page.items).toHaveLength(30);
    expect(page.examined).toBe(30);
    const pair = await searchTransfers(index, { from: "ALIPAY", to: "RARE" }, { limit: 5 });
    expect(pair.index).toBe("byPair");
    expect(pair.examined).toBeLessThanOrEqual(5);
    expect(pair.items.every((t) => t.from === "ALIPAY" && t.to === "RARE")).toBe(true);
  });

  test("behavior: a time window becomes a key range; paging it returns each transfer once", async () => {
    const since = 1_700_000_000 + 100 * 12;
    const until = since + 10 * 12;
    const seen = new Set<string>();
    let cursor: string | undefined;
    let maxExamined = 0;
    do {
      const page = await searchTransfers(index, { since, until }, { limit: 300, cursor });
      page.items.forEach((t) => seen.add(t.pos));
      maxExamined = Math.max(maxExamined, page.examined);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.size).toBe(1_000);
    expect(maxExamined).toBeLessThanOrEqual(300);
    expect(await summarizeTransfers(index, { since, until })).toMatchObject({ count: 1_000, partial: false });
  });

  test("behavior: a filter that matches almost nothing stops at the scan budget and hands back a cursor", async () => {
    const filter = { wallet: "ALIPAY", minAmount: 10_000_000n };
    const page = await searchTransfers(index, filter, { limit: 10, scanBudget: 15_000 });
    expect(page.items).toHaveLength(0);
    expect(page.examined).toBe(15_000);
    expect(page.nextCursor).toBeDefined();
    const next = await searchTransfers(index, filter, { limit: 10, cursor: page.nextCursor, scanBudget: 15_000 });
    expect(next.examined).toBeLessThan(15_000);
    expect(next.nextCursor).toBeUndefined();
    expect(PAGE_SCAN_BUDGET).toBe(20_000);
  });

  test("behavior: amount ranges use the amount index, largest first on request", async () => {
    const page = await searchTransfers(index, {}, { limit: 3, sortByAmount: true });
    expect(page.index).toBe("byAmount");
    expect(page.items.map((t) => t.amount)).toEqual(["10060", "10060", "10060"]);
    const band = await summarizeTransfers(index, { minAmount: 100n, maxAmount: 100n });
    expect(band.count).toBe(Math.ceil(N / 997));
  });
});
