import { STATUS_CODES } from "node:http";
import { ServiceError } from "../bridge/walletService.ts";

/** Base of every problem `type` URI; the code follows it. */
export const PROBLEM_BASE = "https://hulian.dev/problems/";

/** The media type of every error response. */
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** One field that failed validation. `field` is a JSON path such as `amount` or `to`. */
export interface FieldError {
  field: string;
  message: string;
}

/**
 * An RFC 9457 problem details object. `code` repeats the last part of `type` so clients can
 * branch on a short string; `errors` lists field errors of a `validation_failed` problem.
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  requestId?: string;
  errors?: FieldError[];
  details?: Record<string, unknown>;
}

/** Titles of the problems the API itself raises; service codes fall back to the HTTP reason. */
const TITLES: Record<string, string> = {
  unauthorized: "Authentication required",
  forbidden: "Insufficient scope",
  not_found: "Not found",
  method_not_allowed: "Method not allowed",
  validation_failed: "Request validation failed",
  malformed_json: "Malformed JSON body",
  payload_too_large: "Payload too large",
  unsupported_media_type: "Unsupported media type",
  request_timeout: "Request timeout",
  service_timeout: "Service did not answer in time",
  idempotency_key_missing: "Idempotency-Key header missing",
  idempotency_key_invalid: "Idempotency-Key header invalid",
  idempotency_key_reused: "Idempotency-Key reused with another request",
  idempotency_key_in_use: "A request with this Idempotency-Key is in progress",
  internal_error: "Internal server error",
};

/**
 * A problem the API raises on purpose (bad input, missing auth…). Throw it from anywhere in a
 * request; the server turns it into a problem+json response with `headers` added.
 */
export class ApiProblem extends Error {
  override name = "ApiProblem";
  readonly code: string;
  readonly status: number;
  readonly errors?: FieldError[];
  readonly details?: Record<string, unknown>;
  readonly headers: Record<string, string>;
  constructor(
    code: string,
    status: number,
    detail: string,
    options: { errors?: FieldError[]; details?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    this.code = code;
    this.status = status;
    this.errors = options.errors;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }
}

/** The title of a problem code: the API's own title, or the HTTP reason phrase of `status`. */
export function problemTitle(code: string, status: number): string {
  return TITLES[code] ?? STATUS_CODES[status] ?? "Error";
}

/**
 * Builds a problem details object.
 *
 * @example
 * problem("not_found", 404, "No route for GET /v1/nope")
 * // { type: "https://hulian.dev/problems/not_found", title: "Not found", status: 404, … }
 */
export function problem(
  code: string,
  status: number,
  detail: string,
  extra: Partial<Pick<Problem, "instance" | "requestId" | "errors" | "details">> = {},
): Problem {
  const out: Problem = { type: PROBLEM_BASE + code, title: problemTitle(code, status), status, detail, code };
  if (extra.instance !== undefined) out.instance = extra.instance;
  if (extra.requestId !== undefined) out.requestId = extra.requestId;
  if (extra.errors !== undefined) out.errors = extra.errors;
  if (extra.details !== undefined) out.details = extra.details;
  return out;
}

/** What {@link toProblem} returns: the problem, extra response headers, and whether to log it as a fault. */
export interface MappedProblem {
  problem: Problem;
  headers: Record<string, string>;
  /** True when the error is ours (a bug or an outage), not the client's: log it with its stack. */
  internal: boolean;
}

/**
 * Maps anything thrown while handling a request to a problem.
 *
 * - {@link ApiProblem}: as raised.
 * - {@link ServiceError}: its `code`, `status`, message and details (the service writes these for
 *   clients); `idempotency_key_reused` is always 422; a status outside 400–599 becomes 500.
 * - anything else: 500 `internal_error` with a fixed text: nothing internal leaks.
 */
export function toProblem(err: unknown, context: { instance?: string; requestId?: string } = {}): MappedProblem {
  if (err instanceof ApiProblem) {
    return {
      problem: problem(err.code, err.status, err.message, { ...context, errors: err.errors, details: err.details }),
      headers: err.headers,
      internal: err.status >= 500,
    };
  }
  if (err instanceof ServiceError) {
    let status = err.code === "idempotency_key_reused" ? 422 : err.status;
    if (!Number.isInteger(status) || status < 400 || status > 599) status = 500;
    const headers: Record<string, string> = {};
    if (status === 503) headers["retry-after"] = "1";
    return {
      problem: problem(err.code, status, err.message, { ...context, details: err.details }),
      headers,
      internal: status >= 500,
    };
  }
  return {
    problem: problem("internal_error", 500, "The server could not handle the request. It has been logged.", context),
    headers: {},
    internal: true,
  };
}
