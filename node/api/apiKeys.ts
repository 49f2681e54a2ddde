import { createHash, hash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";

/**
 * API key scopes. `app`: the operator's wallet apps (accounts, payments, directory). `admin`:
 * money in and out of the wallet (top-ups, withdrawals) and, implied, `app` and `metrics`.
 * `audit`: the audit API. `metrics`: the Prometheus endpoint.
 */
export type Scope = "app" | "admin" | "audit" | "metrics";

/** Every scope, in the order they are documented. */
export const SCOPES: readonly Scope[] = ["app", "admin", "audit", "metrics"];

/** What one scope implies besides itself. `audit` is deliberately separate: auditors are other parties. */
const IMPLIES: Record<Scope, readonly Scope[]> = { app: [], admin: ["app", "metrics"], audit: [], metrics: [] };

/** A stored API key: only the SHA-256 of the key, never the key itself. */
export interface ApiKeyRecord {
  id: string;
  /** Lower-case hex SHA-256 of the full key string. */
  hash: string;
  scopes: Scope[];
  createdAt: string;
}

/** The key as it enters the HTTP layer once verified. */
export interface Principal {
  keyId: string;
  /** The key's scopes with implied ones added. */
  scopes: ReadonlySet<Scope>;
}

const KEY_PREFIX = "hk_live_";
const HASH = /^[0-9a-f]{64}$/;

/**
 * The lower-case hex SHA-256 of an API key. A key carries 256 random bits, so a plain hash is
 * enough: there is nothing to brute-force that a slow hash would protect.
 */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** The scopes a key holds, with implied ones added (`admin` → `app`, `metrics`). */
export function expandScopes(scopes: Iterable<Scope>): Set<Scope> {
  const out = new Set<Scope>();
  for (const s of scopes) {
    out.add(s);
    for (const implied of IMPLIES[s] ?? []) out.add(implied);
  }
  return out;
}

/**
 * Makes a new API key: `hk_live_` + 32 random bytes in base64url. The key is returned once;
 * store only `record`.
 *
 * @example
 * const { key, record } = createApiKey(["app"]);
 * // key: "hk_live_Q2x…", record: { id: "key_3f1c…", hash: "9b7a…", scopes: ["app"], createdAt: "…" }
 */
export function createApiKey(scopes: readonly Scope[], now: Date = new Date()): { id: string; key: string; record: ApiKeyRecord } {
  assertScopes(scopes);
  const key = KEY_PREFIX + randomBytes(32).toString("base64url");
  const id = "key_" + randomBytes(8).toString("hex");
  const record: ApiKeyRecord = { id, hash: hashApiKey(key), scopes: [...new Set(scopes)], createdAt: now.toISOString() };
  return { id, key, record };
}

function assertScopes(scopes: readonly unknown[]): asserts scopes is Scope[] {
  if (!Array.isArray(scopes) || scopes.length === 0) throw new TypeError("an API key needs at least one scope");
  for (const s of scopes) {
    if (!SCOPES.includes(s as Scope)) throw new TypeError(`unknown API key scope "${String(s)}" (expected ${SCOPES.join(", ")})`);
  }
}

function parseRecord(raw: unknown, index: number): ApiKeyRecord {
  const r = raw as Partial<ApiKeyRecord> | null;
  const where = `API key file entry ${index}`;
  if (r === null || typeof r !== "object") throw new TypeError(`${where} is not an object`);
  if (typeof r.id !== "string" || r.id === "") throw new TypeError(`${where} has no id`);
  if (typeof r.hash !== "string" || !HASH.test(r.hash)) throw new TypeError(`${where} (${r.id}) has no SHA-256 hex hash`);
  if (!Array.isArray(r.scopes)) throw new TypeError(`${where} (${r.id}) has no scopes`);
  assertScopes(r.scopes);
  return { id: r.id, hash: r.hash, scopes: [...r.scopes], createdAt: typeof r.createdAt === "string" ? r.createdAt : "" };
}

/**
 * The API keys a node accepts, kept as hashes. Verification hashes the presented key and compares
 * it with every stored hash in constant time (no early exit), so response time says nothing about
 * which keys exist.
 */
export class ApiKeyStore {
  #records: ApiKeyRecord[] = [];
  #hashes: Buffer[] = [];
  // Made once per key: every authenticated request gets the same (frozen) principal.
  #principals: Principal[] = [];
  #generation = 0;

  /** A store over these records (throws on a malformed or duplicate record). */
  constructor(records: readonly ApiKeyRecord[] = []) {
    for (const r of records) this.add(r);
  }

  /** Reads a key file: a JSON array of `{ id, hash, scopes, createdAt }`. */
  static async load(file: string): Promise<ApiKeyStore> {
    const raw: unknown = JSON.parse(await readFile(file, "utf8"));
    if (!Array.isArray(raw)) throw new TypeError(`API key file ${file} must hold a JSON array`);
    return new ApiKeyStore(raw.map(parseRecord));
  }

  /** Writes the records to `file` (mode 0600, via a temporary file and rename). */
  async save(file: string): Promise<void> {
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(this.#records, null, 2) + "\n", { mode: 0o600 });
    await rename(tmp, file);
  }

  /** Adds a record (e.g. from {@link createApiKey}). */
  add(record: ApiKeyRecord): void {
    const r = parseRecord(record, this.#records.length);
    if (this.#records.some((x) => x.id === r.id)) throw new TypeError(`duplicate API key id ${r.id}`);
    this.#records.push(r);
    this.#hashes.push(Buffer.from(r.hash, "hex"));
    this.#principals.push(Object.freeze({ keyId: r.id, scopes: expandScopes(r.scopes) }));
    this.#generation++;
  }

  /** Removes the key with this id; returns whether it existed. */
  revoke(id: string): boolean {
    const i = this.#records.findIndex((r) => r.id === id);
    if (i < 0) return false;
    this.#records.splice(i, 1);
    this.#hashes.splice(i, 1);
    this.#principals.splice(i, 1);
    this.#generation++;
    return true;
  }

  /** Changes whenever a key is added or revoked: an answer of {@link verify} is good while it stays. */
  get generation(): number {
    return this.#generation;
  }

  /** The stored records (hashes only). */
  records(): readonly ApiKeyRecord[] {
    return this.#records.map((r) => ({ ...r, scopes: [...r.scopes] }));
  }

  /** The principal of a presented key, or `undefined` when no stored key matches. */
  verify(key: string): Principal | undefined {
    // One-shot hash: no Hash object per request.
    const presented = hash("sha256", key, "buffer");
    let found = -1;
    for (let i = 0; i < this.#hashes.length; i++) {
      if (timingSafeEqual(presented, this.#hashes[i]) && found < 0) found = i;
    }
    return found < 0 ? undefined : this.#principals[found];
  }
}
