import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { generatePrivateKey } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { operatorCommand } from "../../node/cli/commands/operator.ts";
import { createChainClients } from "../../node/chain/clients.ts";
import { deployHulian } from "../../node/chain/deploy.ts";
import { type EmbeddedChain, fundAccount, startEmbeddedChain } from "../../node/chain/embeddedChain.ts";
import { writeManifest } from "../../node/chain/manifest.ts";
import { encryptKey } from "../../node/keys/keystore.ts";
import { formatPublicKeyFile, generateNodeKey } from "../../node/network/nodeKeys.ts";

const PASSWORD = "operator-test-password";

let root: string;
let chain: EmbeddedChain;
let base: string[];
const files = { governor: "", candidate: "", validatorPub: "" };
const validator = generateNodeKey();

async function keystore(name: string, privateKey: `0x${string}`): Promise<string> {
  const file = path.join(root, `${name}.keystore.json`);
  await writeFile(file, await encryptKey(privateKey, PASSWORD, { scryptN: 1 << 10 }));
  return file;
}

/** Runs `hulian operator …` in-process and returns what it printed. */
async function run(...argv: string[]): Promise<string> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
  try {
    await operatorCommand([...argv, ...base]);
  } finally {
    spy.mockRestore();
  }
  return lines.join("\n");
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "hulian-operator-"));
  process.env.HULIAN_KEYSTORE_PASSWORD = PASSWORD;
  chain = await startEmbeddedChain({ port: 0 });
  const deployerKey = generatePrivateKey();
  const governorKey = generatePrivateKey();
  const candidateKey = generatePrivateKey();
  for (const key of [deployerKey, governorKey, candidateKey]) await fundAccount(chain, privateKeyToAccount(key).address);
  const deployer = createChainClients(chain.url, chain.chainId, privateKeyToAccount(deployerKey));
  const governor = privateKeyToAccount(governorKey).address;
  const manifest = await deployHulian(deployer.signer!, deployer.publicClient, { governor, issuer: governor, regulator: governor });
  const manifestFile = path.join(root, "deployment.json");
  await writeManifest(manifestFile, manifest);
  files.governor = await keystore("governor", governorKey);
  files.candidate = await keystore("candidate", candidateKey);
  files.validatorPub = path.join(root, "key.pub");
  await writeFile(files.validatorPub, formatPublicKeyFile(validator));
  base = ["--rpc", chain.url, "--deployment", manifestFile];
});

afterAll(async () => {
  delete process.env.HULIAN_KEYSTORE_PASSWORD;
  await chain?.close();
  await rm(root, { recursive: true, force: true });
});

describe("hulian operator", () => {
  it("default: apply → approve → suspend → resume → exit, with list showing each status", async () => {
    const applied = JSON.parse(
      await run("apply", "--keystore", files.candidate, "--wallet", "NEWPAY", "--name", "New Pay", "--validator", files.validatorPub, "--endpoint", "https://newpay.example"),
    );
    expect(applied).toMatchObject({ action: "apply", wallet: "NEWPAY", status: "Pending" });
    const listed = JSON.parse(await run("list", "--json"));
    expect(listed).toEqual([
      expect.objectContaining({ code: "NEWPAY", name: "New Pay", status: "Pending", validator: validator.address, endpoint: "https://newpay.example" }),
    ]);

    expect(JSON.parse(await run("approve", "--keystore", files.governor, "--wallet", "NEWPAY")).status).toBe("Active");
    expect(JSON.parse(await run("suspend", "--keystore", files.governor, "--wallet", "NEWPAY", "--reason", "7")).status).toBe("Suspended");
    expect(await run("list")).toMatch(/^NEWPAY\s+Suspended\(7\)\s+New Pay\s+0x/m);
    expect(JSON.parse(await run("resume", "--keystore", files.governor, "--wallet", "NEWPAY")).status).toBe("Active");
    expect(JSON.parse(await run("exit", "--keystore", files.candidate, "--wallet", "NEWPAY")).status).toBe("Exited");
    expect(JSON.parse(await run("list", "--json"))[0]).toMatchObject({ code: "NEWPAY", status: "Exited" });
  });

  it("error: a call without the governor role fails with the contract's custom error by name", async () => {
    await run("apply", "--keystore", files.governor, "--wallet", "OTHERPAY", "--name", "Other", "--validator", privateKeyToAccount(generatePrivateKey()).address, "--endpoint", "https://other.example");
    await expect(run("approve", "--keystore", files.candidate, "--wallet", "OTHERPAY")).rejects.toThrow(
      /^WalletRegistry refused approve for OTHERPAY: AccessControlUnauthorizedAccount\(0x[0-9a-fA-F]{40}, GOVERNOR_ROLE\)$/,
    );
  });

  it("error: a transition from the wrong status names the status", async () => {
    await expect(run("resume", "--keystore", files.governor, "--wallet", "OTHERPAY")).rejects.toThrow(
      "WalletRegistry refused resume for OTHERPAY: RegistryInvalidStatus(OTHERPAY, Pending)",
    );
  });

  it("behavior: anyone clears an application still pending after 7 days, which frees its wallet code", async () => {
    const squatterKey = generatePrivateKey();
    await fundAccount(chain, privateKeyToAccount(squatterKey).address);
    const squatter = await keystore("squatter", squatterKey);
    await run("apply", "--keystore", squatter, "--wallet", "SQUATPAY", "--name", "Squat", "--validator", privateKeyToAccount(generatePrivateKey()).address, "--endpoint", "https://squat.example");
    await expect(run("clear", "--keystore", files.candidate, "--wallet", "SQUATPAY")).rejects.toThrow(
      /^WalletRegistry refused clear for SQUATPAY: RegistryApplicationNotExpired\(SQUATPAY, \d+\)$/,
    );
    await chain.provider.request({ method: "evm_increaseTime", params: [7 * 86_400] });
    await chain.provider.request({ method: "evm_mine", params: [] });
    expect(JSON.parse(await run("clear", "--keystore", files.candidate, "--wallet", "SQUATPAY"))).toMatchObject({ action: "clear", wallet: "SQUATPAY", status: "None" });
    expect(JSON.parse(await run("list", "--json")).map((o: { code: string }) => o.code)).not.toContain("SQUATPAY");
  });

  it("error: bad flags are usage errors", async () => {
    await expect(run("suspend", "--keystore", files.governor, "--wallet", "OTHERPAY", "--reason", "70000")).rejects.toThrow("--reason must be an integer");
    await expect(run("promote", "--wallet", "OTHERPAY")).rejects.toThrow('unknown action "promote"');
    await expect(run("approve", "--keystore", files.governor, "--wallet", "bad code")).rejects.toThrow("wallet code");
  });
});
