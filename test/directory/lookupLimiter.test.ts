import { describe, expect, test } from "vitest";
import { LookupLimiter } from "../../node/directory/lookupLimiter.ts";

/** Lookups admitted (and charged) until the first refusal. */
function untilRefused(limiter: LookupLimiter, operator: string, payer: (i: number) => string | undefined, known: boolean): number {
  for (let i = 0; i < 100_000; i++) {
    const a = limiter.admit(operator, payer(i));
    if (!a.ok) return i;
    limiter.charge(a, known);
  }
  throw new Error("never refused");
}

describe("LookupLimiter", () => {
  const frozen = () => 0;

  test("default: an operator flooding misses (each under a new payer pseudonym) is refused sooner than one resolving real payees", () => {
    const options = { perOperator: { ratePerSecond: 10, burst: 1_000 }, perPayer: { ratePerSecond: 1, burst: 50 }, missCost: 10, now: frozen };
    const misses = untilRefused(new LookupLimiter(options), "0xaa", (i) => `0x${i}`, false);
    const hits = untilRefused(new LookupLimiter(options), "0xaa", (i) => `0x${i}`, true);
    expect(misses).toBe(100);
    expect(hits).toBe(1_000);
  });

  test("behavior: one payer flooding misses is refused sooner than one resolving real payees, and other payers of the operator still pass", () => {
    const limiter = new LookupLimiter({ perPayer: { ratePerSecond: 1, burst: 50 }, missCost: 10, now: frozen });
    expect(untilRefused(limiter, "0xaa", () => "0xprober", false)).toBe(5);
    expect(untilRefused(limiter, "0xaa", () => "0xhonest", true)).toBe(50);
    expect(limiter.admit("0xaa", "0xsomeone-else").ok).toBe(true);
    // Another operator's buckets are its own.
    expect(limiter.admit("0xbb", "0xprober").ok).toBe(true);
  });

  test("behavior: a refused lookup says how long to wait, and the bucket refills", () => {
    let now = 0;
    const limiter = new LookupLimiter({ perPayer: { ratePerSecond: 2, burst: 10 }, missCost: 10, now: () => now });
    const a = limiter.admit("0xaa", "0xp");
    expect(a.ok).toBe(true);
    if (a.ok) limiter.charge(a, false);
    const refused = limiter.admit("0xaa", "0xp");
    expect(refused).toEqual({ ok: false, retryAfterMs: 500 });
    now = 500;
    expect(limiter.admit("0xaa", "0xp").ok).toBe(true);
  });

  test("behavior: whether a lookup is admitted never depends on its own answer (admission comes first)", () => {
    const limiter = new LookupLimiter({ perPayer: { ratePerSecond: 1, burst: 10 }, missCost: 10, now: frozen });
    const a = limiter.admit("0xaa", "0xp");
    expect(a.ok).toBe(true);
    if (a.ok) limiter.charge(a, false);
    expect(limiter.admit("0xaa", "0xp").ok).toBe(false);
  });

  test("behavior: buckets stay within maxBuckets under a flood of pseudonyms (least recently used dropped)", () => {
    const limiter = new LookupLimiter({ maxBuckets: 100, now: frozen });
    for (let i = 0; i < 10_000; i++) limiter.admit(`0xop${i % 300}`, `0xpayer${i}`);
    expect(limiter.size.operators).toBeLessThanOrEqual(100);
    expect(limiter.size.payers).toBeLessThanOrEqual(100);
  });
});
