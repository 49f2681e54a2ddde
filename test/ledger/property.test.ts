import { afterEach, describe, expect, test } from "vitest";
import * as m from "../../node/ledger/index.ts";
import type { EntryDraft } from "../../node/ledger/index.ts";
import { HulianError } from "../../node/store/index.ts";
import { openLedger, removeDir, seedCustomers, seededRandom, tempDir } from "./helpers.ts";

let dir = "";
afterEach(async () => {
  if (dir) await removeDir(dir);
});

describe("property: random movements", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    test(`behavior: books balance, no customer or float below zero, memory equals disk (seed ${seed})`, async () => {
      dir = await tempDir();
      let { store, ledger } = await openLedger(dir, { sync: false });
      const rnd = seededRandom(seed);
      const customers = await seedCustomers(ledger, 8, 0n, `s${seed}u`);
      const pick = () => customers[Math.floor(rnd() * customers.length)];
      const amount = () => BigInt(1 + Math.floor(rnd() * 5_000));
      const makers: (() => EntryDraft)[] = [
        () => m.fundReserve(amount()),
        () => m.topUp(pick(), amount()),
        () => m.withdraw(pick(), amount()),
        () => m.transferInternal(pick(), pick(), amount()),
        () => m.reserveOutbound(pick(), amount()),
        () => m.settleOutbound(amount()),
        () => m.refundOutbound(pick(), amount()),
        () => m.creditInbound(pick(), amount()),
        () => m.holdInbound(amount()),
        () => m.releaseSuspenseOnReturn(amount()),
        () => m.creditReturn(pick(), amount()),
      ];
      let ok = 0;
      let refused = 0;
      for (let round = 0; round < 10; round++) {
        const batch = Array.from({ length: 60 }, () => makers[Math.floor(rnd() * makers.length)]());
        const results = await Promise.allSettled(
          batch.map((d) => ledger.post(d)),
        );
        for (const r of results) {
          if (r.status === "fulfilled") ok++;
          else {
            expect(r.reason).toBeInstanceOf(HulianError);
            expect(["insufficient_funds", "insufficient_reserve", "invalid_entry"]).toContain(r.reason.code);
            refused++;
          }
        }
        const tb = ledger.trialBalance();
        expect(tb.total).toBe(0n);
        expect(ledger.balance(m.SYSTEM_ACCOUNTS.float) >= 0n).toBe(true);
        for (const c of ledger.customerBalances()) expect(c.balance >= 0n).toBe(true);
        expect(ledger.liabilities()).toBe(ledger.customerBalances().reduce((s, c) => s + c.balance, 0n));
      }
      expect(ok).toBeGreaterThan(100);
      expect(refused).toBeGreaterThan(0);
      const snapshot = ledger.customerBalances();
      await store.close();
      ({ store, ledger } = await openLedger(dir));
      expect(ledger.customerBalances()).toEqual(snapshot);
      const v = await m.verifyLedger(store);
      expect(v.problems).toEqual([]);
      expect(BigInt(v.entries)).toBe(ledger.entryCount);
      await store.close();
    });
  }
});
