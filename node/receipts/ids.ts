import { type Hex, hexToBigInt, numberToHex, padHex, stringToHex, hexToString, trim } from "viem";

/** A wallet code is 1–24 characters of A–Z, 0–9, `_` or `-` (e.g. `ALIPAY`). */
const WALLET_CODE = /^[A-Z0-9_-]{1,24}$/;
const SEQ_MASK = (1n << 64n) - 1n;

/** Thrown when a wallet code or id is not of the form the registry accepts. */
export class InvalidWalletIdError extends Error {
  override name = "InvalidWalletIdError";
}

/**
 * The bytes32 walletId of a short wallet code: its ASCII bytes, left aligned, zero padded.
 * The low 8 bytes stay zero: the hub packs sequence numbers there.
 *
 * @example walletIdOf("ALIPAY") // 0x414c495041590000…
 */
export function walletIdOf(code: string): Hex {
  if (!WALLET_CODE.test(code)) {
    throw new InvalidWalletIdError(`wallet code "${code}" must be 1-24 characters of A-Z, 0-9, _ or -`);
  }
  return padHex(stringToHex(code), { size: 32, dir: "right" });
}

/** The short code of a walletId (inverse of {@link walletIdOf}). */
export function walletCodeOf(walletId: Hex): string {
  if (!isWalletId(walletId)) throw new InvalidWalletIdError(`not a walletId: ${walletId}`);
  return hexToString(trim(walletId, { dir: "right" }));
}

/** True when `id` is a bytes32 whose low 8 bytes are zero and whose code is valid. */
export function isWalletId(id: string): id is Hex {
  if (!/^0x[0-9a-fA-F]{64}$/.test(id)) return false;
  const value = hexToBigInt(id as Hex);
  if (value === 0n || (value & SEQ_MASK) !== 0n) return false;
  const code = hexToString(trim(id as Hex, { dir: "right" }));
  return WALLET_CODE.test(code);
}

/**
 * The id of a wallet's transfer with sequence number `seq`: `walletId | seq`, exactly as
 * `SettlementHub.transferIdOf` derives it on chain.
 */
export function transferIdOf(walletId: Hex, seq: bigint): Hex {
  if (seq < 0n || seq > SEQ_MASK) throw new RangeError(`sequence ${seq} is outside uint64`);
  return numberToHex(hexToBigInt(walletId) | seq, { size: 32 });
}

/** Splits a transfer id into its sending wallet and sequence number. */
export function parseTransferId(transferId: Hex): { walletId: Hex; seq: bigint } {
  const value = hexToBigInt(transferId);
  const walletId = numberToHex(value & ~SEQ_MASK, { size: 32 });
  if (!isWalletId(walletId)) throw new InvalidWalletIdError(`transfer id ${transferId} names no valid wallet`);
  return { walletId, seq: value & SEQ_MASK };
}
