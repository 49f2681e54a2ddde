import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Address, type Hex, createPublicClient, http, isAddress } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settlementTokenAbi, walletRegistryAbi } from "../../node/chain/abi/generated.ts";
import { type EmbeddedChain, fundAccount, startEmbeddedChain } from "../../node/chain/embeddedChain.ts";
import { runHulian } from "./runHulian.ts";

const PASSWORD = "deployer-password-2718";
const GOVERNOR: Address = "0x1111111111111111111111111111111111111111";

describe("hulian deploy", () => {
  let chain: EmbeddedChain;
  let client: ReturnType<typeof createPublicClient>;
  let dir: string;
  let keystore: string;
  let deployer: Address;
  let result: { code: number | null; stdout: string; stderr: string };
  let manifestFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "hulian-cli-deploy-"));
    chain = await startEmbeddedChain({ port: 0 });
    client = createPublicClient({ transport: http(chain.url, { retryCount: 0 }) });
    keystore = path.join(dir, "deployer.keystore.json");
    const created = await runHulian(["keys", "new", "--out", keystore], { HULIAN_KEYSTORE_PASSWORD: PASSWORD });
    expect(created.code).toBe(0);
    deployer = JSON.parse(created.stdout).address;
    await fundAccount(chain, deployer);
    manifestFile = path.join(dir, "manifest.json");
    result = await runHulian(
      ["deploy", "--rpc", chain.url, "--keystore", keystore, "--out", manifestFile, "--network", "test", "--governor", GOVERNOR],
      { HULIAN_KEYSTORE_PASSWORD: PASSWORD },
    );
  });
  afterAll(async () => {
    await chain?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function manifest() {
    return JSON.parse(await readFile(manifestFile, "utf8")) as {
      network: string;
      chainId: number;
      deploymentBlock: string;
      contracts: Record<"walletRegistry" | "settlementToken" | "settlementHub" | "reserveAttestation", Address>;
      roles: Record<"admin" | "governor" | "issuer" | "regulator", Address>;
    };
  }

  it("default: exits 0, prints the manifest path and the contracts, reports progress on stderr", async () => {
    expect(result.stderr).toContain("deploying SettlementHub");
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout);
    const m = await manifest();
    expect(printed).toEqual({ manifest: manifestFile, chainId: chain.chainId, contracts: m.contracts });
  });

  it("behavior: the manifest names the chain, the deployment block and the network", async () => {
    const m = await manifest();
    expect(m.chainId).toBe(chain.chainId);
    expect(m.network).toBe("test");
    const block = BigInt(m.deploymentBlock);
    expect(block).toBeGreaterThan(0n);
    expect(block).toBeLessThanOrEqual(await client.getBlockNumber());
  });

  it("behavior: all four contracts have code on chain", async () => {
    const m = await manifest();
    const addresses = Object.values(m.contracts);
    expect(addresses).toHaveLength(4);
    expect(new Set(addresses.map((a) => a.toLowerCase())).size).toBe(4);
    for (const address of addresses) {
      expect(isAddress(address)).toBe(true);
      const code: Hex | undefined = await client.getCode({ address });
      expect(code && code.length).toBeGreaterThan(2);
    }
  });

  it("behavior: the token is wired to the hub", async () => {
    const m = await manifest();
    const hub = await client.readContract({ address: m.contracts.settlementToken, abi: settlementTokenAbi, functionName: "hub" });
    expect(hub.toLowerCase()).toBe(m.contracts.settlementHub.toLowerCase());
  });

  it("behavior: roles default to the deployer, and --governor is honoured on chain", async () => {
    const m = await manifest();
    expect(m.roles.admin.toLowerCase()).toBe(deployer.toLowerCase());
    expect(m.roles.issuer.toLowerCase()).toBe(deployer.toLowerCase());
    expect(m.roles.regulator.toLowerCase()).toBe(deployer.toLowerCase());
    expect(m.roles.governor.toLowerCase()).toBe(GOVERNOR.toLowerCase());
    const role = await client.readContract({ address: m.contracts.walletRegistry, abi: walletRegistryAbi, functionName: "GOVERNOR_ROLE" });
    const hasRole = (account: Address) =>
      client.readContract({ address: m.contracts.walletRegistry, abi: walletRegistryAbi, functionName: "hasRole", args: [role, account] });
    expect(await hasRole(GOVERNOR)).toBe(true);
    expect(await hasRole(deployer)).toBe(false);
  });

  it("behavior: the password appears in no output", () => {
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
  });

  it("error: a bad --governor exits 2 with a readable message and deploys nothing", async () => {
    const before = await client.getBlockNumber();
    const out = path.join(dir, "bad.json");
    const r = await runHulian(
      ["deploy", "--rpc", chain.url, "--keystore", keystore, "--out", out, "--governor", "notanaddress"],
      { HULIAN_KEYSTORE_PASSWORD: PASSWORD },
    );
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")[0]).toBe(
      'hulian deploy: --governor must be a 0x address (40 hex digits, checksummed if mixed case), got "notanaddress"',
    );
    expect(await client.getBlockNumber()).toBe(before);
    await expect(stat(out)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("error: an --out folder that does not exist is refused before anything is deployed", async () => {
    const before = await client.getBlockNumber();
    const out = path.join(dir, "no-such-folder", "m.json");
    const r = await runHulian(["deploy", "--rpc", chain.url, "--keystore", keystore, "--out", out], {
      HULIAN_KEYSTORE_PASSWORD: PASSWORD,
    });
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toContain(`--out ${out}: the folder`);
    expect(await client.getBlockNumber()).toBe(before);
  });

  it("error: the wrong password exits 1 and deploys nothing", async () => {
    const before = await client.getBlockNumber();
    const r = await runHulian(["deploy", "--rpc", chain.url, "--keystore", keystore, "--out", path.join(dir, "w.json")], {
      HULIAN_KEYSTORE_PASSWORD: "wrong-password-000",
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("hulian deploy: wrong keystore password or damaged keystore\n");
    expect(await client.getBlockNumber()).toBe(before);
  });

  it("error: an unreachable chain is one readable line, exit 1", async () => {
    const r = await runHulian(["deploy", "--rpc", "http://127.0.0.1:1", "--keystore", keystore, "--out", path.join(dir, "u.json")], {
      HULIAN_KEYSTORE_PASSWORD: PASSWORD,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^hulian deploy: cannot reach the chain at http:\/\/127\.0\.0\.1:1: .+\n$/);
  });

  it("error: an --rpc that is not a URL", async () => {
    const r = await runHulian(["deploy", "--rpc", "localhost:8545", "--keystore", keystore]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe('hulian deploy: --rpc must be an http:// or https:// URL, got "localhost:8545"');
  });
});
