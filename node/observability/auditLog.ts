import { createHash } from "node:crypto";
import { type FileHandle, open, readFile, truncate } from "node:fs/promises";
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
  const lines = text.split("\n");
  lines.pop(); // "" after the last newline, or the torn line
  let head = GENESIS_HASH;
  lines.forEach((line, i) => {
    let r: AuditRecord;
    try {
      r = JSON.parse(line) as AuditRecord;
    } catch {
      throw new AuditLogTamperedError(i + 1, "not JSON");
    }
    if (r.seq !== i + 1) throw new AuditLogTamperedError(i + 1, `seq is ${r.seq}, expected ${i + 1}`);
    if (r.prevHash !== head) throw new AuditLogTamperedError(i + 1, "prevHash does not match the previous line");
    if (recordHash(r) !== r.hash) throw new AuditLogTamperedError(i + 1, "hash does not match the line");
    head = r.hash;
  });
  return { records: lines.length, head, tornTail };
}

/** {@link verifyAuditText} over a file (a missing file is an empty log). */
export async function verifyAuditLog(file: string): Promise<AuditVerification> {
  const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return "";
    throw e;
  });
  return verifyAuditText(text);
}

/**
 * An append-only audit log of admin actions: JSON lines, each chained to the one before by
 * `prevHash`, so changing, dropping or reordering any line breaks every hash after it. Opening
 * verifies the whole file (and refuses a tampered one); appends are serialised and written with
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
    const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return "";
      throw e;
    });
    const v = verifyAuditText(text);
    if (v.tornTail) await truncate(file, Buffer.byteLength(text.slice(0, text.lastIndexOf("\n") + 1)));
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
