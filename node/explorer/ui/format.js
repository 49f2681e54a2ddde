// Formatting for people: amounts from minor-unit strings (BigInt, never floats), times in the
// viewer's own zone, hashes shortened with the full value in a tooltip.

let currency = "CNY";
let decimals = 2;

/** Sets the currency and its decimals (from /api/meta: the token's own decimals). */
export function setCurrency(code, places) {
  currency = code;
  decimals = places;
}

const grouping = new Intl.NumberFormat(undefined, { useGrouping: true, maximumFractionDigits: 0 });

/** "123456" → "1,234.56" (grouping in the viewer's locale, decimal point from the token). */
export function amountNumber(minor) {
  if (minor === null || minor === undefined || minor === "") return "—";
  let v = BigInt(minor);
  const negative = v < 0n;
  if (negative) v = -v;
  const scale = 10n ** BigInt(decimals);
  const whole = grouping.format(v / scale);
  const frac = decimals > 0 ? "." + (v % scale).toString().padStart(decimals, "0") : "";
  return (negative ? "-" : "") + whole + frac;
}

/** "123456" → "1,234.56 CNY". */
export function amount(minor) {
  return minor === null || minor === undefined ? "—" : `${amountNumber(minor)} ${currency}`;
}

export function currencyCode() {
  return currency;
}

/** "1,234.56" typed by a person → "123456" minor units, or null when it is not an amount. */
export function parseAmount(text) {
  const t = String(text).trim().replace(/[,\s]/g, "");
  if (t === "") return undefined;
  const m = new RegExp(`^([0-9]{1,30})(?:\\.([0-9]{0,${decimals}}))?$`).exec(t);
  if (!m) return null;
  return (BigInt(m[1]) * 10n ** BigInt(decimals) + BigInt((m[2] ?? "").padEnd(decimals, "0") || "0")).toString();
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayOnly = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

/** Unix seconds → date and time in the viewer's zone. */
export function time(seconds) {
  return seconds === null || seconds === undefined ? "—" : dateTime.format(new Date(seconds * 1000));
}

export function clock(seconds) {
  return timeOnly.format(new Date(seconds * 1000));
}

export function day(seconds) {
  return dayOnly.format(new Date(seconds * 1000));
}

/** The viewer's zone name (e.g. "Asia/Shanghai") and UTC offset in minutes. */
export function zone() {
  return { name: Intl.DateTimeFormat().resolvedOptions().timeZone, offsetMinutes: -new Date().getTimezoneOffset() };
}

/** Local midnight today, as unix seconds. */
export function startOfToday() {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return Math.floor(d.getTime() / 1000);
}

/** "1 h 5 min ago" style age. */
export function ago(seconds, now = Date.now() / 1000) {
  const s = Math.max(0, Math.round(now - seconds));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function short(hex, head = 10, tail = 6) {
  if (!hex) return "—";
  return hex.length <= head + tail + 1 ? hex : `${hex.slice(0, head)}…${hex.slice(-tail)}`;
}

/** The datetime-local value of unix seconds (viewer's zone). */
export function toLocalInput(seconds) {
  const d = new Date(seconds * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local value (viewer's zone) → unix seconds. */
export function fromLocalInput(value) {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

// Characters that reorder or hide text: C0 and C1 controls, the bidi marks, embeddings, overrides
// and isolates, zero-width and invisible format characters, line separators, the BOM, and lone
// surrogates. "\u202eYAPILA" would otherwise read "ALIPAY".
const HIDDEN =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Text from the chain (operator names, endpoints, event details) as it can be shown: every
 * character that could reorder or hide what is around it becomes a visible ⟨U+202E⟩. Put the
 * result in a <bdi> (see app.js `chainText`) so what remains cannot reorder its neighbours either.
 */
export function visible(text) {
  return String(text ?? "").replace(HIDDEN, (c) => `⟨U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}⟩`);
}
