import type { Address, Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, test } from "vitest";
import { NonceCache } from "../../node/directory/nonceCache.ts";
import { HEADER_SIGNATURE, MAX_CLOCK_SKEW_MS, isLowS, signRequest, verifyRequest } from "../../node/directory/signedRequest.ts";
import { walletIdOf } from "../../node/receipts/ids.ts";

const caller = privateKeyToAccount(generatePrivateKey());
const FROM = walletIdOf("WECHAT");
const TO = walletIdOf("ALIPAY");
const members = async (id: Hex) => (id.toLowerCase() === FROM.toLowerCase() ? { settlementAccount: caller.address as Address, status: "Active" } : undefined);
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

describe("signed node requests", () => {
  test("default: a request addressed to this wallet verifies once; its replay is refused", async () => {
    const nonces = new NonceCache();
    const now = Date.now();
    const headers = await signRequest(caller, FROM, "POST", "/node/v1/x", "{}", now, TO);
    await expect(verifyRequest(headers, "POST", "/node/v1/x", "{}", members, now, { audience: TO, nonces })).resolves.toBe(FROM);
    await expect(verifyRequest(headers, "POST", "/node/v1/x", "{}", members, now + 1, { audience: TO, nonces })).rejects.toMatchObject({ code: "replayed_request" });
  });

  test("behavior: a request verified without options (audience and nonce unchecked) still works, for callers of the old shape", async () => {
    const headers = await signRequest(caller, FROM, "POST", "/node/v1/x", "{}");
    await expect(verifyRequest(headers, "POST", "/node/v1/x", "{}", members)).resolves.toBe(FROM);
  });

  test("error: a request for another wallet is refused before the signature is recovered", async () => {
    let checks = 0;
    const headers = await signRequest(caller, FROM, "POST", "/node/v1/x", "{}", Date.now(), walletIdOf("YUNPAY"));
    await expect(verifyRequest(headers, "POST", "/node/v1/x", "{}", members, Date.now(), { audience: TO, onSignatureCheck: () => checks++ })).rejects.toMatchObject({ code: "wrong_audience" });
    expect(checks).toBe(0);
  });

  test("error: high-s signatures are refused; signRequest never makes one", async () => {
    const headers = await signRequest(caller, FROM, "POST", "/node/v1/x", "{}", Date.now(), TO);
    const sig = headers[HEADER_SIGNATURE] as Hex;
    expect(isLowS(sig)).toBe(true);
    const s = BigInt(`0x${sig.slice(66, 130)}`);
    const v = Number.parseInt(sig.slice(130, 132), 16);
    const twin = `${sig.slice(0, 66)}${(N - s).toString(16).padStart(64, "0")}${(v === 27 ? 28 : 27).toString(16)}` as Hex;
    expect(isLowS(twin)).toBe(false);
    await expect(verifyRequest({ ...headers, [HEADER_SIGNATURE]: twin }, "POST", "/node/v1/x", "{}", members, Date.now(), { audience: TO })).rejects.toMatchObject({ code: "malformed_signature" });
  });
});

describe("NonceCache", () => {
  test("default: a nonce is refused again until it expires", () => {
    const c = new NonceCache(10);
    expect(c.add("a", 1_000, 0)).toBe("added");
    expect(c.add("a", 1_000, 500)).toBe("seen");
    expect(c.add("a", 2_000, 1_000)).toBe("added");
  });

  test("behavior: full of live nonces it refuses new ones (never forgets a live one); expired ones make room", () => {
    const c = new NonceCache(3);
    for (const k of ["a", "b", "c"]) expect(c.add(k, MAX_CLOCK_SKEW_MS, 0)).toBe("added");
    expect(c.add("d", MAX_CLOCK_SKEW_MS, 1)).toBe("full");
    expect(c.has("a", 1)).toBe(true);
    expect(c.add("d", 2 * MAX_CLOCK_SKEW_MS, MAX_CLOCK_SKEW_MS)).toBe("added");
    expect(c.size).toBeLessThanOrEqual(3);
  });
});
