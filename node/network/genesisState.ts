import {
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
  createPublicClient,
  createWalletClient,
  custom,
  getAddress,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { walletRegistryAbi } from "../chain/abi/generated.ts";
import { hulianChain } from "../chain/clients.ts";
import { deployHulian } from "../chain/deploy.ts";
import { type EmbeddedChain, fundAccount, startEmbeddedChain } from "../chain/embeddedChain.ts";
import type { DeploymentManifest } from "../chain/manifest.ts";
import { walletIdOf } from "../receipts/ids.ts";

/** One account of a Besu genesis `alloc`: hex quantities, storage as 64-hex-digit words without 0x. */
export interface AllocAccount {
  balance: string;
  nonce?: string;
  code?: Hex;
  storage?: Record<string, string>;
  comment?: string;
}

export type Alloc = Record<string, AllocAccount>;

/** A founding member, admitted (Active) in the genesis state. */
export interface FoundingOperator {
  code: string;
  name: string;
  settlementAccount: Address;
  validator: Address;
  endpoint: string;
}

export interface GenesisRoles {
  admin: Address;
  governor: Address;
  issuer: Address;
  regulator: Address;
}

export interface GenesisStateOptions {
  chainId: number;
  roles: GenesisRoles;
  operators: readonly FoundingOperator[];
  tokenName?: string;
  tokenSymbol?: string;
  network?: string;
}

export interface GenesisState {
  /** Code, nonce and every non-zero storage word of the four contracts. */
  alloc: Alloc;
  /** The manifest the Hulian node reads: contracts exist from block 0, so no transactions. */
  manifest: DeploymentManifest;
}

type Sender = WalletClient<Transport, Chain, Account>;

interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

interface PrestateDiff {
  pre?: Record<string, { storage?: Record<string, Hex> }>;
  post?: Record<string, { storage?: Record<string, Hex> }>;
}

/** Storage words as Besu's genesis examples write them: 64 hex digits, no 0x. */
export function storageWord(hex: Hex): string {
  return BigInt(hex).toString(16).padStart(64, "0");
}

/**
 * Every storage slot any transaction so far wrote or read, per account: from the prestate tracer in
 * diff mode, which lists each touched account's slots before and after. Reading the final values
 * afterwards (and dropping zeros) leaves exactly the contracts' state.
 */
async function touchedSlots(provider: Eip1193, client: PublicClient): Promise<Map<string, Set<Hex>>> {
  const slots = new Map<string, Set<Hex>>();
  const latest = await client.getBlockNumber();
  for (let n = 1n; n <= latest; n++) {
    const block = await client.getBlock({ blockNumber: n });
    for (const hash of block.transactions) {
      const diff = (await provider.request({
        method: "debug_traceTransaction",
        params: [hash, { tracer: "prestateTracer", tracerConfig: { diffMode: true } }],
      })) as PrestateDiff;
      for (const side of [diff.pre ?? {}, diff.post ?? {}]) {
        for (const [address, account] of Object.entries(side)) {
          const set = slots.get(address.toLowerCase()) ?? new Set<Hex>();
          for (const slot of Object.keys(account.storage ?? {})) set.add(slot as Hex);
          slots.set(address.toLowerCase(), set);
        }
      }
    }
  }
  return slots;
}

/**
 * Builds the genesis state of a Hulian network: deploys WalletRegistry, SettlementToken,
 * SettlementHub and ReserveAttestation on a scratch in-process chain (same chain id, Cancun rules),
 * walks every founding operator through `applyForMembership` and `approve`, then copies the
 * contracts' runtime code and storage out as a Besu `alloc`.
 *
 * Running the real constructors and governance calls, rather than computing storage slots by hand,
 * means the genesis state is exactly what the contracts would hold had the network deployed them
 * itself. The deployer is a throwaway address whose key is discarded at once, so nobody can ever
 * send from it on the real chain and no later deployment can collide with these addresses.
 */
export async function buildGenesisState(options: GenesisStateOptions): Promise<GenesisState> {
  const chain: EmbeddedChain = await startEmbeddedChain({ port: 0, chainId: options.chainId });
  try {
    const provider = chain.provider;
    const viemChain = hulianChain(options.chainId, chain.url, "genesis-scratch");
    const transport = custom(provider, { retryCount: 0 });
    const client = createPublicClient({ chain: viemChain, transport, pollingInterval: 20 }) as PublicClient;
    const sender = async (address: Address): Promise<Sender> => {
      await provider.request({ method: "hardhat_impersonateAccount", params: [address] });
      await fundAccount(chain, address);
      return createWalletClient({ account: address, chain: viemChain, transport }) as Sender;
    };

    const deployerAddress = privateKeyToAccount(generatePrivateKey()).address;
    const deployed = await deployHulian(await sender(deployerAddress), client, {
      admin: options.roles.admin,
      governor: options.roles.governor,
      issuer: options.roles.issuer,
      regulator: options.roles.regulator,
      tokenName: options.tokenName,
      tokenSymbol: options.tokenSymbol,
      network: options.network,
    });
    const registry = deployed.contracts.walletRegistry;
    const governor = await sender(options.roles.governor);
    for (const op of options.operators) {
      const candidate = await sender(op.settlementAccount);
      const walletId = walletIdOf(op.code);
      for (const [signer, functionName, args] of [
        [candidate, "applyForMembership", [walletId, op.name, op.validator, op.endpoint]],
        [governor, "approve", [walletId]],
      ] as const) {
        const hash = await signer.writeContract({ address: registry, abi: walletRegistryAbi, functionName, args } as never);
        const receipt = await client.waitForTransactionReceipt({ hash });
        if (receipt.status !== "success") throw new Error(`genesis: ${functionName} for ${op.code} reverted`);
      }
    }

    const slots = await touchedSlots(provider, client);
    const alloc: Alloc = {};
    for (const [name, address] of Object.entries(deployed.contracts)) {
      const code = await client.getCode({ address });
      if (!code || code === "0x") throw new Error(`genesis: ${name} has no code`);
      const storage: Record<string, string> = {};
      const sorted = [...(slots.get(address.toLowerCase()) ?? [])].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      for (const slot of sorted) {
        const value = await client.getStorageAt({ address, slot });
        if (value && BigInt(value) !== 0n) storage[storageWord(slot)] = storageWord(value);
      }
      alloc[getAddress(address)] = { comment: `Hulian ${name}`, balance: "0x0", nonce: "0x1", code, storage };
    }

    const manifest: DeploymentManifest = {
      ...deployed,
      deploymentBlock: "0",
      deployedAt: new Date().toISOString(),
      transactions: {},
    };
    return { alloc, manifest };
  } finally {
    await chain.close();
  }
}
