import { type Hex, fromRlp, getAddress, hexToNumber, recoverAddress, size } from "viem";

/** What a QBFT (or IBFT 2.0) header's extraData carries, decoded. */
export interface QbftExtraData {
  vanity: Hex;
  validators: string[];
  /** A validator vote ([address, add?]) when the proposer cast one. */
  vote: { address: string; add: boolean } | null;
  round: number;
  seals: { signature: Hex; signer: string | null; inValidatorSet: boolean }[];
}

/**
 * Decodes Besu's QBFT extraData: `RLP([vanity(32), [validators], vote | [], round, [commit seals]])`.
 * Returns `null` when the bytes are not of that shape (the embedded chain, Clique, plain PoW/PoS).
 *
 * Seal signers are recovered over `sealHash` (give the block hash: Besu's on-chain QBFT header hash
 * leaves the seals out); a signer outside the validator list is reported as such, not trusted.
 *
 * @example
 * decodeQbftExtraData(block.extraData, block.hash)?.validators
 */
export async function decodeQbftExtraData(extraData: Hex, sealHash?: Hex): Promise<QbftExtraData | null> {
  if (extraData === "0x" || size(extraData) < 33) return null;
  let items: unknown;
  try {
    items = fromRlp(extraData, "hex");
  } catch {
    return null;
  }
  if (!Array.isArray(items) || items.length < 4) return null;
  const [vanity, validators, vote, round, seals] = items as [Hex, Hex[], Hex[] | Hex, Hex, Hex[] | undefined];
  if (typeof vanity !== "string" || size(vanity) !== 32 || !Array.isArray(validators)) return null;
  if (!validators.every((v) => typeof v === "string" && size(v) === 20)) return null;
  const set = validators.map((v) => getAddress(v));
  let decodedVote: QbftExtraData["vote"] = null;
  if (Array.isArray(vote) && vote.length === 2 && typeof vote[0] === "string" && size(vote[0]) === 20) {
    decodedVote = { address: getAddress(vote[0]), add: vote[1] === "0xff" };
  }
  const sealList = Array.isArray(seals) ? seals : [];
  const decodedSeals = await Promise.all(
    sealList.map(async (signature) => {
      let signer: string | null = null;
      if (sealHash && typeof signature === "string" && size(signature) === 65) {
        try {
          signer = await recoverAddress({ hash: sealHash, signature: normalizeV(signature) });
        } catch {
          signer = null;
        }
      }
      return { signature: signature as Hex, signer, inValidatorSet: signer !== null && (set as string[]).includes(signer) };
    }),
  );
  return {
    vanity,
    validators: set,
    vote: decodedVote,
    round: typeof round === "string" && round !== "0x" ? hexToNumber(round) : 0,
    seals: decodedSeals,
  };
}

/** Besu writes v as 0/1; recovery wants 27/28. */
function normalizeV(signature: Hex): Hex {
  const v = parseInt(signature.slice(130, 132), 16);
  return v < 27 ? (`${signature.slice(0, 130)}${(v + 27).toString(16)}` as Hex) : signature;
}
