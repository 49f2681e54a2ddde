import type { IncomingMessage } from "node:http";
import type { Idempotency } from "../bridge/walletService.ts";
import type { Logger } from "../observability/logger.ts";
import type { Principal, Scope } from "./apiKeys.ts";
import type { Schema } from "./validate.ts";

/** HTTP methods a route may use. */
export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** Who may call a route: anyone, or a key holding at least one of these scopes. */
export type AuthRequirement = "none" | readonly Scope[];

/** Everything a route handler gets about the request, already checked. */
export interface RouteContext {
  method: HttpMethod;
  /** The path as received (no query). */
  path: string;
  /** Decoded path parameters, e.g. `{ id: "c_01J…" }` for `/v1/accounts/:id`. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed body, validated against the route's `body` schema (`undefined` without one). */
  body: unknown;
  /** The verified API key; `null` on routes with `auth: "none"`. */
  principal: Principal | null;
  /** Set on every POST: the client's Idempotency-Key, the request fingerprint and the key id. */
  idempotency?: Idempotency;
  requestId: string;
  log: Logger;
  req: IncomingMessage;
}

/** What a handler returns: JSON `body`, or `text` with its `contentType`. */
export interface RouteResult {
  status: number;
  body?: unknown;
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** A route handler. Throw `ApiProblem` or `ServiceError` to answer with a problem. */
export type RouteHandler = (ctx: RouteContext) => Promise<RouteResult> | RouteResult;

/** OpenAPI facts about a route, published in /openapi.json. */
export interface RouteDoc {
  operationId: string;
  summary: string;
  description?: string;
  tags?: string[];
  /** Path parameters by name. */
  params?: Record<string, { description: string; schema?: Record<string, unknown> }>;
  /** Query parameters by name. */
  query?: Record<string, { description: string; required?: boolean; schema: Record<string, unknown> }>;
  /**
   * Responses by status code: a description and an optional JSON Schema (or `$ref`) of the body,
   * in `contentType` (default application/json), or `content`: a schema per media type for a
   * route that answers in several.
   */
  responses: Record<string, { description: string; schema?: Record<string, unknown>; contentType?: string; content?: Record<string, Record<string, unknown>>; headers?: string[] }>;
  /** Problem codes this route may answer with, besides the ones every route shares. */
  problems?: number[];
}

/** Options of a route. */
export interface RouteOptions {
  auth: AuthRequirement;
  /** JSON body schema. A POST without one takes no body (an empty body or `{}`). */
  body?: Schema;
  /** When true, a POST may omit its body; it is then treated as `{}`. */
  bodyOptional?: boolean;
  /** Largest body this route takes, bytes (default: the server's `maxBodyBytes`). */
  maxBodyBytes?: number;
  /** Whether an Idempotency-Key is required. Default: true for POST, false otherwise. */
  idempotent?: boolean;
  doc?: RouteDoc;
}

/** A registered route. */
export interface Route {
  method: HttpMethod;
  pattern: string;
  handler: RouteHandler;
  options: RouteOptions;
  segments: readonly string[];
}

/** The outcome of {@link Router.match}. */
export type RouteMatch =
  | { kind: "found"; route: Route; params: Record<string, string> }
  | { kind: "method_not_allowed"; allow: HttpMethod[] }
  | { kind: "not_found" };

const METHODS: readonly HttpMethod[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const PARAM = /^:[A-Za-z][A-Za-z0-9_]*$/;
const STATIC = /^[A-Za-z0-9._~-]+$/;

/**
 * Method + path-pattern routing. Patterns are `/`-separated: literal segments and `:name`
 * parameters, each matching one non-empty segment. Where two patterns could match the same path
 * (`/v1/accounts/by-handle/:handle` and `/v1/accounts/:id/history`), the one with a literal
 * segment earlier wins, whatever order the routes were added in.
 */
export class Router {
  #routes: Route[] = [];
  /** Routes without parameters by `METHOD path`: most requests are answered by one lookup. */
  #static = new Map<string, Route>();

  /** Adds a route; throws on a malformed pattern or a duplicate method + pattern. */
  add(method: HttpMethod, pattern: string, handler: RouteHandler, options: RouteOptions): Route {
    if (!METHODS.includes(method)) throw new TypeError(`unsupported method ${method}`);
    if (!pattern.startsWith("/")) throw new TypeError(`route pattern must start with "/": ${pattern}`);
    const segments = pattern === "/" ? [] : pattern.slice(1).split("/");
    for (const s of segments) {
      if (!PARAM.test(s) && !STATIC.test(s)) throw new TypeError(`bad segment "${s}" in route pattern ${pattern}`);
    }
    const shape = (segs: readonly string[]) => segs.map((s) => (s.startsWith(":") ? ":" : s)).join("/");
    if (this.#routes.some((r) => r.method === method && shape(r.segments) === shape(segments))) {
      throw new TypeError(`route ${method} ${pattern} is already registered`);
    }
    const route: Route = { method, pattern, handler, options, segments };
    this.#routes.push(route);
    this.#routes.sort((a, b) => compareSpecificity(a.segments, b.segments));
    if (!segments.some((s) => s.startsWith(":"))) this.#static.set(`${method} ${pattern}`, route);
    return route;
  }

  /** Every route, most specific first. */
  routes(): readonly Route[] {
    return this.#routes;
  }

  /**
   * Finds the route for a method and a path. Percent-encoded segments are decoded before
   * parameters are returned; a segment that does not decode matches nothing.
   */
  match(method: string, path: string): RouteMatch {
    // A path that names a literal route exactly is matched by nothing more specific; one with
    // percent-escapes may decode to it, so it takes the general way.
    if (!path.includes("%")) {
      const route = this.#static.get(`${method} ${path}`);
      if (route) return { kind: "found", route, params: {} };
    }
    const parts = path === "/" ? [] : path.slice(1).split("/");
    const decoded: string[] = [];
    for (const p of parts) {
      try {
        decoded.push(decodeURIComponent(p));
      } catch {
        return { kind: "not_found" };
      }
    }
    const allow = new Set<HttpMethod>();
    for (const route of this.#routes) {
      const params = matchSegments(route.segments, decoded);
      if (!params) continue;
      if (route.method === method) return { kind: "found", route, params };
      allow.add(route.method);
    }
    if (allow.size > 0) return { kind: "method_not_allowed", allow: METHODS.filter((m) => allow.has(m)) };
    return { kind: "not_found" };
  }
}

function matchSegments(pattern: readonly string[], parts: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    const v = parts[i];
    if (v === "") return undefined;
    if (p.startsWith(":")) params[p.slice(1)] = v;
    else if (p !== v) return undefined;
  }
  return params;
}

function compareSpecificity(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const pa = a[i].startsWith(":") ? 1 : 0;
    const pb = b[i].startsWith(":") ? 1 : 0;
    if (pa !== pb) return pa - pb;
  }
  return a.length - b.length;
}
