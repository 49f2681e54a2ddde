import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { call, expectProblem } from "./client.ts";
import { freshHandle, idemKey, startApi, type TestApi } from "./node.ts";

let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

const post = (path: string, body: unknown, key = api.keys.app, idem = idemKey()) => call(api.url, "POST", path, { key, body, idem });
const get = (path: string, key = api.keys.app) => call(api.url, "GET", path, { key });

async function openAccount(handle = freshHandle(), displayName = "Zhang San") {
  const r = await post("/v1/accounts", { handle, displayName });
  expect(r.status, r.text).toBe(201);
  return r.json as { id: string; handle: string; address: string };
}

async function topUp(id: string, amount: string) {
  const r = await post(`/v1/accounts/${id}/top-ups`, { amount, reference: `bank-${idemKey()}` }, api.keys.admin);
  expect(r.status, r.text).toBe(201);
  return r.json;
}

describe("auth", () => {
  test("error: no key is 401 problem+json with a Bearer challenge", async () => {
    const r = await call(api.url, "GET", "/v1/accounts/c_1");
    expectProblem(r, 401, "unauthorized");
    expect(r.headers.get("www-authenticate")).toMatch(/^Bearer realm="hulian"/);
  });

  test("error: an unknown key is 401", async () => {
    expectProblem(await get("/v1/accounts/c_1", "hk_live_" + "A".repeat(43)), 401, "unauthorized");
  });

  test("error: a key without the scope is 403 (app on top-ups, metrics and audit on app routes)", async () => {
    const a = await openAccount();
    expectProblem(await post(`/v1/accounts/${a.id}/top-ups`, { amount: "100", reference: "r" }, api.keys.app), 403, "forbidden");
    expectProblem(await get(`/v1/accounts/${a.id}`, api.keys.metrics), 403, "forbidden");
    expectProblem(await get(`/v1/accounts/${a.id}`, api.keys.audit), 403, "forbidden");
  });

  test("behavior: admin implies app", async () => {
    const a = await openAccount();
    expect((await get(`/v1/accounts/${a.id}`, api.keys.admin)).status).toBe(200);
  });

  test("behavior: auth is checked before idempotency and body", async () => {
    expectProblem(await call(api.url, "POST", "/v1/payments", { raw: "{not json" }), 401, "unauthorized");
  });
});

describe("accounts", () => {
  test("default: open an account: 201, Location, money as strings with currency and display", async () => {
    const handle = freshHandle("alice");
    const r = await post("/v1/accounts", { handle, displayName: "Alice" });
    expect(r.status).toBe(201);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(r.headers.get("location")).toBe(`/v1/accounts/${r.json.id}`);
    expect(r.headers.get("idempotent-replayed")).toBeNull();
    expect(r.json).toMatchObject({ handle, displayName: "Alice", status: "open", balance: "0", currency: "CNY", display: "0.00" });
    expect(r.json.address).toMatch(new RegExp(`^${handle}@[A-Z0-9_-]+$`));
    expect(Object.keys(r.json)).not.toContain("replayed");
  });

  test("behavior: read by id and by handle (phone handles with + in the path)", async () => {
    const phone = `+86138${String(Date.now()).slice(-8)}`;
    const a = await openAccount(phone);
    expect((await get(`/v1/accounts/${a.id}`)).json).toMatchObject({ id: a.id, handle: phone });
    expect((await get(`/v1/accounts/by-handle/${phone}`)).json).toMatchObject({ id: a.id });
    expect((await get(`/v1/accounts/by-handle/${encodeURIComponent(phone)}`)).json).toMatchObject({ id: a.id });
  });

  test("error: unknown accounts are 404 problems with the service's code", async () => {
    expect(expectProblem(await get("/v1/accounts/c_doesnotexist"), 404, "account_not_found").instance).toBe("/v1/accounts/c_doesnotexist");
    expectProblem(await get(`/v1/accounts/by-handle/${freshHandle("nobody")}`), 404, "account_not_found");
  });

  test("error: create validates every field and rejects unknown ones", async () => {
    const r = await post("/v1/accounts", { handle: "x y", displayName: "", nickname: "z" });
    const p = expectProblem(r, 400, "validation_failed");
    expect(p.errors).toEqual([
      { field: "handle", message: "must be a phone number (+8613800000000), an email address or a user name" },
      { field: "displayName", message: "must not be empty" },
      { field: "nickname", message: "is not allowed" },
    ]);
    expect(expectProblem(await post("/v1/accounts", {}), 400, "validation_failed").errors.map((e: any) => e.field)).toEqual(["handle", "displayName"]);
    expectProblem(await post("/v1/accounts", { handle: freshHandle(), displayName: "x".repeat(65) }), 400, "validation_failed");
  });

  test("error: a taken handle is the service's conflict", async () => {
    const a = await openAccount();
    const r = await post("/v1/accounts", { handle: a.handle, displayName: "Other" });
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.json.code).toBe("handle_taken");
  });

  test("error: bad path ids and handles are 400 before reaching the service", async () => {
    expect(expectProblem(await get("/v1/accounts/" + encodeURIComponent("c 1")), 400, "validation_failed").errors).toEqual([
      { field: "id", message: "must be 1-128 characters of A-Z a-z 0-9 _ . : -" },
    ]);
    expectProblem(await get("/v1/accounts/by-handle/" + encodeURIComponent("no spaces")), 400, "validation_failed");
  });
});

describe("top-ups, withdrawals and close", () => {
  test("default: a top-up returns the movement and the new balance as strings", async () => {
    const a = await openAccount();
    const m = await topUp(a.id, "12345");
    expect(m).toMatchObject({ accountId: a.id, kind: "top_up", amount: "12345", display: "123.45", balance: "12345", balanceDisplay: "123.45", currency: "CNY" });
    expect((await get(`/v1/accounts/${a.id}`)).json).toMatchObject({ balance: "12345", display: "123.45" });
  });

  test("error: an amount sent as a number is refused with the pinned message", async () => {
    const a = await openAccount();
    const p = expectProblem(await post(`/v1/accounts/${a.id}/top-ups`, { amount: 12345, reference: "r" }, api.keys.admin), 400, "validation_failed");
    expect(p.errors).toEqual([{ field: "amount", message: "amounts are decimal strings of minor units" }]);
  });

  test("error: zero, negative, decimal and oversized amounts are refused", async () => {
    const a = await openAccount();
    for (const amount of ["0", "-1", "1.5", "1e2", "1234567890123456789"]) {
      expectProblem(await post(`/v1/accounts/${a.id}/withdrawals`, { amount, reference: "r" }, api.keys.admin), 400, "validation_failed");
    }
  });

  test("error: withdrawing more than the balance is the service's insufficient_funds", async () => {
    const a = await openAccount();
    await topUp(a.id, "100");
    const r = await post(`/v1/accounts/${a.id}/withdrawals`, { amount: "101", reference: "r" }, api.keys.admin);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.json.code).toBe("insufficient_funds");
  });

  test("behavior: close needs a zero balance; the POST may have no body", async () => {
    const a = await openAccount();
    await topUp(a.id, "100");
    const refused = await call(api.url, "POST", `/v1/accounts/${a.id}/close`, { key: api.keys.app, idem: idemKey() });
    expect(refused.json.code).toBe("account_not_empty");
    const w = await post(`/v1/accounts/${a.id}/withdrawals`, { amount: "100", reference: "payout" }, api.keys.admin);
    expect(w.json).toMatchObject({ kind: "withdrawal", amount: "100", balance: "0" });
    const closed = await call(api.url, "POST", `/v1/accounts/${a.id}/close`, { key: api.keys.app, idem: idemKey() });
    expect(closed.status).toBe(200);
    expect(closed.json).toMatchObject({ id: a.id, status: "closed" });
    expectProblem(await post(`/v1/accounts/${a.id}/close`, { reason: "x" }), 400, "validation_failed");
  });

  test("behavior: history pages newest first with amounts as strings", async () => {
    const a = await openAccount();
    await topUp(a.id, "100");
    await topUp(a.id, "250");
    await topUp(a.id, "5");
    const first = await get(`/v1/accounts/${a.id}/history?limit=2`);
    expect(first.status).toBe(200);
    expect(first.json.currency).toBe("CNY");
    expect(first.json.items.map((i: any) => i.amount)).toEqual(["5", "250"]);
    expect(first.json.items[0]).toMatchObject({ display: "0.05", balanceAfter: "355" });
    expect(typeof first.json.nextCursor).toBe("string");
    const second = await get(`/v1/accounts/${a.id}/history?limit=2&cursor=${encodeURIComponent(first.json.nextCursor)}`);
    expect(second.json.items.map((i: any) => i.amount)).toEqual(["100"]);
    expect(second.json.nextCursor).toBeUndefined();
  });

  test("behavior: a same-wallet payment's history lines name the payment and carry its memo on both sides", async () => {
    const payer = await openAccount();
    const payee = await openAccount();
    await topUp(payer.id, "1000");
    const paid = await post("/v1/payments", { from: payer.id, to: payee.handle, amount: "300", memo: "noodles" });
    expect(paid.status, paid.text).toBe(201);
    for (const [account, amount] of [[payer, "-300"], [payee, "300"]] as const) {
      const [line] = (await get(`/v1/accounts/${account.id}/history?limit=1`)).json.items;
      expect(line).toMatchObject({ kind: "internal_transfer", amount, paymentId: paid.json.id, memo: "noodles" });
      expect(line.transferId).toBeUndefined();
    }
  });

  test("error: history query parameters are validated", async () => {
    const a = await openAccount();
    for (const q of ["limit=0", "limit=201", "limit=abc", "limit=1.5", "limit=1&limit=2", "page=2", "cursor="]) {
      expectProblem(await get(`/v1/accounts/${a.id}/history?${q}`), 400, "validation_failed");
    }
  });
});

describe("payments", () => {
  test("default: a same-wallet payment settles: 201, Location, amounts as strings; readable after", async () => {
    const payer = await openAccount();
    const payee = await openAccount();
    await topUp(payer.id, "10000");
    const r = await post("/v1/payments", { from: payer.id, to: payee.handle, amount: "2550", memo: "lunch" });
    expect(r.status, r.text).toBe(201);
    expect(r.json).toMatchObject({ kind: "same_wallet", from: payer.id, to: `${payee.handle}@ALIPAY`, amount: "2550", display: "25.50", currency: "CNY", memo: "lunch" });
    expect(r.headers.get("location")).toBe(`/v1/payments/${r.json.id}`);
    const again = await get(`/v1/payments/${r.json.id}`);
    expect(again.json).toMatchObject({ id: r.json.id, amount: "2550" });
    expect((await get(`/v1/accounts/${payer.id}`)).json.balance).toBe("7450");
    expect((await get(`/v1/accounts/${payee.id}`)).json.balance).toBe("2550");
  });

  test("error: payment fields are validated, amounts as numbers with the pinned message", async () => {
    const p = expectProblem(await post("/v1/payments", { from: "c_1", to: "b o b", amount: 10, memo: "a\u0000" }), 400, "validation_failed");
    expect(p.errors).toEqual([
      { field: "to", message: "must be a handle or handle@WALLET" },
      { field: "amount", message: "amounts are decimal strings of minor units" },
      { field: "memo", message: "must not contain control characters" },
    ]);
    expect(expectProblem(await post("/v1/payments", { to: "bob" }), 400, "validation_failed").errors.map((e: any) => e.field)).toEqual(["from", "amount"]);
  });

  test("error: paying more than the balance is insufficient_funds; unknown payments are 404", async () => {
    const payer = await openAccount();
    const payee = await openAccount();
    const r = await post("/v1/payments", { from: payer.id, to: payee.handle, amount: "1" });
    expect(r.json.code).toBe("insufficient_funds");
    expect((await get("/v1/payments/p_doesnotexist")).status).toBe(404);
  });
});

describe("idempotency", () => {
  test("behavior: the same key and body replay the same status and body with Idempotent-Replayed", async () => {
    const payer = await openAccount();
    const payee = await openAccount();
    await topUp(payer.id, "1000");
    const idem = idemKey();
    const first = await post("/v1/payments", { from: payer.id, to: payee.handle, amount: "300" }, api.keys.app, idem);
    const again = await post("/v1/payments", { amount: "300", to: payee.handle, from: payer.id }, api.keys.app, idem);
    expect(first.status).toBe(201);
    expect(again.status).toBe(first.status);
    expect(again.json).toEqual(first.json);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.headers.get("location")).toBe(first.headers.get("location"));
    expect((await get(`/v1/accounts/${payer.id}`)).json.balance).toBe("700");
  });

  test("error: the same key with another body is 422 idempotency_key_reused", async () => {
    const idem = idemKey();
    await post("/v1/accounts", { handle: freshHandle(), displayName: "A" }, api.keys.app, idem);
    expectProblem(await post("/v1/accounts", { handle: freshHandle(), displayName: "B" }, api.keys.app, idem), 422, "idempotency_key_reused");
  });

  test("error: the same key on another path is 422 too", async () => {
    const a = await openAccount();
    const idem = idemKey();
    expect((await post(`/v1/accounts/${a.id}/top-ups`, { amount: "5", reference: "r" }, api.keys.admin, idem)).status).toBe(201);
    expectProblem(await post(`/v1/accounts/${a.id}/withdrawals`, { amount: "5", reference: "r" }, api.keys.admin, idem), 422, "idempotency_key_reused");
  });

  test("error: a missing or malformed key is 400 on every POST", async () => {
    const a = await openAccount();
    for (const [path, key] of [
      ["/v1/accounts", api.keys.app],
      [`/v1/accounts/${a.id}/close`, api.keys.app],
      [`/v1/accounts/${a.id}/top-ups`, api.keys.admin],
      [`/v1/accounts/${a.id}/withdrawals`, api.keys.admin],
      ["/v1/payments", api.keys.app],
    ] as const) {
      expectProblem(await call(api.url, "POST", path, { key, body: {} }), 400, "idempotency_key_missing");
      expectProblem(await call(api.url, "POST", path, { key, body: {}, idem: "no spaces allowed" }), 400, "idempotency_key_invalid");
    }
  });

  test("behavior: keys are scoped per API key: two clients may use the same Idempotency-Key", async () => {
    const idem = idemKey();
    const one = await post("/v1/accounts", { handle: freshHandle(), displayName: "One" }, api.keys.app, idem);
    const two = await post("/v1/accounts", { handle: freshHandle(), displayName: "Two" }, api.keys.admin, idem);
    expect([one.status, two.status]).toEqual([201, 201]);
    expect(two.json.id).not.toBe(one.json.id);
  });
});

describe("directory", () => {
  test("default: resolves handle@WALLET to the masked name", async () => {
    const a = await openAccount(freshHandle("zhang"), "Zhang San");
    const r = await get(`/v1/directory/${encodeURIComponent(a.address)}`);
    expect(r.status, r.text).toBe(200);
    expect(r.json.address).toBe(a.address);
    expect(r.json.maskedName).not.toBe("Zhang San");
  });

  test("error: an address without a wallet is 400", async () => {
    expect(expectProblem(await get("/v1/directory/bob"), 400, "validation_failed").errors).toEqual([{ field: "address", message: "must be handle@WALLET" }]);
  });
});

describe("system routes", () => {
  test("default: /healthz needs no key and says only ok and wallet", async () => {
    const r = await call(api.url, "GET", "/healthz");
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ ok: true, wallet: api.service.wallet.code });
  });

  test("behavior: /metrics needs metrics or admin and speaks text format 0.0.4", async () => {
    expectProblem(await call(api.url, "GET", "/metrics"), 401, "unauthorized");
    expectProblem(await get("/metrics", api.keys.app), 403, "forbidden");
    for (const key of [api.keys.metrics, api.keys.admin]) {
      const r = await get("/metrics", key);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      for (const name of ["hulian_payments_accepted_total", "hulian_payments_settled_total", "hulian_payments_returned_total", "hulian_payments_rejected_total", "hulian_inbound_credited_total", "hulian_outbox_depth", "hulian_chain_head", "hulian_chain_cursor", "hulian_chain_lag_blocks", "hulian_liabilities_minor", "hulian_batch_size_count", "hulian_http_requests_total"]) {
        expect(r.text, name).toMatch(new RegExp(`^${name}(\\{[^}]*\\})? `, "m"));
      }
      expect(r.text).not.toMatch(/by-handle\/[^:]/);
    }
  });

  test("default: /openapi.json needs no key", async () => {
    const r = await call(api.url, "GET", "/openapi.json");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(r.json.openapi).toBe("3.1.0");
    expect(r.json.paths["/v1/payments"].post.operationId).toBe("createPayment");
  });
});
