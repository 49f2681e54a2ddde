import { type Address, type Hex, getAddress } from "viem";
import type { Alloc } from "./genesisState.ts";

/** The mixHash Besu requires of a QBFT genesis block (it marks Istanbul-family BFT blocks). */
export const QBFT_MIX_HASH: Hex = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365";

/**
 * 200M gas per block: what the embedded chain runs with, so the batch sizes measured there fit in
 * one QBFT block. Gas is free, so the limit is only about how long a validator may spend on a block.
 */
export const DEFAULT_GAS_LIMIT = 200_000_000n;

export interface QbftOptions {
  blockPeriodSeconds: number;
  requestTimeoutSeconds: number;
  epochLength: number;
}

/** How the validator set is chosen. */
export type ValidatorSelection =
  | { mode: "contract"; contract: Address }
  /** Header validators (in extraData) until `block`, then the contract: Besu's `transitions` route. */
  | { mode: "transition"; contract: Address; block: number; validators: readonly Address[] };

export interface GenesisOptions {
  chainId: number;
  qbft: QbftOptions;
  selection: ValidatorSelection;
  extraData: Hex;
  alloc: Alloc;
  gasLimit?: bigint;
}

export interface BesuGenesis {
  config: {
    chainId: number;
    berlinBlock: number;
    londonBlock: number;
    shanghaiTime: number;
    cancunTime: number;
    zeroBaseFee: boolean;
    qbft: {
      blockperiodseconds: number;
      epochlength: number;
      requesttimeoutseconds: number;
      validatorcontractaddress?: Address;
    };
    transitions?: {
      qbft: Array<{ block: number; validatorselectionmode: "contract"; validatorcontractaddress: Address }>;
    };
  };
  nonce: Hex;
  timestamp: Hex;
  extraData: Hex;
  gasLimit: Hex;
  difficulty: Hex;
  mixHash: Hex;
  coinbase: Address;
  baseFeePerGas: Hex;
  alloc: Alloc;
  number: Hex;
  gasUsed: Hex;
  parentHash: Hex;
}

/**
 * A Besu QBFT genesis for a free-gas network on Cancun rules.
 *
 * - Milestones: Berlin and London at block 0, Shanghai and Cancun at time 0 — the latest EVM the
 *   contracts are compiled for (`evmVersion: "cancun"`), so PUSH0, MCOPY and transient storage
 *   work. Besu runs Shanghai/Cancun under QBFT from 24.1 on.
 * - Free gas: `zeroBaseFee` keeps the London base fee at 0 in every block (`baseFeePerGas` 0 in
 *   the genesis block), and every node runs with `min-gas-price=0`.
 * - `timestamp` 0, as Besu recommends: a genesis in the past of every validator's clock.
 */
export function buildGenesis(options: GenesisOptions): BesuGenesis {
  const { qbft, selection } = options;
  if (qbft.blockPeriodSeconds < 1) throw new Error("QBFT block period is at least 1 second");
  if (qbft.requestTimeoutSeconds <= qbft.blockPeriodSeconds) {
    throw new Error("QBFT request timeout must be longer than the block period");
  }
  const contract = getAddress(selection.contract);
  if (!Object.keys(options.alloc).some((a) => a.toLowerCase() === contract.toLowerCase())) {
    throw new Error(`the validator contract ${contract} is not in the genesis alloc`);
  }
  const config: BesuGenesis["config"] = {
    chainId: options.chainId,
    berlinBlock: 0,
    londonBlock: 0,
    shanghaiTime: 0,
    cancunTime: 0,
    zeroBaseFee: true,
    qbft: {
      blockperiodseconds: qbft.blockPeriodSeconds,
      epochlength: qbft.epochLength,
      requesttimeoutseconds: qbft.requestTimeoutSeconds,
    },
  };
  if (selection.mode === "contract") {
    config.qbft.validatorcontractaddress = contract;
  } else {
    if (selection.block < 1) throw new Error("a transition block must lie after genesis");
    config.transitions = {
      qbft: [{ block: selection.block, validatorselectionmode: "contract", validatorcontractaddress: contract }],
    };
  }
  return {
    config,
    nonce: "0x0",
    timestamp: "0x0",
    extraData: options.extraData,
    gasLimit: `0x${(options.gasLimit ?? DEFAULT_GAS_LIMIT).toString(16)}`,
    difficulty: "0x1",
    mixHash: QBFT_MIX_HASH,
    coinbase: "0x0000000000000000000000000000000000000000",
    baseFeePerGas: "0x0",
    alloc: options.alloc,
    number: "0x0",
    gasUsed: "0x0",
    parentHash: `0x${"00".repeat(32)}`,
  };
}
