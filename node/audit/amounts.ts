/**
 * Minor units as a decimal with `decimals` digits after the point (`12345n`, 2 → `"123.45"`), in
 * integers only. Negative values get a leading `-`.
 */
export function formatMinor(value: bigint, decimals: number): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  if (decimals === 0) return `${negative ? "-" : ""}${abs}`;
  const unit = 10n ** BigInt(decimals);
  return `${negative ? "-" : ""}${abs / unit}.${(abs % unit).toString().padStart(decimals, "0")}`;
}

/** The ISO 4217 code a settlement token stands for: `sCNY` → `CNY`; otherwise the symbol upper-cased if it has three letters. */
export function currencyOfToken(symbol: string): string {
  const m = /^s?([A-Z]{3})$/.exec(symbol);
  if (m) return m[1];
  if (/^[A-Za-z]{3}$/.test(symbol)) return symbol.toUpperCase();
  throw new RangeError(`token symbol ${symbol} names no ISO 4217 currency; pass --currency`);
}

/** Converts bigints to decimal strings, deeply, for JSON output. */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [k, jsonSafe(v)]));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, jsonSafe(v)]));
  return value;
}
