import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BULK_MAX_BODY_BYTES, BULK_MAX_PAYMENTS } from "../../node/api/routes/payments.ts";
import { call, expectProblem, type Reply } from "./client.ts";
import { freshHandle, idemKey, startApi, type TestApi } from "./node.ts";

/*
 * POST /v1/payments/bulk against a real node (ALIPAY, with WECHAT on the same chain): each payment
 * is accepted or refused on its own, exactly as POST /v1/payments would treat it alone; the whole
 * request is idempotent under one key. Settlement of bulk-accepted payments: bulkSettlement.test.ts.
 */

let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

const post = (path: string, body: unknown, idem = idemKey(), key = api.keys.app) => call(api.url, "POST", path, { key, body, idem });
const get = (path: string) => call(api.url, "GET", path, { key: api.keys.app });
const bulk = (payments: unknown[], idem = idemKey()) => post("/v1/payments/bulk", { payments }, idem);

async function openAccount(balance?: string) {
  const r = await post("/v1/accounts", { handle: freshHandle(), displayName: "Bulk Tester" });
  expect(r.status, r.text).toBe(201);
  if (balance !== undefined) {
    const t = await post(`/v1/accounts/${r.json.id}/top-ups`, { amount: balance, reference: `bank-${idemKey()}` }, idemKey(), api.keys.admin);
    expect(t.status, t.text).toBe(201);
  }
  return r.json as { id: string; handle: string };
}

const balance = async (id: string) => (await get(`/v1/accounts/${id}`)).json.balance as string;

function expectBulk(r: Reply, accepted: number, refused: number) {
  expect(r.status, r.text).toBe(200);
  expect(r.headers.get("content-type")).toBe("application/json");
  expect(r.json).toMatchObject({ accepted, refused });
  expect(r.json.results).toHaveLength(accepted + refused);
  return r.json.results as any[];
}

describe("bulk payments", () => {
  test("default: same-wallet and cross-wallet payments in one request, each with the payment POST /v1/payments returns, in order", async () => {
    const payer = await openAccount("100000");
    const payee = await openAccount();
    const other = freshHandle("wx");
    const r = await bulk([
      { from: payer.id, to: payee.handle, amount: "1000", memo: "rent share" },
      { from: payer.id, to: `${other}@WECHAT`, amount: "2500" },
      { from: payer.id, to: payee.handle, amount: "1" },
      { from: payer.id, to: `${other}@wechat`, amount: "99", memo: "tea" },
    ]);
    const results = expectBulk(r, 4, 0);
    expect(r.headers.get("idempotent-replayed")).toBeNull();
    expect(results.map((x) => x.status)).toEqual(["accepted", "accepted", "accepted", "accepted"]);
    expect(results[0].payment).toMatchObject({ kind: "same_wallet", status: "settled", from: payer.id, to: `${payee.handle}@ALIPAY`, toWallet: "ALIPAY", amount: "1000", display: "10.00", currency: "CNY", memo: "rent share" });
    expect(results[1].payment).toMatchObject({ kind: "cross_wallet", status: "accepted", to: `${other}@WECHAT`, toWallet: "WECHAT", amount: "2500" });
    expect(results[3].payment).toMatchObject({ kind: "cross_wallet", toWallet: "WECHAT", amount: "99", memo: "tea" });
    expect(new Set(results.map((x) => x.payment.id)).size).toBe(4);
    // Each payment is the resource GET /v1/payments/:id shows, as POST /v1/payments would have answered.
    const single = await post("/v1/payments", { from: payer.id, to: payee.handle, amount: "2" });
    expect(Object.keys(results[0].payment).sort()).toEqual([...Object.keys(single.json), "memo"].sort());
    for (const x of results) expect((await get(`/v1/payments/${x.payment.id}`)).json).toMatchObject({ id: x.payment.id, kind: x.payment.kind, amount: x.payment.amount });
    expect(await balance(payer.id)).toBe(String(100000 - 1000 - 2500 - 1 - 99 - 2));
    expect(await balance(payee.id)).toBe(String(1000 + 1 + 2));
  });

  test("behavior: payments are made in order; one the balance no longer covers is refused alone", async () => {
    const payer = await openAccount("1000");
    const payee = await openAccount();
    const results = expectBulk(
      await bulk([
        { from: payer.id, to: payee.handle, amount: "600" },
        { from: payer.id, to: payee.handle, amount: "600" },
        { from: payer.id, to: `${freshHandle()}@WECHAT`, amount: "400" },
      ]),
      2,
      1,
    );
    expect(results.map((x) => x.status)).toEqual(["accepted", "refused", "accepted"]);
    expect(await balance(payer.id)).toBe("0");
    expect(await balance(payee.id)).toBe("600");
  });

  test("error: refused payments carry the problem POST /v1/payments gives, change nothing and hold nothing back", async () => {
    const payer = await openAccount("5000");
    const poor = await openAccount("10");
    const payee = await openAccount();
    const items = [
      { from: "c_nobodyhasthisaccount", to: payee.handle, amount: "100" }, // unknown payer
      { from: poor.id, to: payee.handle, amount: "11" }, // insufficient funds
      { from: payer.id, to: payee.handle, amount: "0" }, // bad amount
      { from: payer.id, to: payee.handle, amount: 100 }, // amount as a JSON number
      { from: payer.id, to: `${freshHandle("ghost")}`, amount: "5" }, // no such local payee
      { from: payer.id, to: payer.handle, amount: "5" }, // paying oneself
      { from: poor.id, to: `${freshHandle()}@WECHAT`, amount: "11" }, // insufficient funds, cross-wallet
      { from: payer.id, to: payee.handle, amount: "700" }, // fine
      { from: 7, to: payee.handle, amount: "1" }, // a field of the wrong type
      { from: payer.id, to: payee.handle, amount: "1", extra: true },
    ];
    const r = await bulk(items);
    const results = expectBulk(r, 1, 9);
    expect(results[7]).toMatchObject({ status: "accepted", payment: { amount: "700" } });

    // What each would have answered alone, as POST /v1/payments (same code, title and status).
    for (const [i, item] of items.entries()) {
      if (i === 7) continue;
      const alone = await post("/v1/payments", item);
      expect(alone.status, `item ${i}: ${alone.text}`).toBeGreaterThanOrEqual(400);
      expect(results[i].status, `item ${i}`).toBe("refused");
      const p = results[i].problem;
      expect({ code: p.code, title: p.title, status: p.status, type: p.type }, `item ${i}`).toEqual({ code: alone.json.code, title: alone.json.title, status: alone.json.status, type: alone.json.type });
      if (alone.json.errors) expect(p.errors, `item ${i}`).toEqual(alone.json.errors);
    }
    expect(results.map((x) => x.problem?.code)).toEqual([
      "account_not_found",
      "insufficient_funds",
      "validation_failed",
      "validation_failed",
      "payee_not_found",
      "self_payment",
      "insufficient_funds",
      undefined,
      "validation_failed",
      "validation_failed",
    ]);
    expect(results[3].problem.errors).toEqual([{ field: "amount", message: "amounts are decimal strings of minor units" }]);
    expect(results[8].problem.errors).toEqual([{ field: "from", message: "must be a string" }]);
    // Only the accepted payment moved money (the single retries above were refused as well).
    expect(await balance(payer.id)).toBe("4300");
    expect(await balance(poor.id)).toBe("10");
    expect(await balance(payee.id)).toBe("700");
  });

  test("behavior: a request whose every payment is refused is still 200, and moves nothing", async () => {
    const poor = await openAccount("1");
    const payee = await openAccount();
    const results = expectBulk(await bulk([{ from: poor.id, to: payee.handle, amount: "2" }]), 0, 1);
    expect(results[0].problem).toMatchObject({ code: "insufficient_funds", status: 422 });
    expect(await balance(poor.id)).toBe("1");
  });
});

describe("bulk limits", () => {
  test("error: no payments, an empty list or more than 1,000 are refused as a whole with validation_failed", async () => {
    const payer = await openAccount("100");
    const one = { from: payer.id, to: "nobody", amount: "1" };
    expect(expectProblem(await bulk([]), 400, "validation_failed").errors).toEqual([{ field: "payments", message: "must not be empty" }]);
    expect(expectProblem(await bulk(Array.from({ length: BULK_MAX_PAYMENTS + 1 }, () => one)), 400, "validation_failed").errors).toEqual([
      { field: "payments", message: `must have at most ${BULK_MAX_PAYMENTS} items` },
    ]);
    expect(expectProblem(await post("/v1/payments/bulk", {}), 400, "validation_failed").errors).toEqual([{ field: "payments", message: "is required" }]);
    expect(expectProblem(await post("/v1/payments/bulk", { payments: one }), 400, "validation_failed").errors).toEqual([{ field: "payments", message: "must be an array" }]);
    expect(expectProblem(await post("/v1/payments/bulk", { payments: [one], extra: 1 }), 400, "validation_failed").errors).toEqual([{ field: "extra", message: "is not allowed" }]);
    // An element that is not even an object is a malformed request, not a refused payment.
    expect(expectProblem(await bulk([one, "not a payment", [one], null]), 400, "validation_failed").errors).toEqual([
      { field: "payments.1", message: "must be a JSON object" },
      { field: "payments.2", message: "must be a JSON object" },
      { field: "payments.3", message: "must be a JSON object" },
    ]);
    expect(await balance(payer.id)).toBe("100");
  });

  test("behavior: 1,000 payments (well above the 64 KiB of other routes) are one request", async () => {
    const payer = await openAccount("1000000");
    const payee = await openAccount();
    const memo = "m".repeat(140);
    const items = Array.from({ length: BULK_MAX_PAYMENTS }, (_, i) => ({ from: payer.id, to: payee.handle, amount: String(1 + (i % 3)), memo }));
    expect(JSON.stringify({ payments: items }).length).toBeGreaterThan(64 * 1024);
    const results = expectBulk(await bulk(items), BULK_MAX_PAYMENTS, 0);
    const total = items.reduce((s, x) => s + Number(x.amount), 0);
    expect(results.every((x) => x.status === "accepted")).toBe(true);
    expect(await balance(payee.id)).toBe(String(total));
  });

  test("error: a body above the bulk limit is 413 payload_too_large", async () => {
    const r = await call(api.url, "POST", "/v1/payments/bulk", {
      key: api.keys.app,
      idem: idemKey(),
      raw: JSON.stringify({ payments: [{ from: "c_1", to: "bob", amount: "1", memo: "x".repeat(BULK_MAX_BODY_BYTES) }] }),
    });
    expect(expectProblem(r, 413, "payload_too_large").details).toEqual({ maxBytes: BULK_MAX_BODY_BYTES });
  });

  test("error: the bulk route needs the app scope and an Idempotency-Key", async () => {
    expectProblem(await call(api.url, "POST", "/v1/payments/bulk", { body: { payments: [] }, idem: idemKey() }), 401, "unauthorized");
    expectProblem(await call(api.url, "POST", "/v1/payments/bulk", { key: api.keys.metrics, body: { payments: [] }, idem: idemKey() }), 403, "forbidden");
    expectProblem(await call(api.url, "POST", "/v1/payments/bulk", { key: api.keys.app, body: { payments: [] } }), 400, "idempotency_key_missing");
  });
});

describe("bulk idempotency", () => {
  test("behavior: the same key and body replay the stored answer, refusals included, and move nothing again", async () => {
    const payer = await openAccount("1000");
    const payee = await openAccount();
    const idem = idemKey();
    const items = [
      { from: payer.id, to: payee.handle, amount: "300" },
      { from: payer.id, to: payee.handle, amount: "5000" },
      { from: payer.id, to: `${freshHandle()}@WECHAT`, amount: "200", memo: "again?" },
      { from: payer.id, to: payee.handle, amount: "-1" },
    ];
    const first = await bulk(items, idem);
    expectBulk(first, 2, 2);
    // The same body written in another field order is the same request.
    const again = await post("/v1/payments/bulk", { payments: items.map((x) => Object.fromEntries(Object.entries(x).reverse())) }, idem);
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.json).toEqual(first.json);
    expect(await balance(payer.id)).toBe("500");
    expect(await balance(payee.id)).toBe("300");
    // Still the same after the cross-wallet payment moved on (the answer is the one given then).
    const third = await bulk(items, idem);
    expect(third.json).toEqual(first.json);
  });

  test("error: the same key with another body is 422 idempotency_key_reused, and nothing moves", async () => {
    const payer = await openAccount("1000");
    const payee = await openAccount();
    const idem = idemKey();
    expectBulk(await bulk([{ from: payer.id, to: payee.handle, amount: "100" }], idem), 1, 0);
    expectProblem(await bulk([{ from: payer.id, to: payee.handle, amount: "101" }], idem), 422, "idempotency_key_reused");
    expectProblem(await post("/v1/payments", { from: payer.id, to: payee.handle, amount: "100" }, idem), 422, "idempotency_key_reused");
    expect(await balance(payer.id)).toBe("900");
  });

  test("error: a key whose bulk request is still running is 409 idempotency_key_in_use", async () => {
    const payer = await openAccount("100000");
    const payee = await openAccount();
    const idem = idemKey();
    const items = Array.from({ length: BULK_MAX_PAYMENTS }, () => ({ from: payer.id, to: payee.handle, amount: "1" }));
    const [a, b] = await Promise.all([bulk(items, idem), (async () => {
      await new Promise((r) => setTimeout(r, 5));
      return bulk(items, idem);
    })()]);
    const statuses = [a.status, b.status].sort();
    // Either the second arrived while the first ran (409), or after it finished (a replay).
    if (statuses[1] === 409) expectProblem(a.status === 409 ? a : b, 409, "idempotency_key_in_use");
    else expect([a.headers.get("idempotent-replayed"), b.headers.get("idempotent-replayed")]).toContain("true");
    expect(await balance(payer.id)).toBe(String(100000 - BULK_MAX_PAYMENTS));
  });
});

describe("bulk in the OpenAPI document", () => {
  test("default: POST /v1/payments/bulk is described with its body, results and problems", async () => {
    const doc = (await call(api.url, "GET", "/openapi.json")).json;
    const op = doc.paths["/v1/payments/bulk"].post;
    expect(op.operationId).toBe("createPaymentsBulk");
    expect(op.security).toEqual([{ apiKey: ["app"] }]);
    expect(op.parameters.find((p: any) => p.name === "Idempotency-Key")).toMatchObject({ in: "header", required: true });
    const schema = op.requestBody.content["application/json"].schema;
    expect(schema.properties.payments).toMatchObject({ type: "array", minItems: 1, maxItems: BULK_MAX_PAYMENTS, items: { type: "object", required: ["from", "to", "amount"] } });
    expect(op.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/BulkPaymentResults" });
    for (const code of ["400", "401", "403", "409", "413", "415", "422"]) expect(op.responses[code], code).toBeDefined();
    expect(doc.components.schemas.BulkPaymentResult.oneOf).toHaveLength(2);
  });
});
