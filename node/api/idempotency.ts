import { createHash } from "node:crypto";
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
 * The fingerprint of a request: hex SHA-256 of `METHOD \n path \n canonical JSON body`. The path
 * is the one received, with each segment decoded and re-encoded, so `%5F` and `_` agree.
 *
 * @example
 * requestFingerprint("POST", "/v1/payments", { amount: "100", to: "bob", from: "c_1" })
 */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  const canonicalPath = path
    .split("/")
    .map((s) => {
      try {
        return encodeURIComponent(decodeURIComponent(s));
      } catch {
        return s;
      }
    })
    .join("/");
  return createHash("sha256")
    .update(`${method.toUpperCase()}\n${canonicalPath}\n${canonicalJson(body ?? null)}`, "utf8")
    .digest("hex");
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
