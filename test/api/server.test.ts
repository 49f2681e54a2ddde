import { request, Agent } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ApiProblem } from "../../node/api/problem.ts";
import { call, expectProblem } from "./client.ts";
import { freshHandle, idemKey, startApi, type TestApi } from "./node.ts";

let api: TestApi;
let release: () => void = () => {};

beforeAll(async () => {
  api = await startApi({ bodyTimeoutMs: 300, handlerTimeoutMs: 300, maxBodyBytes: 64 * 1024 });
  // Routes mounted the way other modules (directory, audit API) will mount theirs.
  api.server.route("GET", "/test/boom", () => {
    throw new Error("ECONNREFUSED 10.1.2.3:8545 secret=hunter2");
  }, { auth: "none" });
  // Documented like any route: the client checks every response against the OpenAPI document.
  const problem = { $ref: "#/components/schemas/Problem" };
  api.server.route("GET", "/test/problem", () => {
    throw new ApiProblem("teapot", 418, "Short and stout.");
  }, { auth: ["audit"], doc: { operationId: "testProblem", summary: "test", responses: { "418": { description: "teapot", schema: problem, contentType: "application/problem+json" } } } });
  api.server.route("POST", "/test/slow", () => new Promise((resolve) => {
    release = () => resolve({ status: 201, body: { done: true } });
  }), { auth: ["app"], body: { type: "object", properties: {}, additionalProperties: true }, doc: { operationId: "testSlow", summary: "test", responses: { "201": { description: "done", schema: { type: "object" } } } } });
});
afterAll(async () => {
  release();
  await api?.close();
});

/** Sends raw bytes over a fresh socket and returns what came back once the server closes or answers. */
function rawRequest(bytes: string, waitMs: number): Promise<string> {
  const { port } = new URL(api.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1");
    let out = "";
    socket.on("data", (d) => (out += d.toString("utf8")));
    socket.on("error", reject);
    socket.on("close", () => resolve(out));
    socket.write(bytes);
    setTimeout(() => socket.end(), waitMs);
  });
}

describe("routing errors", () => {
  test("error: unknown routes are 404 problems", async () => {
    expectProblem(await call(api.url, "GET", "/v1/nope"), 404, "not_found");
    expectProblem(await call(api.url, "GET", "/v2/accounts"), 404, "not_found");
  });

  test("error: a wrong method is 405 with Allow", async () => {
    const r = await call(api.url, "DELETE", "/v1/payments", { key: api.keys.app });
    expectProblem(r, 405, "method_not_allowed");
    expect(r.headers.get("allow")).toBe("POST");
    expect((await call(api.url, "PUT", "/v1/accounts/c_1", { key: api.keys.app })).headers.get("allow")).toBe("GET");
  });
});

describe("bodies", () => {
  const path = "/v1/accounts";
  const base = () => ({ key: api.keys.app, idem: idemKey() });

  test("error: a body over 64 KiB is 413", async () => {
    const big = JSON.stringify({ handle: "a", displayName: "x".repeat(70_000) });
    expectProblem(await call(api.url, "POST", path, { ...base(), raw: big }), 413, "payload_too_large");
  });

  test("error: a chunked body that grows past the limit is 413 too", async () => {
    const chunk = "x".repeat(16 * 1024);
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode('{"handle":"a","displayName":"'));
        for (let i = 0; i < 6; i++) c.enqueue(new TextEncoder().encode(chunk));
        c.enqueue(new TextEncoder().encode('"}'));
        c.close();
      },
    });
    const res = await fetch(api.url + path, {
      method: "POST",
      headers: { authorization: `Bearer ${api.keys.app}`, "idempotency-key": idemKey(), "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect((await res.json()).code).toBe("payload_too_large");
  });

  test("error: a body that is not application/json is 415", async () => {
    const r = await call(api.url, "POST", path, { ...base(), raw: "handle=a", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expectProblem(r, 415, "unsupported_media_type");
    expectProblem(await call(api.url, "POST", path, { ...base(), raw: "{}", headers: { "content-type": "application/json; charset=latin1" } }), 415, "unsupported_media_type");
  });

  test("behavior: application/json with charset utf-8 is accepted", async () => {
    const r = await call(api.url, "POST", path, { ...base(), raw: JSON.stringify({ handle: freshHandle(), displayName: "U" }), headers: { "content-type": "application/json; charset=UTF-8" } });
    expect(r.status).toBe(201);
  });

  test("behavior: a leading UTF-8 byte-order mark is ignored", async () => {
    const r = await call(api.url, "POST", path, { ...base(), raw: "\uFEFF" + JSON.stringify({ handle: freshHandle(), displayName: "Bom" }) });
    expect(r.status, r.text).toBe(201);
  });

  test("error: invalid JSON and invalid UTF-8 are 400 malformed_json", async () => {
    expectProblem(await call(api.url, "POST", path, { ...base(), raw: '{"handle": "a",' }), 400, "malformed_json");
    const bad = new Uint8Array([...new TextEncoder().encode('{"handle":"'), 0xc3, 0x28, ...new TextEncoder().encode('","displayName":"x"}')]);
    expect(expectProblem(await call(api.url, "POST", path, { ...base(), raw: bad }), 400, "malformed_json").detail).toContain("UTF-8");
  });

  test("error: a POST that needs a body and has none is 400 validation_failed", async () => {
    const r = await call(api.url, "POST", path, base());
    expect(expectProblem(r, 400, "validation_failed").errors).toEqual([{ field: "body", message: "a JSON body is required" }]);
  });

  test("error: a body that stalls is 408 and the connection closes", async () => {
    const body = '{"handle":"a","displayName":"b"}';
    const out = await rawRequest(
      `POST /v1/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${api.keys.app}\r\nIdempotency-Key: ${idemKey()}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length + 10}\r\n\r\n${body}`,
      2_000,
    );
    expect(out).toMatch(/^HTTP\/1\.1 408 /);
    expect(out).toMatch(/content-type: application\/problem\+json/i);
    expect(out).toMatch(/connection: close/i);
    expect(out).toContain('"code":"request_timeout"');
  });
});

describe("failures inside handlers", () => {
  test("error: an unexpected error is 500 internal_error, nothing leaks, the log has the details", async () => {
    const r = await call(api.url, "GET", "/test/boom", { headers: { "x-request-id": "req-boom-1" } });
    const p = expectProblem(r, 500, "internal_error");
    expect(r.text).not.toMatch(/ECONNREFUSED|10\.1\.2\.3|hunter2|stack/);
    expect(p.requestId).toBe("req-boom-1");
    const line = api.logs.find((l) => l.msg === "request failed" && l.requestId === "req-boom-1") as any;
    expect(line.level).toBe("error");
    expect(line.err.message).toContain("ECONNREFUSED");
    expect(line.err.stack).toBeDefined();
  });

  test("behavior: an ApiProblem from a mounted route keeps its own code and status", async () => {
    expectProblem(await call(api.url, "GET", "/test/problem", { key: api.keys.audit }), 418, "teapot");
    expectProblem(await call(api.url, "GET", "/test/problem", { key: api.keys.admin }), 403, "forbidden");
  });

  test("behavior: a slow service is 503 service_timeout; the same key is 409 until the first finishes", async () => {
    const idem = idemKey();
    const opts = { key: api.keys.app, idem, body: { n: 1 } };
    const timedOut = await call(api.url, "POST", "/test/slow", opts);
    expectProblem(timedOut, 503, "service_timeout");
    expect(timedOut.headers.get("retry-after")).toBe("1");
    const busy = await call(api.url, "POST", "/test/slow", opts);
    expectProblem(busy, 409, "idempotency_key_in_use");
    release();
    await new Promise((r) => setTimeout(r, 20));
    const slowAgain = call(api.url, "POST", "/test/slow", opts);
    await new Promise((r) => setTimeout(r, 50));
    release();
    expect((await slowAgain).status).toBe(201);
  });
});

describe("request ids and logs", () => {
  test("default: X-Request-Id is echoed, or generated when absent or unsafe", async () => {
    expect((await call(api.url, "GET", "/healthz", { headers: { "x-request-id": "abc-123" } })).headers.get("x-request-id")).toBe("abc-123");
    expect((await call(api.url, "GET", "/healthz")).headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect((await call(api.url, "GET", "/healthz", { headers: { "x-request-id": "a b\"<>" } })).headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("behavior: one line per request with method, path, status and duration; no key, no handle", async () => {
    const handle = freshHandle("secretive");
    await call(api.url, "GET", `/v1/accounts/by-handle/${handle}`, { key: api.keys.app, headers: { "x-request-id": "req-log-1" } });
    const line = api.logs.find((l) => l.msg === "request" && l.requestId === "req-log-1") as any;
    expect(line).toMatchObject({ level: "info", method: "GET", path: "/v1/accounts/by-handle/:handle", route: "/v1/accounts/by-handle/:handle", status: 404, apiKeyId: api.keyIds.app });
    expect(typeof line.durationMs).toBe("number");
    const all = JSON.stringify(api.logs);
    expect(all).not.toContain(api.keys.app);
    expect(all).not.toContain(api.keys.admin);
    expect(all).not.toContain(handle);
  });

  test("behavior: responses are not cacheable", async () => {
    expect((await call(api.url, "GET", "/healthz")).headers.get("cache-control")).toBe("no-store");
  });
});

describe("connections", () => {
  test("behavior: keep-alive reuses one socket across requests, errors included", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const { port } = new URL(api.url);
    const once = (path: string) =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, path, agent, headers: { authorization: `Bearer ${api.keys.app}` } }, (res) => {
          res.resume();
          res.on("end", () => resolve({ status: res.statusCode!, reused: req.reusedSocket }));
        });
        req.on("error", reject);
        req.end();
      });
    const a = await once("/healthz");
    const b = await once("/v1/accounts/c_missing");
    const c = await once("/v1/nope");
    agent.destroy();
    expect([a.status, b.status, c.status]).toEqual([200, 404, 404]);
    expect([b.reused, c.reused]).toEqual([true, true]);
  });

  test("behavior: close() returns while an idle keep-alive connection is open", async () => {
    const other = await startApi();
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve) => {
      const { port } = new URL(other.url);
      request({ host: "127.0.0.1", port, path: "/healthz", agent }, (res) => {
        res.resume();
        res.on("end", () => resolve());
      }).end();
    });
    const started = Date.now();
    await other.close();
    agent.destroy();
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
