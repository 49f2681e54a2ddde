import type { WalletService } from "../../bridge/walletService.ts";
import type { Scope } from "../apiKeys.ts";
import { processEventLoopDelay } from "../../observability/eventLoopDelay.ts";
import { renderMetrics, PROMETHEUS_CONTENT_TYPE, type HttpMetrics } from "../metrics.ts";
import { buildOpenApi } from "../openapi.ts";
import type { Route } from "../router.ts";
import type { RouteRegistry } from "./common.ts";

/** Scopes that may read /metrics (`admin` implies `metrics`). */
export const METRICS_SCOPES: readonly Scope[] = ["metrics"];

/** What the system routes need. */
export interface SystemRoutesDeps {
  service: WalletService;
  httpMetrics: HttpMetrics;
  /** The routes registered so far, read on each request so later additions are documented. */
  routes: () => readonly Route[];
}

/**
 * Registers `GET /healthz` (open; only `ok` and the wallet code, 503 when not ok),
 * `GET /metrics` (Prometheus text; scope `metrics` or `admin`) and `GET /openapi.json` (open).
 */
export function registerSystemRoutes(server: RouteRegistry, { service, httpMetrics, routes }: SystemRoutesDeps): void {
  // The event loop is the process's: one monitor (10 s windows) serves every server in it.
  const eventLoop = processEventLoopDelay();
  server.route(
    "GET",
    "/healthz",
    async () => {
      const h = await service.health();
      return { status: h.ok ? 200 : 503, body: { ok: h.ok, wallet: h.wallet } };
    },
    {
      auth: "none",
      doc: {
        operationId: "health",
        summary: "Liveness and readiness",
        tags: ["system"],
        responses: {
          "200": { description: "Ready.", schema: { $ref: "#/components/schemas/Health" } },
          "503": { description: "Not ready.", schema: { $ref: "#/components/schemas/Health" } },
        },
      },
    },
  );

  server.route(
    "GET",
    "/metrics",
    async () => {
      const text = renderMetrics(await service.metrics(), { wallet: service.wallet.code, currency: service.wallet.currency }, httpMetrics, eventLoop.last());
      return { status: 200, text, contentType: PROMETHEUS_CONTENT_TYPE };
    },
    {
      auth: METRICS_SCOPES,
      doc: {
        operationId: "metrics",
        summary: "Prometheus metrics (text format 0.0.4)",
        tags: ["system"],
        responses: { "200": { description: "Metrics.", contentType: "text/plain; version=0.0.4", schema: { type: "string" } } },
      },
    },
  );

  let cache: { count: number; doc: string } | undefined;
  server.route(
    "GET",
    "/openapi.json",
    () => {
      const all = routes();
      if (cache?.count !== all.length) {
        cache = { count: all.length, doc: JSON.stringify(buildOpenApi(all, { wallet: service.wallet.code })) };
      }
      return { status: 200, text: cache.doc, contentType: "application/json" };
    },
    {
      auth: "none",
      doc: {
        operationId: "openapi",
        summary: "This API's OpenAPI 3.1 document",
        tags: ["system"],
        responses: { "200": { description: "The document.", schema: { type: "object" } } },
      },
    },
  );
}
