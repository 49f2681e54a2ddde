import { readFile, writeFile } from "node:fs/promises";
import type { Address, Hex } from "viem";

/** What a deployment wrote down: everything a node, auditor or explorer needs to find the contracts. */
export interface DeploymentManifest {
  network: string;
  chainId: number;
  deploymentBlock: string;
  deployedAt: string;
  contracts: {
    walletRegistry: Address;
    settlementToken: Address;
    settlementHub: Address;
    reserveAttestation: Address;
  };
  roles: {
    admin: Address;
    governor: Address;
    issuer: Address;
    regulator: Address;
  };
  token: { name: string; symbol: string; decimals: number };
  transactions: Record<string, Hex>;
}

/** Reads a manifest written by {@link writeManifest}. */
export async function readManifest(file: string): Promise<DeploymentManifest> {
  const parsed = JSON.parse(await readFile(file, "utf8")) as DeploymentManifest;
  if (!parsed.contracts?.settlementHub || typeof parsed.chainId !== "number") {
    throw new Error(`${file} is not a Hulian deployment manifest`);
  }
  return parsed;
}

/** Writes a manifest as pretty JSON. */
export async function writeManifest(file: string, manifest: DeploymentManifest): Promise<void> {
  await writeFile(file, JSON.stringify(manifest, null, 2) + "\n");
}
