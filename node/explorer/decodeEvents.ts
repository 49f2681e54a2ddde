import { type Abi, type Address, type Hex, decodeEventLog } from "viem";
import { reserveAttestationAbi, settlementHubAbi, settlementTokenAbi, walletRegistryAbi } from "../chain/abi/generated.ts";

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
}

/** Width of the block part of a position key: enough for 10^12 blocks. */
export const BLOCK_KEY_WIDTH = 12;
const LOG_KEY_WIDTH = 6;

/**
 * A fixed-width, sortable chain position: `000000001234.000017` is block 1234, log 17. Every index
 * key ends in one, so key order is chain order and "newest first" is a reverse range scan.
 *
 * @example posKey(1234n, 17) // "000000001234.000017"
 */
export function posKey(blockNumber: bigint, logIndex: number): string {
  return `${blockKey(blockNumber)}.${String(logIndex).padStart(LOG_KEY_WIDTH, "0")}`;
}

/** Length of a {@link posKey}. */
export const POS_KEY_LENGTH = BLOCK_KEY_WIDTH + 1 + LOG_KEY_WIDTH;

/** The zero-padded block number part of a position. */
export function blockKey(blockNumber: bigint | number): string {
  const s = blockNumber.toString();
  if (s.length > BLOCK_KEY_WIDTH || s.startsWith("-")) throw new RangeError(`block ${s} does not fit a position key`);
  return s.padStart(BLOCK_KEY_WIDTH, "0");
}

/** Splits a {@link posKey} back into block number and log index. */
export function parsePos(pos: string): { blockNumber: bigint; logIndex: number } {
  return { blockNumber: BigInt(pos.slice(0, BLOCK_KEY_WIDTH)), logIndex: Number(pos.slice(BLOCK_KEY_WIDTH + 1)) };
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
  try {
    decoded = decodeEventLog({ abi: ABIS[contract], data: log.data, topics: log.topics as [Hex, ...Hex[]] }) as never;
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
  };
}

/** The ABI of a contract (to decode calls and reverts of transactions sent to it). */
export function abiOf(contract: ContractName): Abi {
  return ABIS[contract];
}
