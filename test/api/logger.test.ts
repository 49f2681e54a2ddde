import { describe, expect, test } from "vitest";
import { createLogger } from "../../node/observability/logger.ts";
import { isSecretName, redact } from "../../node/observability/redact.ts";

describe("logger", () => {
  test("default: one JSON line with time, level, msg, bindings and fields", () => {
    const lines: string[] = [];
    const log = createLogger({ sink: (l) => lines.push(l), base: { wallet: "ALIPAY" }, now: () => new Date(0) });
    log.child({ requestId: "r1" }).info("request", { status: 200 });
    log.debug("dropped below info");
    expect(lines).toEqual(['{"time":"1970-01-01T00:00:00.000Z","level":"info","msg":"request","wallet":"ALIPAY","requestId":"r1","status":200}']);
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
