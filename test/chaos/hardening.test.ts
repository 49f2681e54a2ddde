import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile, appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ApiKeyStore, createApiKey } from "../../node/api/apiKeys.ts";
import { ApiProblem } from "../../node/api/problem.ts";
import { RateLimiter } from "../../node/api/rateLimit.ts";
import { type ApiServer, createApiServer } from "../../node/api/server.ts";
import { createPeerFetch, loadTlsServerOptions } from "../../node/api/tls.ts";
import type { WalletService } from "../../node/bridge/walletService.ts";
import type { RegistryView } from "../../node/chain/registryView.ts";
import { DirectoryClient, RESOLVE_PATH } from "../../node/directory/directoryClient.ts";
import { AuditLog, type AuditRecord, AuditLogTamperedError, verifyAuditLog } from "../../node/observability/auditLog.ts";
import { silentLogger } from "../../node/observability/logger.ts";
import { walletIdOf } from "../../node/receipts/ids.ts";
import { startTestNode } from "../helpers/testNode.ts";

/*
 * The node's hardening controls, each against a real API server over a real node: per-key rate
 * limits, HTTPS for the API and node-to-node calls (certificates made by openssl at test time),
 * the hash-chained audit log of admin actions. The keystore password is checked against every node
 * log by the chaos test (test/chaos/chaos.test.ts); the explorer's read-only guarantee by
 * test/explorer/http.test.ts.
 */

let dir: string;
let node: { service: WalletService; close(): Promise<void> };
const keys = new ApiKeyStore();
const app = createApiKey(["app"]);
const admin = createApiKey(["admin"]);
const servers: ApiServer[] = [];

const hasOpenssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "hulian-hardening-"));
  keys.add(app.record);
  keys.add(admin.record);
  node = await startTestNode();
});

afterAll(async () => {
  await Promise.allSettled(servers.map((s) => s.close()));
  await node?.close();
  await rm(dir, { recursive: true, force: true });
});

async function serve(options: Partial<Parameters<typeof createApiServer>[0]> = {}): Promise<{ url: string; server: ApiServer }> {
  const server = createApiServer({ service: node.service, keys, logger: silentLogger, ...options });
  servers.push(server);
  const { url } = await server.listen(0);
  return { url, server };
}

const auth = (key: string) => ({ authorization: `Bearer ${key}` });

describe("rate limits", () => {
  test("default: a token bucket per subject refills at its rate, up to its burst", () => {
    let now = 0;
    const limiter = new RateLimiter({ ratePerSecond: 2, burst: 3, now: () => now });
    for (let i = 0; i < 3; i++) expect(limiter.tryTake("key_a")).toBe(0);
    expect(limiter.tryTake("key_a")).toBe(500);
    expect(limiter.tryTake("key_b")).toBe(0);
    now += 500;
    expect(limiter.tryTake("key_a")).toBe(0);
    expect(limiter.tryTake("key_a")).toBeGreaterThan(0);
    now += 60_000;
    for (let i = 0; i < 3; i++) expect(limiter.tryTake("key_a")).toBe(0);
    expect(limiter.tryTake("key_a")).toBeGreaterThan(0);
  });

  test("behavior: per-key overrides, and an empty bucket throws 429 rate_limited with Retry-After in whole seconds", () => {
    let now = 0;
    const limiter = new RateLimiter({ ratePerSecond: 0.25, burst: 1, perKey: { key_bulk: { burst: 100 } }, now: () => now });
    limiter.take("key_a");
    try {
      limiter.take("key_a");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ApiProblem);
      expect(e).toMatchObject({ status: 429, code: "rate_limited", headers: { "retry-after": "4" } });
    }
    for (let i = 0; i < 100; i++) limiter.take("key_bulk");
  });

  test("error: a limit without a positive rate or burst is refused", () => {
    expect(() => new RateLimiter({ ratePerSecond: 0 })).toThrow(RangeError);
    expect(() => new RateLimiter({ burst: 0 })).toThrow(RangeError);
    expect(() => new RateLimiter({ ratePerSecond: Number.NaN })).toThrow(RangeError);
  });

  test("behavior: the API answers 429 problem+json with Retry-After once a key's bucket is empty; other keys go on", async () => {
    const { url } = await serve({ rateLimit: new RateLimiter({ ratePerSecond: 0.5, burst: 2 }) });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${url}/v1/accounts/c_nobody`, { headers: auth(app.key) })).status);
    expect(statuses).toEqual([404, 404, 429]);
    const limited = await fetch(`${url}/v1/accounts/c_nobody`, { headers: auth(app.key) });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("content-type")).toBe("application/problem+json");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({ code: "rate_limited", status: 429 });
    expect((await fetch(`${url}/v1/accounts/c_nobody`, { headers: auth(admin.key) })).status).toBe(404);
    // Open routes are limited per client address.
    const health = [];
    for (let i = 0; i < 3; i++) health.push((await fetch(`${url}/healthz`)).status);
    expect(health.at(-1)).toBe(429);
  });
});

describe.skipIf(!hasOpenssl)("TLS", () => {
  let ca: Buffer;
  let tlsFiles: { certFile: string; keyFile: string };

  beforeAll(async () => {
    // A throwaway CA and a node certificate for 127.0.0.1, made with openssl (Node cannot issue certificates).
    const run = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    run("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Hulian Test Network CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    run("req", ...ec, "-keyout", "node.key", "-out", "node.csr", "-subj", "/CN=alipay.node.test");
    await writeFile(path.join(dir, "node.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n");
    run("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "node.pem", "-days", "2", "-extfile", "node.ext");
    ca = await readFile(path.join(dir, "ca.pem"));
    tlsFiles = { certFile: path.join(dir, "node.pem"), keyFile: path.join(dir, "node.key") };
  });

  test("behavior: the API serves HTTPS with the configured certificate; a client that trusts the network CA gets through", async () => {
    const { url } = await serve({ tls: await loadTlsServerOptions(tlsFiles) });
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const peerFetch = createPeerFetch({ ca });
    const res = await peerFetch(`${url}/v1/accounts/c_nobody`, { method: "GET", headers: auth(app.key) });
    expect(res.status).toBe(404);
    expect((await res.json()).code).toBe("account_not_found");
  });

  test("error: a client that does not trust the CA is refused, and plain HTTP gets no answer", async () => {
    const { url } = await serve({ tls: await loadTlsServerOptions(tlsFiles) });
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    await expect(createPeerFetch()(`${url}/healthz`, { method: "GET", headers: {} })).rejects.toThrow(/self-signed|unable to (get|verify)/i);
    await expect(fetch(`${url.replace("https:", "http:")}/healthz`).then((r) => r.status)).rejects.toThrow();
  });

  test("behavior: node-to-node resolution goes over HTTPS when the directory client trusts the network CA", async () => {
    const payeeRef = `0x${"ab".repeat(32)}` as Hex;
    const { url, server } = await serve({ tls: await loadTlsServerOptions(tlsFiles) });
    server.route("POST", RESOLVE_PATH, () => ({ status: 200, body: { payeeRef, maskedName: "W***" } }), {
      auth: "none",
      idempotent: false,
      body: { type: "object", properties: { handle: { type: "string" } }, required: ["handle"] } as never,
    });
    const registry = { operator: async () => ({ endpoint: url, status: "Active", settlementAccount: "0x0" }), invalidate() {} } as unknown as RegistryView;
    const account = privateKeyToAccount(generatePrivateKey());
    const walletId = walletIdOf("ALIPAY");
    const peers = { allowLoopback: true };
    const trusted = new DirectoryClient({ registry, account, walletId, fetch: createPeerFetch({ ca }), peers });
    expect(await trusted.resolve("wang", "WECHAT")).toMatchObject({ wallet: "WECHAT", payeeRef, maskedName: "W***" });
    const untrusted = new DirectoryClient({ registry, account, walletId, peers });
    await expect(untrusted.resolve("wang", "WECHAT")).rejects.toMatchObject({ code: "payee_wallet_unreachable" });
  });
});

describe("audit log", () => {
  async function records(file: string, n: number): Promise<AuditRecord[]> {
    for (let i = 0; i < 200; i++) {
      const text = await readFile(file, "utf8").catch(() => "");
      const lines = text.split("\n").filter(Boolean);
      if (lines.length >= n) return lines.map((l) => JSON.parse(l) as AuditRecord);
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`audit log never reached ${n} records`);
  }

  test("behavior: admin POSTs are recorded, answered or refused, with key id, request id, route and outcome; other calls are not", async () => {
    const file = path.join(dir, "audit-1.log");
    const log = await AuditLog.open(file);
    const { url } = await serve({ audit: (e) => log.append(e) });
    const post = (p: string, key: string | undefined, body: unknown, idem = `idem-${Math.random()}`) =>
      fetch(url + p, { method: "POST", headers: { ...(key ? auth(key) : {}), "content-type": "application/json", "idempotency-key": idem }, body: JSON.stringify(body) });

    const opened = await (await post("/v1/accounts", app.key, { handle: "audited", displayName: "Audit Target" })).json();
    const ok = await post(`/v1/accounts/${opened.id}/top-ups`, admin.key, { amount: "1500", reference: "bank-77" }, "topup-1");
    expect(ok.status).toBe(201);
    expect((await post(`/v1/accounts/${opened.id}/withdrawals`, app.key, { amount: "5", reference: "w-1" })).status).toBe(403);
    expect((await post(`/v1/accounts/${opened.id}/withdrawals`, undefined, { amount: "5", reference: "w-2" })).status).toBe(401);
    expect((await post(`/v1/accounts/${opened.id}/withdrawals`, admin.key, { amount: "999999999", reference: "w-3" })).status).toBe(422);
    await fetch(`${url}/v1/accounts/${opened.id}`, { headers: auth(admin.key) });

    const [topUp, wrongScope, noKey, refused] = await records(file, 4);
    expect(topUp).toMatchObject({
      seq: 1,
      keyId: admin.id,
      requestId: ok.headers.get("x-request-id"),
      method: "POST",
      route: "/v1/accounts/:id/top-ups",
      params: { id: opened.id },
      idempotencyKey: "topup-1",
      body: { amount: "1500", reference: "bank-77" },
      status: 201,
      outcome: "succeeded",
    });
    expect(wrongScope).toMatchObject({ seq: 2, keyId: app.id, route: "/v1/accounts/:id/withdrawals", status: 403, outcome: "refused", code: "forbidden" });
    expect(noKey).toMatchObject({ seq: 3, status: 401, outcome: "refused", code: "unauthorized" });
    expect(noKey.keyId).toBeUndefined();
    expect(refused).toMatchObject({ seq: 4, keyId: admin.id, status: 422, outcome: "refused" });
    await log.close();
    // Account opening (app) and reads are not admin actions.
    expect((await readFile(file, "utf8")).trim().split("\n")).toHaveLength(4);
    const text = await readFile(file, "utf8");
    expect(text).not.toContain(admin.key);
    expect(text).not.toContain(app.key);
    expect(text).not.toMatch(/hk_live_/);
    expect(await verifyAuditLog(file)).toMatchObject({ records: 4, head: refused.hash, tornTail: false });
  });

  test("behavior: each line is chained to the one before; changing, dropping or reordering a line is detected", async () => {
    const file = path.join(dir, "audit-2.log");
    const log = await AuditLog.open(file);
    for (let i = 0; i < 5; i++) {
      await log.append({ time: new Date().toISOString(), requestId: `r${i}`, keyId: "key_1", method: "POST", route: "/v1/accounts/:id/top-ups", body: { amount: String(100 + i) }, status: 201, outcome: "succeeded" });
    }
    await log.close();
    const lines = (await readFile(file, "utf8")).trim().split("\n");
    expect(JSON.parse(lines[0]).prevHash).toBe("0".repeat(64));
    expect(JSON.parse(lines[1]).prevHash).toBe(JSON.parse(lines[0]).hash);

    const tamper = async (name: string, text: string) => {
      const f = path.join(dir, name);
      await writeFile(f, text);
      return f;
    };
    const edited = await tamper("edited.log", [lines[0], lines[1].replace('"amount":"101"', '"amount":"9101"'), ...lines.slice(2)].join("\n") + "\n");
    await expect(verifyAuditLog(edited)).rejects.toThrow(AuditLogTamperedError);
    await expect(verifyAuditLog(edited)).rejects.toMatchObject({ line: 2 });
    const dropped = await tamper("dropped.log", [lines[0], ...lines.slice(2)].join("\n") + "\n");
    await expect(verifyAuditLog(dropped)).rejects.toMatchObject({ line: 2 });
    const swapped = await tamper("swapped.log", [lines[1], lines[0], ...lines.slice(2)].join("\n") + "\n");
    await expect(verifyAuditLog(swapped)).rejects.toMatchObject({ line: 1 });
    // A node does not start appending to a log that does not verify.
    await expect(AuditLog.open(edited)).rejects.toThrow(AuditLogTamperedError);
  });

  test("behavior: a line torn by a crash is cut off on open and the chain goes on", async () => {
    const file = path.join(dir, "audit-3.log");
    const log = await AuditLog.open(file);
    await log.append({ time: "2026-01-01T00:00:00.000Z", requestId: "r1", method: "POST", route: "/v1/admin/attestations", status: 201, outcome: "succeeded" });
    await log.close();
    await appendFile(file, '{"seq":2,"time":"2026-01-01T00:00:01');
    expect(await verifyAuditLog(file)).toMatchObject({ records: 1, tornTail: true });
    const reopened = await AuditLog.open(file);
    const next = await reopened.append({ time: "2026-01-01T00:00:02.000Z", requestId: "r2", method: "POST", route: "/v1/admin/attestations", status: 201, outcome: "succeeded" });
    await reopened.close();
    expect(next.seq).toBe(2);
    expect(await verifyAuditLog(file)).toMatchObject({ records: 2, head: next.hash, tornTail: false });
  });

  test("behavior: secrets in a recorded body are redacted", async () => {
    const file = path.join(dir, "audit-4.log");
    const log = await AuditLog.open(file);
    const r = await log.append({ time: "2026-01-01T00:00:00.000Z", requestId: "r1", method: "POST", route: "/v1/admin/x", body: { password: "hunter2", apiKey: "hk_live_abc", amount: "5" }, status: 201, outcome: "succeeded" });
    await log.close();
    expect(r.body).toEqual({ password: "[REDACTED]", apiKey: "[REDACTED]", amount: "5" });
    expect(await readFile(file, "utf8")).not.toContain("hunter2");
  });
});
