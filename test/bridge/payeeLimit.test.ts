import { describe, expect, test } from "vitest";
import type { Hex } from "viem";
import { MAX_BATCH_PAYEES, withinPayeeLimit } from "../../node/bridge/batcher.ts";
import type { OutboxItem } from "../../node/bridge/outbox.ts";

const item = (payee: number): { n: bigint; item: OutboxItem } => ({
  n: BigInt(payee),
  item: {
    paymentId: `p${payee}`,
    fromAccountId: "c_1",
    toWalletId: `0x${payee.toString(16).padStart(48, "0")}${"0".repeat(16)}` as Hex,
    amount: "1",
    payerRef: `0x${"11".repeat(32)}` as Hex,
    payeeRef: `0x${"22".repeat(32)}` as Hex,
    memoHash: `0x${"00".repeat(32)}` as Hex,
    acceptedAt: 0,
  },
});

describe("withinPayeeLimit", () => {
  test("default: a batch takes the outbox prefix whose payees fit the hub's limit", () => {
    const picked = Array.from({ length: 100 }, (_, i) => item(i + 1));
    expect(withinPayeeLimit(picked)).toHaveLength(MAX_BATCH_PAYEES);
  });

  test("behavior: repeated payees do not count twice", () => {
    const picked = Array.from({ length: 500 }, (_, i) => item((i % 3) + 1));
    expect(withinPayeeLimit(picked)).toHaveLength(500);
  });
});
