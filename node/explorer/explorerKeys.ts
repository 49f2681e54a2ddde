import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";

/**
 * Explorer access keys. Like the node's API keys, only the SHA-256 of a key is stored (a key has
 * 256 random bits, nothing to brute-force); unlike them, an explorer key has a single power: to
 * read. The file is a JSON array of {@link ExplorerKeyRecord}.
 */
export interface ExplorerKeyRecord {
  id: string;
  /** Lower-case hex SHA-256 of the key. */
  hash: string;
  /** Who holds it (e.g. "PBoC payments supervision"). */
  label: string;
  createdAt: string;
}

const KEY_PREFIX = "hx_live_";
const HASH = /^[0-9a-f]{64}$/;

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest();

/**
 * A new explorer key: `hx_live_` + 32 random bytes (base64url). Shown once; keep only `record`.
 *
 * @example
 * const { key, record } = createExplorerKey("regulator");
 */
export function createExplorerKey(label: string, now: Date = new Date()): { key: string; record: ExplorerKeyRecord } {
  const key = KEY_PREFIX + randomBytes(32).toString("base64url");
  const record = { id: "xk_" + randomBytes(8).toString("hex"), hash: sha256(key).toString("hex"), label, createdAt: now.toISOString() };
  return { key, record };
}

/** The keys the explorer accepts. Verification compares against every hash in constant time. */
export class ExplorerKeyStore {
  readonly #records: ExplorerKeyRecord[] = [];
  readonly #hashes: Buffer[] = [];

  constructor(records: readonly ExplorerKeyRecord[] = []) {
    for (const r of records) this.add(r);
  }

  /** Reads a key file. */
  static async load(file: string): Promise<ExplorerKeyStore> {
    const raw: unknown = JSON.parse(await readFile(file, "utf8"));
    if (!Array.isArray(raw)) throw new TypeError(`explorer key file ${file} must hold a JSON array`);
    return new ExplorerKeyStore(raw as ExplorerKeyRecord[]);
  }

  /** Writes the records (hashes only) to `file`, mode 0600, via a temporary file. */
  async save(file: string): Promise<void> {
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(this.#records, null, 2) + "\n", { mode: 0o600 });
    await rename(tmp, file);
  }

  add(record: ExplorerKeyRecord): void {
    if (typeof record?.id !== "string" || record.id === "" || typeof record.hash !== "string" || !HASH.test(record.hash)) {
      throw new TypeError(`explorer key record ${JSON.stringify(record?.id)} needs an id and a SHA-256 hex hash`);
    }
    if (this.#records.some((r) => r.id === record.id)) throw new TypeError(`duplicate explorer key id ${record.id}`);
    this.#records.push({ id: record.id, hash: record.hash, label: String(record.label ?? ""), createdAt: String(record.createdAt ?? "") });
    this.#hashes.push(Buffer.from(record.hash, "hex"));
  }

  get size(): number {
    return this.#records.length;
  }

  /** The id and label of the key presented, or undefined. */
  verify(key: string): { id: string; label: string } | undefined {
    const presented = sha256(key);
    let found = -1;
    for (let i = 0; i < this.#hashes.length; i++) {
      if (timingSafeEqual(presented, this.#hashes[i]) && found < 0) found = i;
    }
    return found < 0 ? undefined : { id: this.#records[found].id, label: this.#records[found].label };
  }

  /** Whether a key id is (still) accepted: sessions of a removed key end. */
  has(id: string): boolean {
    return this.#records.some((r) => r.id === id);
  }

  label(id: string): string {
    return this.#records.find((r) => r.id === id)?.label ?? "";
  }
}
