import { describe, expect, test } from "vitest";
import { backoff } from "../../node/timing/backoff.ts";

describe("backoff", () => {
  test("default: without jitter, doubles from baseMs per attempt and stops at maxMs", () => {
    const none = { baseMs: 200, maxMs: 5_000, jitter: "none" } as const;
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => backoff(n, none))).toEqual([200, 400, 800, 1_600, 3_200, 5_000, 5_000]);
  });

  test("behavior: huge attempt counts stay at maxMs (no Infinity, no NaN)", () => {
    for (const attempt of [52, 53, 1_000, 1_000_000, Number.MAX_SAFE_INTEGER]) {
      expect(backoff(attempt, { baseMs: 1_000, maxMs: 600_000, jitter: "none" })).toBe(600_000);
    }
    expect(backoff(1_000_000, { baseMs: 0, maxMs: 600_000, jitter: "none" })).toBe(0);
  });

  test("behavior: full jitter (the default) stays within [0, the exponential delay] and spreads", () => {
    const options = { baseMs: 100, maxMs: 10_000 };
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(10_000, 100 * 2 ** attempt);
      const draws = Array.from({ length: 200 }, () => backoff(attempt, options));
      for (const d of draws) {
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
      // 200 uniform draws all in one tenth of the range: probability 200 × 10^-200, i.e. never.
      expect(Math.max(...draws) - Math.min(...draws)).toBeGreaterThan(ceiling / 10);
    }
  });

  test("behavior: maxMs wins over a larger baseMs", () => {
    expect(backoff(0, { baseMs: 5_000, maxMs: 1_000, jitter: "none" })).toBe(1_000);
  });

  test("error: an attempt that is not a whole number ≥ 0, or a negative or infinite bound, is refused", () => {
    const ok = { baseMs: 1, maxMs: 2 };
    expect(() => backoff(-1, ok)).toThrow("backoff attempt must be a whole number ≥ 0, got -1");
    expect(() => backoff(1.5, ok)).toThrow(RangeError);
    expect(() => backoff(Number.NaN, ok)).toThrow(RangeError);
    expect(() => backoff(0, { baseMs: -1, maxMs: 2 })).toThrow("backoff needs finite baseMs and maxMs ≥ 0, got baseMs -1 and maxMs 2");
    expect(() => backoff(0, { baseMs: 1, maxMs: Number.POSITIVE_INFINITY })).toThrow(RangeError);
  });
});
