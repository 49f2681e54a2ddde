import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MAX_JSON_DEPTH, nestingExceeds } from "../../node/api/body.ts";
import { call, expectProblem } from "./client.ts";
import { idemKey, startApi, type TestApi } from "./node.ts";

/*
 * Bodies nested deeper than MAX_JSON_DEPTH are refused before they are parsed, fingerprinted or
 * validated: a deeply nested bulk item used to overflow the stack while the idempotency
 * fingerprint was computed, and answered 500.
 */

let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

describe("nesting depth", () => {
  test("error: a bulk item nested 100,000 deep is 400 validation_failed, not 500", async () => {
    // The bulk schema checks that each item is an object and leaves its fields to the route.
    const raw = `{"payments":[{"from":"c_1","to":"bob","amount":"1","memo":${nested(100_000)}}]}`;
    const r = await call(api.url, "POST", "/v1/payments/bulk", { key: api.keys.app, idem: idemKey(), raw });
    const p = expectProblem(r, 400, "validation_failed");
    expect(p.errors).toEqual([{ field: "body", message: `must not nest arrays and objects deeper than ${MAX_JSON_DEPTH} levels` }]);
    // Nothing was stored under the key: the node answers the next request normally.
    expect((await call(api.url, "GET", "/healthz")).status).toBe(200);
  });

  test("error: the limit holds for objects too, on any route", async () => {
    const deep = '{"a":'.repeat(MAX_JSON_DEPTH + 1) + "1" + "}".repeat(MAX_JSON_DEPTH + 1);
    const p = expectProblem(await call(api.url, "POST", "/v1/accounts", { key: api.keys.app, idem: idemKey(), raw: deep }), 400, "validation_failed");
    expect(p.errors).toEqual([{ field: "body", message: expect.stringMatching(/must not nest/) }]);
  });

  test("behavior: nesting up to the limit passes the depth check and meets the schema as before", async () => {
    // The body object counts as the first level.
    const raw = `{"payments":[${nested(MAX_JSON_DEPTH - 2)}]}`;
    const r = await call(api.url, "POST", "/v1/payments/bulk", { key: api.keys.app, idem: idemKey(), raw });
    expect(r.status).not.toBe(500);
    expect(r.json.errors?.[0]?.message ?? "").not.toMatch(/nest/);
  });

  test("default: brackets inside strings, escaped quotes included, do not count", () => {
    const text = `{"memo":"${"[".repeat(100)}\\"${"{".repeat(100)}","x":[[1]]}`;
    expect(nestingExceeds(Buffer.from(text), 3)).toBe(false);
    expect(nestingExceeds(Buffer.from(text), 2)).toBe(true);
    expect(nestingExceeds(Buffer.from(nested(33)), 32)).toBe(true);
    expect(nestingExceeds(Buffer.from(nested(32)), 32)).toBe(false);
  });
});
