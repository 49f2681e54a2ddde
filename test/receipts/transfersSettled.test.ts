import { type Hex, encodeAbiParameters, keccak256, toHex } from "viem";
import { describe, expect, it } from "vitest";
import {
  TRANSFERS_SETTLED_TOPIC,
  TRANSFER_RECORD_BYTES,
  groupTransfers,
  packTransfers,
  receiptsOfTransfersSettled,
  unpackTransfers,
  walletIdOf,
} from "../../node/receipts/index.ts";

const ref = (n: number): Hex => keccak256(toHex(n));
const ZERO = `0x${"0".repeat(64)}` as Hex;

describe("packed transfers", () => {
  const records = [
    { amount: 1n, payerRef: ref(1), payeeRef: ref(2), memoHash: ZERO },
    { amount: (1n << 128n) - 1n, payerRef: ref(3), payeeRef: ref(4), memoHash: ref(5) },
  ];

  it("packs 112 bytes per record and unpacks them unchanged", () => {
    const packed = packTransfers(records);
    expect((packed.length - 2) / 2).toBe(2 * TRANSFER_RECORD_BYTES);
    expect(packed.slice(2, 34)).toBe("00000000000000000000000000000001");
    expect(unpackTransfers(packed)).toEqual(records);
  });

  it("refuses amounts outside uint128 and bytes that are not whole records", () => {
    expect(() => packTransfers([{ ...records[0], amount: 1n << 128n }])).toThrow(/outside uint128/);
    expect(() => packTransfers([{ ...records[0], amount: -1n }])).toThrow(/outside uint128/);
    expect(() => packTransfers([{ ...records[0], payeeRef: "0x1234" }])).toThrow(/not a bytes32/);
    expect(() => unpackTransfers(`${packTransfers(records)}00` as Hex)).toThrow(/not a multiple of 112/);
  });

  it("groups by payee in order of first appearance, keeping order within a group", () => {
    const [a, b] = [walletIdOf("WECHAT"), walletIdOf("YUNPAY")];
    const items = [a, b, a, b, a].map((toWallet, i) => ({ toWallet, amount: BigInt(i + 1), payerRef: ref(i), payeeRef: ref(10 + i), memoHash: ZERO }));
    const { ordered, groups, packed } = groupTransfers(items);
    expect(ordered.map((t) => t.amount)).toEqual([1n, 3n, 5n, 2n, 4n]);
    expect(groups).toEqual([
      { payee: a, count: 3 },
      { payee: b, count: 2 },
    ]);
    expect(unpackTransfers(packed).map((t) => t.amount)).toEqual([1n, 3n, 5n, 2n, 4n]);
  });

  it("decodes a TransfersSettled log into receipts with derived ids and sequence numbers", () => {
    const [from, to] = [walletIdOf("ALIPAY"), walletIdOf("WECHAT")];
    const data = encodeAbiParameters([{ type: "uint64" }, { type: "bytes" }], [41n, packTransfers(records)]);
    const receipts = receiptsOfTransfersSettled({ data, topics: [TRANSFERS_SETTLED_TOPIC, from, to] });
    expect(receipts.map((r) => [r.seq, r.transferId])).toEqual([
      [41n, `${from.slice(0, 50)}0000000000000029`],
      [42n, `${from.slice(0, 50)}000000000000002a`],
    ]);
    expect(receipts[1]).toMatchObject({ fromWallet: from, toWallet: to, ...records[1] });
  });
});
