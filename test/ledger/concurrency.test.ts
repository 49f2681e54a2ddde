import { describe, expect, test } from "vitest";
import { fingerprint, fundReserve, topUp, transferInternal, verifyLedger } from "../../node/ledger/index.ts";
import { seedCustomers, useTempLedger } from "./helpers.ts";

const t = useTempLedger();

describe("concurrent spending", () => {
  test("behavior: 100 concurrent transfers of a balance that covers 10 → exactly 10 succeed", async () => {
    const [payer, ...payees] = await seedCustomers(t.ledger, 11, 0n);
    await t.ledger.post(fundReserve(1_000n));
    await t.ledger.post(topUp(payer, 1_000n));
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, (_, i) =>
        t.ledger.post(transferInternal(payer, payees[i % payees.length], 100n, `t${i}`), {
          idempotency: { scope: "test", key: `k${i}`, fingerprint: fingerprint({ i }) },
        }),
      ),
    );
    const ok = results.filter((r) => r.status === "fulfilled");
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(ok).toHaveLength(10);
    expect(failed).toHaveLength(90);
    for (const f of failed) expect(f.reason.code).toBe("insufficient_funds");
    expect(t.ledger.balance(payer)).toBe(0n);
    expect(payees.reduce((s, id) => s + t.ledger.balance(id), 0n)).toBe(1_000n);
    const v = await verifyLedger(t.store);
    expect(v.problems).toEqual([]);
    expect(v.idempotencyRecords).toBe(10);
  });

  test("behavior: staging is synchronous, so interleaved stage/commit calls cannot double-spend", async () => {
    const [a, b] = await seedCustomers(t.ledger, 2, 50n);
    const first = t.ledger.stage(transferInternal(a, b, 50n));
    expect(() => t.ledger.stage(transferInternal(a, b, 1n))).toThrow(expect.objectContaining({ code: "insufficient_funds" }));
    await t.ledger.commit(first.ops);
    expect(t.ledger.balance(a)).toBe(0n);
  });
});
