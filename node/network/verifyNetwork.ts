import { readFile } from "node:fs/promises";
import path from "node:path";
import { type Address, type Hex, type PublicClient, createPublicClient, custom, getAddress } from "viem";
import { batchGasLimit } from "../bridge/batchPlan.ts";
import { settlementHubAbi, settlementTokenAbi, walletRegistryAbi } from "../chain/abi/generated.ts";
import { DEFAULT_RPC_CONCURRENCY } from "../chain/concurrency.ts";
import { EIP7825_MAX_TRANSACTION_GAS, HUB_MAX_BATCH_TRANSFERS } from "../chain/gasLimits.ts";
import { DEFAULT_LOG_SPAN_BLOCKS } from "../chain/getLogsPaged.ts";
import { hulianChain } from "../chain/clients.ts";
import { startEmbeddedChain } from "../chain/embeddedChain.ts";
import { readManifest } from "../chain/manifest.ts";
import { OPERATOR_STATUS } from "../chain/registryView.ts";
import { decodeQbftExtraData } from "../chain/qbftExtraData.ts";
import { DATA_STORAGE_FORMAT, RPC_MAX_ACTIVE_CONNECTIONS } from "./besuConfig.ts";
import { type ComposeServiceView, MIN_BESU_VERSION, besuImageVersion, effectiveBesuOption, readComposeServices, versionAtLeast } from "./dockerCompose.ts";
import { type BesuGenesis, QBFT_MIX_HASH } from "./genesis.ts";
import type { Alloc } from "./genesisState.ts";
import type { NetworkDescription } from "./initNetwork.ts";
import { parseEnodeUrl, parseKeyFile } from "./nodeKeys.ts";

/** A generated network folder that does not hold together; `check` names what failed. */
export class NetworkCheckError extends Error {
  override name = "NetworkCheckError";
  readonly check: string;
  constructor(check: string, message: string) {
    super(`${check}: ${message}`);
    this.check = check;
  }
}

interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

/**
 * Writes a genesis `alloc` into a running Hardhat/EDR chain (balance, nonce, code, storage), so
 * the contracts can be called exactly as Besu would hold them at block 0.
 */
export async function loadAlloc(provider: Eip1193, alloc: Alloc): Promise<void> {
  for (const [rawAddress, account] of Object.entries(alloc)) {
    const address = getAddress(rawAddress.startsWith("0x") ? rawAddress : `0x${rawAddress}`);
    await provider.request({ method: "hardhat_setBalance", params: [address, `0x${BigInt(account.balance).toString(16)}`] });
    if (account.nonce && BigInt(account.nonce) > 0n) {
      await provider.request({ method: "hardhat_setNonce", params: [address, `0x${BigInt(account.nonce).toString(16)}`] });
    }
    if (account.code) await provider.request({ method: "hardhat_setCode", params: [address, account.code] });
    for (const [slot, value] of Object.entries(account.storage ?? {})) {
      const position = `0x${BigInt(`0x${slot.replace(/^0x/, "")}`).toString(16)}`;
      const word = `0x${value.replace(/^0x/, "").padStart(64, "0")}`;
      await provider.request({ method: "hardhat_setStorageAt", params: [address, position, word] });
    }
  }
}

function ensure(condition: unknown, check: string, message: string): asserts condition {
  if (!condition) throw new NetworkCheckError(check, message);
}

const sameSet = (a: readonly string[], b: readonly string[]) => {
  const x = [...a].map((s) => s.toLowerCase()).sort();
  const y = [...b].map((s) => s.toLowerCase()).sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
};

/** Reads the array assigned to `key` in a flat TOML file (our own permissions file). */
export function tomlStringArray(text: string, key: string): string[] {
  const match = new RegExp(`^${key}\\s*=\\s*\\[([^\\]]*)\\]`, "m").exec(text);
  if (!match) return [];
  return [...match[1]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
}

/** Reads a scalar `key=value` of a flat TOML file (strings unquoted). */
export function tomlScalar(text: string, key: string): string | undefined {
  const match = new RegExp(`^${key}\\s*=\\s*(.+)$`, "m").exec(text);
  return match?.[1]!.trim().replace(/^"(.*)"$/, "$1");
}

/**
 * The node serves auditors and the explorer, which read past state and page logs: archive storage,
 * a log range at least the readers' span, room for their connections.
 */
function checkReaderLimits(code: string, toml: string): void {
  const format = tomlScalar(toml, "data-storage-format");
  ensure(
    format?.toUpperCase() === DATA_STORAGE_FORMAT,
    `${code}.data-storage-format`,
    `must be ${DATA_STORAGE_FORMAT} (archive), not ${format ?? "Besu's default BONSAI"}: Bonsai keeps 512 blocks of state and statements read older balances`,
  );
  const logsRange = Number(tomlScalar(toml, "rpc-max-logs-range"));
  ensure(
    Number.isSafeInteger(logsRange) && logsRange >= DEFAULT_LOG_SPAN_BLOCKS,
    `${code}.rpc-max-logs-range`,
    `must be set and at least ${DEFAULT_LOG_SPAN_BLOCKS}, the span Hulian's log readers page by (got ${tomlScalar(toml, "rpc-max-logs-range") ?? "nothing"})`,
  );
  const connections = Number(tomlScalar(toml, "rpc-http-max-active-connections") ?? RPC_MAX_ACTIVE_CONNECTIONS);
  ensure(
    connections >= 3 * DEFAULT_RPC_CONCURRENCY,
    `${code}.rpc-http-max-active-connections`,
    `must leave room for the node, the explorer and an auditor (${DEFAULT_RPC_CONCURRENCY} connections each), got ${connections}`,
  );
}

/** A compose service's checks: JSON-RPC where config.toml says (loopback) once Docker's presets apply, the node folder mounted, a Besu that works. */
function checkComposeService(where: string, service: ComposeServiceView | undefined, toml: string, nodeDir: string): void {
  ensure(service, where, "no Besu service for this operator");
  const host = effectiveBesuOption(service, "rpc-http-host", tomlScalar(toml, "rpc-http-host"));
  ensure(
    host === "127.0.0.1",
    `${where}.rpc-http-host`,
    `JSON-RPC would listen on ${host} under Docker (the image presets BESU_RPC_HTTP_HOST=0.0.0.0, which outranks config.toml): set --rpc-http-host=127.0.0.1 in command`,
  );
  ensure(service.volumes.some((v) => v.split(":")[0] === `./${nodeDir}`), `${where}.volumes`, `must mount ./${nodeDir} (the node folder next to this file)`);
  const version = service.image && besuImageVersion(service.image);
  ensure(version, `${where}.image`, `pin a Besu version (${service.image ?? "no image"})`);
  ensure(versionAtLeast(version, MIN_BESU_VERSION), `${where}.image`, `Besu ${version.join(".")} is older than ${MIN_BESU_VERSION} (see docs/production.md, "Besu version")`);
}

/** The root compose file runs every validator; each operator's folder holds one running its own. */
async function checkComposeFiles(dir: string, description: NetworkDescription, read: (p: string) => Promise<string>): Promise<void> {
  const root = readComposeServices(await read("docker-compose.yml"));
  for (const op of description.operators) {
    const toml = await read(`${op.besuDir}/config.toml`);
    const service = `besu-${op.code.toLowerCase()}`;
    checkComposeService(`docker-compose.yml:${service}`, root.get(service), toml, op.besuDir);
    const own = op.composeFile ?? `${path.dirname(op.besuDir)}/docker-compose.yml`;
    const text = await readFile(path.join(dir, own), "utf8").catch(() => undefined);
    ensure(text !== undefined, `${op.code}.compose`, `${own} is missing: an operator receives only its own folder and starts its node there`);
    const services = readComposeServices(text);
    ensure(services.size === 1, `${op.code}.compose`, `${own} must run only ${op.code}'s validator`);
    checkComposeService(`${own}:${service}`, services.get(service), toml, path.relative(path.dirname(own), op.besuDir));
  }
}

/** The largest batch's gas allowance fits one block and one transaction (EIP-7825, or the chain's own `pertxgaslimit`). */
function checkBatchGas(genesis: BesuGenesis): void {
  const needed = batchGasLimit(HUB_MAX_BATCH_TRANSFERS);
  const perTx = (genesis.config.qbft as { pertxgaslimit?: number | string }).pertxgaslimit;
  const caps = [EIP7825_MAX_TRANSACTION_GAS, BigInt(genesis.gasLimit), ...(perTx === undefined ? [] : [BigInt(perTx)])];
  for (const cap of caps) ensure(needed <= cap, "batch.gas", `a ${HUB_MAX_BATCH_TRANSFERS}-transfer batch is sent with ${needed} gas, above the cap ${cap}`);
}

/**
 * Checks a folder written by `hulian network init` against Besu's documented formats and against
 * itself, then loads the genesis alloc into a fresh local EVM and asks the contracts. Returns the
 * list of checks passed; throws {@link NetworkCheckError} at the first failure.
 */
export async function verifyNetwork(dir: string): Promise<string[]> {
  const passed: string[] = [];
  const pass = (name: string) => passed.push(name);
  const read = (p: string) => readFile(path.join(dir, p), "utf8");
  const description = JSON.parse(await read("network.json")) as NetworkDescription;
  const genesisText = await read("genesis.json");
  const genesis = JSON.parse(genesisText) as BesuGenesis;
  const manifest = await readManifest(path.join(dir, "deployment.json"));
  const registry = description.contracts.walletRegistry;
  const validators = description.operators.map((o) => o.validator);

  const { config } = genesis;
  ensure(config.chainId === description.chainId && manifest.chainId === config.chainId, "genesis.chainId", "genesis, network.json and manifest disagree");
  ensure(config.qbft.blockperiodseconds >= 1 && config.qbft.epochlength > 0, "genesis.qbft", "block period and epoch length must be positive");
  ensure(config.qbft.requesttimeoutseconds > config.qbft.blockperiodseconds, "genesis.qbft", "request timeout must exceed the block period");
  ensure(config.zeroBaseFee === true && BigInt(genesis.baseFeePerGas) === 0n, "genesis.freeGas", "zeroBaseFee and baseFeePerGas 0 are required");
  ensure(config.londonBlock === 0 && config.shanghaiTime === 0 && config.cancunTime === 0, "genesis.milestones", "London, Shanghai and Cancun must be active from genesis");
  ensure(genesis.mixHash === QBFT_MIX_HASH && BigInt(genesis.difficulty) === 1n, "genesis.qbftHeader", "QBFT needs difficulty 1 and the BFT mixHash");
  pass("genesis fields");

  let extra: ReturnType<typeof decodeQbftExtraData>;
  try {
    extra = decodeQbftExtraData(genesis.extraData);
  } catch (e) {
    throw new NetworkCheckError("extraData", `not QBFT extraData as Besu writes it: ${(e as Error).message}`);
  }
  ensure(BigInt(extra.vanity) === 0n && extra.round === 0 && extra.seals.length === 0 && !extra.vote, "extraData", "genesis extraData must have zero vanity, round 0, no vote, no seals");
  if (description.validatorSelection.mode === "contract") {
    ensure(extra.validators.length === 0, "extraData", "contract selection takes no header validators");
    ensure(config.qbft.validatorcontractaddress?.toLowerCase() === registry.toLowerCase(), "genesis.validatorcontractaddress", "must be WalletRegistry");
  } else {
    ensure(sameSet(extra.validators, validators), "extraData", "header validators must be exactly the operators' validators");
    const t = config.transitions?.qbft?.[0];
    ensure(t?.validatorselectionmode === "contract" && t.validatorcontractaddress.toLowerCase() === registry.toLowerCase(), "genesis.transitions", "must switch to WalletRegistry");
  }
  pass("extraData");

  const enodes = description.operators.map((o) => o.enode);
  const accounts = [...description.operators.map((o) => o.settlementAccount), ...Object.values(description.roles)];
  for (const op of description.operators) {
    const key = parseKeyFile(await read(`${op.besuDir}/key`));
    ensure(key.address === getAddress(op.validator), `${op.code}.key`, "node key does not match the validator address");
    ensure((await read(`${op.besuDir}/key.pub`)).trim().toLowerCase() === key.publicKey, `${op.code}.key.pub`, "public key file does not match the key");
    ensure(parseEnodeUrl(op.enode).publicKey === key.publicKey, `${op.code}.enode`, "enode node id does not match the key");
    ensure((await read(`${op.besuDir}/genesis.json`)) === genesisText, `${op.code}.genesis`, "node genesis differs from the network genesis");
    const toml = await read(`${op.besuDir}/config.toml`);
    ensure(tomlScalar(toml, "rpc-http-host") === "127.0.0.1", `${op.code}.config`, "RPC must listen on loopback");
    checkReaderLimits(op.code, toml);
    ensure(tomlScalar(toml, "min-gas-price") === "0", `${op.code}.config`, "min-gas-price must be 0 on a free-gas network");
    ensure(tomlScalar(toml, "genesis-file") === "genesis.json", `${op.code}.config`, "genesis-file must be the node's copy");
    const permissions = await read(`${op.besuDir}/data/permissions_config.toml`);
    ensure(sameSet(tomlStringArray(permissions, "nodes-allowlist"), enodes), `${op.code}.nodes-allowlist`, "must list every validator enode");
    ensure(accounts.every((a) => tomlStringArray(permissions, "accounts-allowlist").some((x) => x.toLowerCase() === a.toLowerCase())), `${op.code}.accounts-allowlist`, "must list every operator and role account");
    const staticNodes = JSON.parse(await read(`${op.besuDir}/data/static-nodes.json`)) as string[];
    ensure(sameSet(staticNodes, enodes), `${op.code}.static-nodes`, "must list every validator enode");
  }
  pass("keys, configs and allowlists");
  pass("archive state and Besu's log-range and connection limits");

  await checkComposeFiles(dir, description, read);
  pass("docker compose: one file per operator, JSON-RPC on loopback under Docker, Besu version");

  checkBatchGas(genesis);
  pass("batch gas within the per-transaction cap and the block gas limit");

  const chain = await startEmbeddedChain({ port: 0, chainId: config.chainId });
  try {
    await loadAlloc(chain.provider, genesis.alloc);
    const client = createPublicClient({ chain: hulianChain(config.chainId, chain.url), transport: custom(chain.provider) }) as PublicClient;
    const onChain = (await client.readContract({ address: registry, abi: walletRegistryAbi, functionName: "getValidators" })) as Address[];
    ensure(sameSet(onChain, validators), "registry.getValidators", `returned ${onChain.join(", ")}`);
    for (const op of description.operators) {
      const record = (await client.readContract({ address: registry, abi: walletRegistryAbi, functionName: "getOperator", args: [op.walletId] })) as {
        settlementAccount: Address;
        validator: Address;
        endpoint: string;
        status: number;
      };
      ensure(OPERATOR_STATUS[record.status] === "Active", `registry.${op.code}`, "operator is not Active");
      ensure(record.settlementAccount === getAddress(op.settlementAccount) && record.validator === getAddress(op.validator), `registry.${op.code}`, "accounts differ");
      ensure(record.endpoint === op.endpoint, `registry.${op.code}`, "endpoint differs");
    }
    const hub = (await client.readContract({ address: manifest.contracts.settlementToken, abi: settlementTokenAbi, functionName: "hub" })) as Hex;
    ensure(hub.toLowerCase() === manifest.contracts.settlementHub.toLowerCase(), "token.hub", "token is not wired to the hub");
    const hubRegistry = (await client.readContract({ address: manifest.contracts.settlementHub, abi: settlementHubAbi, functionName: "registry" })) as Hex;
    ensure(hubRegistry.toLowerCase() === registry.toLowerCase(), "hub.registry", "hub does not read WalletRegistry");
  } finally {
    await chain.close();
  }
  pass("genesis alloc: getValidators, operators, token and hub wiring");
  return passed;
}
