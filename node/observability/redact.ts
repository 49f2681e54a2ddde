/**
 * Redaction of secrets before anything reaches a log line.
 *
 * A field is secret when its name says so (`authorization`, `cookie`, `password`, `secret`,
 * `token`, or anything ending in `key`), unless the name ends in `id`: `apiKeyId` names a key,
 * it is not one. API keys are also scrubbed out of free text, in case one slips into a message.
 */

const SECRET_NAME = /(authorization|cookie|passw(or)?d|secret|token|privatekey|apikey|key)$|^(authorization|cookie)/;
const API_KEY_TEXT = /hk_(live|test)_[A-Za-z0-9_-]+/g;
const MAX_DEPTH = 8;

/** The placeholder written instead of a secret value. */
export const REDACTED = "[REDACTED]";

/**
 * Whether a field of this name holds a secret.
 *
 * @example
 * isSecretName("Authorization") // true
 * isSecretName("apiKeyId") // false
 */
export function isSecretName(name: string): boolean {
  let secret = secretNames.get(name);
  if (secret === undefined) {
    const n = name.toLowerCase().replace(/[^a-z0-9]/g, "");
    secret = !n.endsWith("id") && SECRET_NAME.test(n);
    // Field names come from code, so there are few; the bound only guards against odd callers.
    if (secretNames.size < 10_000) secretNames.set(name, secret);
  }
  return secret;
}

// Every log line asks about the same few field names.
const secretNames = new Map<string, boolean>();

/**
 * A copy of `value` safe to log: secret fields replaced by {@link REDACTED}, API keys scrubbed
 * from strings, errors turned into plain objects (name, message, code, stack, cause chain),
 * bigints into decimal strings, and cycles or deep nesting cut off.
 */
export function redact(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === "string") return value.includes("hk_") ? value.replace(API_KEY_TEXT, (m) => `${m.slice(0, 8)}${REDACTED}`) : value;
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object") {
    return typeof value === "function" || typeof value === "symbol" ? String(value) : value;
  }
  if (seen.has(value)) return "[Circular]";
  if (depth >= MAX_DEPTH) return "[Truncated]";
  seen.add(value);
  if (value instanceof Error) return redactError(value, depth, seen);
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  const record = value as Record<string, unknown>;
  for (const k of Object.keys(record)) {
    const v = record[k];
    if (isSecretName(k)) out[k] = REDACTED;
    // Most fields of a log line are plain numbers, booleans or absent: nothing to copy.
    else out[k] = v === undefined || typeof v === "number" || typeof v === "boolean" ? v : redact(v, depth + 1, seen);
  }
  return out;
}

function redactError(err: Error, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = { name: err.name, message: redact(err.message) };
  const extra = err as Error & { code?: unknown; status?: unknown; details?: unknown };
  if (extra.code !== undefined) out.code = redact(extra.code);
  if (extra.status !== undefined) out.status = extra.status;
  if (extra.details !== undefined) out.details = redact(extra.details, depth + 1, seen);
  if (err.stack) out.stack = redact(err.stack);
  if (err.cause !== undefined) out.cause = redact(err.cause, depth + 1, seen);
  return out;
}
