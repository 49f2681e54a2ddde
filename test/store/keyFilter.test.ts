import { describe, expect, test } from "vitest";
import { KeyFilter } from "../../node/store/keyFilter.ts";

describe("KeyFilter", () => {
  test("default: every added key may be present (no false negatives)", () => {
    const filter = new KeyFilter(50_000);
    for (let i = 0; i < 50_000; i++) filter.add(`app!key-${i}`);
    for (let i = 0; i < 50_000; i++) expect(filter.mightContain(`app!key-${i}`)).toBe(true);
    expect(filter.count).toBe(50_000);
  });

  test("behavior: keys never added are mostly reported absent (about 1% false positives at capacity)", () => {
    const filter = new KeyFilter(50_000);
    for (let i = 0; i < 50_000; i++) filter.add(`app!key-${i}`);
    let hits = 0;
    for (let i = 0; i < 50_000; i++) if (filter.mightContain(`app!other-${i}`)) hits++;
    expect(hits / 50_000).toBeLessThan(0.02);
  });

  test("behavior: an empty filter holds nothing", () => {
    expect(new KeyFilter(10).mightContain("anything")).toBe(false);
  });
});
