import { describe, expect, test } from "vitest";
import { classifyHandle, fingerprint, newCustomerId, normalizeHandle } from "../../node/ledger/index.ts";
import { useTempLedger } from "./helpers.ts";

const t = useTempLedger({ now: () => Date.UTC(2025, 0, 2, 3, 4, 5) });

describe("handles", () => {
  test("default: normalisation", () => {
    expect(normalizeHandle("  Alice@Example.COM ")).toBe("alice@example.com");
    expect(normalizeHandle("+86 138-0000-0000")).toBe("+8613800000000");
    expect(normalizeHandle("+86 (138) 0000.0000")).toBe("+8613800000000");
    expect(normalizeHandle(" Xiao_Ming ")).toBe("xiao_ming");
    expect(normalizeHandle("ＡＢＣ")).toBe("abc");
    expect(classifyHandle("+8613800000000").kind).toBe("phone");
    expect(classifyHandle("a@b.cn").kind).toBe("email");
    expect(classifyHandle("小明").kind).toBe("username");
  });

  test("error: invalid handles", () => {
    for (const h of ["", " ", "+12", "+0123456789", "no@tld", "a b", "x", "a!b", "@alice"]) {
      expect(() => normalizeHandle(h), h).toThrow(expect.objectContaining({ code: "invalid_handle" }));
    }
  });
});

describe("accounts", () => {
  test("default: open a customer account", async () => {
    const { account } = await t.ledger.openAccount({ handle: " +86 138 0000 0000 ", displayName: " Wang Wei " });
    expect(account).toEqual({
      id: expect.stringMatching(/^c_[0-9A-HJKMNP-TV-Z]{26}$/),
      kind: "customer",
      handle: "+8613800000000",
      displayName: "Wang Wei",
      status: "open",
      createdAt: "2025-01-02T03:04:05.000Z",
    });
    expect(t.ledger.account(account.id)).toEqual(account);
    expect(t.ledger.accountByHandle("+8613800000000")).toEqual(account);
    expect(t.ledger.balance(account.id)).toBe(0n);
    expect(t.ledger.account("op:float")).toMatchObject({ kind: "system", status: "open" });
    expect(t.ledger.account("c_missing")).toBeUndefined();
  });

  test("error: handles are unique after normalisation", async () => {
    await t.ledger.openAccount({ handle: "Alice@Example.com", displayName: "A" });
    await expect(t.ledger.openAccount({ handle: " alice@example.COM", displayName: "B" })).rejects.toMatchObject({
      code: "handle_taken",
      details: { handle: "alice@example.com" },
    });
  });

  test("behavior: concurrent opens of one handle → exactly one account", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => t.ledger.openAccount({ handle: "bob", displayName: `Bob ${i}` })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(await t.store.sub.handles.get("bob")).toBe(t.ledger.accountByHandle("BOB")?.id);
  });

  test("behavior: idempotent open replays the same account", async () => {
    const idem = { scope: "app:accounts", key: "open-1", fingerprint: fingerprint({ handle: "carol" }) };
    const a = await t.ledger.openAccount({ handle: "carol", displayName: "Carol" }, { idempotency: idem });
    const b = await t.ledger.openAccount({ handle: "carol", displayName: "Carol" }, { idempotency: idem });
    expect(b).toEqual({ account: a.account, replayed: true });
  });

  test("behavior: ids sort by creation time", () => {
    const ids = [newCustomerId(1000), newCustomerId(1000), newCustomerId(1001), newCustomerId(5000)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(4);
  });
});
