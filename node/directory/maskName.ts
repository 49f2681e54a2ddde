/** Stars after a word's first character: as many as the word has more characters, 2 to 6. */
const MIN_STARS = 2;
const MAX_STARS = 6;
/** Words a masked name keeps at most (a longer name's further words are dropped). */
const MAX_WORDS = 4;
/** Longest masked name accepted from a peer, in characters (4 words of 1 + 6, and 3 spaces). */
export const MAX_MASKED_NAME_LENGTH = 31;

/** A letter or digit of any script: what may show before the stars (never a control or bidi character). */
const SHOWN = /^[\p{L}\p{N}]$/u;
const MASKED_WORD = `[\\p{L}\\p{N}*]\\*{${MIN_STARS},${MAX_STARS}}`;
const MASKED_NAME = new RegExp(`^${MASKED_WORD}(?: ${MASKED_WORD}){0,${MAX_WORDS - 1}}$`, "u");

/**
 * A display name masked for the payer's confirmation screen: enough to recognise the person, not
 * enough to learn their name. "Zhang Wei" → "Z**** W**", "李小明" → "李**". A first character that
 * is not a letter or digit (punctuation, an emoji, a control character) shows as a star.
 */
export function maskName(displayName: string): string {
  const words = displayName.trim().split(/\s+/).filter(Boolean).slice(0, MAX_WORDS);
  if (words.length === 0) return "***";
  return words.map((word) => maskWord(Array.from(word))).join(" ");
}

function maskWord(chars: string[]): string {
  const first = SHOWN.test(chars[0]) ? chars[0] : "*";
  return first + "*".repeat(Math.max(MIN_STARS, Math.min(chars.length - 1, MAX_STARS)));
}

/**
 * True when `text` has the shape {@link maskName} produces: 1–4 words, each a letter, digit or star
 * followed by 2–6 stars, single spaces between. A peer's answer of any other shape (longer text,
 * markup, control or bidi characters) is refused before a customer could see it.
 */
export function isMaskedName(text: string): boolean {
  return text.length <= MAX_MASKED_NAME_LENGTH * 2 && Array.from(text).length <= MAX_MASKED_NAME_LENGTH && MASKED_NAME.test(text);
}
