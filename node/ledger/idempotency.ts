import { createHash } from "node:crypto";
import { KeyFilter } from "../store/keyFilter.ts";
import { compoundKey } from "../store/keys.ts";
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
  if (typeof value === "bigint") return JSON.stringify(value.toString());
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(obj).sort()) {
    if (obj[k] === undefined) continue;
    parts.push(`${JSON.stringify(k)}:${canonicalJson(obj[k])}`);
  }
  return `{${parts.join(",")}}`;
}

/**
 * SHA-256 (hex) of the {@link canonicalJson} of a request body.
 *
 * @example
 * fingerprint({ to: "bob", amount: 100n }) === fingerprint({ amount: "100", to: "bob" }) // true
 */
export function fingerprint(body: unknown): string {
  return createHash("sha256").update(canonicalJson(body)).digest("hex");
}

interface Pending {
  fingerprint: string;
  done: Promise<void>;
  finish: () => void;
}

const GENERATION_SIZE = 50_000;

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
 *   recently settled records stay in memory for two generations, and a read
 *   that outlived them is repeated.
 */
export class Idempotency {
  readonly #store: Store;
  readonly #pending = new Map<string, Pending>();
  #current = new Map<string, IdempotencyRecord>();
  #previous = new Map<string, IdempotencyRecord>();
  #generation = 0;
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
        await pending.done;
        continue;
      }
      const record = await this.#read(k);
      if (record === "retry" || this.#pending.has(k)) continue;
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

  async #read(k: string): Promise<IdempotencyRecord | undefined | "retry"> {
    const generation = this.#generation;
    const raw = await this.#get(k);
    const recent = this.#current.get(k) ?? this.#previous.get(k);
    if (recent) return recent;
    if (raw) return raw;
    // Records settled while we read may already be rotated out of memory.
    return this.#generation - generation >= 2 ? "retry" : undefined;
  }

  /** Coalesces the reads of one event-loop turn into a single `getMany`. */
  #get(k: string): Promise<IdempotencyRecord | undefined> {
    if (!this.#known.mightContain(k)) return Promise.resolve(undefined);
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

  #register(k: string, request: IdempotencyRequest): IdempotencyClaim {
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    const pending: Pending = { fingerprint: request.fingerprint, done, finish };
    this.#pending.set(k, pending);
    let record: IdempotencyRecord | undefined;
    let open = true;
    const end = (): void => {
      if (!open) return;
      open = false;
      this.#pending.delete(k);
      finish();
    };
    return {
      request,
      stage: (response, entryIds, createdAt) => {
        record = { scope: request.scope, key: request.key, fingerprint: request.fingerprint, response, entryIds, createdAt };
        this.#known.add(k);
        return { type: "put", sublevel: this.#store.sub.idempotency, key: k, value: record };
      },
      settle: () => {
        if (record) this.#remember(k, record);
        end();
      },
      release: end,
    };
  }

  #remember(k: string, record: IdempotencyRecord): void {
    this.#current.set(k, record);
    if (this.#current.size >= GENERATION_SIZE) {
      this.#previous = this.#current;
      this.#current = new Map();
      this.#generation++;
    }
  }
}
