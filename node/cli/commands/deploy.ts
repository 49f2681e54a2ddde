import { type Address, isAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { createChainClients } from "../../chain/clients.ts";
import { deployHulian } from "../../chain/deploy.ts";
import { writeManifest } from "../../chain/manifest.ts";
import { openKeystoreFile } from "../../keys/keystore.ts";
import { readPassword } from "../../keys/password.ts";
import { type CommandSpec, UsageError, parseCommand, requireString } from "../args.ts";
import { progress } from "../progress.ts";

export const deploySpec: CommandSpec = {
  name: "deploy",
  summary: "Deploy WalletRegistry, SettlementToken, SettlementHub and ReserveAttestation to a JSON-RPC chain.",
  usage: "hulian deploy --rpc URL --keystore FILE --out FILE [--governor A] [--issuer A] [--regulator A] [--admin A]",
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

function addressFlag(values: Record<string, unknown>, name: string, fallback: Address): Address {
  const v = values[name];
  if (v === undefined) return fallback;
  if (typeof v !== "string" || !isAddress(v)) throw new UsageError(`--${name} must be a 0x address, got "${v}"`);
  return v;
}

/** `hulian deploy`. */
export async function deployCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(deploySpec, argv);
  const keystore = requireString(values, "keystore");
  const rpc = requireString(values, "rpc");
  const key = await openKeystoreFile(keystore, await readPassword("HULIAN_KEYSTORE_PASSWORD", "Deployer keystore password: "));
  const account = privateKeyToAccount(key.privateKey);
  const probe = createChainClients(rpc, 1);
  const chainId = await probe.publicClient.getChainId();
  const { signer, publicClient } = createChainClients(rpc, chainId, account);
  const manifest = await deployHulian(signer!, publicClient, {
    admin: addressFlag(values, "admin", account.address),
    governor: addressFlag(values, "governor", account.address),
    issuer: addressFlag(values, "issuer", account.address),
    regulator: addressFlag(values, "regulator", account.address),
    tokenName: String(values["token-name"]),
    tokenSymbol: String(values["token-symbol"]),
    network: String(values.network),
    onStep: (s) => progress(`deploying ${s}`),
  });
  const out = String(values.out);
  await writeManifest(out, manifest);
  console.log(JSON.stringify({ manifest: out, chainId: manifest.chainId, contracts: manifest.contracts }, null, 2));
}
