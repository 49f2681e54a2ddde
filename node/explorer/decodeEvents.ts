import { type Abi, type Address, type Hex, decodeEventLog } from "viem";
import { reserveAttestationAbi, settlementHubAbi, settlementTokenAbi, walletRegistryAbi } from "../chain/abi/generated.ts";
import type { Receipt } from "../receipts/receipt.ts";
import { TRANSFERS_SETTLED_TOPIC, receiptsOfTransfersSettled } from "../receipts/transfersSettled.ts";

/** Which of the four Hulian contracts emitted a log. */
export type ContractName = "registry" | "token" | "hub" | "attestation";

/** The contracts the explorer follows, from the deployment manifest. */
export type ContractAddresses = Record<ContractName, Address>;

const ABIS: Record<ContractName, Abi> = {
  registry: walletRegistryAbi as Abi,
  token: settlementTokenAbi as Abi,
  hub: settlementHubAbi as Abi,
  attestation: reserveAttestationAbi as Abi,
};

/** A log as `eth_getLogs` returns it (quantities still hex). */
export interface RawLog {
  address: Address;
  topics: Hex[];
  data: Hex;
  blockNumber: Hex | bigint;
  transactionHash: Hex;
  transactionIndex?: Hex | number;
  logIndex: Hex | number;
}

/**
 * One decoded event with its chain position. `args` keeps the ABI names; integers are bigint,
 * so the index decides how to store them. `pos` sorts like chain order (block, then log index).
 */
export interface ChainEvent {
  contract: ContractName;
  name: string;
  args: Record<string, unknown>;
  blockNumber: bigint;
  logIndex: number;
  txHash: Hex;
  pos: string;
  /**
   * For a `TransfersSettled` log (one payee group of a batch): the receipts of its packed transfer
   * records, in sequence order, decoded by the receipts codec. Record `i` is at `posKey(blockNumber,
   * logIndex, i)`.
   */
  receipts?: Receipt[];
}

/** Width of the block part of a position key: enough for 10^12 blocks. */
export const BLOCK_KEY_WIDTH = 12;
const LOG_KEY_WIDTH = 6;
/** Width of the record part: a batch holds at most 2,048 transfers (`MAX_BATCH_TRANSFERS`). */
const RECORD_KEY_WIDTH = 4;

/**
 * A fixed-width, sortable chain position: `000000001234.000017.0003` is block 1234, log 17, record
 * 3. The record part tells apart the transfers of one `TransfersSettled` log (a payee group shares
 * one log); it is 0 for every other event. Every index key ends in one, so key order is chain order
 * and "newest first" is a reverse range scan.
 *
 * @example posKey(1234n, 17, 3) // "000000001234.000017.0003"
 */
export function posKey(blockNumber: bigint, logIndex: number, record = 0): string {
  return `${blockKey(blockNumber)}.${fixed(logIndex, LOG_KEY_WIDTH, "log index")}.${fixed(record, RECORD_KEY_WIDTH, "record")}`;
}

/** Length of a {@link posKey}. */
export const POS_KEY_LENGTH = BLOCK_KEY_WIDTH + 1 + LOG_KEY_WIDTH + 1 + RECORD_KEY_WIDTH;

function fixed(n: number, width: number, what: string): string {
  const s = String(n);
  if (!Number.isInteger(n) || n < 0 || s.length > width) throw new RangeError(`${what} ${s} does not fit a position key`);
  return s.padStart(width, "0");
}

/** The zero-padded block number part of a position. */
export function blockKey(blockNumber: bigint | number): string {
  const s = blockNumber.toString();
  if (s.length > BLOCK_KEY_WIDTH || s.startsWith("-")) throw new RangeError(`block ${s} does not fit a position key`);
  return s.padStart(BLOCK_KEY_WIDTH, "0");
}

/** Splits a {@link posKey} back into block number, log index and record. */
export function parsePos(pos: string): { blockNumber: bigint; logIndex: number; record: number } {
  const [block, log, record] = pos.split(".");
  return { blockNumber: BigInt(block), logIndex: Number(log), record: Number(record) };
}

/**
 * Decodes a log of one of the Hulian contracts. Logs from other addresses, or whose topic no ABI
 * knows, come back `undefined`: the explorer indexes facts it can name, nothing it would guess.
 */
export function decodeChainEvent(log: RawLog, contracts: ContractAddresses): ChainEvent | undefined {
  const address = log.address.toLowerCase();
  const contract = (Object.keys(contracts) as ContractName[]).find((c) => contracts[c].toLowerCase() === address);
  if (!contract) return undefined;
  let decoded: { eventName: string; args: unknown };
  let receipts: Receipt[] | undefined;
  try {
    decoded = decodeEventLog({ abi: ABIS[contract], data: log.data, topics: log.topics as [Hex, ...Hex[]] }) as never;
    // A payee group's transfers are packed records: the receipts codec unpacks them (the hub
    // refuses malformed records, so a log that does not unpack is no Hulian fact either).
    if (contract === "hub" && log.topics[0] === TRANSFERS_SETTLED_TOPIC) receipts = receiptsOfTransfersSettled(log);
  } catch {
    return undefined;
  }
  const blockNumber = BigInt(log.blockNumber);
  const logIndex = Number(log.logIndex);
  return {
    contract,
    name: decoded.eventName,
    args: (decoded.args ?? {}) as Record<string, unknown>,
    blockNumber,
    logIndex,
    txHash: log.transactionHash,
    pos: posKey(blockNumber, logIndex),
    ...(receipts ? { receipts } : {}),
  };
}

/** The ABI of a contract (to decode calls and reverts of transactions sent to it). */
export function abiOf(contract: ContractName): Abi {
  return ABIS[contract];
}
