/** An operator's backing: token balance over attested customer liabilities, as data and as text. */
export interface BackingRatio {
  /** balance / liabilities rounded down to 4 decimals ("31.2200"), null with zero liabilities. */
  value: string | null;
  /** What people read, the same everywhere the ratio shows: "3.12×", "31.2×", "1,000×", "no liabilities". */
  text: string;
}

const group = (n: bigint) => n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");

/** `n / d` rounded down to `places` decimals, as a grouped decimal string. */
function floorDecimal(n: bigint, d: bigint, places: number): string {
  const scale = 10n ** BigInt(places);
  const scaled = (n * scale) / d;
  const whole = group(scaled / scale);
  return places === 0 ? whole : `${whole}.${(scaled % scale).toString().padStart(places, "0")}`;
}

/**
 * The backing ratio of a token balance against attested liabilities (both minor units), computed
 * on bigints. Always a multiplier (never a percentage, which made 3.12 read "311.8 %" next to
 * 31.22 read "3.1×"), with three significant figures or more: 2 decimals below 10×, 1 below
 * 1,000×, none above. Always rounded down, so a ratio just under 1 never reads "1.00×".
 *
 * @example
 * backingRatio(312n, 100n) // { value: "3.1200", text: "3.12×" }
 * backingRatio(3122n, 100n) // { value: "31.2200", text: "31.2×" }
 * backingRatio(5n, 0n) // { value: null, text: "no liabilities" }
 */
export function backingRatio(balance: bigint, liabilities: bigint): BackingRatio {
  if (liabilities < 0n || balance < 0n) throw new RangeError(`backing ratio of ${balance} over ${liabilities}: amounts are never negative`);
  if (liabilities === 0n) return { value: null, text: "no liabilities" };
  const value = floorDecimal(balance, liabilities, 4).replace(/,/g, "");
  const places = balance < 10n * liabilities ? 2 : balance < 1_000n * liabilities ? 1 : 0;
  return { value, text: `${floorDecimal(balance, liabilities, places)}×` };
}
