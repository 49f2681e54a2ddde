import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { canonicalJson, fastCanonicalJson, InFlightKeys, readIdempotencyKey, requestFingerprint } from "../../node/api/idempotency.ts";
import { bulkPaymentSchema, paymentSchema } from "../../node/api/routes/payments.ts";
import { closedKeys } from "../../node/api/validate.ts";
import { ApiProblem } from "../../node/api/problem.ts";

describe("canonical JSON and fingerprints", () => {
  test("default: keys are sorted at every depth, no whitespace", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: null, y: "é" }], c: true } })).toBe('{"a":{"c":true,"d":[3,{"y":"é","z":null}]},"b":1}');
  });

  test("behavior: field order does not change the fingerprint; values, method and path do", () => {
    const f = requestFingerprint("POST", "/v1/payments", { from: "c_1", to: "bob", amount: "100" });
    expect(requestFingerprint("POST", "/v1/payments", { amount: "100", to: "bob", from: "c_1" })).toBe(f);
    expect(requestFingerprint("POST", "/v1/payments", { amount: "101", to: "bob", from: "c_1" })).not.toBe(f);
    expect(requestFingerprint("PUT", "/v1/payments", { amount: "100", to: "bob", from: "c_1" })).not.toBe(f);
    expect(requestFingerprint("POST", "/v1/payments2", { amount: "100", to: "bob", from: "c_1" })).not.toBe(f);
    expect(f).toMatch(/^[0-9a-f]{64}$/);
  });

  test("behavior: percent-encoding of the path does not change the fingerprint", () => {
    expect(requestFingerprint("POST", "/v1/accounts/c%5F1/close", {})).toBe(requestFingerprint("POST", "/v1/accounts/c_1/close", {}));
  });

  test("behavior: an absent body and {} are the same request", () => {
    expect(requestFingerprint("POST", "/x", undefined)).toBe(requestFingerprint("POST", "/x", null));
    expect(canonicalJson({ a: undefined })).toBe("{}");
  });

  test("behavior: the native canonical JSON is the reference text for any JSON value", () => {
    // What JSON.parse can produce, with keys likely to collide across objects, and __proto__.
    const key = fc.oneof(fc.constantFrom("a", "b", "from", "to", "amount", "memo", "__proto__", "toString", "constructor", "toJSON", "0", "10", "é", "Z"), fc.string({ maxLength: 4 }));
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: "small" }, fc.constant(null), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), tie("array"), tie("object")),
      array: fc.array(tie("value"), { maxLength: 4 }),
      object: fc.array(fc.tuple(key, tie("value")), { maxLength: 5 }).map((pairs) => JSON.parse(JSON.stringify(Object.fromEntries(pairs))) as unknown),
    })).value;
    fc.assert(
      fc.property(json, (v) => {
        expect(fastCanonicalJson(v)).toBe(canonicalJson(v));
      }),
      { numRuns: 2_000 },
    );
    const weird = JSON.parse('{"b":{"__proto__":{"x":1}},"a":[{"toString":"s"},{}]}');
    expect(fastCanonicalJson(weird)).toBe(canonicalJson(weird));
  });

  test("behavior: with a closed schema's keys, the fingerprint is the one computed from the body alone", () => {
    expect(closedKeys(paymentSchema)).toEqual(["amount", "from", "memo", "to"]);
    expect(closedKeys(bulkPaymentSchema)).toBeUndefined();
    const body = { to: "bob@WECHAT", from: "c_1", amount: "100", memo: "x" };
    expect(requestFingerprint("POST", "/v1/payments", body, closedKeys(paymentSchema))).toBe(requestFingerprint("POST", "/v1/payments", body));
    expect(fastCanonicalJson(body, closedKeys(paymentSchema))).toBe(canonicalJson(body));
  });

  test("error: non-finite numbers and bigints cannot be canonicalised", () => {
    expect(() => canonicalJson(Number.NaN)).toThrow("non-finite");
    expect(() => canonicalJson(1n)).toThrow("cannot encode bigint");
  });
});

describe("Idempotency-Key header", () => {
  test("default: 1-128 characters of A-Za-z0-9_-:. pass", () => {
    expect(readIdempotencyKey("a")).toBe("a");
    expect(readIdempotencyKey("order-42:retry.1_x")).toBe("order-42:retry.1_x");
    expect(readIdempotencyKey("k".repeat(128))).toBe("k".repeat(128));
  });

  test("error: missing is idempotency_key_missing, malformed is idempotency_key_invalid", () => {
    const code = (h: string | string[] | undefined) => {
      try {
        readIdempotencyKey(h);
        return "ok";
      } catch (err) {
        return (err as ApiProblem).code;
      }
    };
    expect(code(undefined)).toBe("idempotency_key_missing");
    for (const bad of ["", "k".repeat(129), "has space", "ünï", "a/b", ["a", "b"]]) {
      expect(code(bad), JSON.stringify(bad)).toBe("idempotency_key_invalid");
    }
  });

  test("behavior: a busy key is 409 until released, per API key", () => {
    const keys = new InFlightKeys();
    const release = keys.acquire("key_a", "k1");
    expect(() => keys.acquire("key_a", "k1")).toThrow(ApiProblem);
    const other = keys.acquire("key_b", "k1");
    release();
    keys.acquire("key_a", "k1")();
    other();
    expect(keys.size).toBe(0);
  });
});
