import { describe, expect, it } from "vitest";
import { getAddress, toRlp } from "viem";
import { decodeQbftExtraData, encodeGenesisExtraData, encodeQbftExtraData } from "../../node/chain/qbftExtraData.ts";
import { decodeQbftExtraData as decodeForExplorer } from "../../node/explorer/qbftExtraData.ts";

// The two genesis extraData values Besu's QBFT documentation shows (block-header selection with four
// validators in ascending order, and contract selection), kept here as test vectors.
const DOC_VALIDATORS = [
  "0x4592c8e45706cc08b8f44b11e43cba0cfc5892cb",
  "0x06e23768a0f59cf365e18c2e0c89e151bcdedc70",
  "0xc5327f96ee02d7bcbc1bf1236b8c15148971e1de",
  "0xab5e7f4061c605820d3744227eed91ff8e2c8908",
] as const;
const DOC_HEADER_EXTRA_DATA =
  "0xf87aa00000000000000000000000000000000000000000000000000000000000000000f854944592c8e45706cc08b8f44b11e43cba0cfc5892cb9406e23768a0f59cf365e18c2e0c89e151bcdedc7094c5327f96ee02d7bcbc1bf1236b8c15148971e1de94ab5e7f4061c605820d3744227eed91ff8e2c8908c080c0";
const DOC_CONTRACT_EXTRA_DATA = "0xe5a00000000000000000000000000000000000000000000000000000000000000000c0c080c0";

describe("QBFT genesis extraData", () => {
  it("default: contract selection encodes exactly as Besu documents it", () => {
    expect(encodeGenesisExtraData([])).toBe(DOC_CONTRACT_EXTRA_DATA);
  });

  it("behavior: header validators encode exactly as Besu documents them", () => {
    expect(encodeGenesisExtraData(DOC_VALIDATORS)).toBe(DOC_HEADER_EXTRA_DATA);
  });

  it("behavior: decoding gives vanity, validators, no vote, round 0, no seals", () => {
    const decoded = decodeQbftExtraData(DOC_HEADER_EXTRA_DATA);
    expect(BigInt(decoded.vanity)).toBe(0n);
    expect(decoded.validators.map((v) => v.toLowerCase())).toEqual([...DOC_VALIDATORS]);
    expect(decoded.vote).toBeUndefined();
    expect(decoded.round).toBe(0);
    expect(decoded.seals).toEqual([]);
  });

  it("behavior: Besu's add vote (0xff) and a non-zero round decode", () => {
    const vanity = `0x${"11".repeat(32)}` as const;
    // Besu's Vote writes ADD_BYTE_VALUE = 0xff and DROP_BYTE_VALUE = 0x00 after the recipient.
    const data = toRlp([vanity, [DOC_VALIDATORS[0]], [DOC_VALIDATORS[1], "0xff"], "0x05", []]);
    const decoded = decodeQbftExtraData(data);
    expect(decoded.vote).toEqual({ recipient: expect.stringMatching(/^0x06e23768/i), add: true });
    expect(decoded.round).toBe(5);
  });

  it("behavior: Besu's drop vote (0x00) decodes as a drop", () => {
    const data = toRlp([`0x${"00".repeat(32)}`, [DOC_VALIDATORS[0]], [DOC_VALIDATORS[1], "0x00"], "0x01", []]);
    expect(decodeQbftExtraData(data).vote).toEqual({ recipient: expect.stringMatching(/^0x06e23768/i), add: false });
  });

  it("behavior: a header encoded with a vote decodes to the same fields, in the network and the explorer alike", async () => {
    const header = { vanity: `0x${"00".repeat(32)}` as const, validators: [getAddress(DOC_VALIDATORS[0])], vote: { recipient: getAddress(DOC_VALIDATORS[2]), add: true }, round: 300, seals: [] };
    const encoded = encodeQbftExtraData(header);
    expect(decodeQbftExtraData(encoded)).toEqual(header);
    expect((await decodeForExplorer(encoded))?.vote).toEqual({ address: getAddress(DOC_VALIDATORS[2]), add: true });
  });

  it("error: a vote byte Besu never writes (0x01, empty) is refused, and the explorer shows no QBFT data", async () => {
    const withVote = (kind: `0x${string}`) => toRlp([`0x${"00".repeat(32)}`, [DOC_VALIDATORS[0]], [DOC_VALIDATORS[1], kind], "0x", []]);
    expect(() => decodeQbftExtraData(withVote("0x01"))).toThrow("add (0xff) or drop (0x00), not 0x01");
    expect(() => decodeQbftExtraData(withVote("0x"))).toThrow("add (0xff) or drop (0x00)");
    expect(await decodeForExplorer(withVote("0x01"))).toBeNull();
  });

  it("error: a wrong shape is refused", () => {
    expect(() => decodeQbftExtraData(toRlp(["0x00", [], [], "0x", []]))).toThrow("vanity is 32 bytes");
    expect(() => decodeQbftExtraData(toRlp([`0x${"00".repeat(32)}`, [], "0x"]))).toThrow("list of 5 items");
    expect(() => decodeQbftExtraData(toRlp([`0x${"00".repeat(32)}`, ["0x1234"], [], "0x", []]))).toThrow("20-byte address");
    expect(() => encodeGenesisExtraData(["0x1234" as never])).toThrow("not an address");
  });
});
