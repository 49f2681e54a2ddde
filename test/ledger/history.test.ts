import { describe, expect, test } from "vitest";
import { transferInternal } from "../../node/ledger/index.ts";
import { seedCustomers, useTempLedger } from "./helpers.ts";

const t = useTempLedger();

describe("history", () => {
  test("default: newest first with signed amounts and running balance", async () => {
    const [alice, bob] = await seedCustomers(t.ledger, 2, 100n);
    await t.ledger.post(transferInternal(alice, bob, 30n, "coffee"));
    await t.ledger.post(transferInternal(bob, alice, 5n, "change"));
    const page = await t.ledger.history(alice);
    expect(page.items.map((i) => [i.entry.kind, i.amount, i.balanceAfter])).toEqual([
      ["internal_transfer", 5n, 75n],
      ["internal_transfer", -30n, 70n],
      ["top_up", 100n, 100n],
    ]);
    expect(page.items[1].entry.meta).toEqual({ memo: "coffee" });
    expect(page.nextCursor).toBeUndefined();
  });

  test("behavior: pagination walks every item exactly once and is stable while new entries arrive", async () => {
    const [alice, bob, carol] = await seedCustomers(t.ledger, 3, 1_000n);
    for (let i = 0; i < 57; i++) await t.ledger.post(transferInternal(alice, i % 2 ? bob : carol, 1n, `p${i}`));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await t.ledger.history(alice, { limit: 10, cursor });
      seen.push(...page.items.map((i) => i.entry.id));
      cursor = page.nextCursor;
      pages++;
      // New activity must not shift later pages.
      if (pages === 2) await t.ledger.post(transferInternal(bob, alice, 1n, "late"));
    } while (cursor);
    expect(pages).toBe(6);
    expect(seen).toHaveLength(58);
    expect(new Set(seen).size).toBe(58);
    expect([...seen].sort().reverse()).toEqual(seen);
    // Bob's history is not mixed into Alice's.
    expect((await t.ledger.history(bob, { limit: 1000 })).items).toHaveLength(30);
  });

  test("error: a cursor not made by the ledger", async () => {
    const [alice] = await seedCustomers(t.ledger, 1, 1n);
    await expect(t.ledger.history(alice, { cursor: "bm9wZQ" })).rejects.toMatchObject({ code: "invalid_cursor" });
    await expect(t.ledger.history(alice, { cursor: Buffer.from("h1:12").toString("base64url") })).rejects.toMatchObject({
      code: "invalid_cursor",
    });
  });

  test("behavior: unknown account has an empty history", async () => {
    expect(await t.ledger.history("c_nobody")).toEqual({ items: [] });
  });
});
