/** One column of a CSV export: its header and how to read it from a row. */
export interface CsvColumn<T> {
  header: string;
  value: (row: T) => string | number | boolean | null | undefined;
}

/**
 * RFC 4180 CSV with a header line and CRLF line ends. No cell can start a spreadsheet formula:
 * a cell that begins with `=`, `+`, `-`, `@`, tab or CR gets a leading `'` (plain numbers such as
 * `-12.50` excepted), and so does every such character that follows a separator a consumer might
 * split on (`,` `;` tab, a line break or a quote; spaces between ignored), so `a;=cmd` read by a `;`-separated spreadsheet
 * (or by one that ignores quotes) cannot run `=cmd`. Cells holding a separator are quoted.
 *
 * @example
 * toCsv([{ header: "id", value: (r) => r.id }], [{ id: "a,b" }]) // 'id\r\n"a,b"\r\n'
 * toCsv([{ header: "id", value: (r) => r.id }], [{ id: "a;=cmd" }]) // 'id\r\n"a;\'=cmd"\r\n'
 */
export function toCsv<T>(columns: readonly CsvColumn<T>[], rows: Iterable<T>): string {
  const lines = [columns.map((c) => cell(c.header)).join(",")];
  for (const row of rows) lines.push(columns.map((c) => cell(c.value(row))).join(","));
  return lines.join("\r\n") + "\r\n";
}

const PLAIN_NUMBER = /^-?[0-9]+(\.[0-9]+)?$/;
/** A separator (and spaces) followed by a formula character. */
const FORMULA_AFTER_SEPARATOR = /([,;\t\r\n"] *)(?=[=+\-@\t\r])/g;

function cell(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return "";
  let s = String(v);
  if (PLAIN_NUMBER.test(s)) return s;
  s = s.replace(FORMULA_AFTER_SEPARATOR, "$1'");
  if (/^ *[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",;\t\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Minor units as a decimal string with `decimals` places: `12345n, 2` → `"123.45"`. */
export function formatMinor(amount: bigint | string, decimals: number): string {
  const v = BigInt(amount);
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(decimals + 1, "0");
  const whole = decimals === 0 ? digits : digits.slice(0, -decimals);
  const frac = decimals === 0 ? "" : `.${digits.slice(-decimals)}`;
  return `${neg ? "-" : ""}${whole}${frac}`;
}

/** Unix seconds as ISO 8601 UTC (CSV carries unambiguous times; the UI shows the viewer's zone). */
export function isoTime(seconds: number | null | undefined): string {
  return seconds === null || seconds === undefined ? "" : new Date(seconds * 1000).toISOString();
}
