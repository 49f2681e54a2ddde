import { createHmac } from "node:crypto";

/**
 * First letters of common family names (pinyin, by frequency: Wang, Li, Zhang, Liu, Chen…) and of
 * common given-name syllables: what the first character of a real masked name usually is.
 */
const FAMILY_INITIALS = "WLZLCYHZWZXSMZHGHGLLZLXSTHFDCPZXTDPYCJYDYCWSLDRSYJ";
const GIVEN_INITIALS = "WFMJLQLJYYYJJTMCXXPGHHHYBDFHKLNNRSTXYZQWJLMHXYZCSF";
/** Stars per word: name syllables are mostly 2–4 letters after the first. */
const STARS = [2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 6];

/**
 * A masked name for a handle that no open account has, shaped like a real one ("W**** J***") and
 * derived from the handle under the operator's secret: the same handle always gets the same mask,
 * and without the secret nobody can tell it from the mask of a real customer by its shape.
 * Mostly two words (a family and a given name), sometimes one or three.
 *
 * @example
 * fakeMask(secret, "+8613800000000") // e.g. "L** M***", the same on every call
 */
export function fakeMask(secret: Buffer, normalizedHandle: string): string {
  const b = createHmac("sha256", secret).update(`hulian:mask:${normalizedHandle}`).digest();
  const words = b[0] % 10 === 0 ? 1 : b[0] % 10 === 9 ? 3 : 2;
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    const initials = i === 0 ? FAMILY_INITIALS : GIVEN_INITIALS;
    out.push(initials[b[1 + 2 * i] % initials.length] + "*".repeat(STARS[b[2 + 2 * i] % STARS.length]));
  }
  return out.join(" ");
}
