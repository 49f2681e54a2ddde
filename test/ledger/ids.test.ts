import { describe, expect, it } from "vitest";
import { newPaymentId } from "../../node/bridge/paymentRecords.ts";
import { newCustomerId, sortableId } from "../../node/ledger/ids.ts";

describe("sortable ids", () => {
  it("behavior: ids made in one millisecond are distinct and increase; later milliseconds sort after", () => {
    const now = Date.now() + 60_000;
    const same = Array.from({ length: 1_000 }, () => sortableId(now));
    expect(new Set(same).size).toBe(same.length);
    expect([...same].sort()).toEqual(same);
    const later = sortableId(now + 1);
    expect(later > same[same.length - 1]).toBe(true);
  });

  it("behavior: 26 Crockford base32 characters, the first 10 the time", () => {
    const id = sortableId();
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(newCustomerId()).toMatch(/^c_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(newPaymentId()).toMatch(/^pay_[0-9A-HJKMNP-TV-Z]{26}$/);
  });
});
