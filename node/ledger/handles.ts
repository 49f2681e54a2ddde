import { InvalidHandleError } from "./errors.ts";

/** What a handle is: a phone number, an email address or a user name. */
export type HandleKind = "phone" | "email" | "username";

const PHONE = /^\+[1-9][0-9]{6,14}$/;
const EMAIL = /^[^\s@!]+@[^\s@!]+\.[^\s@!]+$/;
const USERNAME = /^[\p{Ll}\p{Lo}0-9][\p{Ll}\p{Lo}0-9._-]{1,31}$/u;

/**
 * Normalises a customer handle so that one person cannot hold two spellings
 * of the same handle: Unicode NFKC, trimmed, lower-case; phone numbers also
 * lose spaces, dashes, dots and parentheses (`+86 138-0000-0000` →
 * `+8613800000000`). Throws {@link InvalidHandleError} when the result is
 * not a phone number in E.164 form, an email address or a user name
 * (2–32 letters, digits, `.`, `_`, `-`).
 *
 * @example
 * normalizeHandle("  Alice@Example.COM ") // "alice@example.com"
 */
export function normalizeHandle(raw: string): string {
  return classifyHandle(raw).handle;
}

/** Like {@link normalizeHandle}, also telling which kind of handle it is. */
export function classifyHandle(raw: string): { handle: string; kind: HandleKind } {
  if (typeof raw !== "string") throw new InvalidHandleError(String(raw));
  const base = raw.normalize("NFKC").trim().toLowerCase();
  if (base.startsWith("+")) {
    const phone = base.replace(/[\s\-.()]/g, "");
    if (PHONE.test(phone)) return { handle: phone, kind: "phone" };
  } else if (base.includes("@")) {
    if (EMAIL.test(base)) return { handle: base, kind: "email" };
  } else if (USERNAME.test(base)) {
    return { handle: base, kind: "username" };
  }
  throw new InvalidHandleError(raw);
}
