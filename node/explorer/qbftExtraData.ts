import { type Hex, recoverAddress, size } from "viem";
import { decodeQbftExtraData as decodeQbft } from "../chain/qbftExtraData.ts";

/** What a QBFT header's extraData carries, decoded. */
export interface QbftExtraData {
  vanity: Hex;
  validators: string[];
  /** A validator vote ([address, add?]) when the proposer cast one. */
  vote: { address: string; add: boolean } | null;
  round: number;
  seals: { signature: Hex; signer: string | null; inValidatorSet: boolean }[];
}

/**
 * Decodes Besu's QBFT extraData with the network's one decoder ({@link decodeQbft}: add votes are
 * 0xff, drop votes 0x00) and recovers who sealed the block. Returns `null` when the bytes are not of
 * that shape (the embedded chain, Clique, plain PoW/PoS).
 *
 * Seal signers are recovered over `sealHash` (give the block hash: Besu's on-chain QBFT header hash
 * leaves the seals out); a signer outside the validator list is reported as such, not trusted.
 *
 * @example
 * decodeQbftExtraData(block.extraData, block.hash)?.validators
 */
export async function decodeQbftExtraData(extraData: Hex, sealHash?: Hex): Promise<QbftExtraData | null> {
  if (extraData === "0x" || size(extraData) < 33) return null;
  let header;
  try {
    header = decodeQbft(extraData);
  } catch {
    return null;
  }
  const set: string[] = header.validators;
  const decodedSeals = await Promise.all(
    header.seals.map(async (signature) => {
      let signer: string | null = null;
      if (sealHash && size(signature) === 65) {
        try {
          signer = await recoverAddress({ hash: sealHash, signature: normalizeV(signature) });
        } catch {
          signer = null;
        }
      }
      return { signature, signer, inValidatorSet: signer !== null && set.includes(signer) };
    }),
  );
  return {
    vanity: header.vanity,
    validators: set,
    vote: header.vote ? { address: header.vote.recipient, add: header.vote.add } : null,
    round: header.round,
    seals: decodedSeals,
  };
}

/** Besu writes v as 0/1; recovery wants 27/28. */
function normalizeV(signature: Hex): Hex {
  const v = parseInt(signature.slice(130, 132), 16);
  return v < 27 ? (`${signature.slice(0, 130)}${(v + 27).toString(16)}` as Hex) : signature;
}
