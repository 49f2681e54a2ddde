import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  AuditFailure,
  AuditInputError,
  type StatementHeader,
  assertBalanced,
  endToEndId,
  exportStatement,
  parsePeriod,
  renderStatement,
  statementEntries,
  statementHeader,
} from "../../node/audit/index.ts";
import { transferIdOf, walletIdOf } from "../../node/receipts/index.ts";
import { type AuditNetwork, startAuditNetwork } from "./auditNetwork.ts";
import { camt053Errors } from "./camt053.ts";

let a: AuditNetwork;
const ALIPAY = walletIdOf("ALIPAY");
const ALL_TIME = parsePeriod("2000-01-01", "2100-12-31");

beforeAll(async () => {
  a = await startAuditNetwork();
  await a.settle("ALIPAY", [
    { to: "WECHAT", amount: 12_34n },
    { to: "YUNPAY", amount: 5n },
  ]);
  await a.settle("WECHAT", [
    { to: "ALIPAY", amount: 99_99n },
    { to: "ALIPAY", amount: 1n },
  ]);
  await a.settle("ALIPAY", [{ to: "WECHAT", amount: 7_00n }]);
  await a.returnTransfer(transferIdOf(walletIdOf("WECHAT"), 1n));
});
afterAll(async () => {
  await a?.close();
});

async function statement(format: "csv" | "json" | "camt053", period = ALL_TIME, wallet = ALIPAY) {
  const header = await statementHeader(a.reader, wallet, period, "CNY");
  const entries = header.blocks ? statementEntries(a.reader, wallet, header.account, header.blocks, { spanBlocks: 2n }) : (async function* () {})();
  return { header, ...(await renderStatement(header, entries, format)) };
}

describe("camt.053", () => {
  test("default: every generated statement is valid against the ISO 20022 camt.053.001.08 schema", async () => {
    for (const code of ["ALIPAY", "WECHAT", "YUNPAY"]) {
      const { text } = await statement("camt053", ALL_TIME, walletIdOf(code));
      expect(await camt053Errors(text), code).toEqual([]);
    }
    const empty = await statement("camt053", parsePeriod("2001-01-01", "2001-01-31"));
    expect(empty.summary.entries).toBe(0);
    expect(await camt053Errors(empty.text)).toEqual([]);
  });

  test("behavior: balances, end-to-end ids and sums match the chain", async () => {
    const { text, header, summary } = await statement("camt053");
    const chainOut = (await a.reader.transfers({ fromWallet: ALIPAY })).reduce((s, t) => s + t.receipt.amount, 0n);
    const chainIn = (await a.reader.transfers({ toWallet: ALIPAY })).reduce((s, t) => s + t.receipt.amount, 0n);
    const minted = (await a.reader.reserveMovements(header.account)).reduce((s, m) => s + m.amount, 0n);
    // ALIPAY could not credit WECHAT-1 and sent it back: a debit of its own.
    const returnedOut = 1n;
    expect(header.opening).toBe(0n);
    expect(header.closing).toBe(await a.reader.tokenBalance(header.account));
    expect(summary).toMatchObject({ entries: 7, balanced: true, debits: { count: 4, sum: chainOut + returnedOut }, credits: { count: 3, sum: chainIn + minted } });

    const amounts = (tag: string) => [...text.matchAll(new RegExp(`<Ntry>.*?<Amt Ccy="CNY">([0-9.]+)</Amt><CdtDbtInd>${tag}</CdtDbtInd>`, "g"))].map((m) => m[1]);
    const cents = (xs: string[]) => xs.reduce((s, x) => s + BigInt(x.replace(".", "")), 0n);
    expect(cents(amounts("DBIT"))).toBe(chainOut + returnedOut);
    expect(cents(amounts("CRDT"))).toBe(summary.credits.sum);
    // ALL_TIME has not ended: the last balance is interim (ITBD), as of the statement.
    expect(header.interim).toBe(true);
    expect(text).toContain(`<Bal><Tp><CdOrPrtry><Cd>ITBD</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">${(header.closing / 100n).toString()}.${(header.closing % 100n).toString().padStart(2, "0")}</Amt>`);
    const ids = [...text.matchAll(/<EndToEndId>([^<]+)<\/EndToEndId>/g)].map((m) => m[1]);
    expect(ids).toEqual(["NOTPROVIDED", "ALIPAY-0", "ALIPAY-1", "WECHAT-0", "WECHAT-1", "ALIPAY-2", "WECHAT-1"]);
    expect(endToEndId(transferIdOf(ALIPAY, 2n))).toBe("ALIPAY-2");
    expect(text).toContain("<Cd>RETURN_OUT</Cd>");
  });

  test("behavior: a period before any settlement has no entries and equal balances", async () => {
    const { summary, header } = await statement("json", parsePeriod("2001-01-01", "2001-01-31"));
    expect(header.blocks).toBeUndefined();
    expect(summary).toMatchObject({ entries: 0, balanced: true });
    expect(header.opening).toBe(header.closing);
  });
});

describe("CSV and JSON", () => {
  test("default: CSV has one row per movement between the opening and closing balances", async () => {
    const { text, header } = await statement("csv");
    const lines = text.trim().split("\n");
    expect(lines[0]).toMatch(/^booked_at,kind,direction,amount_minor,amount,currency,end_to_end_id,transfer_id,/);
    expect(lines[1]).toMatch(/,opening_balance,CRDT,0,0\.00,CNY,/);
    expect(lines.at(-1)).toContain(`,interim_balance,CRDT,${header.closing},`);
    expect(lines.filter((l) => l.includes(",transfer_out,DBIT,")).length).toBe(3);
    expect(lines.filter((l) => l.includes(",reserve_issued,CRDT,")).length).toBe(1);
  });

  test("default: JSON is one document whose entries sum to the change of balance", async () => {
    const { text, header } = await statement("json");
    const doc = JSON.parse(text) as { statement: { openingBalance: string; closingBalance: string }; entries: { direction: string; amount: string; kind: string }[]; summary: { balanced: boolean } };
    const net = doc.entries.reduce((s, e) => s + (e.direction === "CRDT" ? BigInt(e.amount) : -BigInt(e.amount)), 0n);
    expect(BigInt(doc.statement.closingBalance) - BigInt(doc.statement.openingBalance)).toBe(net);
    expect(BigInt(doc.statement.closingBalance)).toBe(header.closing);
    expect(doc.summary.balanced).toBe(true);
    expect(doc.entries.map((e) => e.kind)).toEqual(["reserve_issued", "transfer_out", "transfer_out", "transfer_in", "transfer_in", "transfer_out", "return_out"]);
  });

  test("behavior: exportStatement streams chunk by chunk, with progress", async () => {
    const chunks: string[] = [];
    const progress: number[] = [];
    const { summary } = await exportStatement(a.reader, ALIPAY, ALL_TIME, "camt053", (c) => void chunks.push(c), { spanBlocks: 1n, onProgress: (p) => progress.push(p.entries) });
    expect(chunks.length).toBe(summary.entries + 2);
    expect(progress.length).toBeGreaterThan(3);
    expect(progress.at(-1)).toBe(7);
    expect(await camt053Errors(chunks.join(""))).toEqual([]);
  });

  test("error: entries that do not explain the change of balance", () => {
    const header = { code: "ALIPAY", opening: 10n, closing: 25n } as StatementHeader;
    try {
      assertBalanced(header, { entries: 1, credits: { count: 1, sum: 10n }, debits: { count: 0, sum: 0n }, balanced: false });
      expect.unreachable();
    } catch (e) {
      expect((e as AuditFailure).code).toBe("statement_unbalanced");
      expect((e as AuditFailure).message).toBe("ALIPAY: opening 10 + credits 10 − debits 0 = 20, but the chain's closing balance is 25: 5 moved outside the hub and the issuer");
    }
  });

  test("error: a period that starts in the future is refused, in every format and over export", async () => {
    const future = parsePeriod("2099-01-01", "2099-01-31");
    await expect(statementHeader(a.reader, ALIPAY, future, "CNY")).rejects.toThrow(/^the period starts at 2099-01-01T00:00:00.000Z, after now \(20\d\d-[0-9T:.-]+Z\): there is nothing to state yet$/);
    await expect(exportStatement(a.reader, ALIPAY, future, "camt053", () => undefined)).rejects.toBeInstanceOf(AuditInputError);
  });

  test("behavior: a period that has not ended is an interim statement up to now: no balance dated in the future, ITBD instead of CLBD", async () => {
    const now = new Date();
    const { header, text } = await statement("camt053", parsePeriod("2000-01-01", "2100-12-31"));
    expect(header.interim).toBe(true);
    expect(header.to.getTime()).toBeGreaterThanOrEqual(now.getTime());
    expect(header.to.getTime()).toBeLessThan(parsePeriod("2100-12-31", "2100-12-31").from.getTime());
    const dates = [...text.matchAll(/<DtTm>([^<]+)<\/DtTm>/g)].map((m) => Date.parse(m[1]));
    expect(Math.max(...dates)).toBeLessThanOrEqual(header.to.getTime());
    expect(text).toContain(`<ToDtTm>${header.to.toISOString()}</ToDtTm>`);
    expect(text).not.toContain("<Cd>CLBD</Cd>");
    expect(text).toMatch(/interim: the period had not ended/);
    expect(await camt053Errors(text)).toEqual([]);
    const doc = JSON.parse((await statement("json", parsePeriod("2000-01-01", "2100-12-31"))).text);
    expect(doc.statement).toMatchObject({ interim: true });
  });

  test("behavior: a period that has ended closes with CLBD at its end", async () => {
    const last = await a.reader.block(await a.reader.latestBlock());
    const end = new Date(Number(last.timestamp) * 1000 + 1_000);
    const header = await statementHeader(a.reader, ALIPAY, { from: new Date("2000-01-01T00:00:00Z"), to: end }, "CNY", { now: new Date(end.getTime() + 60_000) });
    expect(header.interim).toBe(false);
    expect(header.to).toEqual(end);
    const { text, summary } = await renderStatement(header, statementEntries(a.reader, ALIPAY, header.account, header.blocks!), "camt053");
    expect(text).toContain(`<Cd>CLBD</Cd>`);
    expect(text).not.toContain(`<Cd>ITBD</Cd>`);
    expect(text).toContain(`<ToDtTm>${end.toISOString()}</ToDtTm>`);
    expect(summary.balanced).toBe(true);
    expect(await camt053Errors(text)).toEqual([]);
  });

  test("behavior: every export has its own message id (Max35Text); the statement id names wallet and period", async () => {
    const period = parsePeriod("2001-01-01", "2001-01-31");
    const [one, two] = [await statement("camt053", period), await statement("camt053", period)];
    const msgId = (xml: string) => /<MsgId>([^<]+)<\/MsgId>/.exec(xml)![1];
    expect(msgId(one.text)).not.toBe(msgId(two.text));
    expect(msgId(one.text)).toBe(one.header.messageId);
    expect(msgId(one.text)).toMatch(/^HULIAN-\d{14}-[0-9A-F]{10}$/);
    expect(msgId(one.text).length).toBeLessThanOrEqual(35);
    const stmtId = (xml: string) => /<Stmt>\n<Id>([^<]+)<\/Id>/.exec(xml)![1];
    expect(stmtId(one.text)).toBe("ALIPAY-20010101-20010131");
    expect(stmtId(two.text)).toBe(stmtId(one.text));
  });

  test("error: bad periods", () => {
    expect(() => parsePeriod("2025-02-01", "2025-01-01")).toThrow("--to 2025-01-01 is before --from 2025-02-01");
    expect(() => parsePeriod("yesterday", "2025-01-01")).toThrow('--from "yesterday" is not a date (YYYY-MM-DD) or ISO 8601 time');
  });
});
