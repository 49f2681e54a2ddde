import { request } from "node:http";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ApiKeyStore, createApiKey } from "../../node/api/apiKeys.ts";
import { AuditSampler } from "../../node/api/auditSampling.ts";
import { RateLimiter } from "../../node/api/rateLimit.ts";
import { type ApiServer, createApiServer } from "../../node/api/server.ts";
import type { WalletService } from "../../node/bridge/walletService.ts";
import { AuditLog, type AuditEvent, type AuditRecord, verifyAuditLog } from "../../node/observability/auditLog.ts";
import { silentLogger } from "../../node/observability/logger.ts";
import { buildOpenApi } from "../../node/api/openapi.ts";
import { call, registerApiDocument } from "./client.ts";
import { freshHandle, idemKey, startNode } from "./node.ts";

/*
 * What reaches the hash-chained admin audit log: every use of an admin key that moves money or
 * changes an account, one record each; refused attempts nobody answers for (no valid key, or
 * rate-limited) sampled per client, so a flood cannot grow the log.
 */

let dir: string;
let node: { service: WalletService; close(): Promise<void> };
const keys = new ApiKeyStore();
const app = createApiKey(["app"]);
const admin = createApiKey(["admin"]);
const metrics = createApiKey(["metrics"]);
const servers: ApiServer[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "hulian-admin-audit-"));
  for (const k of [app, admin, metrics]) keys.add(k.record);
  node = await startNode();
});
afterAll(async () => {
  await Promise.allSettled(servers.map((s) => s.close()));
  await node?.close();
  await rm(dir, { recursive: true, force: true });
});

async function serve(name: string, extra: Partial<Parameters<typeof createApiServer>[0]> = {}) {
  const file = path.join(dir, name);
  const log = await AuditLog.open(file);
  const pending: Promise<unknown>[] = [];
  const server = createApiServer({ service: node.service, keys, logger: silentLogger, audit: (e) => pending.push(log.append(e)), ...extra });
  servers.push(server);
  const { url } = await server.listen(0);
  // The response check reads the document in process: a flooded address could not fetch it.
  registerApiDocument(url, () => buildOpenApi(server.routes()));
  /** Waits for every append so far and reads the log. */
  const records = async (): Promise<AuditRecord[]> => {
    await Promise.all(pending);
    const text = await readFile(file, "utf8");
    return text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
  };
  return { url, file, log, records };
}

/** GET over a socket bound to `localAddress` (any 127.0.0.0/8 address reaches the server on Linux). */
function getFrom(url: string, p: string, localAddress: string, key: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: new URL(url).port, path: p, localAddress, agent: false, headers: { authorization: `Bearer ${key}` } }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, text }));
    });
    req.on("error", reject);
    req.end();
  });
}

const post = (url: string, p: string, key: string | undefined, body: unknown, idem = idemKey()) => call(url, "POST", p, { key, body, idem });

describe("unauthenticated noise", () => {
  test("behavior: a flood of admin requests without a valid key leaves the log small and gets 429s; the count is kept", async () => {
    let clock = 1_000_000;
    const { url, file, records, log } = await serve("flood.log", {
      rateLimit: new RateLimiter({ perAddress: { ratePerSecond: 0.001, burst: 50 }, failedAuthCost: 1 }),
      auditSampling: { now: () => clock },
    });
    const statuses = new Map<number, number>();
    const flood = 400;
    for (let round = 0; round < flood / 50; round++) {
      const replies = await Promise.all(
        Array.from({ length: 50 }, (_, i) => post(url, "/v1/accounts/c_victim/top-ups", i % 2 ? `hk_live_guess${round}x${i}` : undefined, { amount: "100", reference: "x" })),
      );
      for (const r of replies) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
    expect(statuses.get(401)).toBe(50);
    expect(statuses.get(429)).toBe(flood - 50);

    const first = await records();
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ seq: 1, route: "/v1/accounts/:id/top-ups", outcome: "refused", client: "127.0.0.1" });
    expect(first[0].keyId).toBeUndefined();
    expect((await stat(file)).size).toBeLessThan(2_000);

    // A minute later the client's next attempt is written with the count of those not written.
    clock += 60_000;
    expect((await post(url, "/v1/accounts/c_victim/top-ups", undefined, { amount: "1", reference: "y" })).status).toBe(429);
    const second = await records();
    expect(second).toHaveLength(2);
    expect(second[1]).toMatchObject({ seq: 2, status: 429, code: "rate_limited", suppressed: flood - 1 });
    // Every attempt is a record or counted in one.
    expect(second.length + second.reduce((n, r) => n + (r.suppressed ?? 0), 0)).toBe(flood + 1);

    // The flooding address waits; an operator's scraper elsewhere reads the count.
    expect((await call(url, "GET", "/metrics", { key: metrics.key })).status).toBe(429);
    const m = await getFrom(url, "/metrics", "127.0.0.2", metrics.key);
    expect(m.text).toMatch(new RegExp(`^hulian_api_audit_suppressed_total ${flood - 1}$`, "m"));
    await log.close();
    expect(await verifyAuditLog(file)).toMatchObject({ records: 2, tornTail: false });
  });

  test("behavior: without any rate limit, 300 requests with bad keys still make one record", async () => {
    const { url, records } = await serve("unlimited.log");
    for (let round = 0; round < 6; round++) {
      const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => post(url, "/v1/accounts/c_victim/withdrawals", `hk_live_guess${round}x${i}`, { amount: "1", reference: "w" })));
      expect(new Set(replies.map((r) => r.status))).toEqual(new Set([401]));
    }
    expect(await records()).toHaveLength(1);
  });

  test("behavior: a throttled admin key's refusals are sampled per key; its answered requests are all recorded", async () => {
    let clock = 5_000_000;
    const { url, records } = await serve("throttled.log", {
      rateLimit: new RateLimiter({ ratePerSecond: 0.001, burst: 2 }),
      auditSampling: { now: () => clock },
    });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await post(url, "/v1/accounts/c_nobody/top-ups", admin.key, { amount: "1", reference: `r${i}` })).status);
    expect(statuses).toEqual([404, 404, 429, 429, 429, 429]);
    const r = await records();
    expect(r.map((x) => [x.status, x.keyId])).toEqual([
      [404, admin.id],
      [404, admin.id],
      [429, admin.id],
    ]);
    clock += 60_000;
    await post(url, "/v1/accounts/c_nobody/top-ups", admin.key, { amount: "1", reference: "late" });
    expect((await records()).at(-1)).toMatchObject({ status: 429, keyId: admin.id, suppressed: 3 });
  });
});

describe("admin keys on app routes", () => {
  test("behavior: payments (single and bulk), account openings and closings made with an admin key are recorded; app-key ones are not", async () => {
    const { url, file, records, log } = await serve("money.log");
    const opened = await post(url, "/v1/accounts", admin.key, { handle: freshHandle("adm"), displayName: "Admin Opened" }, "open-1");
    expect(opened.status).toBe(201);
    const payee = await post(url, "/v1/accounts", app.key, { handle: freshHandle("pay"), displayName: "App Opened" });
    expect(payee.status).toBe(201);
    expect((await post(url, `/v1/accounts/${opened.json.id}/top-ups`, admin.key, { amount: "1000", reference: "bank-1" })).status).toBe(201);
    const paid = await post(url, "/v1/payments", admin.key, { from: opened.json.id, to: payee.json.handle, amount: "300", memo: "rent" }, "pay-1");
    expect(paid.status).toBe(201);
    const bulk = await post(url, "/v1/payments/bulk", admin.key, { payments: [{ from: opened.json.id, to: payee.json.handle, amount: "700" }, { from: opened.json.id, to: payee.json.handle, amount: "1" }] }, "bulk-1");
    expect(bulk.json).toMatchObject({ accepted: 1, refused: 1 });
    const refusedPay = await post(url, "/v1/payments", admin.key, { from: opened.json.id, to: payee.json.handle, amount: "5" });
    expect(refusedPay.status).toBe(422);
    const closed = await post(url, `/v1/accounts/${opened.json.id}/close`, admin.key, {}, "close-1");
    expect(closed.status).toBe(200);
    // With an app key: not an admin action.
    expect((await post(url, "/v1/payments", app.key, { from: payee.json.id, to: payee.json.handle, amount: "1" })).status).toBeGreaterThanOrEqual(200);

    const r = await records();
    expect(r.map((x) => x.route)).toEqual(["/v1/accounts", "/v1/accounts/:id/top-ups", "/v1/payments", "/v1/payments/bulk", "/v1/payments", "/v1/accounts/:id/close"]);
    expect(r[0]).toMatchObject({ keyId: admin.id, requestId: opened.headers.get("x-request-id"), idempotencyKey: "open-1", status: 201, outcome: "succeeded", body: { displayName: "Admin Opened" }, location: `/v1/accounts/${opened.json.id}` });
    expect(r[2]).toMatchObject({ keyId: admin.id, requestId: paid.headers.get("x-request-id"), idempotencyKey: "pay-1", body: { from: opened.json.id, amount: "300", memo: "rent" }, status: 201, outcome: "succeeded", location: `/v1/payments/${paid.json.id}` });
    expect(r[3]).toMatchObject({ keyId: admin.id, requestId: bulk.headers.get("x-request-id"), idempotencyKey: "bulk-1", status: 200, outcome: "succeeded", body: { payments: [{ amount: "700" }, { amount: "1" }] } });
    expect(r[4]).toMatchObject({ keyId: admin.id, status: 422, outcome: "refused", code: "insufficient_funds" });
    expect(r[5]).toMatchObject({ keyId: admin.id, params: { id: opened.json.id }, status: 200, outcome: "succeeded" });
    await log.close();
    const text = await readFile(file, "utf8");
    expect(text).not.toMatch(/hk_live_/);
    expect(await verifyAuditLog(file)).toMatchObject({ records: 6, head: r[5].hash });
  });
});

describe("audit sampler", () => {
  const event = (i: number): AuditEvent => ({ time: `2026-01-01T00:00:${String(i % 60).padStart(2, "0")}.000Z`, requestId: `r${i}`, method: "POST", route: "/v1/accounts/:id/top-ups", status: 401, outcome: "refused", code: "unauthorized" });

  test("behavior: the first attempt is written, the rest of the minute counted; a sweep writes the count as a summary and forgets quiet clients", () => {
    let now = 0;
    const written: AuditEvent[] = [];
    const s = new AuditSampler({ write: (e) => written.push(e), now: () => now });
    for (let i = 0; i < 10; i++) s.offer("address 10.0.0.1", event(i));
    s.offer("address 10.0.0.2", event(10));
    expect(written.map((e) => e.requestId)).toEqual(["r0", "r10"]);
    s.sweep();
    expect(written).toHaveLength(2);
    now = 60_000;
    s.sweep();
    expect(written[2]).toMatchObject({ requestId: "r9", summary: true, suppressed: 9 });
    expect(s.clients).toBe(1); // 10.0.0.2 had nothing pending: forgotten
    now = 120_000;
    s.sweep();
    expect(s.clients).toBe(0);
    expect(s.suppressed).toBe(9);
  });

  test("behavior: bounded: at most maxClients windows, at most maxRecordsPerWindow records per window", () => {
    let now = 0;
    const written: AuditEvent[] = [];
    const s = new AuditSampler({ write: (e) => written.push(e), now: () => now, maxClients: 100, maxRecordsPerWindow: 20 });
    for (let i = 0; i < 1_000; i++) s.offer(`address 10.1.${i >> 8}.${i & 255}`, event(i));
    expect(written).toHaveLength(20);
    expect(s.clients).toBe(100);
    expect(s.suppressed).toBe(980);
    now = 60_000;
    s.sweep();
    expect(written).toHaveLength(40);
    expect(written.slice(20).every((e) => e.summary && e.suppressed === 1)).toBe(true);
  });

  test("behavior: flush (on shutdown) writes every pending count before its window ends", () => {
    const written: AuditEvent[] = [];
    const s = new AuditSampler({ write: (e) => written.push(e), now: () => 0 });
    for (let i = 0; i < 4; i++) s.offer("address 10.0.0.9", event(i));
    s.offer("address 10.0.0.8", event(9));
    s.flush();
    expect(written.map((e) => [e.requestId, e.suppressed, e.summary])).toEqual([
      ["r0", undefined, undefined],
      ["r9", undefined, undefined],
      ["r3", 3, true],
    ]);
  });

  test("error: a window, client bound or budget below one is refused", () => {
    expect(() => new AuditSampler({ write: () => {}, windowMs: 0 })).toThrow(RangeError);
    expect(() => new AuditSampler({ write: () => {}, maxClients: 0 })).toThrow(RangeError);
    expect(() => new AuditSampler({ write: () => {}, maxRecordsPerWindow: 0 })).toThrow(RangeError);
  });
});
