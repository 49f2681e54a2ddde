import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { WalletService } from "../../node/bridge/walletService.ts";
import { ApiKeyStore } from "../../node/api/apiKeys.ts";
import { buildOpenApi, openApiPath } from "../../node/api/openapi.ts";
import { createApiServer } from "../../node/api/server.ts";
import { silentLogger } from "../../node/observability/logger.ts";
import { startNode } from "./node.ts";

let node: { service: WalletService; close(): Promise<void> };
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => {
  await node.close();
});

/** A server with all routes registered (never started: the document needs registrations only). */
function routes() {
  return createApiServer({ service: node.service, keys: new ApiKeyStore(), logger: silentLogger });
}

type Doc = { openapi: string; paths: Record<string, Record<string, any>>; components: Record<string, Record<string, any>> };

/** Every `$ref` in the document points at something that exists. */
function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => refs(n, out));
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

describe("OpenAPI", () => {
  test("default: every registered route is an operation with a unique operationId", () => {
    const server = routes();
    const doc = buildOpenApi(server.routes()) as Doc;
    expect(doc.openapi).toBe("3.1.0");
    const ids = new Set<string>();
    for (const r of server.routes()) {
      const op = doc.paths[openApiPath(r.pattern)]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.pattern}`).toBeDefined();
      expect(ids.has(op.operationId)).toBe(false);
      ids.add(op.operationId);
    }
    for (const p of [
      "post /v1/accounts", "get /v1/accounts/{id}", "get /v1/accounts/by-handle/{handle}", "get /v1/accounts/{id}/history",
      "post /v1/accounts/{id}/close", "post /v1/accounts/{id}/top-ups", "post /v1/accounts/{id}/withdrawals",
      "post /v1/payments", "post /v1/payments/bulk", "get /v1/payments/{id}", "get /v1/directory/{address}", "get /healthz", "get /metrics", "get /openapi.json",
    ]) {
      const [method, path] = p.split(" ");
      expect(doc.paths[path]?.[method], p).toBeDefined();
    }
  });

  test("behavior: security, idempotency header, body schema and problems are described", () => {
    const doc = buildOpenApi(routes().routes()) as Doc;
    const topUp = doc.paths["/v1/accounts/{id}/top-ups"].post;
    expect(topUp.security).toEqual([{ apiKey: ["admin"] }]);
    expect(topUp.parameters.find((p: any) => p.name === "Idempotency-Key")).toMatchObject({ in: "header", required: true });
    expect(topUp.requestBody.content["application/json"].schema.properties.amount).toMatchObject({ type: "string", pattern: "^[1-9][0-9]{0,17}$" });
    for (const code of ["400", "401", "403", "413", "415", "422", "500"]) expect(topUp.responses[code], code).toBeDefined();
    expect(doc.paths["/healthz"].get.security).toEqual([]);
    expect(doc.paths["/metrics"].get.security).toEqual([{ apiKey: ["metrics"] }]);
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.responses.BadRequest.content["application/problem+json"]).toBeDefined();
  });

  test("behavior: every $ref resolves", () => {
    const doc = buildOpenApi(routes().routes()) as Doc;
    for (const ref of refs(doc)) {
      const [, , section, name] = ref.split("/");
      expect(doc.components[section]?.[name], ref).toBeDefined();
    }
  });

  test("behavior: a route mounted later by another module is documented too", () => {
    const server = routes();
    server.route("GET", "/v1/audit/transfers/:id", () => ({ status: 200, body: {} }), { auth: ["audit"] });
    const doc = buildOpenApi(server.routes()) as Doc;
    const op = doc.paths["/v1/audit/transfers/{id}"].get;
    expect(op.security).toEqual([{ apiKey: ["audit"] }]);
    expect(op.parameters[0]).toMatchObject({ name: "id", in: "path", required: true });
  });
});
