import { isUtf8 } from "node:buffer";
import type { IncomingMessage } from "node:http";
import { ApiProblem } from "./problem.ts";

/** Limits of {@link readJsonBody}. */
export interface BodyLimits {
  /** Largest accepted body in bytes. */
  maxBytes: number;
  /** How long the client may take to send the body. */
  timeoutMs: number;
  /** Deepest nesting of arrays and objects accepted. Default {@link MAX_JSON_DEPTH}. */
  maxDepth?: number;
}

/**
 * Deepest nesting of JSON arrays and objects in a request body. Our bodies nest three levels; the
 * bound keeps every recursive walk after parsing (validation, the idempotency fingerprint,
 * redaction) far from the stack's limit.
 */
export const MAX_JSON_DEPTH = 32;

const JSON_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
const CLOSE = { connection: "close" };

/** Whether the request says it carries a body (a non-zero Content-Length or chunked encoding). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  if (length !== undefined) return length.trim() !== "0";
  return req.headers["transfer-encoding"] !== undefined;
}

/**
 * Reads and parses a JSON request body.
 *
 * Returns `undefined` when there is no body. Throws problems: 415 `unsupported_media_type` unless
 * the Content-Type is `application/json` (charset utf-8 if any), 413 `payload_too_large` above
 * `maxBytes` (checked on Content-Length first, then while reading), 408 `request_timeout` when the
 * body does not arrive in `timeoutMs`, 400 `malformed_json` for invalid UTF-8 or JSON, 400
 * `validation_failed` for arrays and objects nested deeper than `maxDepth` (checked on the bytes,
 * before parsing). After 413 and 408 the connection is closed, since the rest of the body is never read.
 */
export async function readJsonBody(req: IncomingMessage, limits: BodyLimits): Promise<unknown> {
  if (!hasBody(req)) return undefined;
  const type = req.headers["content-type"];
  if (type === undefined || !JSON_TYPE.test(type.trim())) {
    throw new ApiProblem("unsupported_media_type", 415, "Send the body as application/json (UTF-8).", {
      headers: { accept: "application/json", ...CLOSE },
    });
  }
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limits.maxBytes) throw tooLarge(limits.maxBytes);

  const bytes = await collect(req, limits);
  // What a fatal TextDecoder does (a leading byte-order mark is dropped), without one per request.
  if (!isUtf8(bytes)) throw new ApiProblem("malformed_json", 400, "The body is not valid UTF-8.");
  const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const maxDepth = limits.maxDepth ?? MAX_JSON_DEPTH;
  if (nestingExceeds(bytes, maxDepth)) {
    throw new ApiProblem("validation_failed", 400, "The request has invalid fields.", {
      errors: [{ field: "body", message: `must not nest arrays and objects deeper than ${maxDepth} levels` }],
    });
  }
  const text = bytes.toString("utf8", bom);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiProblem("malformed_json", 400, `The body is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Whether JSON text nests `[` and `{` deeper than `max`, counting only brackets outside strings. A
 * flat scan without recursion; on invalid JSON it may answer either way, and JSON.parse then refuses it.
 */
export function nestingExceeds(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === 0x5c) i++; // backslash: the next byte is escaped
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) {
      if (++depth > max) return true;
    } else if (b === 0x5d || b === 0x7d) depth--;
  }
  return false;
}

function tooLarge(maxBytes: number): ApiProblem {
  return new ApiProblem("payload_too_large", 413, `The body must be at most ${maxBytes} bytes.`, {
    headers: CLOSE,
    details: { maxBytes },
  });
}

function collect(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err?: unknown) => {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      if (err) {
        // Stop reading the rest; the response carries `Connection: close`.
        req.pause();
        reject(err);
      } else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) return done(tooLarge(limits.maxBytes));
      chunks.push(chunk);
    };
    const onEnd = () => done();
    const onError = (err: Error) => done(err);
    const timer = setTimeout(
      () => done(new ApiProblem("request_timeout", 408, `The body did not arrive within ${limits.timeoutMs} ms.`, { headers: CLOSE })),
      limits.timeoutMs,
    );
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}
