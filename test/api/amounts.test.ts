import { describe, expect, test } from "vitest";
import { formatMinor, parseAmount } from "../../node/api/amounts.ts";

describe("amounts", () => {
  test("default: a decimal string of minor units becomes a bigint", () => {
    expect(parseAmount("12345")).toBe(12345n);
    expect(parseAmount("999999999999999999")).toBe(999_999_999_999_999_999n);
  });

  test("error: JSON numbers are refused with the pinned message", () => {
    expect(() => parseAmount(12345)).toThrow("amounts are decimal strings of minor units");
    expect(() => parseAmount(1.5)).toThrow("amounts are decimal strings of minor units");
  });

  test("error: anything but ^[1-9][0-9]{0,17}$ is refused", () => {
    for (const bad of ["0", "00", "012", "-5", "+5", "1.5", "1e3", "0x10", " 1", "1_000", "1234567890123456789", "", null, undefined, 10n]) {
      expect(() => parseAmount(bad), String(bad)).toThrow(RangeError);
    }
  });

  test("behavior: formatting places the point by the currency's decimals", () => {
    expect(formatMinor(12345n, 2)).toBe("123.45");
    expect(formatMinor(5n, 2)).toBe("0.05");
    expect(formatMinor(0n, 2)).toBe("0.00");
    expect(formatMinor(-12345n, 2)).toBe("-123.45");
    expect(formatMinor(-5n, 2)).toBe("-0.05");
    expect(formatMinor(7n, 0)).toBe("7");
    expect(formatMinor(123456789012345678901234567890n, 2)).toBe("1234567890123456789012345678.90");
  });
});
