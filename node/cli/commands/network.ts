import { access, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { type Address, isAddress } from "viem";
import { readPassword } from "../../keys/password.ts";
import { DEFAULT_BESU_IMAGE } from "../../network/dockerCompose.ts";
import { DEFAULT_CHAIN_ID, type OperatorSpec, ROLE_NAMES, initNetwork } from "../../network/initNetwork.ts";
import { enodeUrl, formatKeyFile, formatPublicKeyFile, generateNodeKey } from "../../network/nodeKeys.ts";
import { verifyNetwork } from "../../network/verifyNetwork.ts";
import { type CommandSpec, UsageError, parseCommand, requireString } from "../args.ts";
import { step } from "../progress.ts";

export const networkSpec: CommandSpec = {
  name: "network",
  maxPositionals: 1,
  summary: "Generate and check a production Hulian network on Hyperledger Besu QBFT.",
  usage:
    "hulian network init --operators A,B,C,D --out DIR [options] | hulian network verify --dir DIR | hulian network node-key --out DIR [--host IP --p2p-port N]",
  options: {
    operators: { type: "string", description: "init: founding operators' wallet codes, comma separated (4 or more)", placeholder: "codes" },
    out: { type: "string", description: "init: new folder for the network; node-key: folder for key and key.pub", placeholder: "dir" },
    dir: { type: "string", description: "verify: a folder written by network init", placeholder: "dir" },
    "chain-id": { type: "string", default: String(DEFAULT_CHAIN_ID), description: "chain id", placeholder: "n" },
    "block-period": { type: "string", default: "2", description: "QBFT block period in seconds", placeholder: "s" },
    "request-timeout": { type: "string", description: "QBFT round timeout in seconds (default: 2 × block period, at least 4)", placeholder: "s" },
    "epoch-length": { type: "string", default: "30000", description: "QBFT epoch length in blocks", placeholder: "n" },
    selection: { type: "string", default: "contract", description: "validator selection: contract (registry from block 0) or transition (header validators first)", placeholder: "mode" },
    "transition-block": { type: "string", default: "1", description: "with --selection transition: block at which the registry takes over", placeholder: "n" },
    names: { type: "string", description: "display names, CODE=Name,…", placeholder: "list" },
    hosts: { type: "string", description: "validator IP addresses for enode URLs, CODE=IP,… (default 127.0.0.1)", placeholder: "list" },
    endpoints: { type: "string", description: "Hulian node URLs published in the registry, CODE=URL,…", placeholder: "list" },
    admin: { type: "string", description: "existing admin address (default: a new governance keystore)", placeholder: "address" },
    governor: { type: "string", description: "existing governor address", placeholder: "address" },
    issuer: { type: "string", description: "existing issuer address", placeholder: "address" },
    regulator: { type: "string", description: "existing regulator address", placeholder: "address" },
    "token-name": { type: "string", default: "Settlement CNY", description: "settlement token name", placeholder: "name" },
    "token-symbol": { type: "string", default: "sCNY", description: "settlement token symbol", placeholder: "symbol" },
    "besu-image": { type: "string", default: DEFAULT_BESU_IMAGE, description: "Besu Docker image for docker-compose.yml", placeholder: "image" },
    host: { type: "string", default: "127.0.0.1", description: "node-key: IP address for the printed enode URL", placeholder: "ip" },
    "p2p-port": { type: "string", default: "30303", description: "node-key: P2P port for the printed enode URL", placeholder: "port" },
  },
  examples: [
    "HULIAN_KEYSTORE_PASSWORD=… hulian network init --operators ALIPAY,WECHAT,UNIONPAY,YUNPAY --out hulian-net",
    "hulian network verify --dir hulian-net",
    "hulian network node-key --out newpay-besu --host 10.0.4.7 --p2p-port 30303",
  ],
};

function integer(values: Record<string, unknown>, name: string, min: number): number {
  const raw = values[name];
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${String(raw)}"`);
  return n;
}

/** Parses `CODE=value,CODE=value`; every code must be a founding operator. */
function perOperator(values: Record<string, unknown>, name: string, codes: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const raw = values[name];
  if (typeof raw !== "string" || raw === "") return out;
  for (const item of raw.split(",")) {
    const at = item.indexOf("=");
    const code = item.slice(0, at).trim();
    if (at <= 0 || !codes.includes(code)) throw new UsageError(`--${name}: "${item}" is not CODE=value for a listed operator`);
    out.set(code, item.slice(at + 1).trim());
  }
  return out;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/** `hulian network init|verify|node-key`. */
export async function networkCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(networkSpec, argv);
  const action = positionals[0];
  if (action === "init") return init(values);
  if (action === "verify") {
    const dir = requireString(values, "dir");
    const passed = await step("verifying the network folder", () => verifyNetwork(dir));
    console.log(JSON.stringify({ dir, ok: true, checks: passed }, null, 2));
    return;
  }
  if (action === "node-key") {
    const out = requireString(values, "out");
    if (await exists(path.join(out, "key"))) throw new UsageError(`${out}/key exists already; refusing to overwrite a key`);
    const key = generateNodeKey();
    await mkdir(out, { recursive: true });
    await writeFile(path.join(out, "key"), formatKeyFile(key), { mode: 0o600, flag: "wx" });
    await writeFile(path.join(out, "key.pub"), formatPublicKeyFile(key), { mode: 0o644, flag: "wx" });
    const enode = enodeUrl(key.publicKey, String(values.host), integer(values, "p2p-port", 1));
    console.log(JSON.stringify({ validator: key.address, enode, key: path.join(out, "key") }, null, 2));
    return;
  }
  throw new UsageError(action ? `unknown action "${action}" (use init, verify or node-key)` : "say init, verify or node-key");
}

async function init(values: Record<string, string | boolean | undefined>): Promise<void> {
  const codes = requireString(values, "operators").split(",").map((c) => c.trim()).filter(Boolean);
  const out = requireString(values, "out");
  const selection = values.selection;
  if (selection !== "contract" && selection !== "transition") throw new UsageError(`--selection must be contract or transition`);
  const names = perOperator(values, "names", codes);
  const hosts = perOperator(values, "hosts", codes);
  const endpoints = perOperator(values, "endpoints", codes);
  for (const [code, host] of hosts) {
    if (!/^(\d{1,3}\.){3}\d{1,3}$/.test(host)) throw new UsageError(`--hosts: ${code}=${host} is not an IPv4 address (enode URLs take IP addresses)`);
  }
  const roles: Partial<Record<(typeof ROLE_NAMES)[number], Address>> = {};
  for (const role of ROLE_NAMES) {
    const v = values[role];
    if (v === undefined) continue;
    if (typeof v !== "string" || !isAddress(v)) throw new UsageError(`--${role} must be a 0x address`);
    roles[role] = v;
  }
  if (codes.length < 4) {
    process.stderr.write(`! ${codes.length} validator(s): QBFT needs at least 4 to tolerate one faulty validator (3f+1)\n`);
  }
  const operators: OperatorSpec[] = codes.map((code) => ({ code, name: names.get(code), host: hosts.get(code), endpoint: endpoints.get(code) }));
  const blockPeriodSeconds = integer(values, "block-period", 1);
  const password = await readPassword("HULIAN_KEYSTORE_PASSWORD", "Password for the generated keystores: ");
  const result = await step("generating keys, genesis state and node configuration", () =>
    initNetwork({
      operators,
      outDir: out,
      password,
      chainId: integer(values, "chain-id", 1),
      blockPeriodSeconds,
      requestTimeoutSeconds: values["request-timeout"] === undefined ? undefined : integer(values, "request-timeout", blockPeriodSeconds + 1),
      epochLength: integer(values, "epoch-length", 1),
      selection,
      transitionBlock: integer(values, "transition-block", 1),
      roles,
      tokenName: String(values["token-name"]),
      tokenSymbol: String(values["token-symbol"]),
      besuImage: String(values["besu-image"]),
    }),
  );
  const d = result.description;
  console.log(
    JSON.stringify(
      {
        out,
        chainId: d.chainId,
        validatorSelection: d.validatorSelection,
        contracts: d.contracts,
        besuImage: String(values["besu-image"]),
        operators: d.operators.map((o) => ({
          code: o.code,
          validator: o.validator,
          settlementAccount: o.settlementAccount,
          enode: o.enode,
          // Send the operator this folder only: its compose file, Besu node and Hulian node config.
          folder: path.dirname(o.composeFile),
          // Its Hulian node, auditors and explorer read this validator's archive JSON-RPC (loopback).
          rpcUrl: o.rpcUrl,
        })),
        next: `hulian network verify --dir ${out}`,
      },
      null,
      2,
    ),
  );
}
