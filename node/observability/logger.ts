import { redact } from "./redact.ts";

/** Severity, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Structured fields of a log line. */
export type LogFields = Record<string, unknown>;

/** A structured logger: one JSON object per line, secrets redacted. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `bindings` to every line (e.g. `{ requestId }`). */
  child(bindings: LogFields): Logger;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Lines below this level are dropped. Default `info`. */
  level?: LogLevel;
  /** Where each finished line goes (without the newline). Default: stdout. */
  sink?: (line: string) => void;
  /** Fields on every line, e.g. `{ service: "hulian-node", wallet: "ALIPAY" }`. */
  base?: LogFields;
  /** Clock, for tests. */
  now?: () => Date;
}

/**
 * A JSON-lines logger. Every line has `time` (ISO 8601), `level` and `msg`, then the bound and
 * given fields, all passed through {@link redact} so authorization headers, passwords, secrets
 * and API keys never reach the output.
 *
 * @example
 * const log = createLogger({ base: { wallet: "ALIPAY" } });
 * log.child({ requestId: "r1" }).info("request", { status: 200 });
 * // {"time":"…","level":"info","msg":"request","wallet":"ALIPAY","requestId":"r1","status":200}
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = RANK[options.level ?? "info"];
  const sink = options.sink ?? ((line: string) => process.stdout.write(line + "\n"));
  const now = options.now ?? (() => new Date());

  const make = (bindings: LogFields): Logger => {
    const write = (level: LogLevel, msg: string, fields?: LogFields) => {
      if (RANK[level] < min) return;
      const line = { time: now().toISOString(), level, msg, ...bindings, ...fields };
      sink(JSON.stringify(redact(line)));
    };
    return {
      debug: (msg, fields) => write("debug", msg, fields),
      info: (msg, fields) => write("info", msg, fields),
      warn: (msg, fields) => write("warn", msg, fields),
      error: (msg, fields) => write("error", msg, fields),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return make({ ...options.base });
}

/** A logger that drops everything (the default in tests). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
