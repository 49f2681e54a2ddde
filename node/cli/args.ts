import { parseArgs } from "node:util";

/** A CLI usage error: printed as a readable message with a pointer to the command's help, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Thrown by {@link parseCommand} when `--help` was asked for; the caller prints `help` and exits 0. */
export class HelpRequested extends Error {
  override name = "HelpRequested";
  readonly help: string;
  constructor(help: string) {
    super("help requested");
    this.help = help;
  }
}

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  default?: string | boolean;
  description: string;
  /** Shown in help instead of the type. */
  placeholder?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /** How many positional arguments the command takes (default 0); more is a {@link UsageError}. */
  maxPositionals?: number;
  examples?: string[];
}

const HELP_OPTION: OptionSpec = { type: "boolean", short: "h", description: "show this help" };

/** Renders `--help` for a command. */
export function renderHelp(spec: CommandSpec): string {
  const lines = [`${spec.summary}`, "", `Usage: ${spec.usage}`, "", "Options:"];
  for (const [name, option] of Object.entries({ ...spec.options, help: HELP_OPTION })) {
    const flag = `${option.short ? `-${option.short}, ` : "    "}--${name}${option.type === "string" ? ` <${option.placeholder ?? "value"}>` : ""}`;
    const def = option.default !== undefined && option.default !== false ? ` (default: ${option.default})` : "";
    lines.push(`  ${flag.padEnd(30)} ${option.description}${def}`);
  }
  if (spec.examples?.length) lines.push("", "Examples:", ...spec.examples.map((e) => `  ${e}`));
  return lines.join("\n");
}

/**
 * Parses argv against a command spec. Unknown flags, missing flag values and unexpected positional
 * arguments are a {@link UsageError}; `--help` is a {@link HelpRequested}.
 */
export function parseCommand(spec: CommandSpec, argv: string[]) {
  const all = { ...spec.options, help: HELP_OPTION };
  const options = Object.fromEntries(
    Object.entries(all).map(([name, o]) => [
      name,
      { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.default !== undefined ? { default: o.default } : {}) },
    ]),
  );
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: options as never, allowPositionals: true, strict: true }) as {
      values: Record<string, string | boolean | undefined>;
      positionals: string[];
    };
  } catch (e) {
    if (argv.includes("--help") || argv.includes("-h")) throw new HelpRequested(renderHelp(spec));
    throw new UsageError(describeParseError(e as Error & { code?: string }, Object.keys(all)));
  }
  if (parsed.values.help) throw new HelpRequested(renderHelp(spec));
  const extra = parsed.positionals.slice(spec.maxPositionals ?? 0);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  return parsed;
}

/** Node's parseArgs messages are long and point at `--` tricks; say what went wrong in a few words. */
function describeParseError(e: Error & { code?: string }, known: string[]): string {
  const flag = /'(-{1,2}[^' <=]+)/.exec(e.message)?.[1];
  if (!flag) return e.message;
  if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const guess = closest(flag.replace(/^-+/, ""), known);
    return `unknown option ${flag}${guess ? ` (did you mean --${guess}?)` : ""}`;
  }
  if (e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    if (/does not take an argument/.test(e.message)) return `${flag} is a switch and takes no value`;
    return `${flag} needs a value`;
  }
  return e.message;
}

function closest(name: string, candidates: string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d <= Math.max(1, Math.floor(c.length / 4)) && (!best || d < best.distance)) best = { name: c, distance: d };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length];
}

/** A required string flag. */
export function requireString(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== "string" || v.length === 0) throw new UsageError(`--${name} is required`);
  return v;
}

/** A TCP port flag: an integer from 0 (any free port) to 65535. */
export function portFlag(values: Record<string, unknown>, name: string): number {
  const v = values[name];
  const port = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isInteger(port) || port > 65535) {
    throw new UsageError(`--${name} must be a port number from 0 to 65535, got "${String(v)}"`);
  }
  return port;
}
