import { InvalidKeyError } from "./errors.ts";

/** Separator between the parts of a compound key (sorts before digits and letters). */
export const KEY_SEP = "!";

/**
 * The smallest string greater than every key that starts with
 * `prefix + KEY_SEP`: use as the exclusive upper bound of a prefix range.
 */
export const KEY_SEP_END = String.fromCharCode(KEY_SEP.charCodeAt(0) + 1);

/** Width of a sequence key: enough for any unsigned 64-bit integer. */
export const SEQ_KEY_WIDTH = 20;

const MAX_SEQ = 10n ** BigInt(SEQ_KEY_WIDTH) - 1n;

/**
 * Fixed-width, zero-padded decimal key for a sequence number, so that
 * lexicographic key order equals numeric order.
 *
 * @example
 * seqKey(42n) // "00000000000000000042"
 */
export function seqKey(n: bigint | number): string {
  const v = typeof n === "bigint" ? n : Number.isSafeInteger(n) ? BigInt(n) : -1n;
  if (v < 0n || v > MAX_SEQ) throw new InvalidKeyError({ seq: String(n) });
  return v.toString().padStart(SEQ_KEY_WIDTH, "0");
}

/** Inverse of {@link seqKey}. */
export function parseSeqKey(key: string): bigint {
  if (key.length !== SEQ_KEY_WIDTH || !/^[0-9]+$/.test(key)) throw new InvalidKeyError({ key });
  return BigInt(key);
}

/**
 * Joins key parts with {@link KEY_SEP}. Every part but the last must be
 * non-empty and free of the separator, so a prefix scan over the leading
 * parts can never match a different owner (`a!b` vs `a!b!c`).
 *
 * @example
 * compoundKey("c_01HX…", seqKey(7n)) // "c_01HX…!00000000000000000007"
 */
export function compoundKey(...parts: string[]): string {
  if (parts.length === 0) throw new InvalidKeyError({ parts });
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i];
    if (p.length === 0 || p.includes(KEY_SEP)) throw new InvalidKeyError({ part: p, index: i });
  }
  return parts.join(KEY_SEP);
}

/**
 * Range bounds selecting every compound key whose leading parts are
 * `prefixParts` (for `iterator`/`keys`/`values`).
 */
export function prefixRange(...prefixParts: string[]): { gt: string; lt: string } {
  const base = compoundKey(...prefixParts, "");
  return { gt: base, lt: base.slice(0, -KEY_SEP.length) + KEY_SEP_END };
}
