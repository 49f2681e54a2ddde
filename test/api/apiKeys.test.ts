import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ApiKeyStore, createApiKey, hashApiKey } from "../../node/api/apiKeys.ts";
import { authenticate } from "../../node/api/auth.ts";
import { ApiProblem } from "../../node/api/problem.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hulian-keys-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("API keys", () => {
  test("default: a key is hk_live_ + 32 random bytes base64url and is stored only as its SHA-256", () => {
    const { id, key, record } = createApiKey(["app"], new Date("2025-01-01T00:00:00Z"));
    expect(key).toMatch(/^hk_live_[A-Za-z0-9_-]{43}$/);
    expect(record).toEqual({ id, hash: hashApiKey(key), scopes: ["app"], createdAt: "2025-01-01T00:00:00.000Z" });
    expect(JSON.stringify(record)).not.toContain(key.slice(8));
    expect(createApiKey(["app"]).key).not.toBe(key);
  });

  test("behavior: verify finds the key and expands admin to app and metrics, not audit", () => {
    const admin = createApiKey(["admin"]);
    const audit = createApiKey(["audit"]);
    const store = new ApiKeyStore([admin.record, audit.record]);
    const p = store.verify(admin.key)!;
    expect(p.keyId).toBe(admin.id);
    expect([...p.scopes].sort()).toEqual(["admin", "app", "metrics"]);
    expect([...store.verify(audit.key)!.scopes]).toEqual(["audit"]);
  });

  test("behavior: a connection's key is verified once, and again after a key is revoked or added", () => {
    const k = createApiKey(["app"]);
    const store = new ApiKeyStore([k.record]);
    const connection = {};
    const header = `Bearer ${k.key}`;
    expect(authenticate(header, store, ["app"], connection)?.keyId).toBe(k.id);
    expect(authenticate(header, store, ["app"], connection)?.keyId).toBe(k.id);
    // Another header on the same connection is checked on its own.
    expect(() => authenticate(`Bearer ${k.key}x`, store, ["app"], connection)).toThrow(ApiProblem);
    expect(authenticate(header, store, ["app"], connection)?.keyId).toBe(k.id);
    store.add(createApiKey(["admin"]).record);
    expect(authenticate(header, store, ["app"], connection)?.keyId).toBe(k.id);
    store.revoke(k.id);
    expect(() => authenticate(header, store, ["app"], connection)).toThrow(ApiProblem);
  });

  test("error: a wrong, truncated or empty key verifies to nothing", () => {
    const k = createApiKey(["app"]);
    const store = new ApiKeyStore([k.record]);
    expect(store.verify(k.key.slice(0, -1))).toBeUndefined();
    expect(store.verify(k.key + "x")).toBeUndefined();
    expect(store.verify("")).toBeUndefined();
    expect(store.verify(k.record.hash)).toBeUndefined();
  });

  test("behavior: save and load round-trip through a 0600 file holding hashes only", async () => {
    const a = createApiKey(["app"]);
    const b = createApiKey(["metrics", "audit"]);
    const file = join(dir, "keys.json");
    await new ApiKeyStore([a.record, b.record]).save(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, "utf8")).not.toContain(a.key);
    const loaded = await ApiKeyStore.load(file);
    expect(loaded.records()).toEqual([a.record, b.record]);
    expect(loaded.verify(b.key)?.keyId).toBe(b.id);
  });

  test("error: malformed key files are refused with a clear message", async () => {
    const file = join(dir, "bad.json");
    await writeFile(file, JSON.stringify([{ id: "k1", hash: "nothex", scopes: ["app"] }]));
    await expect(ApiKeyStore.load(file)).rejects.toThrow("has no SHA-256 hex hash");
    await writeFile(file, JSON.stringify([{ id: "k1", hash: "a".repeat(64), scopes: ["root"] }]));
    await expect(ApiKeyStore.load(file)).rejects.toThrow('unknown API key scope "root"');
    await writeFile(file, JSON.stringify({}));
    await expect(ApiKeyStore.load(file)).rejects.toThrow("must hold a JSON array");
    const k = createApiKey(["app"]);
    expect(() => new ApiKeyStore([k.record, k.record])).toThrow("duplicate API key id");
  });

  test("behavior: a revoked key no longer verifies", () => {
    const k = createApiKey(["app"]);
    const store = new ApiKeyStore([k.record]);
    expect(store.revoke(k.id)).toBe(true);
    expect(store.verify(k.key)).toBeUndefined();
  });
});

describe("authenticate", () => {
  const app = createApiKey(["app"]);
  const store = new ApiKeyStore([app.record]);
  const fail = (header: string | undefined, scopes: readonly ("app" | "admin")[]) => {
    try {
      authenticate(header, store, scopes);
    } catch (err) {
      return err as ApiProblem;
    }
    throw new Error("expected a problem");
  };

  test("default: an open route needs no key", () => {
    expect(authenticate(undefined, store, "none")).toBeNull();
  });

  test("behavior: the Bearer scheme is case-insensitive", () => {
    expect(authenticate(`bearer ${app.key}`, store, ["app"])?.keyId).toBe(app.id);
  });

  test("error: no key, another scheme or an unknown key is 401 with a challenge", () => {
    for (const h of [undefined, "", `Basic ${app.key}`, "Bearer hk_live_nope", `Bearer ${app.key} extra`]) {
      const p = fail(h, ["app"]);
      expect(p.status, String(h)).toBe(401);
      expect(p.headers["www-authenticate"]).toMatch(/^Bearer realm="hulian"/);
    }
  });

  test("error: a key without the scope is 403", () => {
    const p = fail(`Bearer ${app.key}`, ["admin"]);
    expect(p.status).toBe(403);
    expect(p.code).toBe("forbidden");
    expect(p.message).toContain("admin");
  });
});
