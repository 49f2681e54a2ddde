import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { type IncomingMessage, type ServerResponse, STATUS_CODES, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { type Logger, silentLogger } from "../observability/logger.ts";
import { type CsvColumn, formatMinor, isoTime, toCsv } from "./csv.ts";
import { ALERT_COLUMNS, BATCH_COLUMNS, EVENT_COLUMNS, OPERATOR_COLUMNS, RETURN_COLUMNS, TRANSFER_COLUMNS } from "./csvColumns.ts";
import type { ExplorerKeyStore } from "./explorerKeys.ts";
import type { Alert, ExplorerService } from "./explorerService.ts";
import type { BatchRecord, TransferRecord } from "./indexStore.ts";
import type { SessionStore } from "./sessions.ts";
import type { TransferFilter } from "./transferSearch.ts";

const UI_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "ui");
const ASSETS: Record<string, string> = {
  "app.js": "text/javascript; charset=utf-8",
  "charts.js": "text/javascript; charset=utf-8",
  "format.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
  "favicon.svg": "image/svg+xml",
};
const SESSION_COOKIE = "hx_session";
/** Sent by the UI's background refresh (the alert badge): a request that is not a person's activity. */
const BACKGROUND_HEADER = "x-hulian-background";
const BEARER = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)[ ]*$/i;
const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};
/** Largest CSV export, rows. */
export const CSV_MAX_ROWS = 100_000;

/** An error the explorer answers on purpose, as application/problem+json (RFC 9457). */
export class ExplorerProblem extends Error {
  override name = "ExplorerProblem";
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  constructor(status: number, code: string, detail: string, headers: Record<string, string> = {}) {
    super(detail);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

type Reply =
  | { kind: "json"; body: unknown; status?: number; headers?: Record<string, string> }
  | { kind: "csv"; name: string; text: string }
  | { kind: "raw"; status: number; type: string; body: string | Buffer; headers?: Record<string, string> };

type Ctx = { params: string[]; query: URLSearchParams; csv: boolean; req: IncomingMessage; keyId: string };
type Handler = (ctx: Ctx) => Promise<Reply>;

/** Options of {@link createExplorerServer}. */
export interface ExplorerServerOptions {
  service: ExplorerService;
  keys: ExplorerKeyStore;
  sessions: SessionStore;
  logger?: Logger;
}

/** A running explorer HTTP server. */
export interface ExplorerServer {
  listen(port: number, host?: string): Promise<{ url: string; port: number }>;
  close(): Promise<void>;
}

/**
 * The explorer's HTTP server: read-only by construction. It routes GET and HEAD only (anything
 * else is 405 before it reaches a handler), and has no handler that writes to the chain or the
 * index; the one POST, `/api/logout`, ends the caller's own session and touches nothing else.
 * Every data route needs an explorer key, as `Authorization: Bearer` or as the HttpOnly
 * session cookie a login sets; without one the answer is 401. The UI shell (`/`) answers 401
 * with the login form too; its scripts and styles under `/assets/` carry no data and are public.
 *
 * @example
 * const server = createExplorerServer({ service, keys, sessions });
 * const { url } = await server.listen(0);
 */
export function createExplorerServer(options: ExplorerServerOptions): ExplorerServer {
  const { service, keys, sessions } = options;
  const log = options.logger ?? silentLogger;
  const routes: [RegExp, Handler][] = [];
  const get = (pattern: string, handler: Handler) =>
    routes.push([new RegExp(`^${pattern.replace(/:[a-z]+/g, "([^/]+)")}$`), handler]);
  let shell: Buffer | undefined;
  const assets = new Map<string, Buffer>();

  get("/api/session", async (ctx) => ({
    kind: "json",
    body: { keyId: ctx.keyId, label: keys.label(ctx.keyId), expiresInSeconds: sessions.maxAgeSeconds, idleTimeoutSeconds: Math.floor(sessions.limits.idleMs / 1000) },
  }));
  get("/api/meta", async () => ({ kind: "json", body: service.meta() }));
  get("/api/overview", async (ctx) => ({ kind: "json", body: await service.overview(window(ctx.query)) }));
  get("/api/operators", async (ctx) => {
    const include = str(ctx.query, "include");
    if (include !== undefined && include !== "all") throw new ExplorerProblem(400, "validation_failed", "include must be all (members only without it)");
    return table(ctx, include ? "registry" : "operators", await service.operators({ all: include === "all" }), OPERATOR_COLUMNS(service));
  });
  get("/api/operators/:code", async (ctx) => found(await service.operator(walletCode(ctx.params[0])), "operator"));
  get("/api/operators/:code/events", async (ctx) => {
    const code = walletCode(ctx.params[0]);
    if (ctx.csv) return csv(`operator-${code}-events`, await allPages((cursor) => service.operatorEvents(code, { cursor, limit: 1_000 })), EVENT_COLUMNS);
    return { kind: "json", body: await service.operatorEvents(code, { cursor: str(ctx.query, "cursor"), limit: limit(ctx.query) }) };
  });
  get("/api/operators/:code/returns", async (ctx) => {
    const code = walletCode(ctx.params[0]);
    if (ctx.csv) return csv(`operator-${code}-returns`, await allPages((cursor) => service.operatorReturns(code, { cursor, limit: 1_000 })), RETURN_COLUMNS);
    return { kind: "json", body: await service.operatorReturns(code, { cursor: str(ctx.query, "cursor"), limit: limit(ctx.query) }) };
  });
  get("/api/volume", async (ctx) => {
    const w = window(ctx.query);
    const until = w.until ?? (await service.now()) + 1;
    const since = w.since ?? until - 86_400;
    const step = int(ctx.query, "step") ?? 3600;
    const points = await service.volume({ since, until, step, offsetSeconds: (int(ctx.query, "tz") ?? 0) * 60 });
    const m = service.meta();
    return ctx.csv
      ? csv("volume", points, [
          { header: "start", value: (p) => isoTime(p.start) },
          { header: "transfers", value: (p) => p.count },
          { header: "amount", value: (p) => formatMinor(p.amount, m.decimals) },
          { header: "currency", value: () => m.currency },
          { header: "batches", value: (p) => p.batches },
        ])
      : { kind: "json", body: { since, until, step, points } };
  });
  get("/api/flows", async (ctx) => {
    const w = window(ctx.query);
    const until = w.until ?? (await service.now()) + 1;
    const flows = await service.flows({ since: w.since ?? until - 86_400, until });
    const m = service.meta();
    return ctx.csv
      ? csv("flows", flows.cells, [
          { header: "from_wallet", value: (c) => c.from },
          { header: "to_wallet", value: (c) => c.to },
          { header: "transfers", value: (c) => c.count },
          { header: "amount", value: (c) => formatMinor(c.amount, m.decimals) },
          { header: "currency", value: () => m.currency },
          { header: "since", value: () => isoTime(flows.since) },
          { header: "until", value: () => isoTime(flows.until) },
        ])
      : { kind: "json", body: flows };
  });
  get("/api/transfers", async (ctx) => {
    const filter = transferFilter(ctx.query);
    const sortByAmount = ctx.query.get("sort") === "amount";
    if (ctx.csv) {
      const rows: TransferRecord[] = [];
      let cursor: string | undefined;
      do {
        const page = await service.transfers(filter, { cursor, limit: 1_000, sortByAmount });
        rows.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor && rows.length < CSV_MAX_ROWS);
      return csv("transfers", rows.slice(0, CSV_MAX_ROWS), TRANSFER_COLUMNS(service));
    }
    const body = await service.transfers(filter, { cursor: str(ctx.query, "cursor"), limit: limit(ctx.query), sortByAmount, summary: !ctx.query.has("cursor") });
    return { kind: "json", body };
  });
  get("/api/transfers/:id", async (ctx) => found(await service.transfer(ctx.params[0]), "transfer"));
  get("/api/batches", async (ctx) => {
    const wallet = str(ctx.query, "wallet");
    if (ctx.csv) {
      const rows: BatchRecord[] = [];
      let cursor: string | undefined;
      do {
        const page = await service.batches({ wallet, cursor, limit: 1_000 });
        rows.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor && rows.length < CSV_MAX_ROWS);
      return csv("batches", rows, BATCH_COLUMNS(service));
    }
    return { kind: "json", body: await service.batches({ wallet, cursor: str(ctx.query, "cursor"), limit: limit(ctx.query) }) };
  });
  get("/api/batches/:code/:no", async (ctx) => {
    const no = /^[0-9]{1,19}$/.test(ctx.params[1]) ? BigInt(ctx.params[1]) : undefined;
    if (no === undefined) throw new ExplorerProblem(400, "validation_failed", "batch number must be a whole number");
    const batch = await service.batch(walletCode(ctx.params[0]), no);
    return ctx.csv && batch ? csv(`batch-${batch.batch.wallet}-${batch.batch.batchNo}`, batch.transfers, TRANSFER_COLUMNS(service)) : found(batch, "batch");
  });
  get("/api/blocks", async (ctx) => {
    const before = str(ctx.query, "before");
    if (before !== undefined && !/^[0-9]{1,15}$/.test(before)) throw new ExplorerProblem(400, "validation_failed", "before must be a block number");
    const page = await service.blocks({ before: before === undefined ? undefined : BigInt(before), limit: ctx.csv ? 200 : limit(ctx.query, 25) });
    return ctx.csv
      ? csv("blocks", page.items, [
          { header: "number", value: (b) => b.number },
          { header: "hash", value: (b) => b.hash },
          { header: "time", value: (b) => isoTime(b.timestamp) },
          { header: "transactions", value: (b) => b.transactions },
          { header: "gas_used", value: (b) => b.gasUsed },
          { header: "base_fee_per_gas_wei", value: (b) => b.baseFeePerGas },
          { header: "proposer_or_miner", value: (b) => b.miner },
        ])
      : { kind: "json", body: page };
  });
  get("/api/blocks/:n", async (ctx) => {
    if (!/^[0-9]{1,15}$/.test(ctx.params[0])) throw new ExplorerProblem(400, "validation_failed", "block number must be a whole number");
    return found(await service.block(BigInt(ctx.params[0])), "block");
  });
  get("/api/alerts", async (ctx) => {
    if (ctx.csv) {
      const all: Alert[] = [];
      let cursor: string | undefined;
      do {
        const page = await service.alerts({ cursor, limit: 1_000 });
        all.push(...page.active, ...page.history);
        cursor = page.nextCursor;
      } while (cursor && all.length < CSV_MAX_ROWS);
      return csv("alerts", all, ALERT_COLUMNS);
    }
    return { kind: "json", body: await service.alerts({ cursor: str(ctx.query, "cursor"), limit: limit(ctx.query) }) };
  });
  get("/api/alerts/summary", async () => ({ kind: "json", body: await service.alertSummary() }));

  function authenticate(req: IncomingMessage): { keyId: string; session?: string } | undefined {
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const m = BEARER.exec(auth);
      const found = m ? keys.verify(m[1]) : undefined;
      return found ? { keyId: found.id } : undefined;
    }
    const token = cookie(req, SESSION_COOKIE);
    const keyId = token ? sessions.check(token, { touch: req.headers[BACKGROUND_HEADER] !== "1" }) : undefined;
    if (!keyId) return undefined;
    // A key removed from the key file ends its sessions.
    if (!keys.has(keyId)) {
      sessions.revoke(token!);
      return undefined;
    }
    return { keyId, session: token };
  }

  /**
   * `POST /api/logout`: ends the session of the cookie it carries, here (the cookie is dead even if
   * copied), and clears it in the browser. Needs a live session (401); other methods are 405.
   * Cross-site requests are refused (403) even though the SameSite=Strict cookie would not be
   * sent with them: a page elsewhere must not be able to sign a regulator out.
   */
  function logout(req: IncomingMessage, method: string): { reply: Reply; keyId: string } {
    const who = authenticate(req);
    if (!who?.session) throw new ExplorerProblem(401, "unauthorized", "Sign-out needs the session cookie of a live session.");
    if (method !== "POST") throw new ExplorerProblem(405, "method_not_allowed", `Sign out with POST, not ${method}.`, { allow: "POST" });
    if (!sameOrigin(req)) throw new ExplorerProblem(403, "cross_origin", "Sign-out is accepted from the explorer's own pages only.");
    sessions.revoke(who.session);
    return { reply: { kind: "raw", status: 204, type: "", body: "", headers: { "set-cookie": `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0` } }, keyId: who.keyId };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = randomUUID();
    const method = req.method ?? "GET";
    let url = new URL("/", ORIGIN);
    let status = 500;
    let keyId: string | undefined;
    try {
      url = requestUrl(req.url);
      const p = url.pathname;
      if (method !== "GET" && method !== "HEAD" && p !== "/api/logout") {
        throw new ExplorerProblem(405, "method_not_allowed", `The explorer is read-only: ${method} is not allowed; use GET or HEAD.`, { allow: "GET, HEAD" });
      }
      let reply: Reply;
      if (p === "/api/logout") {
        ({ reply, keyId } = logout(req, method));
      } else if (p === "/healthz") {
        const s = service.meta().indexer;
        reply = { kind: "json", body: { status: s.lastError ? "degraded" : "ok", caughtUp: s.caughtUp, lagBlocks: s.lagBlocks } };
      } else if (p.startsWith("/assets/")) {
        const name = p.slice("/assets/".length);
        // Own keys only: `__proto__` or `constructor` must not reach readFile.
        if (!Object.hasOwn(ASSETS, name)) throw new ExplorerProblem(404, "not_found", `No asset ${truncate(name)}.`);
        reply = { kind: "raw", status: 200, type: ASSETS[name], body: await asset(name), headers: { "cache-control": "no-cache" } };
      } else if (p === "/" || p === "/index.html") {
        const who = authenticate(req);
        keyId = who?.keyId;
        shell ??= await readFile(path.join(UI_DIR, "index.html"));
        reply = {
          kind: "raw",
          status: who ? 200 : 401,
          type: "text/html; charset=utf-8",
          body: shell,
          headers: who ? {} : { "www-authenticate": 'Bearer realm="hulian-explorer"' },
        };
      } else {
        const route = routes.find(([re]) => re.test(p));
        if (!route) throw new ExplorerProblem(404, "not_found", `No route for ${truncate(p)}.`);
        const who = authenticate(req);
        if (!who) {
          throw new ExplorerProblem(401, "unauthorized", "Sign in with an explorer key (Authorization: Bearer <key>, or the login form).", {
            "www-authenticate": 'Bearer realm="hulian-explorer"',
          });
        }
        keyId = who.keyId;
        const params = route[0].exec(p)!.slice(1).map(decodeParam);
        const format = url.searchParams.get("format");
        if (format !== null && format !== "csv" && format !== "json") throw new ExplorerProblem(400, "validation_failed", "format must be csv or json");
        reply = await route[1]({ params, query: url.searchParams, csv: format === "csv", req, keyId });
        if (p === "/api/session" && !who.session) {
          // A sign-in replaces the browser's previous session rather than leaving it alive beside the new one.
          const previous = cookie(req, SESSION_COOKIE);
          if (previous) sessions.revoke(previous);
          reply = {
            ...(reply as Extract<Reply, { kind: "json" }>),
            headers: { "set-cookie": `${SESSION_COOKIE}=${sessions.issue(who.keyId)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${sessions.maxAgeSeconds}` },
          };
        }
      }
      status = send(res, reply, method, requestId);
    } catch (err) {
      const problem = err instanceof ExplorerProblem ? err : undefined;
      status = problem?.status ?? 500;
      if (!problem) log.error("explorer request failed", { path: truncate(url.pathname), err });
      const body = {
        type: `https://hulian.dev/problems/${problem?.code ?? "internal_error"}`,
        title: STATUS_CODES[status] ?? "Error",
        status,
        detail: problem?.message ?? "The explorer could not answer. It has been logged.",
        code: problem?.code ?? "internal_error",
        instance: truncate(url.pathname),
        requestId,
      };
      if (res.headersSent) res.destroy();
      else send(res, { kind: "raw", status, type: "application/problem+json", body: JSON.stringify(body), headers: problem?.headers }, method, requestId);
    } finally {
      log.info("request", { requestId, method, path: truncate(url.pathname), status, keyId, durationMs: Math.round((performance.now() - started) * 1000) / 1000 });
    }
  }

  async function asset(name: string): Promise<Buffer> {
    let body = assets.get(name);
    if (!body) {
      body = await readFile(path.join(UI_DIR, name));
      assets.set(name, body);
    }
    return body;
  }

  const server = createServer({ keepAlive: true }, (req, res) => {
    handle(req, res).catch((err) => {
      log.error("unhandled explorer failure", { err });
      res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  return {
    listen(port, host = "127.0.0.1") {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          const a = server.address() as AddressInfo;
          const shown = a.family === "IPv6" ? `[${a.address}]` : a.address;
          resolve({ url: `http://${shown}:${a.port}`, port: a.port });
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      });
    },
  };
}

function send(res: ServerResponse, reply: Reply, method: string, requestId: string): number {
  let status: number;
  let type: string;
  let body: string | Buffer;
  const headers: Record<string, string | number> = { ...SECURITY_HEADERS, "x-request-id": requestId, "cache-control": "no-store" };
  if (reply.kind === "json") {
    status = reply.status ?? 200;
    type = "application/json";
    body = JSON.stringify(reply.body, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
    Object.assign(headers, reply.headers);
  } else if (reply.kind === "csv") {
    status = 200;
    type = "text/csv; charset=utf-8";
    body = reply.text;
    headers["content-disposition"] = attachment(`hulian-${reply.name.toLowerCase()}-${new Date().toISOString().slice(0, 19).replace(/-|:/g, "").replace("T", "-")}.csv`);
  } else {
    status = reply.status;
    type = reply.type;
    body = reply.body;
    Object.assign(headers, reply.headers);
  }
  if (type !== "") headers["content-type"] = type;
  headers["content-length"] = Buffer.byteLength(body);
  res.writeHead(status, headers);
  res.end(method === "HEAD" ? undefined : body);
  return status;
}

/**
 * `Content-Disposition` of a download (RFC 6266): a plain ASCII `filename` of letters, digits,
 * `.`, `_` and `-` only (nothing can close the quote or start a header), and the same name as
 * `filename*` (RFC 8187 percent-encoding).
 */
export function attachment(name: string): string {
  const plain = name.replace(/[^A-Za-z0-9._-]/g, "_");
  return `attachment; filename="${plain}"; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

const ORIGIN = "http://explorer.invalid";

/** The request target as a URL; a target that is not one is the client's error (400), not ours. */
function requestUrl(target: string | undefined): URL {
  try {
    return new URL(target ?? "/", ORIGIN);
  } catch {
    throw new ExplorerProblem(400, "validation_failed", "The request target is not a valid URL path.");
  }
}

/** A path parameter, percent-decoded; malformed encoding (`%E0%A4%A`) is a 400. */
function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ExplorerProblem(400, "validation_failed", "The path holds malformed percent-encoding.");
  }
}

/** A wallet code path parameter: only what the registry accepts can name an operator. */
function walletCode(raw: string): string {
  if (!CODE.test(raw)) throw new ExplorerProblem(400, "validation_failed", "A wallet code is 1 to 24 letters, digits, _ or -.");
  return raw.toUpperCase();
}

/** Every item of a paged list, page by page (a page holds at most 1,000), up to {@link CSV_MAX_ROWS}. */
async function allPages<T>(page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string }>): Promise<T[]> {
  const rows: T[] = [];
  let cursor: string | undefined;
  do {
    const p = await page(cursor);
    rows.push(...p.items);
    cursor = p.nextCursor;
  } while (cursor && rows.length < CSV_MAX_ROWS);
  return rows.slice(0, CSV_MAX_ROWS);
}

function found(value: unknown, what: string): Reply {
  if (value === undefined || value === null) throw new ExplorerProblem(404, "not_found", `No such ${what}.`);
  return { kind: "json", body: value };
}

function csv<T>(name: string, rows: T[], columns: readonly CsvColumn<T>[]): Reply {
  return { kind: "csv", name, text: toCsv(columns, rows) };
}

function table<T>(ctx: Ctx, name: string, rows: T[], columns: readonly CsvColumn<T>[]): Reply {
  return ctx.csv ? csv(name, rows, columns) : { kind: "json", body: { items: rows } };
}

/**
 * Whether a state-changing request comes from the explorer's own pages. A current browser says so
 * in `Sec-Fetch-Site` (trusted first: it holds behind a proxy that rewrites `Host`); an older one
 * sends `Origin`, compared with `Host`; a client that sends neither (curl, a script) is no browser
 * a foreign page could drive.
 */
function sameOrigin(req: IncomingMessage): boolean {
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined) return site === "same-origin" || site === "none";
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}

function truncate(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

function str(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  return v === null || v === "" ? undefined : v;
}

function int(q: URLSearchParams, name: string): number | undefined {
  const v = str(q, name);
  if (v === undefined) return undefined;
  if (!/^-?[0-9]{1,15}$/.test(v)) throw new ExplorerProblem(400, "validation_failed", `${name} must be a whole number`);
  return Number(v);
}

function limit(q: URLSearchParams, fallback = 50): number {
  const n = int(q, "limit") ?? fallback;
  if (n < 1 || n > 1_000) throw new ExplorerProblem(400, "validation_failed", "limit must be from 1 to 1000");
  return n;
}

/** `since`/`until`: unix seconds or an ISO 8601 time. */
function time(q: URLSearchParams, name: string): number | undefined {
  const v = str(q, name);
  if (v === undefined) return undefined;
  if (/^[0-9]{1,12}$/.test(v)) return Number(v);
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new ExplorerProblem(400, "validation_failed", `${name} must be unix seconds or an ISO 8601 time`);
  return Math.floor(ms / 1000);
}

function window(q: URLSearchParams): { since?: number; until?: number } {
  return { since: time(q, "since"), until: time(q, "until") };
}

const HEX32 = /^0x[0-9a-fA-F]{64}$/;
const CODE = /^[A-Za-z0-9_-]{1,24}$/;

/** Parses the transfer search: `q` (a transfer id, transaction hash or reference), wallets, amounts, times. */
function transferFilter(q: URLSearchParams): TransferFilter {
  const f: TransferFilter = {};
  for (const name of ["transferId", "txHash", "ref"] as const) {
    const v = str(q, name);
    if (v !== undefined) {
      if (!HEX32.test(v)) throw new ExplorerProblem(400, "validation_failed", `${name} must be 0x and 64 hex digits`);
      f[name] = v;
    }
  }
  const free = str(q, "q")?.trim();
  if (free !== undefined) {
    if (!HEX32.test(free)) throw new ExplorerProblem(400, "validation_failed", "q must be a transfer id, a transaction hash or a customer reference (0x and 64 hex digits)");
    f.q = free;
  }
  for (const name of ["wallet", "from", "to"] as const) {
    const v = str(q, name);
    if (v !== undefined) {
      if (!CODE.test(v)) throw new ExplorerProblem(400, "validation_failed", `${name} must be a wallet code`);
      f[name] = v;
    }
  }
  for (const [name, field] of [["min", "minAmount"], ["max", "maxAmount"]] as const) {
    const v = str(q, name);
    if (v !== undefined) {
      if (!/^[0-9]{1,39}$/.test(v)) throw new ExplorerProblem(400, "validation_failed", `${name} must be an amount in minor units (digits only)`);
      f[field] = BigInt(v);
    }
  }
  f.since = time(q, "since");
  f.until = time(q, "until");
  return f;
}
