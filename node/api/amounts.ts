/**
 * Money at the JSON boundary. Inside the node an amount is a `bigint` of minor units (fen); in
 * JSON it is a decimal string of minor units (`"12345"` = 123.45 CNY), never a number, so no
 * client can lose precision through a float.
 */

/** A positive amount of minor units, at most 18 digits (below 2^63), without leading zeros or signs. */
export const AMOUNT_PATTERN = "^[1-9][0-9]{0,17}$";

const AMOUNT = new RegExp(AMOUNT_PATTERN);

/** The message a client reads when it sends an amount as a JSON number. */
export const AMOUNT_NOT_STRING = "amounts are decimal strings of minor units";

/** Whether `value` is a valid amount string. */
export function isAmountString(value: unknown): value is string {
  return typeof value === "string" && AMOUNT.test(value);
}

/**
 * Parses an amount string of minor units into a bigint. Throws a `RangeError` for anything but
 * {@link AMOUNT_PATTERN}: numbers, signs, decimals, exponents, spaces, leading zeros, zero.
 *
 * @example
 * parseAmount("12345") // 12345n
 * parseAmount("1.5")   // throws
 */
export function parseAmount(value: unknown): bigint {
  if (typeof value === "number") throw new RangeError(AMOUNT_NOT_STRING);
  if (!isAmountString(value)) throw new RangeError(`invalid amount: expected ${AMOUNT_PATTERN}`);
  return BigInt(value);
}

/**
 * Formats minor units for people: `decimals` digits after the point, a leading `-` for debits.
 *
 * @example
 * formatMinor(12345n, 2) // "123.45"
 * formatMinor(-5n, 2)    // "-0.05"
 */
export function formatMinor(amount: bigint, decimals: number): string {
  const negative = amount < 0n;
  const digits = (negative ? -amount : amount).toString();
  if (decimals <= 0) return (negative ? "-" : "") + digits;
  const padded = digits.padStart(decimals + 1, "0");
  const whole = padded.slice(0, -decimals);
  const fraction = padded.slice(-decimals);
  return `${negative ? "-" : ""}${whole}.${fraction}`;
}

/** Minor units as the JSON decimal string. */
export function minorToJson(amount: bigint): string {
  return amount.toString();
}
