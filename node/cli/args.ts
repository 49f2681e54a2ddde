import { parseArgs } from "node:util";

/** A CLI usage error: printed as a readable message with the command's help, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
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
  examples?: string[];
}

/** Renders `--help` for a command. */
export function renderHelp(spec: CommandSpec): string {
  const lines = [`${spec.summary}`, "", `Usage: ${spec.usage}`, "", "Options:"];
  const all = { ...spec.options, help: { type: "boolean", short: "h", description: "show this help" } as OptionSpec };
  for (const [name, option] of Object.entries(all)) {
    const flag = `${option.short ? `-${option.short}, ` : "    "}--${name}${option.type === "string" ? ` <${option.placeholder ?? "value"}>` : ""}`;
    const def = option.default !== undefined && option.default !== false ? ` (default: ${option.default})` : "";
    lines.push(`  ${flag.padEnd(34)} ${option.description}${def}`);
  }
  if (spec.examples?.length) lines.push("", "Examples:", ...spec.examples.map((e) => `  ${e}`));
  return lines.join("\n");
}

/** Parses argv against a command spec; unknown flags are a {@link UsageError}. */
export function parseCommand(spec: CommandSpec, argv: string[]) {
  const options = Object.fromEntries(
    Object.entries({ ...spec.options, help: { type: "boolean", short: "h", description: "" } as OptionSpec }).map(
      ([name, o]) => [
        name,
        { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.default !== undefined ? { default: o.default } : {}) },
      ],
    ),
  );
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: options as never, allowPositionals: true, strict: true }) as {
      values: Record<string, string | boolean | undefined>;
      positionals: string[];
    };
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ""));
  }
  if (parsed.values.help) {
    console.log(renderHelp(spec));
    process.exit(0);
  }
  return parsed;
}

/** A required string flag. */
export function requireString(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== "string" || v.length === 0) throw new UsageError(`--${name} is required`);
  return v;
}
