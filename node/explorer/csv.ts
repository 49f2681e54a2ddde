/** One column of a CSV export: its header and how to read it from a row. */
export interface CsvColumn<T> {
  header: string;
  value: (row: T) => string | number | boolean | null | undefined;
}

/**
 * RFC 4180 CSV with a header line and CRLF line ends. Cells that a spreadsheet would run as a
 * formula (`=`, `+`, `-`, `@`, tab, CR at the start) get a leading `'`, except plain numbers such
 * as `-12.50`, so an export opened in Excel cannot execute anything.
 *
 * @example
 * toCsv([{ header: "id", value: (r) => r.id }], [{ id: "a,b" }]) // 'id\r\n"a,b"\r\n'
 */
export function toCsv<T>(columns: readonly CsvColumn<T>[], rows: Iterable<T>): string {
  const lines = [columns.map((c) => cell(c.header)).join(",")];
  for (const row of rows) lines.push(columns.map((c) => cell(c.value(row))).join(","));
  return lines.join("\r\n") + "\r\n";
}

function cell(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return "";
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s) && !/^-?[0-9]+(\.[0-9]+)?$/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
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
