import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import type { Idempotency, WalletService } from "../bridge/walletService.ts";
import { type AuditEvent, outcomeOf } from "../observability/auditLog.ts";
import { createLogger, type Logger } from "../observability/logger.ts";
import type { ApiKeyStore, Principal } from "./apiKeys.ts";
import { type AuditSamplerOptions, createAuditTrail } from "./auditSampling.ts";
import { identify, requireScope } from "./auth.ts";
import { readJsonBody } from "./body.ts";
import { clientAddress } from "./clientAddress.ts";
import { guardConnections } from "./connectionGuard.ts";
import { InFlightKeys, readIdempotencyKey, requestFingerprint } from "./idempotency.ts";
import { HttpMetrics } from "./metrics.ts";
import { ApiProblem, PROBLEM_CONTENT_TYPE, toProblem } from "./problem.ts";
import type { RateLimiter } from "./rateLimit.ts";
import { Router, type HttpMethod, type Route, type RouteContext, type RouteHandler, type RouteOptions, type RouteResult } from "./router.ts";
import { registerAccountRoutes } from "./routes/accounts.ts";
import { registerDirectoryRoutes } from "./routes/directory.ts";
import { registerPaymentRoutes } from "./routes/payments.ts";
import { registerSystemRoutes } from "./routes/system.ts";
import type { TlsServerOptions } from "./tls.ts";
import { closedKeys, validate } from "./validate.ts";

/** Limits of the HTTP server. */
export interface ApiLimits {
  /** Largest request body, bytes. Default 64 KiB. */
  maxBodyBytes: number;
  /** Time the client has to send the body, ms (then 408). Default 10 s. */
  bodyTimeoutMs: number;
  /** Time the service has to answer, ms (then 503 `service_timeout`). Default 10 s. */
  handlerTimeoutMs: number;
  /** Time to receive the request headers, ms. Default 10 s. */
  headersTimeoutMs: number;
  /** Idle time before a keep-alive connection is closed, ms. Default 5 s. */
  keepAliveTimeoutMs: number;
  /** On close, how long in-flight requests may take before connections are cut, ms. Default 5 s. */
  shutdownGraceMs: number;
  /** Open connections at most; more are closed at once (keep this well below the process's file limit). Default 4,096. */
  maxConnections: number;
  /** Open connections from one client address (IPv6: one /64) at most; more are closed at once. Default 256. */
  maxConnectionsPerAddress: number;
}

/** The defaults of {@link ApiLimits}. */
export const DEFAULT_LIMITS: Readonly<ApiLimits> = {
  maxBodyBytes: 64 * 1024,
  bodyTimeoutMs: 10_000,
  handlerTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  shutdownGraceMs: 5_000,
  maxConnections: 4_096,
  maxConnectionsPerAddress: 256,
};

/** Options of {@link createApiServer}. */
export interface ApiServerOptions {
  service: WalletService;
  keys: ApiKeyStore;
  logger?: Logger;
  limits?: Partial<ApiLimits>;
  /**
   * Token buckets per API key, and per client address for requests without a valid key (checked
   * before authentication): 429 `rate_limited` with Retry-After. Off when absent.
   */
  rateLimit?: RateLimiter;
  /** Serve HTTPS with this certificate and key (node/api/tls.ts) instead of plain HTTP. */
  tls?: TlsServerOptions;
  /**
   * The audit log. Called after every POST to a route that needs the `admin` scope and every POST
   * made with an `admin` key (payments, account openings and closings), answered or refused;
   * attempts without a valid key and rate-limited ones are sampled (node/api/auditSampling.ts).
   */
  audit?: (event: AuditEvent) => unknown;
  /** Bounds of the sampling of unaccountable attempts (tests shorten the window). */
  auditSampling?: Omit<AuditSamplerOptions, "write">;
}

/** A running or runnable API server. */
export interface ApiServer {
  /** Starts listening (port 0 picks a free port); resolves with the base URL. */
  listen(port: number, host?: string): Promise<{ url: string; port: number }>;
  /** Stops accepting, lets in-flight requests finish (up to the grace time), closes connections. */
  close(): Promise<void>;
  /**
   * Mounts another route, e.g. the node-to-node directory endpoint or the audit API. The route
   * gets the same auth, idempotency, body validation, problem mapping, logging and metrics.
   *
   * @example
   * server.route("GET", "/v1/audit/transfers/:id", handler, { auth: ["audit"], doc: { … } });
   */
  route(method: HttpMethod, pattern: string, handler: RouteHandler, options: RouteOptions): void;
  /** The routes, most specific first. */
  routes(): readonly Route[];
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const WRITE_METHODS = new Set(["POST", "PUT", "PATCH"]);
// Parameters whose values identify customers: masked in logs.
const PERSONAL_PARAMS = new Set(["handle", "address"]);

class HandlerTimeout extends Error {}

/**
 * Creates the node's HTTP JSON API over `service`, with the wallet routes, `/healthz`, `/metrics`
 * and `/openapi.json` mounted.
 *
 * Every request goes through the same steps: route, the client address's rate limit (429, before
 * any key is looked at), 404/405, authentication (401), the key's rate limit (429), scope (403),
 * Idempotency-Key on POST (400), body (415/413/408/400), schema validation (400
 * `validation_failed`), then the handler, whose errors become problem+json. Each request is
 * logged once, as one JSON line, and counted in `/metrics`. Connections are capped in total and per
 * address, and closed when idle or slow (node/api/connectionGuard.ts).
 *
 * @example
 * const api = createApiServer({ service, keys: await ApiKeyStore.load("keys.json") });
 * const { url } = await api.listen(8080);
 */
export function createApiServer(options: ApiServerOptions): ApiServer {
  const { service, keys } = options;
  const limits: ApiLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const log = options.logger ?? createLogger({ base: { component: "api", wallet: service.wallet.code } });
  const router = new Router();
  const inFlight = new InFlightKeys();
  const httpMetrics = new HttpMetrics();
  const limiter = options.rateLimit;
  const trail = options.audit
    ? createAuditTrail(options.audit, {
        sampling: options.auditSampling,
        metrics: httpMetrics,
        onError: (err, event) => log.error("audit log write failed", { err, requestId: event.requestId }),
      })
    : undefined;

  const registry = { route: (m: HttpMethod, p: string, h: RouteHandler, o: RouteOptions) => void router.add(m, p, h, o) };
  registerSystemRoutes(registry, { service, httpMetrics, routes: () => router.routes() });
  registerAccountRoutes(registry, { service });
  registerPaymentRoutes(registry, { service });
  registerDirectoryRoutes(registry, { service });

  // Sorted property names of each route's closed body schema, for the fingerprint (see fastCanonicalJson).
  const bodyKeys = new WeakMap<Route, readonly string[] | undefined>();
  const keysOf = (route: Route): readonly string[] | undefined => {
    if (!bodyKeys.has(route)) bodyKeys.set(route, route.options.body ? closedKeys(route.options.body) : []);
    return bodyKeys.get(route);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const incomingId = req.headers["x-request-id"];
    const requestId = typeof incomingId === "string" && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const method = (req.method ?? "GET").toUpperCase();
    // The request's child logger, made only when a handler or an error needs it.
    let reqLog: Logger | undefined;
    const requestLog = (): Logger => (reqLog ??= log.child({ requestId }));
    let route: Route | undefined;
    let params: Record<string, string> = {};
    let principal: Principal | null = null;
    // The key shown, once verified, whether or not it holds the route's scope.
    let caller: Principal | undefined;
    const address = clientAddress(req.socket);
    let location: string | undefined;
    let status = 500;
    let idemKey: string | undefined;
    let body: unknown;
    let problemCode: string | undefined;

    try {
      const match = path.startsWith("/") ? router.match(method, path) : ({ kind: "not_found" } as const);
      if (match.kind === "found") route = match.route;
      // Before any key is hashed: an address that spent its bucket (on bad keys, say) waits.
      limiter?.checkAddress(address);
      if (match.kind !== "found") limiter?.takeAddress(address);
      if (match.kind === "not_found") throw new ApiProblem("not_found", 404, `No route for ${method} ${truncate(path)}.`);
      if (match.kind === "method_not_allowed") {
        throw new ApiProblem("method_not_allowed", 405, `${method} is not allowed here; use ${match.allow.join(", ")}.`, {
          headers: { allow: match.allow.join(", ") },
        });
      }
      const found = match.route;
      params = match.params;
      if (found.options.auth === "none") limiter?.takeAddress(address);
      else {
        try {
          caller = identify(header(req, "authorization"), keys, req.socket);
        } catch (err) {
          limiter?.chargeFailedAuth(address);
          throw err;
        }
        limiter?.take(caller.keyId);
        requireScope(caller, found.options.auth);
        principal = caller;
      }

      const idempotent = found.options.idempotent ?? method === "POST";
      idemKey = idempotent ? readIdempotencyKey(req.headers["idempotency-key"]) : undefined;
      body = WRITE_METHODS.has(method) ? await readBody(req, found) : undefined;

      let idempotency: Idempotency | undefined;
      let release: (() => void) | undefined;
      if (idemKey !== undefined) {
        const scope = principal?.keyId ?? "anonymous";
        idempotency = { key: idemKey, fingerprint: requestFingerprint(method, path, body ?? {}, keysOf(found)), scope };
        release = inFlight.acquire(scope, idemKey);
      }
      const ctx: RouteContext = {
        method: method as HttpMethod,
        path,
        params,
        query: new URLSearchParams(q < 0 ? "" : rawUrl.slice(q + 1)),
        body,
        principal,
        idempotency,
        requestId,
        get log() {
          return requestLog();
        },
        req,
      };
      const running = Promise.resolve().then(() => found.handler(ctx));
      // The key stays busy until the service is done, even if the client got a timeout first.
      if (release) running.then(release, release);
      const result = await withTimeout(running, limits.handlerTimeoutMs);
      status = result.status;
      location = result.headers?.location;
      send(res, result, requestId);
    } catch (err) {
      if (err instanceof HandlerTimeout) {
        err = new ApiProblem("service_timeout", 503, "The node did not answer in time. Retry with the same Idempotency-Key to learn the outcome.", {
          headers: { "retry-after": "1" },
        });
      }
      const mapped = toProblem(err, { instance: truncate(path), requestId });
      status = mapped.problem.status;
      problemCode = mapped.problem.code;
      if (mapped.internal) requestLog().error("request failed", { method, route: route?.pattern, err });
      if (res.headersSent) res.destroy();
      else send(res, { status, body: mapped.problem, contentType: PROBLEM_CONTENT_TYPE, headers: mapped.headers }, requestId);
    } finally {
      const seconds = (performance.now() - started) / 1000;
      httpMetrics.observe(method, route?.pattern ?? "unmatched", status, seconds);
      log.info("request", {
        requestId,
        method,
        path: route ? loggedPath(route, params) : truncate(path),
        route: route?.pattern,
        status,
        durationMs: Math.round(seconds * 1e6) / 1e3,
        apiKeyId: principal?.keyId,
      });
      if (trail && route && method === "POST" && (needsAdmin(route) || caller?.scopes.has("admin"))) {
        const event: AuditEvent = { time: new Date().toISOString(), requestId, keyId: caller?.keyId, method, route: route.pattern, params, idempotencyKey: idemKey, body, status, outcome: outcomeOf(status), code: problemCode, client: address, location };
        // Nobody answers for an attempt without a valid key, nor for one the rate limit stopped: sampled.
        trail.record(event, caller === undefined ? `address ${address}` : status === 429 ? `key ${caller.keyId}` : undefined);
      }
    }
  }

  async function readBody(req: IncomingMessage, route: Route): Promise<unknown> {
    const raw = await readJsonBody(req, { maxBytes: route.options.maxBodyBytes ?? limits.maxBodyBytes, timeoutMs: limits.bodyTimeoutMs });
    const schema = route.options.body;
    if (raw === undefined) {
      if (!schema || route.options.bodyOptional) return {};
      throw new ApiProblem("validation_failed", 400, "The request has invalid fields.", { errors: [{ field: "body", message: "a JSON body is required" }] });
    }
    const errors = schema ? validate(schema, raw) : isEmptyObject(raw) ? [] : [{ field: "body", message: "must be empty or {}" }];
    if (errors.length > 0) throw new ApiProblem("validation_failed", 400, "The request has invalid fields.", { errors });
    return raw;
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err) => {
      log.error("unhandled request failure", { err });
      res.destroy();
    });
  };
  // How often Node looks for requests past headersTimeout / requestTimeout (its default, 30 s, lets a slow client hold a socket that long).
  const connectionsCheckingInterval = Math.max(100, Math.min(1_000, limits.headersTimeoutMs / 2));
  const server = options.tls
    ? createHttpsServer({ ...options.tls, keepAlive: true, connectionsCheckingInterval, handshakeTimeout: limits.headersTimeoutMs }, listener)
    : createServer({ keepAlive: true, connectionsCheckingInterval }, listener);
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.headersTimeout = limits.headersTimeoutMs;
  // Backstop behind our own body timeout: Node answers 408 and closes.
  server.requestTimeout = limits.headersTimeoutMs + limits.bodyTimeoutMs + 5_000;
  guardConnections(server, {
    maxConnections: limits.maxConnections,
    maxConnectionsPerAddress: limits.maxConnectionsPerAddress,
    firstRequestTimeoutMs: limits.headersTimeoutMs,
    tls: options.tls !== undefined,
    metrics: httpMetrics,
  });

  return {
    listen(port, host = "127.0.0.1") {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          const address = server.address() as AddressInfo;
          const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
          log.info("api listening", { host: address.address, port: address.port });
          resolve({ url: `${options.tls ? "https" : "http"}://${shown}:${address.port}`, port: address.port });
        });
      });
    },
    close() {
      trail?.close();
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        const force = setTimeout(() => server.closeAllConnections(), limits.shutdownGraceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
    route: registry.route,
    routes: () => router.routes(),
  };
}

function send(res: ServerResponse, result: RouteResult, requestId: string): void {
  let payload: string;
  let type: string;
  if (result.text !== undefined) {
    payload = result.text;
    type = result.contentType ?? "text/plain; charset=utf-8";
  } else if (result.body !== undefined) {
    payload = toJson(result.body);
    type = result.contentType ?? "application/json";
  } else {
    payload = "";
    type = "";
  }
  const headers: Record<string, string | number> = {
    "x-request-id": requestId,
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  };
  const extra = result.headers;
  if (extra) for (const name in extra) headers[name] = extra[name];
  if (type !== "") headers["content-type"] = type;
  headers["content-length"] = Buffer.byteLength(payload);
  res.writeHead(result.status, headers);
  res.end(payload);
}

/** JSON text of a response body; bigints (which views should not hold) become decimal strings. */
function toJson(body: unknown): string {
  try {
    // Without a replacer function: one call per value would cost more than the rest of the work.
    return JSON.stringify(body);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    return JSON.stringify(body, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new HandlerTimeout()), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

function needsAdmin(route: Route): boolean {
  return route.options.auth !== "none" && route.options.auth.includes("admin");
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function isEmptyObject(v: unknown): boolean {
  return v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0;
}

function truncate(path: string): string {
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}

function loggedPath(route: Route, params: Record<string, string>): string {
  if (route.segments.length === 0) return "/";
  return "/" + route.segments.map((s) => (s.startsWith(":") ? (PERSONAL_PARAMS.has(s.slice(1)) ? s : encodeURIComponent(params[s.slice(1)] ?? "")) : s)).join("/");
}
