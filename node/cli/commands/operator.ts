import { readFile } from "node:fs/promises";
import { type Address, isAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { walletRegistryAbi } from "../../chain/abi/generated.ts";
import { createChainClients } from "../../chain/clients.ts";
import { readManifest } from "../../chain/manifest.ts";
import { OPERATOR_STATUS } from "../../chain/registryView.ts";
import { openKeystoreFile } from "../../keys/keystore.ts";
import { readPassword } from "../../keys/password.ts";
import { type MembershipAction, type MembershipRequest, listOperators, submitMembership } from "../../network/governance.ts";
import { addressOfPublicKey, parseKeyFile } from "../../network/nodeKeys.ts";
import { walletIdOf } from "../../receipts/ids.ts";
import { type CommandSpec, UsageError, parseCommand, requireString } from "../args.ts";

export const operatorSpec: CommandSpec = {
  name: "operator",
  maxPositionals: 1,
  summary: "Membership of the network over WalletRegistry: apply, approve, reject, suspend, resume, exit, clear (an expired application), list.",
  usage:
    "hulian operator <apply|approve|reject|suspend|resume|exit|clear|list> --deployment FILE [--rpc URL] [--keystore FILE] --wallet CODE [...]",
  options: {
    rpc: { type: "string", default: "http://127.0.0.1:8545", description: "JSON-RPC endpoint", placeholder: "url" },
    deployment: { type: "string", default: "deployment.json", description: "deployment manifest (contract addresses, chain id)", placeholder: "file" },
    keystore: { type: "string", description: "signer keystore: the candidate's account for apply, the governor's otherwise (password: HULIAN_KEYSTORE_PASSWORD or prompt)", placeholder: "file" },
    wallet: { type: "string", description: "wallet code, e.g. ALIPAY", placeholder: "code" },
    name: { type: "string", description: "apply: display name", placeholder: "name" },
    validator: { type: "string", description: "apply: validator address, or a Besu key / key.pub file", placeholder: "address|file" },
    endpoint: { type: "string", description: "apply: the operator's Hulian node URL", placeholder: "url" },
    reason: { type: "string", description: "suspend, reject: reason code 0–65535", placeholder: "n" },
    json: { type: "boolean", description: "list: print JSON instead of a table" },
  },
  examples: [
    "HULIAN_KEYSTORE_PASSWORD=… hulian operator apply --keystore newpay.keystore.json --wallet NEWPAY --name 'New Pay' --validator besu/key.pub --endpoint https://newpay.example",
    "hulian operator approve --keystore governor.keystore.json --wallet NEWPAY",
    "hulian operator suspend --keystore governor.keystore.json --wallet NEWPAY --reason 3",
    "hulian operator list --deployment deployment.json --rpc http://127.0.0.1:8545",
  ],
};

const ACTIONS: readonly MembershipAction[] = ["apply", "approve", "reject", "suspend", "resume", "exit", "clear"];

/** A validator given as an address, or read from a Besu `key.pub` (public key) or `key` (private key) file. */
async function validatorAddress(value: string): Promise<Address> {
  if (isAddress(value)) return value;
  let text: string;
  try {
    text = (await readFile(value, "utf8")).trim();
  } catch {
    throw new UsageError(`--validator must be a 0x address or a Besu key/key.pub file, got "${value}"`);
  }
  const hex = text.startsWith("0x") ? text : `0x${text}`;
  if (hex.length === 130) return addressOfPublicKey(hex as `0x${string}`);
  return parseKeyFile(text).address;
}

function reasonCode(values: Record<string, unknown>): number {
  const raw = requireString(values, "reason");
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new UsageError(`--reason must be an integer from 0 to 65535, got "${raw}"`);
  return n;
}

/** `hulian operator …`. */
export async function operatorCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(operatorSpec, argv);
  const action = positionals[0];
  const manifest = await readManifest(String(values.deployment));
  const rpc = requireString(values, "rpc");
  const registry = manifest.contracts.walletRegistry;

  if (action === "list") {
    const { publicClient } = createChainClients(rpc, manifest.chainId);
    await assertChain(publicClient.getChainId(), manifest.chainId);
    const operators = await listOperators(publicClient, registry);
    if (values.json) {
      console.log(JSON.stringify(operators, null, 2));
      return;
    }
    const header = ["CODE", "STATUS", "NAME", "SETTLEMENT ACCOUNT", "VALIDATOR", "ENDPOINT"];
    const rows = operators.map((o) => [
      o.code,
      o.status === "Suspended" ? `Suspended(${o.suspensionReason})` : o.status,
      o.name,
      o.settlementAccount,
      o.validator,
      o.endpoint,
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const row of [header, ...rows]) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd());
    return;
  }
  if (!action || !ACTIONS.includes(action as MembershipAction)) {
    throw new UsageError(action ? `unknown action "${action}" (use ${[...ACTIONS, "list"].join(", ")})` : `say one of ${[...ACTIONS, "list"].join(", ")}`);
  }
  const wallet = requireString(values, "wallet");
  walletIdOf(wallet);
  const request = await buildRequest(action as MembershipAction, wallet, values);
  const keystore = requireString(values, "keystore");
  const key = await openKeystoreFile(keystore, await readPassword("HULIAN_KEYSTORE_PASSWORD", `Keystore password (${keystore}): `));
  const account = privateKeyToAccount(key.privateKey);
  const { publicClient, signer } = createChainClients(rpc, manifest.chainId, account);
  await assertChain(publicClient.getChainId(), manifest.chainId);
  const sent = await submitMembership(signer!, publicClient, registry, request);
  const status = Number(
    await publicClient.readContract({ address: registry, abi: walletRegistryAbi, functionName: "statusOf", args: [walletIdOf(wallet)] }),
  );
  console.log(
    JSON.stringify({ action, wallet, status: OPERATOR_STATUS[status], by: account.address, transaction: sent.hash, block: sent.blockNumber.toString() }),
  );
}

async function buildRequest(action: MembershipAction, wallet: string, values: Record<string, unknown>): Promise<MembershipRequest> {
  switch (action) {
    case "apply":
      return {
        action,
        wallet,
        name: requireString(values, "name"),
        validator: await validatorAddress(requireString(values, "validator")),
        endpoint: requireString(values, "endpoint"),
      };
    case "suspend":
    case "reject":
      return { action, wallet, reason: reasonCode(values) };
    default:
      return { action, wallet };
  }
}

async function assertChain(actual: Promise<number>, expected: number): Promise<void> {
  const id = await actual;
  if (id !== expected) throw new Error(`the RPC serves chain ${id}, the deployment manifest says ${expected}`);
}
