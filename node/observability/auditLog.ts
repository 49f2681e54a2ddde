import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { type FileHandle, open, truncate } from "node:fs/promises";
import { redact } from "./redact.ts";

/** What the API reports about one admin action (no secrets: bodies pass through {@link redact}). */
export interface AuditEvent {
  /** ISO 8601. */
  time: string;
  requestId: string;
  /** Id of the API key that acted (never the key), absent when no valid key was shown. */
  keyId?: string;
  method: string;
  /** The route pattern, e.g. `/v1/accounts/:id/top-ups`. */
  route: string;
  /** Path parameters (account ids…). */
  params?: Record<string, string>;
  idempotencyKey?: string;
  /** The request body, redacted (amount, reference…). */
  body?: unknown;
  status: number;
  /** `succeeded` (2xx), `refused` (4xx: bad input, no or wrong key, missing scope), `failed` (5xx). */
  outcome: "succeeded" | "refused" | "failed";
  /** The problem code when it did not succeed. */
  code?: string;
  /** The client's address (IPv6: its /64), as the rate limiter counts it. */
  client?: string;
  /** `Location` of what the request created (a payment, an account), when it answered with one. */
  location?: string;
  /**
   * Refused attempts of the same client (no valid key, or rate-limited) that were counted into this
   * record instead of written one by one (node/api/auditSampling.ts).
   */
  suppressed?: number;
  /** True when the record only reports `suppressed` attempts; its other fields are those of the last of them. */
  summary?: boolean;
}

/** One line of the audit log: the event, its place in the chain and its hash. */
export interface AuditRecord extends AuditEvent {
  seq: number;
  /** `hash` of the previous line; {@link GENESIS_HASH} on the first. */
  prevHash: string;
  /** SHA-256 over `prevHash` and the canonical JSON of this record without `hash`. */
  hash: string;
}

/** `prevHash` of the first record. */
export const GENESIS_HASH = "0".repeat(64);

/** The log does not verify: a line was changed, removed, inserted or reordered. */
export class AuditLogTamperedError extends Error {
  override name = "AuditLogTamperedError";
  readonly line: number;
  constructor(line: number, message: string) {
    super(`audit log line ${line}: ${message}`);
    this.line = line;
  }
}

/** The outcome of an API status code. */
export function outcomeOf(status: number): AuditEvent["outcome"] {
  return status < 400 ? "succeeded" : status < 500 ? "refused" : "failed";
}

function canonical(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(",")}}`;
}

/** The hash of a record (every field but `hash`, chained to `prevHash`). */
export function recordHash(record: Omit<AuditRecord, "hash">): string {
  const { hash: _ignored, ...rest } = record as AuditRecord;
  return createHash("sha256").update(`${record.prevHash}\n${canonical(rest)}`, "utf8").digest("hex");
}

/** The result of {@link verifyAuditLog}. */
export interface AuditVerification {
  records: number;
  /** Hash of the last record ({@link GENESIS_HASH} when empty): publish it to anchor the log. */
  head: string;
  /** True when the last line was cut off (a crash while writing it) and ignored. */
  tornTail: boolean;
  /** Bytes of the verified lines (the file's length less a torn tail). */
  bytes: number;
}

/**
 * Longest line a verifier accepts, bytes. A record holds at most one request body (1 MiB for a bulk
 * payment; JSON escaping can grow it) plus a few hundred bytes: a longer "line" is not a record, and
 * refusing it bounds what the streaming verifier holds in memory.
 */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** Checks records line by line: the state of {@link verifyAuditLog} and {@link verifyAuditText}. */
class ChainVerifier {
  records = 0;
  head = GENESIS_HASH;

  /** Checks the next complete line (without its newline). */
  push(line: string): void {
    const n = this.records + 1;
    let r: AuditRecord;
    try {
      r = JSON.parse(line) as AuditRecord;
    } catch {
      throw new AuditLogTamperedError(n, "not JSON");
    }
    if (r === null || typeof r !== "object") throw new AuditLogTamperedError(n, "not a record");
    if (r.seq !== n) throw new AuditLogTamperedError(n, `seq is ${r.seq}, expected ${n}`);
    if (r.prevHash !== this.head) throw new AuditLogTamperedError(n, "prevHash does not match the previous line");
    if (recordHash(r) !== r.hash) throw new AuditLogTamperedError(n, "hash does not match the line");
    this.head = r.hash;
    this.records = n;
  }
}

/**
 * Checks a whole audit log: every line parses, `seq` counts up from 1, every `prevHash` is the
 * previous line's `hash`, every `hash` is right. Throws {@link AuditLogTamperedError} at the first
 * line that is not. A last line without its newline is a write cut short by a crash: ignored and
 * reported as `tornTail`.
 *
 * Only an anchored head (compare `head` with a copy kept elsewhere) also shows lines cut off the end.
 */
export function verifyAuditText(text: string): AuditVerification {
  const tornTail = text.length > 0 && !text.endsWith("\n");
  const end = text.lastIndexOf("\n") + 1;
  const v = new ChainVerifier();
  let from = 0;
  while (from < end) {
    const nl = text.indexOf("\n", from);
    v.push(text.slice(from, nl));
    from = nl + 1;
  }
  return { records: v.records, head: v.head, tornTail, bytes: Buffer.byteLength(text.slice(0, end)) };
}

/** Options of {@link verifyAuditLog}. */
export interface VerifyAuditLogOptions {
  /** Bytes read at a time (the stream's highWaterMark). Default 64 KiB. */
  chunkBytes?: number;
  /** Called with the size of every chunk read: lets a test see that the file is streamed. */
  onChunk?: (bytes: number) => void;
}

/**
 * {@link verifyAuditText} over a file (a missing file is an empty log), streamed: it holds one
 * chunk and at most one record ({@link MAX_RECORD_BYTES}) in memory, so a log of any size opens.
 */
export async function verifyAuditLog(file: string, options: VerifyAuditLogOptions = {}): Promise<AuditVerification> {
  const v = new ChainVerifier();
  // The current line's bytes so far, kept as chunks and joined once its newline arrives.
  let partial: Buffer[] = [];
  let partialBytes = 0;
  let bytes = 0;
  const stream = createReadStream(file, { highWaterMark: options.chunkBytes ?? 64 * 1024 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      options.onChunk?.(chunk.length);
      let from = 0;
      for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, from)) {
        const piece = chunk.subarray(from, nl);
        const line = partialBytes === 0 ? piece : Buffer.concat([...partial, piece], partialBytes + piece.length);
        if (line.length > MAX_RECORD_BYTES) throw new AuditLogTamperedError(v.records + 1, `longer than ${MAX_RECORD_BYTES} bytes`);
        v.push(line.toString("utf8"));
        bytes += line.length + 1;
        partial = [];
        partialBytes = 0;
        from = nl + 1;
      }
      if (from < chunk.length) {
        partial.push(chunk.subarray(from));
        partialBytes += chunk.length - from;
        if (partialBytes > MAX_RECORD_BYTES) throw new AuditLogTamperedError(v.records + 1, `longer than ${MAX_RECORD_BYTES} bytes`);
      }
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { records: 0, head: GENESIS_HASH, tornTail: false, bytes: 0 };
    throw e;
  } finally {
    stream.destroy();
  }
  return { records: v.records, head: v.head, tornTail: partialBytes > 0, bytes };
}

/**
 * An append-only audit log of admin actions: JSON lines, each chained to the one before by
 * `prevHash`, so changing, dropping or reordering any line breaks every hash after it. Opening
 * verifies the whole file, streamed (and refuses a tampered one); appends are serialised and written with
 * `O_APPEND`, each followed by `fdatasync`, so a record that was appended survives a crash.
 *
 * @example
 * const audit = await AuditLog.open("data/alipay/audit.log");
 * await audit.append({ time, requestId, keyId, method: "POST", route: "/v1/accounts/:id/top-ups", status: 201, outcome: "succeeded" });
 */
export class AuditLog {
  readonly file: string;
  #fh: FileHandle;
  #seq: number;
  #head: string;
  #queue: Promise<void> = Promise.resolve();

  private constructor(file: string, fh: FileHandle, seq: number, head: string) {
    this.file = file;
    this.#fh = fh;
    this.#seq = seq;
    this.#head = head;
  }

  /** Opens (or creates) the log, verifying it first; a torn last line from a crash is cut off. */
  static async open(file: string): Promise<AuditLog> {
    const v = await verifyAuditLog(file);
    if (v.tornTail) await truncate(file, v.bytes);
    const fh = await open(file, "a", 0o600);
    return new AuditLog(file, fh, v.records, v.head);
  }

  /** Hash of the last record. */
  get head(): string {
    return this.#head;
  }

  /** Appends one event; resolves once it is on disk. Secrets in `body` are redacted. */
  append(event: AuditEvent): Promise<AuditRecord> {
    const run = this.#queue.then(async () => {
      // Only the free-form parts can carry a secret; `idempotencyKey` and `keyId` are names, not keys.
      const safe: AuditEvent = { ...event, params: event.params && (redact(event.params) as Record<string, string>), body: event.body === undefined ? undefined : redact(event.body) };
      const draft = { ...safe, seq: this.#seq + 1, prevHash: this.#head };
      const record: AuditRecord = { ...draft, hash: recordHash(draft) };
      await this.#fh.appendFile(JSON.stringify(record) + "\n", "utf8");
      await this.#fh.datasync();
      this.#seq = record.seq;
      this.#head = record.hash;
      return record;
    });
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Waits for pending appends and closes the file. */
  async close(): Promise<void> {
    await this.#queue;
    await this.#fh.close();
  }
}
