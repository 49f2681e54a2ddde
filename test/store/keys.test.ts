import { describe, expect, test } from "vitest";
import { compoundKey, parseSeqKey, prefixRange, seqKey } from "../../node/store/index.ts";

describe("seqKey", () => {
  test("default", () => {
    expect(seqKey(42n)).toBe("00000000000000000042");
    expect(seqKey(0)).toHaveLength(20);
    expect(parseSeqKey(seqKey(18446744073709551615n))).toBe(18446744073709551615n);
  });

  test("behavior: lexicographic order equals numeric order", () => {
    const nums = [0n, 9n, 10n, 99n, 100n, 12345678901234n, 2n ** 63n];
    const keys = nums.map((n) => seqKey(n));
    expect([...keys].sort()).toEqual(keys);
  });

  test("error: negative, fractional or too large", () => {
    expect(() => seqKey(-1n)).toThrow(expect.objectContaining({ code: "invalid_key" }));
    expect(() => seqKey(1.5)).toThrow(expect.objectContaining({ code: "invalid_key" }));
    expect(() => seqKey(10n ** 20n)).toThrow(expect.objectContaining({ code: "invalid_key" }));
    expect(() => parseSeqKey("12")).toThrow(expect.objectContaining({ code: "invalid_key" }));
  });
});

describe("compoundKey", () => {
  test("default", () => {
    expect(compoundKey("a", "b", "c")).toBe("a!b!c");
  });

  test("behavior: the last part may contain the separator", () => {
    expect(compoundKey("scope", "client!key")).toBe("scope!client!key");
  });

  test("error: leading parts may not be empty or contain the separator", () => {
    expect(() => compoundKey("a!b", "c")).toThrow(expect.objectContaining({ code: "invalid_key" }));
    expect(() => compoundKey("", "c")).toThrow(expect.objectContaining({ code: "invalid_key" }));
  });

  test("behavior: prefixRange selects exactly the keys of one owner", () => {
    const r = prefixRange("acc1");
    const inRange = (k: string) => k > r.gt && k < r.lt;
    expect(inRange(compoundKey("acc1", seqKey(1n)))).toBe(true);
    expect(inRange(compoundKey("acc10", seqKey(1n)))).toBe(false);
    expect(inRange(compoundKey("acc", seqKey(1n)))).toBe(false);
  });
});
