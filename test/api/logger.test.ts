import { describe, expect, test } from "vitest";
import { createLogger, stdoutSink } from "../../node/observability/logger.ts";
import { isSecretName, redact } from "../../node/observability/redact.ts";

describe("logger", () => {
  test("default: one JSON line with time, level, msg, bindings and fields", () => {
    const lines: string[] = [];
    const log = createLogger({ sink: (l) => lines.push(l), base: { wallet: "ALIPAY" }, now: () => new Date(0) });
    log.child({ requestId: "r1" }).info("request", { status: 200 });
    log.debug("dropped below info");
    expect(lines).toEqual(['{"time":"1970-01-01T00:00:00.000Z","level":"info","msg":"request","wallet":"ALIPAY","requestId":"r1","status":200}']);
  });

  test("behavior: stdout gets the lines of one event-loop turn in one write, in order", async () => {
    const writes: string[] = [];
    const original = process.stdout.write;
    process.stdout.write = ((chunk: string) => {
      writes.push(chunk);
      return true;
    }) as typeof process.stdout.write;
    try {
      const log = createLogger({ now: () => new Date(0) });
      log.info("one");
      stdoutSink("two");
      log.child({ requestId: "r" }).warn("three");
      expect(writes).toEqual([]);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.stdout.write = original;
    }
    expect(writes).toHaveLength(1);
    expect(writes[0].split("\n")).toEqual([
      '{"time":"1970-01-01T00:00:00.000Z","level":"info","msg":"one"}',
      "two",
      '{"time":"1970-01-01T00:00:00.000Z","level":"warn","msg":"three","requestId":"r"}',
      "",
    ]);
  });

  test("behavior: every line is exactly JSON.stringify(redact({ time, level, msg, ...bindings, ...fields }))", () => {
    const shared = { n: 1 };
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const cases: [Record<string, unknown>, Record<string, unknown> | undefined][] = [
      [{ wallet: "ALIPAY" }, { requestId: "r1", method: "POST", status: 201, durationMs: 1.25, apiKeyId: "key_1", route: undefined }],
      [{ requestId: "hk_live_abcdef0123" }, { path: "/v1/accounts/hk_live_secretsecret", ok: true, nan: Number.NaN }],
      [{}, { apiKey: "k", token: undefined, amount: 5n, none: null, fn: () => 1, when: new Date(0) }],
      [{ a: shared }, { b: shared, c: cyclic, err: new Error("bad hk_live_x", { cause: "why" }) }],
      [{ wallet: "A" }, { wallet: "B" }],
      [{}, { msg: "overrides", "1": "index", b: 2 }],
      [{ deep: { a: { b: { c: { d: { e: { f: { g: { h: 1 } } } } } } } } }, undefined],
    ];
    for (const [bindings, fields] of cases) {
      const lines: string[] = [];
      const log = createLogger({ sink: (l) => lines.push(l), now: () => new Date(0), base: bindings });
      log.warn("the message hk_live_inmessage", fields);
      const expected = JSON.stringify(redact({ time: new Date(0).toISOString(), level: "warn", msg: "the message hk_live_inmessage", ...bindings, ...fields }));
      expect(lines[0], JSON.stringify(Object.keys(fields ?? {}))).toBe(expected);
    }
  });

  test("behavior: secrets are redacted by field name, at any depth; ids of keys are not", () => {
    const out = redact({
      headers: { authorization: "Bearer x", "x-api-key": "y", cookie: "z" },
      password: "p",
      clientSecret: "s",
      idempotencyKey: "k",
      nested: [{ accessToken: "t", privateKey: "0xabc" }],
      apiKeyId: "key_1",
      tokenBalance: "5",
    });
    expect(out).toEqual({
      headers: { authorization: "[REDACTED]", "x-api-key": "[REDACTED]", cookie: "[REDACTED]" },
      password: "[REDACTED]",
      clientSecret: "[REDACTED]",
      idempotencyKey: "[REDACTED]",
      nested: [{ accessToken: "[REDACTED]", privateKey: "[REDACTED]" }],
      apiKeyId: "key_1",
      tokenBalance: "5",
    });
    expect(isSecretName("keyId")).toBe(false);
  });

  test("behavior: API keys are scrubbed out of free text and error messages", () => {
    const lines: string[] = [];
    const log = createLogger({ sink: (l) => lines.push(l) });
    const err = new Error("bad key hk_live_AbCdEf0123456789", { cause: new Error("inner hk_live_Zz") });
    log.error("failed with hk_live_secretsecret", { err });
    expect(lines[0]).not.toMatch(/AbCdEf|secretsecret|hk_live_Zz/);
    const parsed = JSON.parse(lines[0]);
    expect(parsed.err.name).toBe("Error");
    expect(parsed.err.cause.message).toBe("inner hk_live_[REDACTED]");
  });

  test("behavior: bigints, cycles and deep nesting do not break a line", () => {
    const a: Record<string, unknown> = { amount: 10n };
    a.self = a;
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 20; i++) deep = deep.next = {};
    expect(redact(a)).toEqual({ amount: "10", self: "[Circular]" });
    expect(JSON.stringify(redact(root))).toContain("[Truncated]");
  });
});
