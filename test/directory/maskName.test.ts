import { randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import { fakeMask } from "../../node/directory/fakeMask.ts";
import { MAX_MASKED_NAME_LENGTH, isMaskedName, maskName } from "../../node/directory/maskName.ts";

/** Display names as wallets hold them: pinyin, western, one-word and CJK. */
const REAL_NAMES = [
  "Zhang Wei", "Wang Fang", "Li Na", "Liu Yang", "Chen Jing", "Yang Min", "Huang Lei", "Zhao Jun", "Wu Xiaoming", "Zhou Jie",
  "Xu Qiang", "Sun Li", "Ma Chao", "Zhu Hong", "Hu Yan", "Guo Tao", "He Ping", "Lin Hui", "Luo Gang", "Zheng Xiuying",
  "Kim Park", "Ana Silva", "Wang Xiao Ming", "Bo", "Tan Mei Ling",
];

describe("maskName", () => {
  test("default: a letter of each word and 2–6 stars", () => {
    expect(maskName("Zhang Wei")).toBe("Z**** W**");
    expect(maskName("李小明")).toBe("李**");
    expect(maskName("Bo")).toBe("B**");
    expect(maskName("Wolfeschlegelsteinhausen")).toBe("W******");
  });

  test("behavior: a first character that is not a letter or digit shows as a star; at most four words", () => {
    expect(maskName("\u202Eevil name")).toBe("***** n***");
    expect(maskName("🙂 Smile")).toBe("*** S****");
    expect(maskName("A B C D E F")).toBe("A** B** C** D**");
  });

  test("behavior: every mask maskName makes has the masked shape", () => {
    for (const name of [...REAL_NAMES, "\u0000x", "\u200Fabc def", "x".repeat(500), " a  b ", "3M Company"]) {
      expect(isMaskedName(maskName(name)), name).toBe(true);
    }
  });
});

describe("isMaskedName", () => {
  test.each([
    "Z**** W**", "李**", "*** n***", "B**", "A** B** C** D**",
  ])("%s is a masked name", (text) => {
    expect(isMaskedName(text)).toBe(true);
  });

  test.each([
    ["empty", ""],
    ["plain name", "Zhang Wei"],
    ["too few stars", "Z* W**"],
    ["too many stars", "Z******* W**"],
    ["five words", "A** B** C** D** E**"],
    ["double space", "Z**  W**"],
    ["leading space", " Z** W**"],
    ["bidi override", "\u202EZ** W**"],
    ["bidi inside", "Z**\u2066 W**"],
    ["zero-width", "Z**\u200B W**"],
    ["control", "Z**\u0007"],
    ["newline", "Z**\nW**"],
    ["markup", "<b>Z**</b>"],
    ["long", "W** ".repeat(20).trim()],
  ])("error: %s is not", (_what, text) => {
    expect(isMaskedName(text)).toBe(false);
  });

  test("behavior: the longest mask is within the limit", () => {
    expect(MAX_MASKED_NAME_LENGTH).toBe(Array.from(maskName("Aaaaaaaa Bbbbbbbb Cccccccc Dddddddd")).length);
  });
});

describe("fakeMask", () => {
  const secret = randomBytes(32);

  test("default: the same handle always gets the same mask; another secret gives another", () => {
    expect(fakeMask(secret, "+8613800000000")).toBe(fakeMask(secret, "+8613800000000"));
    const other = randomBytes(32);
    const handles = Array.from({ length: 50 }, (_, i) => `+86138000000${String(i).padStart(2, "0")}`);
    expect(handles.filter((h) => fakeMask(secret, h) !== fakeMask(other, h)).length).toBeGreaterThan(40);
  });

  test("behavior: fake masks follow the rules of real ones and cover the same lengths and word counts", () => {
    const fakes = Array.from({ length: 2_000 }, (_, i) => fakeMask(secret, `+861380000${String(i).padStart(4, "0")}`));
    for (const f of fakes) {
      expect(isMaskedName(f), f).toBe(true);
      expect(f).toMatch(/^[A-Z]\*{2,6}( [A-Z]\*{2,6}){0,2}$/);
    }
    const real = REAL_NAMES.map(maskName);
    const fakeLengths = new Set(fakes.map((f) => f.length));
    for (const r of real) expect(fakeLengths.has(r.length), `a fake as long as ${r}`).toBe(true);
    const words = (m: string) => m.split(" ").length;
    const realWordCounts = new Set(real.map(words));
    expect(new Set(fakes.map(words))).toEqual(realWordCounts);
    // Mostly two words, as most real names have.
    expect(fakes.filter((f) => words(f) === 2).length / fakes.length).toBeGreaterThan(0.7);
    // Not one shape for everybody: many distinct masks.
    expect(new Set(fakes).size).toBeGreaterThan(500);
  });
});
