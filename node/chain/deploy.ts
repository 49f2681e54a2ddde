import type { Abi, Account, Address, Chain, Hex, PublicClient, Transport, WalletClient } from "viem";
import {
  reserveAttestationAbi,
  reserveAttestationBytecode,
  settlementHubAbi,
  settlementHubBytecode,
  settlementTokenAbi,
  settlementTokenBytecode,
  walletRegistryAbi,
  walletRegistryBytecode,
} from "./abi/generated.ts";
import type { DeploymentManifest } from "./manifest.ts";

export type Deployer = WalletClient<Transport, Chain, Account>;

export interface DeployOptions {
  /** Holds DEFAULT_ADMIN_ROLE everywhere (wires the hub into the token). Defaults to the deployer. */
  admin?: Address;
  /** Admits, suspends and removes operators. */
  governor: Address;
  /** Mints and burns the settlement token against fiat reserves. */
  issuer: Address;
  /** Pauses, sets limits, freezes references. */
  regulator: Address;
  tokenName?: string;
  tokenSymbol?: string;
  network?: string;
  /** Called before each step, for progress output. */
  onStep?: (step: string) => void;
}

async function deployContract(
  deployer: Deployer,
  client: PublicClient,
  abi: Abi,
  bytecode: Hex,
  args: readonly unknown[],
): Promise<{ address: Address; hash: Hex; blockNumber: bigint }> {
  const hash = await deployer.deployContract({ abi, bytecode, args } as never);
  const receipt = await client.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success" || !receipt.contractAddress) throw new Error(`deployment ${hash} failed`);
  return { address: receipt.contractAddress, hash, blockNumber: receipt.blockNumber };
}

/**
 * Deploys WalletRegistry, SettlementToken, SettlementHub and ReserveAttestation on any JSON-RPC
 * chain, wires the hub into the token, and returns the deployment manifest.
 *
 * @example
 * const manifest = await deployHulian(deployer, publicClient, { governor, issuer, regulator });
 */
export async function deployHulian(
  deployer: Deployer,
  client: PublicClient,
  options: DeployOptions,
): Promise<DeploymentManifest> {
  const step = options.onStep ?? (() => {});
  const admin = options.admin ?? deployer.account.address;
  const name = options.tokenName ?? "Settlement CNY";
  const symbol = options.tokenSymbol ?? "sCNY";

  step("WalletRegistry");
  const registry = await deployContract(deployer, client, walletRegistryAbi, walletRegistryBytecode, [
    admin,
    options.governor,
  ]);
  step("SettlementToken");
  const token = await deployContract(deployer, client, settlementTokenAbi, settlementTokenBytecode, [
    name,
    symbol,
    registry.address,
    deployer.account.address,
    options.issuer,
    options.regulator,
  ]);
  step("SettlementHub");
  const hub = await deployContract(deployer, client, settlementHubAbi, settlementHubBytecode, [
    registry.address,
    token.address,
    admin,
    options.regulator,
  ]);
  step("ReserveAttestation");
  const attestation = await deployContract(deployer, client, reserveAttestationAbi, reserveAttestationBytecode, [
    registry.address,
    token.address,
  ]);
  step("wire hub into token");
  const setHub = await deployer.writeContract({
    address: token.address,
    abi: settlementTokenAbi,
    functionName: "setHub",
    args: [hub.address],
  } as never);
  await client.waitForTransactionReceipt({ hash: setHub });
  if (admin.toLowerCase() !== deployer.account.address.toLowerCase()) {
    step("hand token admin to the admin");
    const adminRole = (await client.readContract({
      address: token.address,
      abi: settlementTokenAbi,
      functionName: "DEFAULT_ADMIN_ROLE",
    } as never)) as Hex;
    for (const [functionName, account] of [
      ["grantRole", admin],
      ["renounceRole", deployer.account.address],
    ] as const) {
      const hash = await deployer.writeContract({
        address: token.address,
        abi: settlementTokenAbi,
        functionName,
        args: [adminRole, account],
      } as never);
      await client.waitForTransactionReceipt({ hash });
    }
  }

  return {
    network: options.network ?? "custom",
    chainId: await client.getChainId(),
    deploymentBlock: registry.blockNumber.toString(),
    deployedAt: new Date().toISOString(),
    contracts: {
      walletRegistry: registry.address,
      settlementToken: token.address,
      settlementHub: hub.address,
      reserveAttestation: attestation.address,
    },
    roles: { admin, governor: options.governor, issuer: options.issuer, regulator: options.regulator },
    token: { name, symbol, decimals: 2 },
    transactions: {
      walletRegistry: registry.hash,
      settlementToken: token.hash,
      settlementHub: hub.hash,
      reserveAttestation: attestation.hash,
      setHub,
    },
  };
}
