import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Hex, encodeAbiParameters, encodeEventTopics, keccak256, numberToHex, toHex, toRlp } from "viem";
import { generatePrivateKey, privateKeyToAccount, sign } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Receipt, TRANSFERS_SETTLED_TOPIC, packTransfers, transferIdOf, transfersSettledEvent, walletIdOf } from "../../node/receipts/index.ts";
import { backingRatio } from "../../node/explorer/backingRatio.ts";
import { BurstDetector, DEFAULT_ALERT_RULES } from "../../node/explorer/alertRules.ts";
import { RangeApplier, type Totals } from "../../node/explorer/applyEvents.ts";
import { alertCounts } from "../../node/explorer/aggregates.ts";
import { formatMinor, toCsv } from "../../node/explorer/csv.ts";
import { type ChainEvent, type ContractAddresses, decodeChainEvent, posKey } from "../../node/explorer/decodeEvents.ts";
import { ExplorerKeyStore, createExplorerKey } from "../../node/explorer/explorerKeys.ts";
import { SessionStore } from "../../node/explorer/sessions.ts";
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

  test("behavior: a formula after a separator is guarded too, for consumers that split on ; or tab or ignore quotes", () => {
    const one = (v: string) => toCsv([{ header: "v", value: (r: { v: string }) => r.v }], [{ v }]).split("\r\n")[1];
    expect(one("a;=cmd")).toBe(`"a;'=cmd"`);
    expect(one("a; =cmd|' /C calc'!A0")).toBe(`"a; '=cmd|' /C calc'!A0"`);
    expect(one("x,+1,@SUM(A1)")).toBe(`"x,'+1,'@SUM(A1)"`);
    expect(one("a\t\t=b")).toBe(`"a\t'\t'=b"`);
    expect(one('say "=1+1"')).toBe(`"say ""'=1+1"""`);
    expect(one(" =1+1")).toBe("' =1+1");
    expect(one("a;b")).toBe(`"a;b"`);
    expect(one("-12.50")).toBe("-12.50");
    // Whatever a consumer splits on, no piece begins with a formula character.
    for (const v of ["a;=cmd", "x,+1,@SUM(A1)", "a\t\t=b", "=x;=y,-z\t@w"]) {
      for (const piece of one(v).replace(/^"|"$/g, "").split(/[,;\t\r\n"]/)) expect({ v, piece, formula: /^ *[=+\-@]/.test(piece) }).toEqual({ v, piece, formula: false });
    }
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

describe("backing ratio", () => {
  test("default: one multiplier format, exact on bigints, from 0.5 to 1,000 (31.22 was shown as 3.1×, 3.12 as 311.8 %)", () => {
    const liabilities = 40_000_000_00n;
    const at = (num: bigint, den: bigint) => backingRatio((liabilities * num) / den, liabilities);
    expect(at(1n, 2n)).toEqual({ value: "0.5000", text: "0.50×" });
    expect(at(1n, 1n)).toEqual({ value: "1.0000", text: "1.00×" });
    expect(at(312n, 100n)).toEqual({ value: "3.1200", text: "3.12×" });
    expect(at(312n, 10n)).toEqual({ value: "31.2000", text: "31.2×" });
    expect(at(3122n, 100n)).toEqual({ value: "31.2200", text: "31.2×" });
    expect(at(1_000n, 1n)).toEqual({ value: "1000.0000", text: "1,000×" });
    expect(at(1_234_567n, 1n)).toEqual({ value: "1234567.0000", text: "1,234,567×" });
    expect(backingRatio(0n, 5n)).toEqual({ value: "0.0000", text: "0.00×" });
    expect(backingRatio(123n, 0n)).toEqual({ value: null, text: "no liabilities" });
    expect(backingRatio(0n, 0n)).toEqual({ value: null, text: "no liabilities" });
  });

  test("behavior: rounds down, so a shortfall never reads as fully backed, and a larger ratio never reads smaller", () => {
    expect(backingRatio(9_999n, 10_000n).text).toBe("0.99×");
    expect(backingRatio(99_999n, 10_000n).text).toBe("9.99×");
    expect(backingRatio(10n ** 30n - 1n, 10n ** 27n).text).toBe("999.9×");
    const texts = [1n, 5n, 9n, 10n, 99n, 100n, 999n, 1_000n, 10_000n].map((n) => backingRatio(n * 3n, 2n).text);
    const numbers = texts.map((t) => Number(t.replace(/[,×]/g, "")));
    expect([...numbers].sort((a, b) => a - b)).toEqual(numbers);
    expect(() => backingRatio(-1n, 1n)).toThrow(RangeError);
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
  test("default: only the hash is kept; the key verifies", () => {
    const { key, record } = createExplorerKey("supervisor");
    expect(JSON.stringify(record)).not.toContain(key);
    const store = new ExplorerKeyStore([record]);
    expect(store.verify(key)).toEqual({ id: record.id, label: "supervisor" });
    expect(store.verify(key + "x")).toBeUndefined();
  });

  test("default: a session lives 30 min past its last request and 12 h at most; revoked, it is gone", () => {
    let now = 1_000_000;
    const sessions = new SessionStore({}, () => now);
    const token = sessions.issue("xk_1");
    expect(token).toMatch(/^hs_[A-Za-z0-9_-]{43}$/);
    expect(sessions.check(token)).toBe("xk_1");
    now += 29 * 60_000;
    expect(sessions.check(token)).toBe("xk_1");
    now += 29 * 60_000;
    expect(sessions.check(token, { touch: false })).toBe("xk_1");
    now += 2 * 60_000;
    expect(sessions.check(token)).toBeUndefined();

    const busy = sessions.issue("xk_1");
    for (let minutes = 0; minutes < 12 * 60 - 20; minutes += 20) {
      now += 20 * 60_000;
      expect(sessions.check(busy)).toBe("xk_1");
    }
    now += 20 * 60_000;
    expect(sessions.check(busy)).toBeUndefined();

    const other = sessions.issue("xk_1");
    expect(sessions.revoke(other)).toBe(true);
    expect(sessions.check(other)).toBeUndefined();
    expect(sessions.revoke(other)).toBe(false);
    expect(sessions.check("xk_1.99999999999999.forged")).toBeUndefined();
  });

  test("behavior: bounded: 20 sessions per key and 1,000 in all, least recently used ends first", () => {
    const sessions = new SessionStore({ maxSessions: 50, maxPerKey: 3 });
    const mine = [1, 2, 3, 4].map(() => sessions.issue("xk_a"));
    expect(mine.map((t) => sessions.check(t))).toEqual([undefined, "xk_a", "xk_a", "xk_a"]);
    const others = Array.from({ length: 60 }, (_, i) => sessions.issue(`xk_${i}`));
    expect(sessions.size).toBe(50);
    expect(sessions.check(others[59])).toBe("xk_59");
    expect(sessions.check(others[0])).toBeUndefined();
    expect(new SessionStore().limits).toEqual({ absoluteMs: 12 * 3600_000, idleMs: 30 * 60_000, maxSessions: 1_000, maxPerKey: 20 });
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

describe("alert counts", () => {
  let dir: string;
  let index: IndexStore;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "hulian-explorer-alerts-"));
    index = await openIndexStore(dir);
  });
  afterAll(async () => {
    await index?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("behavior: every alert is counted, past 1,000 and across ranges and buckets (the summary used to stop at the 1,000 newest)", async () => {
    const rules = { ...DEFAULT_ALERT_RULES, largeAmount: 1_000n };
    const bursts = new BurstDetector({ windowSeconds: 1, maxTransfers: 1_000_000 });
    const t0 = 1_700_000_000 - (1_700_000_000 % 900);
    // 2,500 large payments in 25 blocks a minute apart (two 15-minute buckets and then some), in two ranges.
    const times = new Map<bigint, number>(Array.from({ length: 25 }, (_, b) => [BigInt(b + 1), t0 + b * 60] as [bigint, number]));
    let applier = new RangeApplier(index, rules, bursts, times, new Map());
    await applier.load();
    for (let i = 0; i < 2_500; i++) {
      if (i === 1_200) {
        applier.finish();
        await index.db.batch(applier.ops as never);
        applier = new RangeApplier(index, rules, bursts, times, new Map());
        await applier.load();
      }
      const from = walletIdOf("ALIPAY");
      const receipt: Receipt = { transferId: transferIdOf(from, BigInt(i)), fromWallet: from, toWallet: walletIdOf("WECHAT"), seq: BigInt(i), amount: 5_000n, payerRef: numberToHex(i, { size: 32 }), payeeRef: numberToHex(i, { size: 32 }), memoHash: numberToHex(0, { size: 32 }) };
      await applier.apply(groupEvent([receipt], BigInt(Math.floor(i / 100) + 1), i % 100));
    }
    await applier.reverted({ txHash: numberToHex(1, { size: 32 }), blockNumber: 25n, logIndex: 999, from: "0x00000000000000000000000000000000000000f0", contract: "hub", functionName: "settleBatch", errorName: "HubReferenceFrozen" });
    applier.finish();
    await index.db.batch(applier.ops as never);

    expect(await alertCounts(index, { since: t0, until: t0 + 86_400 })).toEqual({ critical: 1, warning: 2_500, info: 0 });
    expect(((await index.meta.get("totals")) as Totals).alerts).toEqual({ critical: 1, warning: 2_500, info: 0 });
    // Blocks 1–15 fall in the first bucket: 1,500 alerts there.
    expect(await alertCounts(index, { since: t0, until: t0 + 900 })).toEqual({ critical: 0, warning: 1_500, info: 0 });
    expect(await alertCounts(index, { since: t0 + 900, until: t0 + 86_400 })).toEqual({ critical: 1, warning: 1_000, info: 0 });
    expect(await index.alerts.keys().all()).toHaveLength(2_501);
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
