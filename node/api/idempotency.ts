import { hash } from "node:crypto";
import { ApiProblem } from "./problem.ts";

/** Allowed Idempotency-Key values: 1–128 of `A-Z a-z 0-9 _ - : .`. */
export const IDEMPOTENCY_KEY_PATTERN = "^[A-Za-z0-9_\\-:.]{1,128}$";

const KEY = new RegExp(IDEMPOTENCY_KEY_PATTERN);

/**
 * Reads the Idempotency-Key header of a POST. Throws 400 `idempotency_key_missing` when absent
 * and 400 `idempotency_key_invalid` when malformed (or sent twice).
 */
export function readIdempotencyKey(header: string | string[] | undefined): string {
  if (header === undefined) {
    throw new ApiProblem("idempotency_key_missing", 400, "Every POST needs an Idempotency-Key header (1-128 characters of A-Z a-z 0-9 _ - : .).");
  }
  if (Array.isArray(header) || !KEY.test(header)) {
    throw new ApiProblem("idempotency_key_invalid", 400, "Idempotency-Key must be 1-128 characters of A-Z a-z 0-9 _ - : . and sent once.");
  }
  return header;
}

/**
 * Canonical JSON: object keys sorted by code unit, no whitespace, so equal values always give the
 * same text whatever order a client wrote the fields in. Numbers must be finite; `undefined`
 * object members are dropped, as in `JSON.stringify`.
 *
 * @example
 * canonicalJson({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError("canonicalJson: non-finite number");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  if (typeof value === "object") {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(",")}}`;
  }
  throw new TypeError(`canonicalJson: cannot encode ${typeof value}`);
}

/**
 * {@link canonicalJson}, computed natively: every object key found anywhere in `value`, sorted,
 * is the key list of one `JSON.stringify`, which then writes each object's keys in that order and
 * skips the ones it lacks — the same text, several times faster on request bodies. `keys`, when
 * given, must hold every key of every object in `value` (a closed schema's property names).
 */
export function fastCanonicalJson(value: unknown, keys?: readonly string[]): string {
  if (value === null || typeof value !== "object") return canonicalJson(value);
  let list = keys;
  if (list === undefined) {
    const found = new Set<string>();
    collectKeys(value, found, 0);
    // `__proto__` in the key list would read the prototype of objects lacking it; too deep a
    // value is left to the reference implementation.
    if (found.has("__proto__") || found.has(DEEP)) return canonicalJson(value);
    list = [...found].sort();
  }
  return JSON.stringify(value, list as string[]);
}

const DEEP = "\u0000deep";

function collectKeys(value: unknown, out: Set<string>, depth: number): void {
  if (depth > 64) {
    out.add(DEEP);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) if (v !== null && typeof v === "object") collectKeys(v, out, depth + 1);
    return;
  }
  const record = value as Record<string, unknown>;
  for (const k in record) {
    if (!Object.hasOwn(record, k)) continue;
    out.add(k);
    const v = record[k];
    if (v !== null && typeof v === "object") collectKeys(v, out, depth + 1);
  }
}

// Paths made only of characters `encodeURIComponent` keeps are already canonical.
const CANONICAL_PATH = /^[A-Za-z0-9\-_.!~*'()/]*$/;

/**
 * The fingerprint of a request: hex SHA-256 of `METHOD \n path \n canonical JSON body`. The path
 * is the one received, with each segment decoded and re-encoded, so `%5F` and `_` agree. `keys`:
 * see {@link fastCanonicalJson}.
 *
 * Why not the raw body bytes: a client that retries after a timeout may serialise the same body
 * again with its fields in another order or other whitespace; that must replay, not be refused as
 * another request (422). The canonical text costs one native `JSON.stringify` here.
 *
 * @example
 * requestFingerprint("POST", "/v1/payments", { amount: "100", to: "bob", from: "c_1" })
 */
export function requestFingerprint(method: string, path: string, body: unknown, keys?: readonly string[]): string {
  const canonicalPath = CANONICAL_PATH.test(path)
    ? path
    : path
        .split("/")
        .map((s) => {
          try {
            return encodeURIComponent(decodeURIComponent(s));
          } catch {
            return s;
          }
        })
        .join("/");
  return hash("sha256", `${method.toUpperCase()}\n${canonicalPath}\n${fastCanonicalJson(body ?? null, keys)}`, "hex");
}

/**
 * Requests in progress by `apiKeyId + Idempotency-Key`. A second request with a key whose first
 * request has not finished gets 409 `idempotency_key_in_use` instead of racing it into the
 * service; once the first has finished, a retry is answered from the service's stored outcome.
 */
export class InFlightKeys {
  #active = new Set<string>();

  /** Marks the key busy, or throws 409 when it already is. Call the returned function when done. */
  acquire(scope: string, key: string): () => void {
    const id = `${scope}\u0000${key}`;
    if (this.#active.has(id)) {
      throw new ApiProblem("idempotency_key_in_use", 409, "A request with this Idempotency-Key is still in progress; retry it later.", {
        headers: { "retry-after": "1" },
      });
    }
    this.#active.add(id);
    return () => this.#active.delete(id);
  }

  /** How many keys are busy. */
  get size(): number {
    return this.#active.size;
  }
}
