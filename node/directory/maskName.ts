/**
 * A display name masked for the payer's confirmation screen: enough to recognise the person, not
 * enough to learn their name. "Zhang Wei" → "Z*** W**", "李小明" → "李**".
 */
export function maskName(displayName: string): string {
  const words = displayName.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return "***";
  return words
    .map((word) => {
      const chars = Array.from(word);
      return chars[0] + "*".repeat(Math.max(2, Math.min(chars.length - 1, 6)));
    })
    .join(" ");
}
