import { constants } from "node:fs";
import { access } from "node:fs/promises";
import path from "node:path";
import type { Address } from "viem";
import { readPassword } from "../../keys/password.ts";
import { type CommandSpec, UsageError, parseCommand, requireString } from "../args.ts";
import { progress } from "../progress.ts";
import { explainKeystoreError } from "./keys.ts";

export const deploySpec: CommandSpec = {
  name: "deploy",
  summary: "Deploy WalletRegistry, SettlementToken, SettlementHub and ReserveAttestation to a JSON-RPC chain.",
  usage: "hulian deploy --keystore FILE [--rpc URL] [--out FILE] [--network NAME] [--admin|--governor|--issuer|--regulator A]",
  options: {
    rpc: { type: "string", default: "http://127.0.0.1:8545", description: "JSON-RPC endpoint", placeholder: "url" },
    keystore: { type: "string", description: "deployer keystore (password: HULIAN_KEYSTORE_PASSWORD or prompt)", placeholder: "file" },
    out: { type: "string", default: "deployment.json", description: "where to write the deployment manifest", placeholder: "file" },
    governor: { type: "string", description: "governor address (default: deployer)", placeholder: "address" },
    issuer: { type: "string", description: "issuer address (default: deployer)", placeholder: "address" },
    regulator: { type: "string", description: "regulator address (default: deployer)", placeholder: "address" },
    admin: { type: "string", description: "admin address (default: deployer)", placeholder: "address" },
    "token-name": { type: "string", default: "Settlement CNY", description: "settlement token name", placeholder: "name" },
    "token-symbol": { type: "string", default: "sCNY", description: "settlement token symbol", placeholder: "symbol" },
    network: { type: "string", default: "custom", description: "a name for the network, recorded in the manifest", placeholder: "name" },
  },
  examples: ["hulian deploy --rpc http://127.0.0.1:8545 --keystore deployer.keystore.json --out deployment.json"],
};

const ROLES = ["admin", "governor", "issuer", "regulator"] as const;

function addressFlag(
  values: Record<string, unknown>,
  name: string,
  isAddress: (v: string) => v is Address,
): Address | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || !isAddress(v)) {
    throw new UsageError(`--${name} must be a 0x address (40 hex digits, checksummed if mixed case), got "${String(v)}"`);
  }
  return v;
}

function rpcFlag(values: Record<string, unknown>): string {
  const rpc = requireString(values, "rpc");
  if (!/^https?:\/\/[^/\s]+/.test(rpc)) throw new UsageError(`--rpc must be an http:// or https:// URL, got "${rpc}"`);
  return rpc;
}

/** `hulian deploy`. Every flag is checked, and the chain reached, before the password is asked for. */
export async function deployCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(deploySpec, argv);
  const keystore = requireString(values, "keystore");
  const rpc = rpcFlag(values);
  const out = String(values.out);
  // A manifest that cannot be written after the contracts are on chain would leave them unfindable.
  await access(path.dirname(path.resolve(out)), constants.W_OK).catch(() => {
    throw new UsageError(`--out ${out}: the folder ${path.dirname(path.resolve(out))} does not exist or is not writable`);
  });
  // Loaded only now, so --help and usage errors answer without loading viem and the contracts.
  const [{ isAddress }, { privateKeyToAccount }, { createChainClients }, { deployHulian }, { writeManifest }, { openKeystoreFile }] =
    await Promise.all([
      import("viem"),
      import("viem/accounts"),
      import("../../chain/clients.ts"),
      import("../../chain/deploy.ts"),
      import("../../chain/manifest.ts"),
      import("../../keys/keystore.ts"),
    ]);
  const roles = Object.fromEntries(ROLES.map((role) => [role, addressFlag(values, role, isAddress)]));
  // Reach the chain before asking for the password, so an unreachable --rpc fails at once.
  const probe = createChainClients(rpc, 1);
  const chainId = await probe.publicClient.getChainId().catch((cause: unknown) => {
    throw new Error(`cannot reach the chain at ${rpc}: ${(cause as { details?: string }).details ?? String(cause)}`, { cause });
  });
  const password = await readPassword("HULIAN_KEYSTORE_PASSWORD", "Deployer keystore password: ");
  const key = await explainKeystoreError(keystore, () => openKeystoreFile(keystore, password));
  const account = privateKeyToAccount(key.privateKey);
  const { signer, publicClient } = createChainClients(rpc, chainId, account);
  const manifest = await deployHulian(signer!, publicClient, {
    admin: roles.admin ?? account.address,
    governor: roles.governor ?? account.address,
    issuer: roles.issuer ?? account.address,
    regulator: roles.regulator ?? account.address,
    tokenName: String(values["token-name"]),
    tokenSymbol: String(values["token-symbol"]),
    network: String(values.network),
    onStep: (s) => progress(`deploying ${s}`),
  });
  await writeManifest(out, manifest);
  console.log(JSON.stringify({ manifest: out, chainId: manifest.chainId, contracts: manifest.contracts }, null, 2));
}
