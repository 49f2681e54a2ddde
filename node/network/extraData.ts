import { type Address, type Hex, fromRlp, getAddress, isAddress, toRlp } from "viem";

/**
 * The QBFT `extraData` field: RLP of the list
 * `[vanity (32 bytes), [validator addresses], vote, round, [seals]]`.
 *
 * In a genesis block the vote is absent (an empty list), the round is 0 (the empty byte string,
 * RLP 0x80, as Besu writes integer scalars) and there are no seals. Under block-header validator
 * selection the validator list holds the initial validators; under contract validator selection it
 * is empty, because the validators come from the contract's storage in `alloc`.
 */
export interface QbftExtraData {
  vanity: Hex;
  validators: Address[];
  /** An add/drop vote for a validator; never present in a genesis block. */
  vote?: { recipient: Address; add: boolean };
  round: number;
  seals: Hex[];
}

const ZERO_VANITY: Hex = `0x${"00".repeat(32)}`;

/** Encodes the genesis `extraData` for the given initial validators (none under contract selection). */
export function encodeGenesisExtraData(validators: readonly Address[]): Hex {
  for (const v of validators) if (!isAddress(v)) throw new Error(`not an address: ${v}`);
  return toRlp([ZERO_VANITY, validators.map((v) => v.toLowerCase() as Hex), [], "0x", []]);
}

function scalar(hex: Hex): number {
  if (hex === "0x") return 0;
  if (hex.startsWith("0x00")) throw new Error("extraData round has a leading zero byte");
  return Number(BigInt(hex));
}

/**
 * Decodes a QBFT `extraData`, checking its shape strictly: five items, 32-byte vanity, 20-byte
 * validator addresses, a vote list of `[address, 0x01 | empty]` or empty, a minimal round scalar.
 */
export function decodeQbftExtraData(extraData: Hex): QbftExtraData {
  const decoded = fromRlp(extraData, "hex");
  if (!Array.isArray(decoded) || decoded.length !== 5) throw new Error("QBFT extraData is an RLP list of 5 items");
  const [vanity, validators, vote, round, seals] = decoded;
  if (typeof vanity !== "string" || vanity.length !== 66) throw new Error("QBFT extraData vanity is 32 bytes");
  if (!Array.isArray(validators)) throw new Error("QBFT extraData validators is a list");
  const addresses = validators.map((v) => {
    if (typeof v !== "string" || v.length !== 42) throw new Error("a QBFT validator is a 20-byte address");
    return getAddress(v);
  });
  if (!Array.isArray(vote)) throw new Error("QBFT extraData vote is a list");
  let parsedVote: QbftExtraData["vote"];
  if (vote.length !== 0) {
    const [recipient, kind] = vote;
    if (vote.length !== 2 || typeof recipient !== "string" || recipient.length !== 42 || typeof kind !== "string") {
      throw new Error("a QBFT vote is [address, 0x01 | empty]");
    }
    if (kind !== "0x" && kind !== "0x01") throw new Error("a QBFT vote is add (0x01) or drop (empty)");
    parsedVote = { recipient: getAddress(recipient), add: kind === "0x01" };
  }
  if (typeof round !== "string") throw new Error("QBFT extraData round is a scalar");
  if (!Array.isArray(seals) || seals.some((s) => typeof s !== "string")) throw new Error("QBFT extraData seals is a list of byte strings");
  return { vanity: vanity as Hex, validators: addresses, vote: parsedVote, round: scalar(round as Hex), seals: seals as Hex[] };
}
