import { writeSync } from "node:fs";
import { isSecretName, REDACTED, redact } from "./redact.ts";

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
  /** Where each finished line goes (without the newline). Default: stdout, see {@link stdoutSink}. */
  sink?: (line: string) => void;
  /** Fields on every line, e.g. `{ service: "hulian-node", wallet: "ALIPAY" }`. */
  base?: LogFields;
  /** Clock, for tests. */
  now?: () => Date;
}

// Lines written to stdout in this turn of the event loop, flushed together.
let pending: string[] = [];
let flushScheduled = false;
let exitHooked = false;
/** Beyond this many buffered lines, flush at once rather than at the end of the turn. */
const MAX_PENDING = 512;

function flushStdout(): void {
  flushScheduled = false;
  if (pending.length === 0) return;
  const text = pending.join("\n") + "\n";
  pending = [];
  process.stdout.write(text);
}

/**
 * The default sink: stdout, one line per entry, written once per turn of the event loop.
 *
 * Why: a node logs a line per HTTP request, and stdout is usually a pipe or a file, where every
 * `write` is a synchronous system call; at thousands of requests a second the writes alone cost
 * about a tenth of the node's CPU. Lines keep their order, reach stdout before the next I/O
 * callbacks run, and are written synchronously if the process exits with lines still buffered.
 */
export function stdoutSink(line: string): void {
  pending.push(line);
  if (pending.length >= MAX_PENDING) return flushStdout();
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushStdout);
  }
  if (!exitHooked) {
    exitHooked = true;
    process.once("exit", () => {
      if (pending.length === 0) return;
      const text = pending.join("\n") + "\n";
      pending = [];
      try {
        writeSync(1, text);
      } catch {
        // stdout is gone: nothing left to tell.
      }
    });
  }
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
  const sink = options.sink ?? stdoutSink;
  const now = options.now ?? (() => new Date());

  const make = (bindings: LogFields): Logger => {
    const write = (level: LogLevel, msg: string, fields?: LogFields) => {
      if (RANK[level] < min) return;
      const time = now().toISOString();
      const fast = fastLine(time, level, msg, bindings, fields);
      if (fast !== undefined) return sink(fast);
      const line = { time, level, msg, ...bindings, ...fields };
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

const RESERVED = new Set(["time", "level", "msg"]);
const INDEX = /^(0|[1-9][0-9]*)$/;
// `"name":` of the field names seen so far (a handful: they come from code).
const keyJson = new Map<string, string>();

/**
 * The line `JSON.stringify(redact({ time, level, msg, ...bindings, ...fields }))` would write,
 * without building and copying that object: each field is redacted and written in place. Returns
 * `undefined` (use the general way) when a field name repeats or would be reordered by an object
 * (array indexes), so the output is always the same text.
 */
function fastLine(time: string, level: string, msg: string, bindings: LogFields, fields: LogFields | undefined): string | undefined {
  let out = `{"time":"${time}","level":"${level}","msg":${JSON.stringify(redact(msg))}`;
  const seen = fields === undefined ? undefined : new Set<string>();
  // One set for the whole line, as redact() of the whole object would share: an object met twice is "[Circular]".
  let visited: WeakSet<object> | undefined;
  for (const part of fields === undefined ? [bindings] : [bindings, fields]) {
    for (const k of Object.keys(part)) {
      if (RESERVED.has(k) || INDEX.test(k) || k === "__proto__") return undefined;
      if (seen) {
        if (seen.has(k)) return undefined;
        seen.add(k);
      }
      const v = part[k];
      const secret = isSecretName(k);
      if (v === undefined && !secret) continue;
      let name = keyJson.get(k);
      if (name === undefined) {
        name = `,${JSON.stringify(k)}:`;
        if (keyJson.size < 10_000) keyJson.set(k, name);
      }
      let text: string | undefined;
      if (secret) text = `"${REDACTED}"`;
      else if (typeof v === "number" || typeof v === "boolean") text = JSON.stringify(v);
      else if (v === null || typeof v !== "object") text = JSON.stringify(redact(v));
      else text = JSON.stringify(redact(v, 1, (visited ??= new WeakSet())));
      if (text === undefined) continue;
      out += name + text;
    }
  }
  return out + "}";
}

/** A logger that drops everything (the default in tests). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
