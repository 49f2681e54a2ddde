import { keccak256, toHex } from "viem";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createAccountSchema, movementSchema } from "../../node/api/routes/accounts.ts";
import { paymentSchema } from "../../node/api/routes/payments.ts";
import { ILL_FORMED_MESSAGE, isHandle, splitWalletAddress, validate, type ObjectSchema } from "../../node/api/validate.ts";
import { call, expectProblem } from "./client.ts";
import { freshHandle, idemKey, startApi, type TestApi } from "./node.ts";

/*
 * Strings that are not well-formed Unicode (a lone UTF-16 surrogate, which JSON can carry as an
 * escape) are refused wherever they enter the API; names also refuse control characters, bidi
 * overrides and invisible bidi marks. Each refusal is 400 `validation_failed` naming the field,
 * and changes nothing.
 */

// Two memos that differ only in their lone surrogate.
const MEMO_A = "\ud800x";
const MEMO_B = "\udbffx";

describe("ill-formed Unicode (unit)", () => {
  test("behavior: two memos with different lone surrogates commit to the same memo hash (why they are refused)", () => {
    expect(MEMO_A).not.toBe(MEMO_B);
    // The memo hash the payer node settles (node/bridge/walletNode.ts): UTF-8 of the memo,
    // where TextEncoder writes U+FFFD for every lone surrogate.
    const memoHash = (memo: string) => keccak256(toHex(memo));
    expect(memoHash(MEMO_A)).toBe(memoHash(MEMO_B));
    expect(memoHash(MEMO_A)).toBe(memoHash("\ufffdx"));
  });

  test("error: a lone surrogate is refused in every string field, with the pinned message", () => {
    for (const s of ["\ud800", "a\udc00b", "x\ud83d", "\ude00y"]) {
      expect(validate(paymentSchema, { from: "c_1", to: "bob@WECHAT", amount: "1", memo: s }), JSON.stringify(s)).toEqual([{ field: "memo", message: ILL_FORMED_MESSAGE }]);
      expect(validate(createAccountSchema, { handle: "alice", displayName: `Al${s}` })).toEqual([{ field: "displayName", message: ILL_FORMED_MESSAGE }]);
      expect(validate(createAccountSchema, { handle: `a${s}@example.com`, displayName: "Al" })).toEqual([{ field: "handle", message: ILL_FORMED_MESSAGE }]);
      expect(validate(movementSchema, { amount: "1", reference: `bank-${s}` })).toEqual([{ field: "reference", message: ILL_FORMED_MESSAGE }]);
      expect(validate(paymentSchema, { from: "c_1", to: `bob${s}@WECHAT`, amount: "1" })).toEqual([{ field: "to", message: ILL_FORMED_MESSAGE }]);
      // Any string of any schema, formatted or not (the node-to-node resolve body is plain).
      const plain: ObjectSchema = { type: "object", properties: { handle: { type: "string", minLength: 1, maxLength: 128 } } };
      expect(validate(plain, { handle: s })).toEqual([{ field: "handle", message: ILL_FORMED_MESSAGE }]);
      expect(isHandle(`a${s}@example.com`)).toBe(false);
      expect(splitWalletAddress(`a${s}@example.com@WECHAT`)).toBeUndefined();
    }
  });

  test("default: well-formed astral characters (surrogate pairs) and CJK stay valid", () => {
    expect(validate(paymentSchema, { from: "c_1", to: "bob@WECHAT", amount: "1", memo: "午饭 😀 𠀀" })).toEqual([]);
    expect(validate(createAccountSchema, { handle: "alice", displayName: "张三 😀" })).toEqual([]);
  });

  test("error: a display name with bidi overrides, isolates, marks or zero-width characters is refused; a memo may carry marks", () => {
    for (const mark of ["\u202e", "\u2067", "\u200f", "\u200e", "\u061c", "\u200b", "\u2060", "\ufeff"]) {
      const errors = validate(createAccountSchema, { handle: "alice", displayName: `YAP${mark}ILA` });
      expect(errors, JSON.stringify(mark)).toHaveLength(1);
      expect(errors[0].field).toBe("displayName");
    }
    expect(validate(createAccountSchema, { handle: "alice", displayName: "A\u202eB" })[0].message).toBe("must not contain control characters or bidi overrides");
    expect(validate(createAccountSchema, { handle: "alice", displayName: "A\u200fB" })[0].message).toBe("must not contain invisible bidi marks or zero-width characters");
    // Right-to-left text in a memo needs its marks.
    expect(validate(paymentSchema, { from: "c_1", to: "bob@WECHAT", amount: "1", memo: "שלום\u200f 12" })).toEqual([]);
  });
});

describe("ill-formed Unicode over HTTP", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(async () => {
    await api?.close();
  });

  const post = (path: string, body: unknown, key = api.keys.app) => call(api.url, "POST", path, { key, body, idem: idemKey() });
  const get = (path: string) => call(api.url, "GET", path, { key: api.keys.app });

  function expectField(r: Awaited<ReturnType<typeof post>>, field: string, message = ILL_FORMED_MESSAGE) {
    const p = expectProblem(r, 400, "validation_failed");
    expect(p.errors).toEqual([{ field, message }]);
  }

  test("error: account opening, top-up, payment and bulk refuse lone surrogates with validation_failed and change nothing", async () => {
    const handle = freshHandle("uni");
    expectField(await post("/v1/accounts", { handle, displayName: "Zh\ud800" }), "displayName");
    expectField(await post("/v1/accounts", { handle: `${handle}\udc00`, displayName: "Zhang" }), "handle");
    // Nothing was opened under the handle.
    expectProblem(await get(`/v1/accounts/by-handle/${handle}`), 404, "account_not_found");

    const opened = await post("/v1/accounts", { handle, displayName: "Zhang" });
    expect(opened.status, opened.text).toBe(201);
    const id = opened.json.id as string;
    expectField(await post(`/v1/accounts/${id}/top-ups`, { amount: "500", reference: "bank\ud800" }, api.keys.admin), "reference");
    expect((await get(`/v1/accounts/${id}`)).json.balance).toBe("0");
    const topUp = await post(`/v1/accounts/${id}/top-ups`, { amount: "500", reference: `bank-${idemKey()}` }, api.keys.admin);
    expect(topUp.status, topUp.text).toBe(201);

    const payee = freshHandle("wx");
    for (const memo of [MEMO_A, MEMO_B]) expectField(await post("/v1/payments", { from: id, to: `${payee}@WECHAT`, amount: "100", memo }), "memo");
    const bulk = await post("/v1/payments/bulk", { payments: [{ from: id, to: `${payee}@WECHAT`, amount: "100", memo: MEMO_A }] });
    expect(bulk.status, bulk.text).toBe(200);
    expect(bulk.json).toMatchObject({ accepted: 0, refused: 1 });
    expect(bulk.json.results[0].problem).toMatchObject({ code: "validation_failed", errors: [{ field: "memo", message: ILL_FORMED_MESSAGE }] });
    const after = await get(`/v1/accounts/${id}`);
    expect(after.json.balance).toBe("500");
    expect((await get(`/v1/accounts/${id}/history`)).json.items).toHaveLength(1);
  });

  test("error: a display name that reads as another name (bidi override or mark) is refused", async () => {
    const r = await post("/v1/accounts", { handle: freshHandle("bidi"), displayName: "\u202eAPILAY" });
    expectField(r, "displayName", "must not contain control characters or bidi overrides");
    expectField(await post("/v1/accounts", { handle: freshHandle("bidi"), displayName: "ALI\u200fPAY" }), "displayName", "must not contain invisible bidi marks or zero-width characters");
  });
});
