import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ApiKeyStore, createApiKey } from "../../node/api/apiKeys.ts";
import { type ApiLimits, type ApiServer, createApiServer } from "../../node/api/server.ts";
import type { WalletService } from "../../node/bridge/walletService.ts";
import { silentLogger } from "../../node/observability/logger.ts";
import { startNode } from "./node.ts";

/*
 * Slowloris: idle connections must not use up the node's file descriptors. Connections are capped
 * per client address and in total, and closed when they send nothing or headers too slowly, while
 * other clients keep being served.
 */

let node: { service: WalletService; close(): Promise<void> };
const keys = new ApiKeyStore();
const metrics = createApiKey(["metrics"]);
const servers: ApiServer[] = [];
const sockets: Socket[] = [];

beforeAll(async () => {
  keys.add(metrics.record);
  node = await startNode();
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.allSettled(servers.map((s) => s.close()));
  await node?.close();
});

async function serve(limits: Partial<ApiLimits>): Promise<{ url: string; port: number }> {
  const server = createApiServer({ service: node.service, keys, logger: silentLogger, limits });
  servers.push(server);
  return server.listen(0);
}

/** Opens a TCP connection from `localAddress` that sends nothing; resolves once connected. */
function idleSocket(port: number, localAddress: string): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", localAddress });
    sockets.push(socket);
    // Read whatever comes (Node may answer 408 before closing): a paused socket with unread data never emits close.
    socket.resume();
    const closed = new Promise<void>((r) => socket.once("close", () => r()));
    socket.once("error", () => {});
    socket.once("connect", () => resolve({ socket, closed }));
    socket.once("error", reject);
  });
}

function get(port: number, path: string, localAddress = "127.0.0.1", key?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, localAddress, agent: false, headers: key ? { authorization: `Bearer ${key}` } : {} }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, text }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** `p`, or an error saying `what` once `ms` have passed. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

describe("connection limits", () => {
  test("behavior: sockets from one address beyond its cap are closed; the ones within it and other clients are served", async () => {
    const cap = 20;
    const { port } = await serve({ maxConnectionsPerAddress: cap });
    const flood = await Promise.all(Array.from({ length: 2 * cap }, () => idleSocket(port, "127.0.0.2")));
    let closed = 0;
    for (const f of flood) void f.closed.then(() => closed++);
    await expect.poll(() => closed).toBe(cap);
    expect(flood.filter((f) => !f.socket.destroyed)).toHaveLength(cap);
    // A legitimate client elsewhere is served …
    expect((await get(port, "/healthz")).status).toBe(200);
    // … and the flooding address can use what its cap leaves once it lets go of a socket.
    flood.find((f) => !f.socket.destroyed)!.socket.destroy();
    await expect.poll(async () => (await get(port, "/healthz", "127.0.0.2").catch(() => ({ status: 0 }))).status).toBe(200);
    const m = await get(port, "/metrics", "127.0.0.1", metrics.key);
    // The flood's extra sockets, and any retry above that raced the server's close.
    expect(Number(/^hulian_http_connections_refused_total\{reason="per_address"\} (\d+)$/m.exec(m.text)?.[1])).toBeGreaterThanOrEqual(cap);
    expect(m.text).toMatch(/^hulian_http_connections_open \d+$/m);
  });

  test("behavior: beyond the total cap new connections are closed on arrival", async () => {
    const { port } = await serve({ maxConnections: 5 });
    const held = await Promise.all(Array.from({ length: 5 }, () => idleSocket(port, "127.0.0.3")));
    // Closed on arrival (or reset before it connected at all).
    const extra = await idleSocket(port, "127.0.0.4").catch(() => undefined);
    if (extra) await expect.poll(() => extra.socket.destroyed).toBe(true);
    for (const h of held) h.socket.destroy();
    await expect.poll(async () => (await get(port, "/healthz").catch(() => ({ status: 0 }))).status).toBe(200);
  });

  test("behavior: a connection that never sends a byte, and one that sends its headers too slowly, are closed", async () => {
    const { port } = await serve({ headersTimeoutMs: 1_000 });
    const silent = await idleSocket(port, "127.0.0.5");
    const slow = await idleSocket(port, "127.0.0.5");
    let answer = "";
    slow.socket.on("data", (d) => (answer += d));
    slow.socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    // Bounded waits, so a socket left open fails here by name instead of at the test's timeout.
    await within(silent.closed, 30_000, "the silent connection was not closed");
    await within(slow.closed, 30_000, "the slow connection was not closed");
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect((await within(get(port, "/healthz", "127.0.0.5"), 30_000, "healthz did not answer")).status).toBe(200);
  });

  test("error: caps below one connection are refused", async () => {
    expect(() => createApiServer({ service: node.service, keys, logger: silentLogger, limits: { maxConnectionsPerAddress: 0 } })).toThrow(RangeError);
  });
});
