import { describe, expect, test } from "vitest";
import {
  isWalletId,
  parseTransferId,
  transferIdOf,
  walletCodeOf,
  walletIdOf,
} from "../../node/receipts/index.ts";

describe("ids", () => {
  test("default: a wallet code becomes a left-aligned bytes32 and back", () => {
    const id = walletIdOf("ALIPAY");
    expect(id).toBe("0x414c495041590000000000000000000000000000000000000000000000000000");
    expect(walletCodeOf(id)).toBe("ALIPAY");
    expect(isWalletId(id)).toBe(true);
  });

  test("behavior: a transfer id packs wallet and sequence and splits again", () => {
    const id = transferIdOf(walletIdOf("WECHAT"), 258n);
    expect(id.endsWith("0000000000000102")).toBe(true);
    expect(parseTransferId(id)).toEqual({ walletId: walletIdOf("WECHAT"), seq: 258n });
  });

  test("error: codes that are lower-case, empty, too long or binary are refused", () => {
    for (const bad of ["alipay", "", "A".repeat(25), "ALI PAY"]) {
      expect(() => walletIdOf(bad)).toThrow("must be 1-24 characters");
    }
    expect(isWalletId("0x" + "41".repeat(32))).toBe(false);
    expect(() => transferIdOf(walletIdOf("A"), 1n << 64n)).toThrow("outside uint64");
  });
});
