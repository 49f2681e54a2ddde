import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Address, Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { DeploymentManifest } from "../chain/manifest.ts";
import { encryptKey } from "../keys/keystore.ts";
import { walletIdOf } from "../receipts/ids.ts";
import { renderBesuConfig, renderPermissionsConfig, renderStaticNodes } from "./besuConfig.ts";
import { DEFAULT_BESU_IMAGE, renderDockerCompose } from "./dockerCompose.ts";
import { encodeGenesisExtraData } from "../chain/qbftExtraData.ts";
import { type BesuGenesis, buildGenesis } from "./genesis.ts";
import { type GenesisRoles, buildGenesisState } from "./genesisState.ts";
import { enodeUrl, formatKeyFile, formatPublicKeyFile, generateNodeKey } from "./nodeKeys.ts";
import { renderNetworkReadme } from "./readme.ts";

/** Chain id of a generated production network unless told otherwise ("HM" in ASCII). */
export const DEFAULT_CHAIN_ID = 18509;
export const DEFAULT_BLOCK_PERIOD_SECONDS = 2;
export const DEFAULT_EPOCH_LENGTH = 30_000;
export const ROLE_NAMES = ["admin", "governor", "issuer", "regulator"] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

export interface OperatorSpec {
  /** Wallet code, e.g. "ALIPAY". */
  code: string;
  name?: string;
  /** IP address other validators reach this operator's Besu node at. Default 127.0.0.1. */
  host?: string;
  /** The operator's Hulian node URL published in WalletRegistry. Default: its API on loopback. */
  endpoint?: string;
}

export interface InitNetworkOptions {
  operators: readonly OperatorSpec[];
  outDir: string;
  /** Encrypts every generated keystore. Never written anywhere. */
  password: string;
  chainId?: number;
  blockPeriodSeconds?: number;
  /** Default: twice the block period, at least 4 s (Besu's tuning advice starts there). */
  requestTimeoutSeconds?: number;
  epochLength?: number;
  /** `contract` (default): WalletRegistry from genesis. `transition`: header validators, then the registry from `transitionBlock`. */
  selection?: "contract" | "transition";
  transitionBlock?: number;
  /** Existing governance addresses; a role left out gets a new keystore under governance/. */
  roles?: Partial<GenesisRoles>;
  tokenName?: string;
  tokenSymbol?: string;
  networkName?: string;
  basePorts?: { p2p?: number; rpc?: number; metrics?: number; api?: number };
  besuImage?: string;
  /** scrypt cost of the keystores (tests lower it); default the standard 2^17. */
  scryptN?: number;
}

export interface GeneratedOperator {
  code: string;
  name: string;
  walletId: Hex;
  settlementAccount: Address;
  validator: Address;
  enode: string;
  rpcUrl: string;
  endpoint: string;
  /** Paths relative to the output folder. */
  besuDir: string;
  hulianDir: string;
  /** This operator's own compose file (its validator only), inside its folder. */
  composeFile: string;
}

/** `network.json`: what was generated, without any secret. */
export interface NetworkDescription {
  chainId: number;
  network: string;
  validatorSelection: { mode: "contract" | "transition"; contract: Address; transitionBlock?: number };
  qbft: { blockPeriodSeconds: number; requestTimeoutSeconds: number; epochLength: number };
  roles: GenesisRoles;
  generatedRoleKeystores: Partial<Record<RoleName, string>>;
  contracts: DeploymentManifest["contracts"];
  operators: GeneratedOperator[];
}

export interface InitNetworkResult {
  description: NetworkDescription;
  genesis: BesuGenesis;
  manifest: DeploymentManifest;
}

const SECRET = { mode: 0o600, flag: "wx" } as const;
const PUBLIC = { mode: 0o644, flag: "wx" } as const;

function defaultName(code: string): string {
  return code.charAt(0) + code.slice(1).toLowerCase();
}

async function assertEmptyDir(dir: string): Promise<void> {
  try {
    const entries = await readdir(dir);
    if (entries.length > 0) throw new Error(`${dir} is not empty; refusing to overwrite keys`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}

/**
 * Generates a complete Hulian production network for Hyperledger Besu QBFT: per-operator validator
 * node keys and settlement-account keystores, governance keystores, a genesis whose `alloc` holds
 * the four contracts with every founding operator already Active (WalletRegistry is the validator
 * contract), per-node Besu configuration (archive storage, JSON-RPC on loopback, Besu's log-range and
 * connection limits written out), allowlists, static nodes, docker-compose files (one for the whole
 * network, one in each operator's folder), the deployment manifest and a Hulian node config per
 * operator.
 *
 * @example
 * await initNetwork({ operators: [{ code: "ALIPAY" }, { code: "WECHAT" }, …], outDir: "net", password });
 */
export async function initNetwork(options: InitNetworkOptions): Promise<InitNetworkResult> {
  const specs = options.operators;
  if (specs.length === 0) throw new Error("a network needs at least one operator");
  const seen = new Set<string>();
  for (const s of specs) {
    walletIdOf(s.code);
    if (seen.has(s.code)) throw new Error(`operator ${s.code} is listed twice`);
    seen.add(s.code);
  }
  const chainId = options.chainId ?? DEFAULT_CHAIN_ID;
  const blockPeriodSeconds = options.blockPeriodSeconds ?? DEFAULT_BLOCK_PERIOD_SECONDS;
  const requestTimeoutSeconds = options.requestTimeoutSeconds ?? Math.max(4, 2 * blockPeriodSeconds);
  const epochLength = options.epochLength ?? DEFAULT_EPOCH_LENGTH;
  const selectionMode = options.selection ?? "contract";
  const ports = { p2p: 30303, rpc: 8545, metrics: 9545, api: 7001, ...options.basePorts };
  const out = path.resolve(options.outDir);
  await assertEmptyDir(out);
  const keystore = (privateKey: Hex) => encryptKey(privateKey, options.password, { scryptN: options.scryptN });

  // Keys first: the genesis state needs every address.
  const generatedRoles: Partial<Record<RoleName, Hex>> = {};
  const roles = {} as GenesisRoles;
  for (const role of ROLE_NAMES) {
    const given = options.roles?.[role];
    if (given) {
      roles[role] = given;
    } else {
      generatedRoles[role] = generatePrivateKey();
      roles[role] = privateKeyToAccount(generatedRoles[role]).address;
    }
  }
  const operators = specs.map((spec, i) => {
    const nodeKey = generateNodeKey();
    const accountKey = generatePrivateKey();
    const dir = `operators/${spec.code.toLowerCase()}`;
    const host = spec.host ?? "127.0.0.1";
    const p2pPort = ports.p2p + i;
    const rpcPort = ports.rpc + i;
    const apiPort = ports.api + i;
    const generated: GeneratedOperator = {
      code: spec.code,
      name: spec.name ?? defaultName(spec.code),
      walletId: walletIdOf(spec.code),
      settlementAccount: privateKeyToAccount(accountKey).address,
      validator: nodeKey.address,
      enode: enodeUrl(nodeKey.publicKey, host, p2pPort),
      rpcUrl: `http://127.0.0.1:${rpcPort}`,
      endpoint: spec.endpoint ?? `http://127.0.0.1:${apiPort}`,
      besuDir: `${dir}/besu`,
      hulianDir: `${dir}/hulian`,
      composeFile: `${dir}/docker-compose.yml`,
    };
    return { spec, generated, nodeKey, accountKey, host, p2pPort, rpcPort, apiPort, metricsPort: ports.metrics + i };
  });

  const state = await buildGenesisState({
    chainId,
    roles,
    operators: operators.map(({ generated: g }) => ({
      code: g.code,
      name: g.name,
      settlementAccount: g.settlementAccount,
      validator: g.validator,
      endpoint: g.endpoint,
    })),
    tokenName: options.tokenName,
    tokenSymbol: options.tokenSymbol,
    network: options.networkName ?? "hulian-besu",
  });
  const registry = state.manifest.contracts.walletRegistry;
  // Besu lists header validators in ascending address order.
  const validators = operators.map((o) => o.generated.validator).sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1));
  const transitionBlock = options.transitionBlock ?? 1;
  const genesis = buildGenesis({
    chainId,
    qbft: { blockPeriodSeconds, requestTimeoutSeconds, epochLength },
    selection:
      selectionMode === "contract"
        ? { mode: "contract", contract: registry }
        : { mode: "transition", contract: registry, block: transitionBlock, validators },
    extraData: encodeGenesisExtraData(selectionMode === "contract" ? [] : validators),
    alloc: { ...fundedAccounts([...Object.values(roles), ...operators.map((o) => o.generated.settlementAccount)]), ...state.alloc },
  });

  const enodes = operators.map((o) => o.generated.enode);
  const accounts = [...new Set([...operators.map((o) => o.generated.settlementAccount), ...Object.values(roles)].map((a) => a.toLowerCase() as Address))];
  const description: NetworkDescription = {
    chainId,
    network: state.manifest.network,
    validatorSelection: { mode: selectionMode, contract: registry, ...(selectionMode === "transition" ? { transitionBlock } : {}) },
    qbft: { blockPeriodSeconds, requestTimeoutSeconds, epochLength },
    roles,
    generatedRoleKeystores: Object.fromEntries(Object.keys(generatedRoles).map((r) => [r, `governance/${r}.keystore.json`])),
    contracts: state.manifest.contracts,
    operators: operators.map((o) => o.generated),
  };

  const json = (value: unknown) => JSON.stringify(value, null, 2) + "\n";
  const genesisText = json(genesis);
  const manifestText = json(state.manifest);
  await mkdir(path.join(out, "governance"), { recursive: true });
  await writeFile(path.join(out, "genesis.json"), genesisText, PUBLIC);
  await writeFile(path.join(out, "deployment.json"), manifestText, PUBLIC);
  await writeFile(path.join(out, "network.json"), json(description), PUBLIC);
  await writeFile(path.join(out, "static-nodes.json"), renderStaticNodes(enodes), PUBLIC);
  const image = options.besuImage ?? DEFAULT_BESU_IMAGE;
  await writeFile(path.join(out, "docker-compose.yml"), renderDockerCompose(operators.map((o) => ({ code: o.generated.code, nodeDir: o.generated.besuDir })), image), PUBLIC);
  for (const [role, key] of Object.entries(generatedRoles)) {
    await writeFile(path.join(out, "governance", `${role}.keystore.json`), await keystore(key), SECRET);
  }
  for (const o of operators) {
    const besu = path.join(out, o.generated.besuDir);
    const hulian = path.join(out, o.generated.hulianDir);
    await mkdir(path.join(besu, "data"), { recursive: true });
    await mkdir(hulian, { recursive: true });
    await writeFile(path.join(besu, "key"), formatKeyFile(o.nodeKey), SECRET);
    await writeFile(path.join(besu, "key.pub"), formatPublicKeyFile(o.nodeKey), PUBLIC);
    await writeFile(path.join(besu, "genesis.json"), genesisText, PUBLIC);
    await writeFile(
      path.join(besu, "config.toml"),
      renderBesuConfig({ code: o.generated.code, p2pHost: o.host, p2pPort: o.p2pPort, rpcPort: o.rpcPort, metricsPort: o.metricsPort }),
      PUBLIC,
    );
    await writeFile(path.join(besu, "data", "static-nodes.json"), renderStaticNodes(enodes), PUBLIC);
    // The operator receives only its own folder: its compose file lives there, next to besu/.
    await writeFile(path.join(out, o.generated.composeFile), renderDockerCompose([{ code: o.generated.code, nodeDir: "besu" }], image), PUBLIC);
    await writeFile(path.join(besu, "data", "permissions_config.toml"), renderPermissionsConfig(accounts, enodes), PUBLIC);
    await writeFile(path.join(hulian, "account.keystore.json"), await keystore(o.accountKey), SECRET);
    await writeFile(path.join(hulian, "deployment.json"), manifestText, PUBLIC);
    await writeFile(
      path.join(hulian, "node.json"),
      json({
        wallet: o.generated.code,
        rpcUrl: o.generated.rpcUrl,
        deployment: "deployment.json",
        keystore: "account.keystore.json",
        dataDir: "data",
        api: { host: "127.0.0.1", port: o.apiPort, keysFile: "api-keys.json", publicUrl: o.generated.endpoint },
        finalityDepth: 0,
        // Default endpoints are plain HTTP on loopback (every node on one host): peers must be allowed to call them.
        ...(operators.some((x) => x.spec.endpoint === undefined) ? { peers: { allowLoopback: true } } : {}),
      }),
      PUBLIC,
    );
  }
  await writeFile(path.join(out, "README.md"), renderNetworkReadme(description), PUBLIC);
  return { description, genesis, manifest: state.manifest };
}

/**
 * Gas is free, so balances pay for nothing on Hulian's own path; an allocation still lets generic
 * tools that insist on a non-zero tip (block explorers' "send" buttons, wallets) work.
 */
function fundedAccounts(addresses: readonly Address[]): Record<string, { balance: string }> {
  const balance = `0x${(10n ** 24n).toString(16)}`;
  return Object.fromEntries(addresses.map((a) => [a.toLowerCase(), { balance }]));
}
