import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ApiKeyStore, createApiKey } from "../../node/api/apiKeys.ts";
import { clientAddress } from "../../node/api/clientAddress.ts";
import { RateLimiter } from "../../node/api/rateLimit.ts";
import { type ApiServer, createApiServer } from "../../node/api/server.ts";
import type { WalletService } from "../../node/bridge/walletService.ts";
import { silentLogger } from "../../node/observability/logger.ts";
import { startNode } from "./node.ts";

/*
 * Rate limits before and after authentication: per client address for everything without a valid
 * key (checked before any key is looked at), per key otherwise, in separate bounded maps.
 */

let node: { service: WalletService; close(): Promise<void> };
const keys = new ApiKeyStore();
const app = createApiKey(["app"]);
const servers: ApiServer[] = [];

beforeAll(async () => {
  keys.add(app.record);
  node = await startNode();
});
afterAll(async () => {
  await Promise.allSettled(servers.map((s) => s.close()));
  await node?.close();
});

/** GET over a socket bound to `localAddress` (any 127.0.0.0/8 address reaches the server on Linux). */
function getFrom(url: string, path: string, localAddress: string, key?: string): Promise<{ status: number; retryAfter?: string; code?: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, localAddress, agent: false, headers: key ? { authorization: `Bearer ${key}` } : {} }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, retryAfter: res.headers["retry-after"] as string | undefined, code: text ? JSON.parse(text).code : undefined }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("rate limiter", () => {
  test("behavior: flooding the limiter with addresses never resets a throttled key's bucket", () => {
    let now = 0;
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 2, maxAddressBuckets: 1_000, maxKeyBuckets: 100, now: () => now });
    limiter.take("key_a");
    limiter.take("key_a");
    expect(limiter.tryTake("key_a")).toBe(1000);
    // Ten times more addresses than the address map holds: it evicts, least recently used first.
    for (let i = 0; i < 10_000; i++) limiter.takeAddress(`10.0.${i >> 8}.${i & 255}`);
    expect(limiter.size).toEqual({ keys: 1, addresses: 1_000 });
    expect(limiter.tryTake("key_a")).toBe(1000);
    now += 1000;
    expect(limiter.tryTake("key_a")).toBe(0);
  });

  test("behavior: each map evicts its least recently used bucket, so a busy subject keeps its state", () => {
    let now = 0;
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1, maxAddressBuckets: 3, now: () => now });
    limiter.takeAddress("a");
    limiter.takeAddress("b");
    limiter.takeAddress("c");
    expect(() => limiter.takeAddress("a")).toThrow(/Too many requests from this address/);
    limiter.takeAddress("d"); // evicts b, the least recently used, not a
    expect(() => limiter.takeAddress("a")).toThrow();
    expect(limiter.size.addresses).toBe(3);
  });

  test("behavior: a failed authentication costs its address failedAuthCost tokens, never below empty", () => {
    let now = 0;
    const limiter = new RateLimiter({ perAddress: { ratePerSecond: 100, burst: 250 }, failedAuthCost: 100, now: () => now });
    limiter.chargeFailedAuth("10.0.0.1");
    limiter.chargeFailedAuth("10.0.0.1");
    limiter.checkAddress("10.0.0.1"); // 50 left
    limiter.chargeFailedAuth("10.0.0.1");
    expect(() => limiter.checkAddress("10.0.0.1")).toThrow(expect.objectContaining({ status: 429, code: "rate_limited" }));
    now += 10; // one token back
    limiter.checkAddress("10.0.0.1");
    // Another address is untouched.
    limiter.checkAddress("10.0.0.2");
  });

  test("error: bounds below one bucket and a negative failure cost are refused", () => {
    expect(() => new RateLimiter({ maxAddressBuckets: 0 })).toThrow(RangeError);
    expect(() => new RateLimiter({ maxKeyBuckets: 0 })).toThrow(RangeError);
    expect(() => new RateLimiter({ failedAuthCost: -1 })).toThrow(RangeError);
    expect(() => new RateLimiter({ perAddress: { burst: 0 } })).toThrow(RangeError);
  });

  test("default: addresses are IPv4, IPv4-mapped IPv6 counts as IPv4, IPv6 by its /64", () => {
    expect(clientAddress({ remoteAddress: "127.0.0.1" })).toBe("127.0.0.1");
    expect(clientAddress({ remoteAddress: "::ffff:10.0.0.7" })).toBe("10.0.0.7");
    expect(clientAddress({ remoteAddress: "2001:db8:1:2:a:b:c:d" })).toBe("2001:db8:1:2::/64");
    expect(clientAddress({ remoteAddress: "2001:db8:1:2::9" })).toBe("2001:db8:1:2::/64");
    expect(clientAddress({ remoteAddress: "2001:0db8:0001:0002:ffff::1" })).toBe("2001:db8:1:2::/64");
    expect(clientAddress({ remoteAddress: "::1" })).toBe("0:0:0:0::/64");
    expect(clientAddress({})).toBe("unknown");
  });
});

describe("rate limits over HTTP", () => {
  test("error: bad keys drain their address; the address is then refused (429) before any key is checked, other addresses go on", async () => {
    const limiter = new RateLimiter({ perAddress: { ratePerSecond: 0.01, burst: 3 }, failedAuthCost: 1 });
    const server = createApiServer({ service: node.service, keys, logger: silentLogger, rateLimit: limiter });
    servers.push(server);
    const { url } = await server.listen(0);
    const from = "127.0.0.2";
    const guesses = [];
    for (let i = 0; i < 5; i++) guesses.push(await getFrom(url, "/v1/accounts/c_nobody", from, `hk_live_guess${i}`));
    expect(guesses.map((g) => g.status)).toEqual([401, 401, 401, 429, 429]);
    expect(guesses[3]).toMatchObject({ code: "rate_limited" });
    expect(Number(guesses[3].retryAfter)).toBeGreaterThanOrEqual(1);
    // Refused before authentication: even the valid key waits at that address …
    expect(await getFrom(url, "/v1/accounts/c_nobody", from, app.key)).toMatchObject({ status: 429, code: "rate_limited" });
    // … while the same key from another address is served.
    expect(await getFrom(url, "/v1/accounts/c_nobody", "127.0.0.3", app.key)).toMatchObject({ status: 404, code: "account_not_found" });
  });

  test("behavior: requests with a valid key do not spend their address's bucket", async () => {
    const limiter = new RateLimiter({ ratePerSecond: 1_000, burst: 1_000, perAddress: { ratePerSecond: 0.01, burst: 2 } });
    const server = createApiServer({ service: node.service, keys, logger: silentLogger, rateLimit: limiter });
    servers.push(server);
    const { url } = await server.listen(0);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await getFrom(url, "/v1/accounts/c_nobody", "127.0.0.4", app.key)).status);
    expect(statuses).toEqual([404, 404, 404, 404, 404]);
    // Unknown routes and open routes do.
    expect((await getFrom(url, "/v1/nope", "127.0.0.4")).status).toBe(404);
    expect((await getFrom(url, "/healthz", "127.0.0.4")).status).toBe(200);
    expect((await getFrom(url, "/healthz", "127.0.0.4")).status).toBe(429);
  });
});
