import { execFile } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { AuditLog, AuditLogTamperedError, GENESIS_HASH, MAX_RECORD_BYTES, type AuditRecord, recordHash, verifyAuditLog } from "../../node/observability/auditLog.ts";

/*
 * The audit log is verified by streaming it, so a log of any size opens: a node whose log grew
 * past what one string can hold (≈ 512 MiB) used to exit at start with "Invalid string length".
 */

const AUDIT_LOG_MODULE = fileURLToPath(new URL("../../node/observability/auditLog.ts", import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "hulian-audit-stream-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes a valid chain of `count` records (without fsync: a fixture, not a log in use); returns the head. */
async function writeChain(file: string, count: number, referenceOf: (i: number) => string): Promise<string> {
  const out = createWriteStream(file);
  let head = GENESIS_HASH;
  let lines: string[] = [];
  for (let seq = 1; seq <= count; seq++) {
    const draft = { time: "2026-01-01T00:00:00.000Z", requestId: `r${seq}`, method: "POST", route: "/v1/accounts/:id/top-ups", body: { amount: "1", reference: referenceOf(seq) }, status: 401, outcome: "refused" as const, code: "unauthorized", seq, prevHash: head };
    const record: AuditRecord = { ...draft, hash: recordHash(draft) };
    head = record.hash;
    lines.push(JSON.stringify(record));
    if (lines.length === 500 || seq === count) {
      if (!out.write(lines.join("\n") + "\n")) await once(out, "drain");
      lines = [];
    }
  }
  out.end();
  await once(out, "finish");
  return head;
}

describe("streaming verification", () => {
  test("behavior: the file is read in chunks of the given size, records longer than a chunk included", async () => {
    const file = path.join(dir, "chunks.log");
    const head = await writeChain(file, 300, (i) => (i === 150 ? "x".repeat(100_000) : `bank-${i}`));
    const { size } = await stat(file);
    const chunks: number[] = [];
    const v = await verifyAuditLog(file, { chunkBytes: 4096, onChunk: (n) => chunks.push(n) });
    expect(v).toEqual({ records: 300, head, tornTail: false, bytes: size });
    expect(Math.max(...chunks)).toBeLessThanOrEqual(4096);
    expect(chunks.length).toBe(Math.ceil(size / 4096));
  });

  test("behavior: a torn tail longer than a chunk is reported and cut off on open; the chain goes on", async () => {
    const file = path.join(dir, "torn.log");
    const head = await writeChain(file, 20, (i) => `bank-${i}`);
    const { size } = await stat(file);
    await appendFile(file, `{"seq":21,"body":{"reference":"${"y".repeat(10_000)}`);
    expect(await verifyAuditLog(file, { chunkBytes: 1024 })).toEqual({ records: 20, head, tornTail: true, bytes: size });
    const log = await AuditLog.open(file);
    expect((await stat(file)).size).toBe(size);
    const next = await log.append({ time: "2026-01-01T00:00:01.000Z", requestId: "r21", method: "POST", route: "/v1/admin/attestations", status: 201, outcome: "succeeded" });
    await log.close();
    expect(next).toMatchObject({ seq: 21, prevHash: head });
  });

  test("error: a changed line is found at its line number, whichever chunk it falls in", async () => {
    const file = path.join(dir, "tampered.log");
    await writeChain(file, 500, (i) => `bank-${i}`);
    await writeFile(file, (await readFile(file, "utf8")).replace('"reference":"bank-377"', '"reference":"bank-378"'));
    await expect(verifyAuditLog(file, { chunkBytes: 333 })).rejects.toMatchObject({ name: "AuditLogTamperedError", line: 377 });
  });

  test("error: a line longer than any record is refused without being held whole", async () => {
    const file = path.join(dir, "endless.log");
    await writeFile(file, Buffer.alloc(MAX_RECORD_BYTES + 1024, 0x61));
    await expect(verifyAuditLog(file)).rejects.toThrow(AuditLogTamperedError);
    await expect(verifyAuditLog(file)).rejects.toThrow(/longer than/);
  });

  test("behavior: a log three times larger than the whole JavaScript heap opens and takes an append", async () => {
    const file = path.join(dir, "large.log");
    // ≈ 96 MiB in 2 KiB records.
    const count = 48_000;
    const head = await writeChain(file, count, (i) => `bank-${i}-${"z".repeat(1_800)}`);
    expect((await stat(file)).size).toBeGreaterThan(3 * 32 * 1024 * 1024);
    const script = `
      const { AuditLog } = await import(process.env.AUDIT_LOG_MODULE);
      const log = await AuditLog.open(process.env.AUDIT_LOG_FILE);
      const r = await log.append({ time: new Date().toISOString(), requestId: "after", method: "POST", route: "/v1/admin/attestations", status: 201, outcome: "succeeded" });
      await log.close();
      console.log(JSON.stringify({ seq: r.seq, prevHash: r.prevHash }));`;
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ["--max-old-space-size=32", "--input-type=module", "-e", script],
        { env: { ...process.env, AUDIT_LOG_MODULE, AUDIT_LOG_FILE: file }, timeout: 100_000 },
        (err, out, errText) => (err ? reject(new Error(`child failed: ${err.message}\n${errText.slice(0, 2_000)}`)) : resolve(out)),
      );
    });
    expect(JSON.parse(stdout.trim().split("\n").at(-1)!)).toEqual({ seq: count + 1, prevHash: head });
  });
});
