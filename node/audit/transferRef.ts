import type { Hex } from "viem";
import { parseTransferId, transferIdOf, walletCodeOf, walletIdOf } from "../receipts/ids.ts";
import { AuditInputError } from "./errors.ts";

const HEX_ID = /^0x[0-9a-fA-F]{64}$/;
const SHORT_ID = /^([A-Z0-9_-]{1,24})-([0-9]{1,20})$/;
/** ISO 20022's value for "no end-to-end id given". */
export const NOT_PROVIDED = "NOTPROVIDED";

/**
 * The short, readable form of a transfer id: `CODE-seq` (`ALIPAY-42`). It names exactly the same
 * transfer as the bytes32 id (`walletId | seq`), and fits ISO 20022's 35-character references
 * for any realistic wallet code and sequence.
 */
export function shortTransferId(transferId: Hex): string {
  const { walletId, seq } = parseTransferId(transferId);
  return `${walletCodeOf(walletId)}-${seq}`;
}

/**
 * Parses what an auditor types: a bytes32 transfer id, or its short form `CODE-seq`.
 *
 * @example
 * parseTransferRef("ALIPAY-42") // 0x414c4950415900…002a
 */
export function parseTransferRef(input: string): Hex {
  const trimmed = input.trim();
  if (HEX_ID.test(trimmed)) {
    const id = trimmed.toLowerCase() as Hex;
    try {
      parseTransferId(id);
    } catch {
      throw new AuditInputError(`${input} is not a Hulian transfer id (its high 24 bytes name no wallet)`);
    }
    return id;
  }
  const short = SHORT_ID.exec(trimmed.toUpperCase());
  if (short) {
    const seq = BigInt(short[2]);
    if (seq >= 1n << 64n) throw new AuditInputError(`sequence ${short[2]} is outside uint64`);
    return transferIdOf(walletIdOf(short[1]), seq);
  }
  throw new AuditInputError(`"${input}" is neither a transfer id (0x + 64 hex digits, or CODE-seq like ALIPAY-42) nor a transaction hash`);
}

/** The end-to-end id of a transfer in an ISO 20022 message: its short form when it fits 35 characters. */
export function endToEndId(transferId: Hex): string {
  const short = shortTransferId(transferId);
  return short.length <= 35 ? short : NOT_PROVIDED;
}

/** A wallet given as a code (`ALIPAY`) or a bytes32 walletId, as a walletId. */
export function parseWallet(input: string): Hex {
  const trimmed = input.trim();
  if (HEX_ID.test(trimmed)) {
    try {
      walletCodeOf(trimmed as Hex);
    } catch {
      throw new AuditInputError(`${input} is not a walletId`);
    }
    return trimmed.toLowerCase() as Hex;
  }
  try {
    return walletIdOf(trimmed.toUpperCase());
  } catch (e) {
    throw new AuditInputError((e as Error).message);
  }
}

/** The readable code of a walletId, or the id itself when it is not one. */
export function codeOf(walletId: Hex): string {
  try {
    return walletCodeOf(walletId);
  } catch {
    return walletId;
  }
}
