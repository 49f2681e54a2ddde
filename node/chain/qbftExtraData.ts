import { type Address, type Hex, fromRlp, getAddress, isAddress, toRlp } from "viem";

/**
 * The QBFT `extraData` field as Besu writes it: RLP of the list
 * `[vanity (32 bytes), [validator addresses], vote, round, [commit seals]]`.
 *
 * - The vote is an empty list, or `[recipient, 0xff]` to add a validator and `[recipient, 0x00]` to
 *   drop one (Besu's `Vote.ADD_BYTE_VALUE` / `DROP_BYTE_VALUE`; any other byte is refused, as Besu
 *   refuses it).
 * - The round is an RLP integer scalar (round 0 is the empty byte string, 0x80), no leading zeros.
 * - In a genesis block there is no vote, the round is 0 and there are no seals. Under block-header
 *   validator selection the validator list holds the initial validators; under contract validator
 *   selection it is empty, because the validators come from the contract's storage in `alloc`.
 *
 * The one decoder of this format: `hulian network verify` checks a genesis with it and the explorer
 * shows every block's header through it.
 */
export interface QbftExtraData {
  vanity: Hex;
  validators: Address[];
  /** An add/drop vote for a validator; never present in a genesis block. */
  vote?: { recipient: Address; add: boolean };
  round: number;
  seals: Hex[];
}

/** The vote byte Besu writes for "add this validator". */
export const QBFT_VOTE_ADD: Hex = "0xff";
/** The vote byte Besu writes for "drop this validator". */
export const QBFT_VOTE_DROP: Hex = "0x00";

const ZERO_VANITY: Hex = `0x${"00".repeat(32)}`;

/** Encodes the genesis `extraData` for the given initial validators (none under contract selection). */
export function encodeGenesisExtraData(validators: readonly Address[]): Hex {
  for (const v of validators) if (!isAddress(v)) throw new Error(`not an address: ${v}`);
  return toRlp([ZERO_VANITY, validators.map((v) => v.toLowerCase() as Hex), [], "0x", []]);
}

/** Encodes a block header's `extraData` with a vote (tests and tools; Besu's proposer writes these). */
export function encodeQbftExtraData(data: Omit<QbftExtraData, "vote"> & { vote?: QbftExtraData["vote"] }): Hex {
  const vote = data.vote ? [data.vote.recipient.toLowerCase() as Hex, data.vote.add ? QBFT_VOTE_ADD : QBFT_VOTE_DROP] : [];
  const round: Hex = data.round === 0 ? "0x" : `0x${data.round.toString(16).padStart(2 * Math.ceil(data.round.toString(16).length / 2), "0")}`;
  return toRlp([data.vanity, data.validators.map((v) => v.toLowerCase() as Hex), vote, round, data.seals]);
}

function scalar(hex: Hex): number {
  if (hex === "0x") return 0;
  if (hex.startsWith("0x00")) throw new Error("QBFT extraData round has a leading zero byte");
  if (hex.length > 10) throw new Error("QBFT extraData round does not fit 32 bits");
  return Number(BigInt(hex));
}

function decodeVote(vote: unknown): QbftExtraData["vote"] {
  if (!Array.isArray(vote)) throw new Error("QBFT extraData vote is a list");
  if (vote.length === 0) return undefined;
  const [recipient, kind] = vote;
  if (vote.length !== 2 || typeof recipient !== "string" || recipient.length !== 42 || typeof kind !== "string") {
    throw new Error("a QBFT vote is [address, 0xff | 0x00]");
  }
  const byte = kind.toLowerCase();
  if (byte !== QBFT_VOTE_ADD && byte !== QBFT_VOTE_DROP) throw new Error(`a QBFT vote is add (0xff) or drop (0x00), not ${kind}`);
  return { recipient: getAddress(recipient), add: byte === QBFT_VOTE_ADD };
}

/**
 * Decodes a QBFT `extraData`, checking its shape strictly: five items, 32-byte vanity, 20-byte
 * validator addresses, a vote that is empty or `[address, 0xff | 0x00]`, a minimal round scalar,
 * a list of byte-string seals. Throws on anything else.
 *
 * @example
 * decodeQbftExtraData(genesis.extraData).validators
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
  const parsedVote = decodeVote(vote);
  if (typeof round !== "string") throw new Error("QBFT extraData round is a scalar");
  if (!Array.isArray(seals) || seals.some((s) => typeof s !== "string")) throw new Error("QBFT extraData seals is a list of byte strings");
  return { vanity: vanity as Hex, validators: addresses, vote: parsedVote, round: scalar(round as Hex), seals: seals as Hex[] };
}
