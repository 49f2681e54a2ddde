import { describe, expect, test } from "vitest";
import type { Hex } from "viem";
import { ResolutionCache } from "../../node/bridge/resolutionCache.ts";
import type { Resolution } from "../../node/directory/directoryClient.ts";

const REF = `0x${"ab".repeat(32)}` as Hex;

/** A resolver that counts its calls (the real one is a signed HTTP request to the payee's node). */
function counting(maskedName = "B** L*") {
  const calls: string[] = [];
  const resolve = async (handle: string, wallet: string): Promise<Resolution> => {
    calls.push(`${handle}@${wallet}`);
    return { walletId: `0x${"00".repeat(32)}` as Hex, wallet, payeeRef: REF, maskedName };
  };
  return { calls, resolve };
}

describe("ResolutionCache", () => {
  test("default: a fresh resolution is reused within the TTL", async () => {
    let now = 0;
    const r = counting();
    const cache = new ResolutionCache(r.resolve, { ttlMs: 1_000, now: () => now });
    await cache.resolve("bob", "WECHAT");
    now = 999;
    await cache.resolve("bob", "WECHAT");
    expect(r.calls).toEqual(["bob@WECHAT"]);
  });

  test("behavior: an expired resolution is asked again", async () => {
    let now = 0;
    const r = counting();
    const cache = new ResolutionCache(r.resolve, { ttlMs: 1_000, now: () => now });
    await cache.resolve("bob", "WECHAT");
    now = 1_000;
    await cache.resolve("bob", "WECHAT");
    expect(r.calls).toHaveLength(2);
  });

  test("behavior: every answer is cached alike, whatever its mask (the payee's node answers unknown handles like real ones)", async () => {
    const r = counting("***");
    const cache = new ResolutionCache(r.resolve, { ttlMs: 60_000 });
    await cache.resolve("ghost", "WECHAT");
    await cache.resolve("ghost", "WECHAT");
    expect(r.calls).toHaveLength(1);
  });

  test("behavior: the payer reference goes to the resolver with the lookup that asks the payee's node", async () => {
    const payers: (Hex | undefined)[] = [];
    const cache = new ResolutionCache(async (_h, wallet, payer) => {
      payers.push(payer);
      return { walletId: `0x${"00".repeat(32)}` as Hex, wallet, payeeRef: REF, maskedName: "B**" };
    }, { ttlMs: 60_000 });
    const payer = `0x${"cd".repeat(32)}` as Hex;
    await cache.resolve("bob", "WECHAT", payer);
    await cache.resolve("bob", "WECHAT", `0x${"ef".repeat(32)}` as Hex);
    await cache.resolve("amy", "WECHAT");
    expect(payers).toEqual([payer, undefined]);
  });

  test("behavior: concurrent requests for one payee share one resolution", async () => {
    const r = counting();
    const cache = new ResolutionCache(r.resolve, { ttlMs: 60_000 });
    await Promise.all([cache.resolve("bob", "WECHAT"), cache.resolve("bob", "WECHAT"), cache.resolve("bob", "YUNPAY")]);
    expect(r.calls.sort()).toEqual(["bob@WECHAT", "bob@YUNPAY"]);
  });

  test("error: a failed resolution is not kept and the next call asks again", async () => {
    let fail = true;
    const calls: number[] = [];
    const cache = new ResolutionCache(async (_h, wallet) => {
      calls.push(1);
      if (fail) throw new Error("payee node down");
      return { walletId: `0x${"00".repeat(32)}` as Hex, wallet, payeeRef: REF, maskedName: "B**" };
    });
    await expect(cache.resolve("bob", "WECHAT")).rejects.toThrow("payee node down");
    fail = false;
    await expect(cache.resolve("bob", "WECHAT")).resolves.toMatchObject({ payeeRef: REF });
    expect(calls).toHaveLength(2);
  });

  test("behavior: a TTL of 0 turns the cache off", async () => {
    const r = counting();
    const cache = new ResolutionCache(r.resolve, { ttlMs: 0 });
    await cache.resolve("bob", "WECHAT");
    await cache.resolve("bob", "WECHAT");
    expect(r.calls).toHaveLength(2);
  });
});
