import crypto from "node:crypto";
import { KeyFilter } from "../store/keyFilter.ts";
import { KEY_SEP, compoundKey } from "../store/keys.ts";
import type { Store } from "../store/store.ts";
import type { StagedOp } from "../store/types.ts";
import { IdempotencyConflictError } from "./errors.ts";
import type { JsonValue } from "./entries.ts";

/** Identifies one client request: who (scope), which key, and what body. */
export interface IdempotencyRequest {
  /** Namespace of the key, e.g. API client id + route. Must not contain `!`. */
  scope: string;
  /** The client's `Idempotency-Key`. */
  key: string;
  /** {@link fingerprint} of the canonical request body. */
  fingerprint: string;
}

/** What is stored for a completed request. */
export interface IdempotencyRecord {
  scope: string;
  key: string;
  fingerprint: string;
  /** The response to repeat on replay. */
  response: JsonValue;
  /** Journal entries written by the request. */
  entryIds: string[];
  /** ISO 8601. */
  createdAt: string;
}

/** Result of {@link Idempotency.lookup}. */
export type IdempotencyLookup =
  | { status: "new" }
  | { status: "replay"; record: IdempotencyRecord }
  | { status: "conflict"; record: IdempotencyRecord };

/**
 * Exclusive right to execute one request. Stage its record in the same
 * batch as the state change, then `settle()` after the commit, or
 * `release()` if nothing was written.
 */
export interface IdempotencyClaim {
  readonly request: IdempotencyRequest;
  /** The op that stores the record; goes into the same batch as the movement. */
  stage(response: JsonValue, entryIds: string[], createdAt: string): StagedOp;
  /** The batch is committed: later requests replay the record. */
  settle(): void;
  /** Nothing was written: the key is free again. */
  release(): void;
}

/** Result of {@link Idempotency.claim}. */
export type ClaimResult = { status: "new"; claim: IdempotencyClaim } | { status: "replay"; record: IdempotencyRecord };

/**
 * Canonical JSON: object keys sorted, `bigint` as a decimal string,
 * `undefined` members dropped. Two bodies that mean the same thing give the
 * same text.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case "string":
      return quote(value);
    case "bigint":
      return `"${value.toString()}"`;
    case "object": {
      if (value === null) return "null";
      if (Array.isArray(value)) {
        let out = "[";
        for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + canonicalJson(value[i]);
        return out + "]";
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj);
      sortKeys(keys);
      let out = "{";
      let first = true;
      for (const k of keys) {
        const v = obj[k];
        if (v === undefined) continue;
        out += (first ? "" : ",") + quote(k) + ":" + canonicalJson(v);
        first = false;
      }
      return out + "}";
    }
    default:
      return JSON.stringify(value) ?? "null";
  }
}

/** Sorts like `Array.prototype.sort()` (UTF-16 code units); small arrays without its allocations. */
function sortKeys(keys: string[]): void {
  const n = keys.length;
  if (n > 12) {
    keys.sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const k = keys[i];
    let j = i - 1;
    while (j >= 0 && keys[j] > k) {
      keys[j + 1] = keys[j];
      j--;
    }
    keys[j + 1] = k;
  }
}

/** Characters that JSON.stringify escapes in a string (controls, quote, backslash, surrogates). */
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

/** `JSON.stringify` of a string, without its cost for the usual strings that need no escaping. */
function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

const sha256Hex: (text: string) => string =
  typeof (crypto as { hash?: unknown }).hash === "function"
    ? (text) => (crypto as unknown as { hash(alg: string, data: string, enc: string): string }).hash("sha256", text, "hex")
    : (text) => crypto.createHash("sha256").update(text).digest("hex");

/**
 * SHA-256 (hex) of the {@link canonicalJson} of a request body.
 *
 * @example
 * fingerprint({ to: "bob", amount: 100n }) === fingerprint({ amount: "100", to: "bob" }) // true
 */
export function fingerprint(body: unknown): string {
  return sha256Hex(canonicalJson(body));
}

/*
 * Stored form of a record (the value under `idempotency!scope!key`): a JSON array
 *   [1, scope, key, fingerprint, createdAt, entryIds, response]
 * Records written as JSON objects ({@link IdempotencyRecord}) still decode.
 */

const RECORD_FORMAT = 1;

/** Encodes an idempotency record for the `idempotency` sublevel. */
export function encodeIdempotencyRecord(r: IdempotencyRecord): string {
  return JSON.stringify([RECORD_FORMAT, r.scope, r.key, r.fingerprint, r.createdAt, r.entryIds, r.response]);
}

/** Decodes a stored idempotency record (either format). */
export function decodeIdempotencyRecord(text: string): IdempotencyRecord {
  const v = JSON.parse(text) as unknown;
  if (!Array.isArray(v)) return v as IdempotencyRecord;
  const [, scope, key, fingerprint, createdAt, entryIds, response] = v as [number, string, string, string, string, string[], JsonValue];
  return { scope, key, fingerprint, response, entryIds, createdAt };
}

/**
 * The level value encoding of the `idempotency` sublevel: reads give
 * {@link IdempotencyRecord}s; writes take a record or a string already
 * encoded (what a claim stages).
 */
export const idempotencyEncoding = {
  name: "hulian-idempotency",
  format: "utf8" as const,
  encode: (value: IdempotencyRecord | string): string => (typeof value === "string" ? value : encodeIdempotencyRecord(value)),
  decode: decodeIdempotencyRecord,
};

interface Pending {
  fingerprint: string;
  /** Settled when the claim ends; made only when someone waits for it. */
  done: Promise<void> | undefined;
  finish: (() => void) | undefined;
}

/**
 * Idempotency records keyed by (scope, key), stored in the `idempotency`
 * sublevel.
 *
 * Invariants:
 * - At most one request per (scope, key) executes: a claim is registered in
 *   memory synchronously, after the disk read, so a second request with the
 *   same key waits for the first (then replays it) or, with another body, is
 *   refused as a conflict.
 * - A record is written in the same batch as the entries it describes, so
 *   after any crash either both exist or neither does.
 * - A disk read that started before a record was committed can miss it; so
 *   a record settled while reads of its key are in flight is handed to them.
 * - A key never staged (a filter of every stored and staged key says so)
 *   needs no disk read: {@link tryClaim} claims it at once.
 */
export class Idempotency {
  readonly #store: Store;
  readonly #pending = new Map<string, Pending>();
  /**
   * Disk reads in flight, by key, with a record settled while they ran (a read
   * whose snapshot predates the commit would miss it).
   */
  readonly #reading = new Map<string, { reads: number; settled: string | undefined }>();
  #reads: { key: string; resolve: (r: IdempotencyRecord | undefined) => void; reject: (e: unknown) => void }[] = [];
  /** Every key with a record on disk or staged: a key it has never seen needs no disk read. */
  #known = new KeyFilter(1_000_000);

  constructor(store: Store) {
    this.#store = store;
  }

  /** Loads the keys of the stored records into the filter (once, when the ledger opens). */
  async load(): Promise<void> {
    const keys = await this.#store.sub.idempotency.keys().all();
    this.#known = new KeyFilter(Math.max(1_000_000, keys.length * 2));
    for (const k of keys) this.#known.add(k);
  }

  /** Looks a request up without claiming it (waits for an in-flight one with the same key). */
  async lookup(request: IdempotencyRequest): Promise<IdempotencyLookup> {
    for (;;) {
      const k = compoundKey(request.scope, request.key);
      const pending = this.#pending.get(k);
      if (pending) {
        if (pending.fingerprint !== request.fingerprint) {
          return { status: "conflict", record: { ...request, response: null, entryIds: [], createdAt: "" } };
        }
        await waitFor(pending);
        continue;
      }
      const record = await this.#read(k);
      if (this.#pending.has(k)) continue;
      if (!record) return { status: "new" };
      return record.fingerprint === request.fingerprint ? { status: "replay", record } : { status: "conflict", record };
    }
  }

  /**
   * Claims a request for execution, or returns the stored record to replay.
   * Throws {@link IdempotencyConflictError} if the key was used with another body.
   */
  async claim(request: IdempotencyRequest): Promise<ClaimResult> {
    for (;;) {
      const res = await this.lookup(request);
      if (res.status === "conflict") throw new IdempotencyConflictError(request.scope, request.key);
      if (res.status === "replay") return res;
      const k = compoundKey(request.scope, request.key);
      // lookup resolved in an earlier microtask; someone may have claimed since.
      if (this.#pending.has(k)) continue;
      return { status: "new", claim: this.#register(k, request) };
    }
  }

  async #read(k: string): Promise<IdempotencyRecord | undefined> {
    // A key never staged has no record, on disk or coming.
    if (!this.#known.mightContain(k)) return undefined;
    let reading = this.#reading.get(k);
    if (reading === undefined) this.#reading.set(k, (reading = { reads: 0, settled: undefined }));
    reading.reads++;
    try {
      const raw = await this.#get(k);
      return reading.settled !== undefined ? decodeIdempotencyRecord(reading.settled) : raw;
    } finally {
      if (--reading.reads === 0 && this.#reading.get(k) === reading) this.#reading.delete(k);
    }
  }

  /** Coalesces the reads of one event-loop turn into a single `getMany`. */
  #get(k: string): Promise<IdempotencyRecord | undefined> {
    return new Promise((resolve, reject) => {
      if (this.#reads.length === 0) queueMicrotask(() => this.#flushReads());
      this.#reads.push({ key: k, resolve, reject });
    });
  }

  #flushReads(): void {
    const reads = this.#reads;
    this.#reads = [];
    this.#store.sub.idempotency.getMany(reads.map((r) => r.key)).then(
      (values) => reads.forEach((r, i) => r.resolve(values[i] as IdempotencyRecord | undefined)),
      (e: unknown) => reads.forEach((r) => r.reject(e)),
    );
  }

  /**
   * Claims a request without waiting, when that needs no disk read: the key
   * was never used (the filter of known keys says so) and no request with it
   * is in flight. Otherwise returns undefined: use {@link claim}.
   */
  tryClaim(request: IdempotencyRequest): IdempotencyClaim | undefined {
    const scope = request.scope;
    // compoundKey, without its checks when they cannot fail.
    const simple = typeof scope === "string" && scope.length > 0 && !scope.includes(KEY_SEP);
    const k = simple ? scope + KEY_SEP + request.key : compoundKey(scope, request.key);
    if (this.#pending.has(k) || this.#known.mightContain(k)) return undefined;
    return this.#register(k, request);
  }

  #register(k: string, request: IdempotencyRequest): IdempotencyClaim {
    const pending: Pending = { fingerprint: request.fingerprint, done: undefined, finish: undefined };
    this.#pending.set(k, pending);
    return new Claim(this, k, request, pending);
  }

  /** @internal The op that stores the encoded record `value` under `k`; the key is known from now on. */
  stageRecord(k: string, value: string): StagedOp {
    this.#known.add(k);
    return { type: "put", sublevel: this.#store.sub.idempotency, key: k, value };
  }

  /** @internal Ends the claim of `k`: hands its committed record (if any) to reads in flight and wakes whoever waits. */
  endClaim(k: string, pending: Pending, record: (() => string) | undefined): void {
    if (record !== undefined) {
      const reading = this.#reading.get(k);
      if (reading !== undefined) reading.settled = record();
    }
    if (this.#pending.get(k) === pending) this.#pending.delete(k);
    pending.finish?.();
  }
}

function waitFor(pending: Pending): Promise<void> {
  pending.done ??= new Promise<void>((resolve) => (pending.finish = resolve));
  return pending.done;
}

class Claim implements IdempotencyClaim {
  readonly request: IdempotencyRequest;
  readonly #owner: Idempotency;
  readonly #k: string;
  readonly #pending: Pending;
  /** What was staged (the record is encoded again only if a reader needs it at settle). */
  #response: JsonValue | undefined;
  #entryIds: string[] | undefined;
  #createdAt = "";
  #open = true;

  constructor(owner: Idempotency, k: string, request: IdempotencyRequest, pending: Pending) {
    this.#owner = owner;
    this.#k = k;
    this.request = request;
    this.#pending = pending;
  }

  stage(response: JsonValue, entryIds: string[], createdAt: string): StagedOp {
    this.#response = response;
    this.#entryIds = entryIds;
    this.#createdAt = createdAt;
    return this.#owner.stageRecord(this.#k, this.#encode());
  }

  #encode(): string {
    const r = this.request;
    return JSON.stringify([RECORD_FORMAT, r.scope, r.key, r.fingerprint, this.#createdAt, this.#entryIds, this.#response]);
  }

  settle(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#owner.endClaim(this.#k, this.#pending, this.#entryIds === undefined ? undefined : () => this.#encode());
  }

  release(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#owner.endClaim(this.#k, this.#pending, undefined);
  }
}
