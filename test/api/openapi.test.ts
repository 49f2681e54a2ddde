import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { WalletService } from "../../node/bridge/walletService.ts";
import { ApiKeyStore, createApiKey } from "../../node/api/apiKeys.ts";
import { buildOpenApi, openApiPath } from "../../node/api/openapi.ts";
import { RateLimiter } from "../../node/api/rateLimit.ts";
import { createApiServer } from "../../node/api/server.ts";
import { STRING_FORMATS } from "../../node/api/validate.ts";
import { silentLogger } from "../../node/observability/logger.ts";
import { type TestNodes, startTestNodes } from "../helpers/testNode.ts";
import { call, expectProblem, registerApiDocument } from "./client.ts";
import { OpenApiResponseChecker, operationsOf } from "./openapiCheck.ts";
import { freshHandle, idemKey } from "./node.ts";

// Real nodes as `hulian node` runs them (node/cli/nodeRuntime.ts): every route is mounted,
// the audit API, the reconciliation and the node-to-node resolve route included.
let network: TestNodes;
let node: { service: WalletService; url: string; keys: { app: string; admin: string; audit: string } };
beforeAll(async () => {
  network = await startTestNodes([
    { code: "ALIPAY", name: "Alipay", reserve: 10_000_000_00n },
    { code: "WECHAT", name: "WeChat Pay", reserve: 10_000_000_00n },
  ]);
  node = network.byCode("ALIPAY");
}, 120_000);
afterAll(async () => {
  await network?.close();
});

/** The document as the node serves it. */
async function served(): Promise<Doc> {
  const r = await fetch(`${node.url}/openapi.json`);
  expect(r.status).toBe(200);
  return (await r.json()) as Doc;
}

/** Every value of `key` anywhere in the document. */
function valuesOf(node: unknown, key: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(node)) node.forEach((n) => valuesOf(n, key, out));
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === key) out.push(v);
      valuesOf(v, key, out);
    }
  }
  return out;
}

/** A server with all routes registered (never started: the document needs registrations only). */
function routes() {
  return createApiServer({ service: node.service, keys: new ApiKeyStore(), logger: silentLogger });
}

type Doc = { openapi: string; paths: Record<string, Record<string, any>>; components: Record<string, Record<string, any>>; [k: string]: any };

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

describe("OpenAPI document as served", () => {
  test("default: the document a running node serves is valid against the official OpenAPI 3.1 schema, with every route", async () => {
    const doc = await served();
    const result = await new Validator().validate(structuredClone(doc));
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
    const ops = operationsOf(doc);
    for (const op of ["GET /v1/admin/reconciliation", "POST /node/v1/resolve", "GET /v1/audit/transfers/{ref}", "GET /v1/audit/statements", "POST /v1/audit/inclusion", "GET /v1/accounts/{id}/reserve-proof", "POST /v1/admin/attestations"]) {
      expect(ops, op).toContain(op);
    }
    expect(doc.servers).toEqual([{ url: "/", description: "The node that serves this document." }]);
  });

  test("behavior: every schema compiles with ajv in strict mode, and every format it uses is defined in x-formats (or is date-time or uri)", async () => {
    const doc = await served();
    expect(Object.keys(doc["x-formats"]).sort()).toEqual(Object.keys(STRING_FORMATS).sort());
    for (const format of new Set(valuesOf(doc, "format"))) {
      expect(["date-time", "uri", ...Object.keys(doc["x-formats"])], String(format)).toContain(format);
    }
    // The checker compiles the components when it is made (strict: unknown keywords and formats throw) …
    const checker = new OpenApiResponseChecker(doc);
    // … and each response schema when it is first used: use them all.
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
          for (const type of Object.keys(response.content ?? {})) {
            const problems = checker.problems({ method, path: path.replace(/\{[^}]+\}/g, "x"), status: Number(status), contentType: type, body: "{}" });
            expect(problems.join("\n"), `${method} ${path} ${status}`).not.toMatch(/schema is invalid|unknown format|strict mode/);
          }
        }
      }
    }
  });

  test("behavior: every status a route answers is documented: 422 insufficient_funds (not 409), invalid_cursor, payee_wallet_unknown, 429 everywhere", async () => {
    const doc = await served();
    const pay = doc.paths["/v1/payments"].post.responses;
    expect(doc.components.responses.Unprocessable.description).toContain("`insufficient_funds`");
    expect(doc.components.responses.Conflict.description).not.toContain("insufficient_funds");
    expect(pay["422"]).toEqual({ $ref: "#/components/responses/Unprocessable" });
    expect(doc.paths["/v1/accounts/{id}/history"].get.responses["422"]).toBeDefined();
    expect(doc.components.responses.Unprocessable.description).toContain("`invalid_cursor`");
    expect(doc.paths["/v1/directory/{address}"].get.responses["422"]).toBeDefined();
    expect(doc.components.responses.Unprocessable.description).toContain("`payee_wallet_unknown`");
    expect(doc.components.responses.TooManyRequests.headers["Retry-After"]).toBeDefined();
    for (const op of operationsOf(doc)) {
      const [method, path] = op.split(" ");
      expect(doc.paths[path][method.toLowerCase()].responses["429"], op).toEqual({ $ref: "#/components/responses/TooManyRequests" });
    }
  });

  test("behavior: the reconciliation, audit and node-to-node operations describe their success bodies", async () => {
    const doc = await served();
    for (const op of operationsOf(doc)) {
      const [method, path] = op.split(" ");
      const responses = doc.paths[path][method.toLowerCase()].responses as Record<string, any>;
      for (const [status, r] of Object.entries(responses)) {
        if (status.startsWith("2")) expect(r.content, `${op} ${status}`).toBeDefined();
      }
    }
    expect(doc.paths["/v1/admin/reconciliation"].get.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Reconciliation" });
    expect(Object.keys(doc.paths["/v1/audit/statements"].get.responses["200"].content).sort()).toEqual(["application/json", "application/xml", "text/csv"]);
  });

  test("behavior: the refusals named above come back as documented from a real node (the client checks each response)", async () => {
    const key = node.keys.app;
    const open = await call(node.url, "POST", "/v1/accounts", { key, idem: idemKey(), body: { handle: freshHandle("oa"), displayName: "Open Api" } });
    expect(open.status, open.text).toBe(201);
    const id = open.json.id as string;
    expectProblem(await call(node.url, "POST", "/v1/payments", { key, idem: idemKey(), body: { from: id, to: `${freshHandle("wx")}@WECHAT`, amount: "100" } }), 422, "insufficient_funds");
    expectProblem(await call(node.url, "GET", `/v1/accounts/${id}/history?cursor=nope`, { key }), 422, "invalid_cursor");
    expectProblem(await call(node.url, "GET", `/v1/directory/${freshHandle("x")}@NOWALLET`, { key }), 422, "payee_wallet_unknown");
    const rec = await call(node.url, "GET", "/v1/admin/reconciliation", { key: node.keys.admin });
    expect(rec.status, rec.text).toBe(200);
    expect(rec.json.reconciled).toBe(true);
  });

  test("behavior: a rate-limited request is 429 as documented", async () => {
    const keys = new ApiKeyStore();
    const k = createApiKey(["app"]);
    keys.add(k.record);
    const api = createApiServer({ service: node.service, keys, logger: silentLogger, rateLimit: new RateLimiter({ ratePerSecond: 0.001, burst: 1 }) });
    const { url } = await api.listen(0, "127.0.0.1");
    try {
      registerApiDocument(url, () => buildOpenApi(api.routes()));
      expect((await call(url, "GET", "/v1/accounts/c_none", { key: k.key })).status).toBe(404);
      const limited = await call(url, "GET", "/v1/accounts/c_none", { key: k.key });
      expectProblem(limited, 429, "rate_limited");
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    } finally {
      await api.close();
    }
  });
});

describe("response checker (test/api/openapiCheck.ts)", () => {
  const problem = (status: number, code: string) => JSON.stringify({ type: `https://hulian.dev/problems/${code}`, title: "t", status, detail: "d", code });
  let checker: OpenApiResponseChecker;
  beforeAll(async () => {
    checker = new OpenApiResponseChecker(await served());
  });

  test("default: a documented status with a body of its schema passes", () => {
    expect(checker.problems({ method: "GET", path: "/healthz", status: 200, contentType: "application/json", body: '{"ok":true,"wallet":"ALIPAY"}' })).toEqual([]);
    expect(checker.problems({ method: "GET", path: "/v1/accounts/c_1", status: 404, contentType: "application/problem+json", body: problem(404, "account_not_found") })).toEqual([]);
    expect(checker.problems({ method: "GET", path: "/v1/nope", status: 404, contentType: "application/problem+json", body: problem(404, "not_found") })).toEqual([]);
    expect(checker.problems({ method: "PUT", path: "/v1/accounts/c_1", status: 405, contentType: "application/problem+json", body: problem(405, "method_not_allowed") })).toEqual([]);
  });

  test("error: an undocumented status names the route, the operation and the status", () => {
    expect(checker.problems({ method: "GET", path: "/v1/accounts/c_1?x=1", status: 409, contentType: "application/problem+json", body: problem(409, "x") })).toEqual([
      "GET /v1/accounts/{id} (getAccount) → 409: status not documented (documented: 200, 400, 401, 403, 404, 429, 500, 503)",
    ]);
    expect(checker.problems({ method: "GET", path: "/v1/nope", status: 200, contentType: "application/json", body: "{}" })[0]).toBe(
      "GET /v1/nope (no operation) → 200: expected 404 not_found, the only answer the document allows without an operation",
    );
  });

  test("error: a body off its schema, an undocumented media type, a problem whose status differs, a body where none is documented", () => {
    const [missing] = checker.problems({ method: "GET", path: "/healthz", status: 200, contentType: "application/json", body: '{"ok":"yes"}' });
    expect(missing).toMatch(/^GET \/healthz \(health\) → 200: body/);
    expect(checker.problems({ method: "GET", path: "/healthz", status: 200, contentType: "text/html", body: "<p>" })).toEqual(["GET /healthz (health) → 200: media type text/html not documented (documented: application/json)"]);
    expect(checker.problems({ method: "GET", path: "/v1/accounts/c_1", status: 404, contentType: "application/problem+json", body: problem(400, "x") })).toEqual([
      "GET /v1/accounts/{id} (getAccount) → 404: the problem's status 400 is not the HTTP status",
    ]);
    expect(checker.problems({ method: "GET", path: "/v1/accounts/c_1", status: 200, contentType: "application/json", body: '{"id":"c_1"}' }).length).toBeGreaterThan(0);
    expect(() => checker.assert({ method: "GET", path: "/healthz", status: 200, contentType: "application/json", body: "{}" })).toThrow(/^response does not match the OpenAPI document:\n {2}GET \/healthz \(health\) → 200: body must have required property 'ok'/);
  });
});
