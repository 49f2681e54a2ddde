import { describe, expect, test } from "vitest";
import { classifyHandle } from "../../node/ledger/handles.ts";
import { isHandle, splitWalletAddress, validate, type ObjectSchema } from "../../node/api/validate.ts";
import { createAccountSchema, movementSchema } from "../../node/api/routes/accounts.ts";
import { paymentSchema } from "../../node/api/routes/payments.ts";

describe("validate", () => {
  test("default: a valid body has no errors", () => {
    expect(validate(paymentSchema, { from: "c_1", to: "bob@WECHAT", amount: "12345", memo: "lunch" })).toEqual([]);
    expect(validate(createAccountSchema, { handle: "+86 138-0000-0000", displayName: "张三" })).toEqual([]);
  });

  test("behavior: every field error is listed, with its field", () => {
    const errors = validate(paymentSchema, { to: 42, amount: "0", memo: "", extra: true });
    expect(errors).toEqual([
      { field: "from", message: "is required" },
      { field: "to", message: "must be a string" },
      { field: "amount", message: "must be a positive whole number of minor units (^[1-9][0-9]{0,17}$)" },
      { field: "memo", message: "must not be empty" },
      { field: "extra", message: "is not allowed" },
    ]);
  });

  test("error: an amount sent as a JSON number is refused with the pinned message", () => {
    expect(validate(movementSchema, { amount: 100, reference: "r" })).toEqual([{ field: "amount", message: "amounts are decimal strings of minor units" }]);
  });

  test("error: amounts with signs, decimals, exponents, spaces, leading zeros or 19 digits are refused", () => {
    for (const amount of ["-1", "+1", "1.0", "1e3", " 1", "1 ", "01", "0", "", "1234567890123456789", "１２"]) {
      expect(validate(movementSchema, { amount, reference: "r" }), amount).toHaveLength(1);
    }
    expect(validate(movementSchema, { amount: "999999999999999999", reference: "r" })).toEqual([]);
  });

  test("error: non-objects, arrays and null bodies are refused at the root", () => {
    for (const body of [null, [], "x", 1]) {
      expect(validate(paymentSchema, body)).toEqual([{ field: "body", message: "must be a JSON object" }]);
    }
  });

  test("behavior: lengths count code points, not UTF-16 units", () => {
    const schema: ObjectSchema = { type: "object", properties: { s: { type: "string", maxLength: 2 } } };
    expect(validate(schema, { s: "😀😀" })).toEqual([]);
    expect(validate(schema, { s: "😀😀😀" })).toEqual([{ field: "s", message: "must be at most 2 characters" }]);
  });

  test("error: text with control characters, bidi overrides or only blanks is refused", () => {
    for (const displayName of ["a\u0000b", "a\nb", "\u202eevil", "   "]) {
      expect(validate(createAccountSchema, { handle: "alice", displayName }), JSON.stringify(displayName)).toHaveLength(1);
    }
  });

  test("behavior: a __proto__ member is an unknown field, not a prototype", () => {
    const body = JSON.parse('{"handle":"alice","displayName":"A","__proto__":{"x":1}}');
    expect(validate(createAccountSchema, body)).toEqual([{ field: "__proto__", message: "is not allowed" }]);
  });

  test("behavior: arrays check their length and each element, with indexed paths", () => {
    const schema: ObjectSchema = { type: "object", properties: { xs: { type: "array", minItems: 1, maxItems: 2, items: { type: "integer", minimum: 1 } } } };
    expect(validate(schema, { xs: [1, 2] })).toEqual([]);
    expect(validate(schema, { xs: [] })).toEqual([{ field: "xs", message: "must not be empty" }]);
    expect(validate(schema, { xs: [1, 2, 3] })).toEqual([{ field: "xs", message: "must have at most 2 items" }]);
    expect(validate(schema, { xs: [1, 0] })).toEqual([{ field: "xs.1", message: "must be at least 1" }]);
    expect(validate(schema, { xs: "1" })).toEqual([{ field: "xs", message: "must be an array" }]);
    const deferred: ObjectSchema = { type: "object", properties: { xs: { type: "array", items: { type: "integer" }, "x-items-checked-by-handler": true } } };
    expect(validate(deferred, { xs: [7, 1.5] })).toEqual([{ field: "xs.1", message: "must be an integer" }]);
    const payments: ObjectSchema = { type: "object", properties: { xs: { type: "array", items: { type: "object", properties: { a: { type: "string" } }, required: ["a"] }, "x-items-checked-by-handler": true } } };
    expect(validate(payments, { xs: [{}, { a: 1 }, "x", null] })).toEqual([
      { field: "xs.2", message: "must be a JSON object" },
      { field: "xs.3", message: "must be a JSON object" },
    ]);
  });

  test("behavior: nested objects report dotted paths", () => {
    const schema: ObjectSchema = { type: "object", properties: { a: { type: "object", properties: { b: { type: "integer", minimum: 1 } }, required: ["b"] } } };
    expect(validate(schema, { a: {} })).toEqual([{ field: "a.b", message: "is required" }]);
    expect(validate(schema, { a: { b: 0 } })).toEqual([{ field: "a.b", message: "must be at least 1" }]);
    expect(validate(schema, { a: { b: 1.5 } })).toEqual([{ field: "a.b", message: "must be an integer" }]);
  });
});

describe("handles and addresses", () => {
  const samples = [
    "alice", "Alice", "a", "al", "a".repeat(32), "a".repeat(33), "张三", "ali ce", "_alice", "alice_1.x-y",
    "+8613800000000", "+86 138-0000-0000", "+86(138)00000000", "+0123456789", "+123", "8613800000000",
    "alice@example.com", "Alice@Example.COM", "alice@example", "a@b@c.d", "bob!@x.y", "", " ", "ａｌｉｃｅ",
  ];

  test("behavior: isHandle agrees with the ledger's classifyHandle", () => {
    for (const s of samples) {
      let ledger: boolean;
      try {
        classifyHandle(s);
        ledger = true;
      } catch {
        ledger = false;
      }
      expect(isHandle(s), JSON.stringify(s)).toBe(ledger);
    }
  });

  test("behavior: handle@WALLET splits at the last @; an email is not a wallet address", () => {
    expect(splitWalletAddress("bob@WECHAT")).toEqual({ handle: "bob", wallet: "WECHAT" });
    expect(splitWalletAddress("alice@example.com@ALIPAY")).toEqual({ handle: "alice@example.com", wallet: "ALIPAY" });
    expect(splitWalletAddress("+8613800000000@ALIPAY")).toEqual({ handle: "+8613800000000", wallet: "ALIPAY" });
    expect(splitWalletAddress("alice@example.com")).toBeUndefined();
    expect(splitWalletAddress("@ALIPAY")).toBeUndefined();
    expect(splitWalletAddress("bob@" + "W".repeat(25))).toBeUndefined();
  });

  test("behavior: `to` takes a local handle or handle@WALLET", () => {
    const base = { from: "c_1", amount: "1" };
    expect(validate(paymentSchema, { ...base, to: "bob" })).toEqual([]);
    expect(validate(paymentSchema, { ...base, to: "alice@example.com" })).toEqual([]);
    expect(validate(paymentSchema, { ...base, to: "bob@WECHAT" })).toEqual([]);
    expect(validate(paymentSchema, { ...base, to: "b o b" })).toEqual([{ field: "to", message: "must be a handle or handle@WALLET" }]);
  });
});
