import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Address, type PublicClient, createPublicClient, createWalletClient, custom, getAddress, keccak256, stringToHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settlementTokenAbi, walletRegistryAbi } from "../../node/chain/abi/generated.ts";
import { hulianChain } from "../../node/chain/clients.ts";
import { type EmbeddedChain, startEmbeddedChain } from "../../node/chain/embeddedChain.ts";
import { decryptKey } from "../../node/keys/keystore.ts";
import { DEFAULT_RPC_APIS } from "../../node/network/besuConfig.ts";
import { decodeQbftExtraData } from "../../node/chain/qbftExtraData.ts";
import { type BesuGenesis, QBFT_MIX_HASH } from "../../node/network/genesis.ts";
import { type InitNetworkResult, initNetwork } from "../../node/network/initNetwork.ts";
import { parseEnodeUrl, parseKeyFile } from "../../node/network/nodeKeys.ts";
import { loadAlloc, tomlScalar, tomlStringArray, verifyNetwork } from "../../node/network/verifyNetwork.ts";
import { walletIdOf } from "../../node/receipts/ids.ts";
import { expectRevert } from "../helpers/expectRevert.ts";

const PASSWORD = "network-test-password";
const CODES = ["ALIPAY", "WECHAT", "UNIONPAY", "YUNPAY"];
const SCRYPT_N = 1 << 10;

let root: string;
let dir: string;
let result: InitNetworkResult;
let genesis: BesuGenesis;

const read = (p: string) => readFile(path.join(dir, p), "utf8");
const lower = (xs: readonly string[]) => xs.map((x) => x.toLowerCase()).sort();

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "hulian-network-"));
  dir = path.join(root, "net");
  result = await initNetwork({
    operators: CODES.map((code) => ({ code, ...(code === "WECHAT" ? { name: "WeChat Pay", host: "10.0.1.6" } : {}) })),
    outDir: dir,
    password: PASSWORD,
    chainId: 4242,
    blockPeriodSeconds: 1,
    scryptN: SCRYPT_N,
  });
  genesis = JSON.parse(await read("genesis.json")) as BesuGenesis;
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("hulian network init: genesis", () => {
  it("default: the QBFT fields Besu documents, free gas, Cancun from genesis", () => {
    const { config } = genesis;
    expect(config.chainId).toBe(4242);
    expect(config.qbft).toEqual({
      blockperiodseconds: 1,
      epochlength: 30000,
      requesttimeoutseconds: 4,
      validatorcontractaddress: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/),
    });
    expect(config.qbft.validatorcontractaddress!.toLowerCase()).toBe(result.manifest.contracts.walletRegistry.toLowerCase());
    expect([config.berlinBlock, config.londonBlock, config.shanghaiTime, config.cancunTime]).toEqual([0, 0, 0, 0]);
    expect(config.zeroBaseFee).toBe(true);
    expect(BigInt(genesis.baseFeePerGas)).toBe(0n);
    expect(BigInt(genesis.gasLimit)).toBe(200_000_000n);
    expect(genesis.difficulty).toBe("0x1");
    expect(genesis.mixHash).toBe(QBFT_MIX_HASH);
    expect(config.transitions).toBeUndefined();
  });

  it("behavior: extraData is the contract-selection form; the validators are the generated keys' addresses", async () => {
    const extra = decodeQbftExtraData(genesis.extraData);
    expect(extra).toEqual({ vanity: `0x${"00".repeat(32)}`, validators: [], vote: undefined, round: 0, seals: [] });
    for (const op of result.description.operators) {
      const key = parseKeyFile(await read(`${op.besuDir}/key`));
      expect(key.address).toBe(op.validator);
    }
  });

  it("behavior: every operator and role account is allocated, and the four contracts carry code", () => {
    const alloc = new Map(Object.entries(genesis.alloc).map(([a, v]) => [a.toLowerCase(), v]));
    for (const op of result.description.operators) expect(BigInt(alloc.get(op.settlementAccount.toLowerCase())!.balance)).toBeGreaterThan(0n);
    for (const role of Object.values(result.description.roles)) expect(alloc.has(role.toLowerCase())).toBe(true);
    for (const contract of Object.values(result.manifest.contracts)) expect(alloc.get(contract.toLowerCase())!.code).toMatch(/^0x[0-9a-f]{100,}$/);
  });

  it("behavior: the manifest is a deployment at block 0 that hulian node can read", async () => {
    const manifest = JSON.parse(await read("deployment.json"));
    expect(manifest).toMatchObject({ chainId: 4242, deploymentBlock: "0", transactions: {}, token: { decimals: 2 } });
    expect(manifest.roles).toEqual(result.description.roles);
    const nodeConfig = JSON.parse(await read(`${result.description.operators[0]!.hulianDir}/node.json`));
    expect(nodeConfig).toMatchObject({ wallet: "ALIPAY", rpcUrl: "http://127.0.0.1:8545", deployment: "deployment.json", finalityDepth: 0 });
    expect(await read(`${result.description.operators[0]!.hulianDir}/deployment.json`)).toBe(await read("deployment.json"));
  });
});

describe("hulian network init: keys and node configuration", () => {
  it("behavior: every key file decodes and matches key.pub and the enode", async () => {
    for (const op of result.description.operators) {
      const keyText = await read(`${op.besuDir}/key`);
      expect(keyText.split("\n")).toHaveLength(1);
      const key = parseKeyFile(keyText);
      expect((await read(`${op.besuDir}/key.pub`)).trim()).toBe(key.publicKey);
      expect(parseEnodeUrl(op.enode)).toEqual({ publicKey: key.publicKey, host: op.code === "WECHAT" ? "10.0.1.6" : "127.0.0.1", port: 30303 + CODES.indexOf(op.code) });
    }
  });

  it("behavior: keystores decrypt with the password to the registered and role accounts", async () => {
    for (const op of result.description.operators) {
      const opened = await decryptKey(await read(`${op.hulianDir}/account.keystore.json`), PASSWORD);
      expect(opened.address).toBe(op.settlementAccount);
    }
    for (const [role, file] of Object.entries(result.description.generatedRoleKeystores)) {
      const opened = await decryptKey(await read(file!), PASSWORD);
      expect(opened.address).toBe(result.description.roles[role as keyof typeof result.description.roles]);
    }
    await expect(decryptKey(await read(`${result.description.operators[0]!.hulianDir}/account.keystore.json`), "wrong-password")).rejects.toThrow(
      "wrong keystore password",
    );
  });

  it("behavior: allowlists and static nodes hold every operator account and every enode", async () => {
    const enodes = result.description.operators.map((o) => o.enode);
    const accounts = [...result.description.operators.map((o) => o.settlementAccount), ...Object.values(result.description.roles)];
    expect(JSON.parse(await read("static-nodes.json"))).toEqual(enodes);
    for (const op of result.description.operators) {
      const permissions = await read(`${op.besuDir}/data/permissions_config.toml`);
      expect(lower(tomlStringArray(permissions, "nodes-allowlist"))).toEqual(lower(enodes));
      expect(lower(tomlStringArray(permissions, "accounts-allowlist"))).toEqual(lower(accounts));
      expect(JSON.parse(await read(`${op.besuDir}/data/static-nodes.json`))).toEqual(enodes);
    }
  });

  it("behavior: config.toml binds RPC to loopback with only the needed APIs and zero gas price", async () => {
    for (const [i, op] of result.description.operators.entries()) {
      const toml = await read(`${op.besuDir}/config.toml`);
      expect(tomlScalar(toml, "rpc-http-host")).toBe("127.0.0.1");
      expect(tomlScalar(toml, "metrics-host")).toBe("127.0.0.1");
      expect(tomlStringArray(toml, "rpc-http-api")).toEqual([...DEFAULT_RPC_APIS]);
      expect(tomlScalar(toml, "min-gas-price")).toBe("0");
      expect(tomlScalar(toml, "p2p-port")).toBe(String(30303 + i));
      expect(tomlScalar(toml, "p2p-host")).toBe(parseEnodeUrl(op.enode).host);
      expect(tomlScalar(toml, "permissions-nodes-config-file-enabled")).toBe("true");
      expect(tomlScalar(toml, "permissions-accounts-config-file-enabled")).toBe("true");
      expect(tomlScalar(toml, "node-private-key-file")).toBe("key");
      expect(await read(`${op.besuDir}/genesis.json`)).toBe(await read("genesis.json"));
    }
    const compose = await read("docker-compose.yml");
    for (const op of result.description.operators) expect(compose).toContain(`./${op.besuDir}:/hulian/besu`);
    expect(compose).not.toContain("/opt/besu");
  });

  it("error: refuses to write into a folder that is not empty", async () => {
    const other = path.join(root, "busy");
    await mkdir(other);
    await writeFile(path.join(other, "key"), "an operator's existing key");
    await expect(initNetwork({ operators: [{ code: "SOLO" }], outDir: other, password: PASSWORD, scryptN: SCRYPT_N })).rejects.toThrow("is not empty");
  });
});

describe("hulian network init: the genesis alloc in a fresh EVM", () => {
  let chain: EmbeddedChain;
  let client: PublicClient;

  beforeAll(async () => {
    chain = await startEmbeddedChain({ port: 0, chainId: 4242 });
    await loadAlloc(chain.provider, genesis.alloc);
    client = createPublicClient({ chain: hulianChain(4242, chain.url), transport: custom(chain.provider) }) as PublicClient;
  });
  afterAll(async () => {
    await chain?.close();
  });

  const signer = async (file: string) => {
    const key = await decryptKey(await read(file), PASSWORD);
    const account = privateKeyToAccount(key.privateKey);
    return createWalletClient({ account, chain: hulianChain(4242, chain.url), transport: custom(chain.provider) });
  };

  it("default: getValidators() returns exactly the generated validators", async () => {
    const validators = (await client.readContract({ address: result.manifest.contracts.walletRegistry, abi: walletRegistryAbi, functionName: "getValidators" })) as Address[];
    expect(lower(validators)).toEqual(lower(result.description.operators.map((o) => o.validator)));
  });

  it("behavior: every founding operator is Active with its accounts and endpoint", async () => {
    for (const op of result.description.operators) {
      const record = (await client.readContract({
        address: result.manifest.contracts.walletRegistry,
        abi: walletRegistryAbi,
        functionName: "getOperator",
        args: [walletIdOf(op.code)],
      })) as { name: string; settlementAccount: Address; validator: Address; endpoint: string; status: number };
      expect(record).toMatchObject({ name: op.name, settlementAccount: op.settlementAccount, validator: op.validator, endpoint: op.endpoint, status: 2 });
    }
  });

  it("behavior: the token takes mints for members only, and governance changes the validator set", async () => {
    const { walletRegistry: registry, settlementToken: token } = result.manifest.contracts;
    const alipay = result.description.operators[0]!;
    const issuer = await signer("governance/issuer.keystore.json");
    const ref = keccak256(stringToHex("reserve-1"));
    const minted = await issuer.writeContract({ address: token, abi: settlementTokenAbi, functionName: "mint", args: [alipay.settlementAccount, 100_00n, ref] } as never);
    expect((await client.waitForTransactionReceipt({ hash: minted })).status).toBe("success");
    expect(await client.readContract({ address: token, abi: settlementTokenAbi, functionName: "balanceOf", args: [alipay.settlementAccount] })).toBe(100_00n);
    await expectRevert(
      issuer.writeContract({ address: token, abi: settlementTokenAbi, functionName: "mint", args: [result.description.roles.regulator, 1n, ref] } as never),
      "SettlementTokenHolderNotAllowed",
      [result.description.roles.regulator],
    );

    const governor = await signer("governance/governor.keystore.json");
    const yunpay = result.description.operators[3]!;
    const hash = await governor.writeContract({ address: registry, abi: walletRegistryAbi, functionName: "suspend", args: [walletIdOf(yunpay.code), 1] } as never);
    expect((await client.waitForTransactionReceipt({ hash })).status).toBe("success");
    const validators = (await client.readContract({ address: registry, abi: walletRegistryAbi, functionName: "getValidators" })) as Address[];
    expect(lower(validators)).toEqual(lower(result.description.operators.slice(0, 3).map((o) => o.validator)));
  });

  it("behavior: hulian network verify passes on the generated folder", async () => {
    expect(await verifyNetwork(dir)).toHaveLength(7);
  });
});

describe("hulian network init: header validators, then the registry", () => {
  it("behavior: extraData lists the validators in ascending order and a transition switches to the registry", async () => {
    const out = path.join(root, "transition");
    const made = await initNetwork({
      operators: CODES.map((code) => ({ code })),
      outDir: out,
      password: PASSWORD,
      selection: "transition",
      transitionBlock: 10,
      scryptN: SCRYPT_N,
    });
    const g = JSON.parse(await readFile(path.join(out, "genesis.json"), "utf8")) as BesuGenesis;
    const validators = made.description.operators.map((o) => o.validator.toLowerCase()).sort();
    expect(decodeQbftExtraData(g.extraData).validators.map((v) => v.toLowerCase())).toEqual(validators);
    expect(g.config.qbft.validatorcontractaddress).toBeUndefined();
    expect(g.config.transitions).toEqual({
      qbft: [{ block: 10, validatorselectionmode: "contract", validatorcontractaddress: getAddress(made.manifest.contracts.walletRegistry) }],
    });
    expect(await verifyNetwork(out)).toHaveLength(7);
  });
});

