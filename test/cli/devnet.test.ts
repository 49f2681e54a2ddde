import type { ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Address, createPublicClient, http } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { walletRegistryAbi } from "../../node/chain/abi/generated.ts";
import { HULIAN, runHulian, spawnScript } from "./runHulian.ts";

const UP = "Hulian devnet is up.";

interface Devnet {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `hulian devnet` and resolves once it prints that it is up (or rejects with its output if it ends first). */
function startDevnet(dataDir: string): Promise<Devnet> {
  const child = spawnScript(HULIAN, ["devnet", "--rpc-port", "0", "--api-port", "0", "--explorer-port", "0", "--data-dir", dataDir]);
  const devnet: Devnet = {
    child,
    stdout: "",
    stderr: "",
    exited: new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal }))),
  };
  child.stderr!.on("data", (c: Buffer) => (devnet.stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (c: Buffer) => {
      devnet.stdout += c.toString();
      // The banner is printed by one console.log; wait for its last line.
      if (devnet.stdout.includes(UP) && devnet.stdout.includes("Press Ctrl-C to stop.")) resolve(devnet);
    });
    devnet.exited.then(({ code, signal }) =>
      reject(new Error(`devnet ended (${code ?? signal}) before it was up:\n${devnet.stdout}\n${devnet.stderr}`)),
    );
  });
}

/** The pid of the `hulian node --config FILE` process (a grandchild of the test, so found by its command line). */
async function nodePid(configFile: string): Promise<number | undefined> {
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(`\0node\0--config\0${configFile}\0`)) return Number(entry);
  }
  return undefined;
}

/** Resolves once `child` prints that it listens (with its URL), or rejects with its output if it ends first. */
function listening(child: ChildProcess): Promise<string> {
  let stderr = "";
  return new Promise((resolve, reject) => {
    child.stderr!.on("data", (c: Buffer) => {
      stderr += c.toString();
      const m = /listening on (http\S+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`node ended (${code}) before it listened:\n${stderr}`)));
  });
}

describe("hulian devnet", () => {
  let dir: string;
  let devnet: Devnet;
  let chainUrl: string;
  let nodeUrls: string[];
  let registry: Address;
  let exit: { code: number | null; signal: NodeJS.Signals | null };
  let keystorePassword: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "hulian-cli-devnet-"));
    devnet = await startDevnet(path.join(dir, "devnet"));
    chainUrl = /^ {2}chain +(http:\/\/127\.0\.0\.1:\d+)/m.exec(devnet.stdout)![1];
    registry = /^ {2}WalletRegistry +(0x[0-9a-fA-F]{40})/m.exec(devnet.stdout)![1] as Address;
    nodeUrls = [...devnet.stdout.matchAll(/^ {4}[A-Z]+ +(http:\/\/127\.0\.0\.1:\d+)$/gm)].map((m) => m[1]);
    keystorePassword = (await readFile(path.join(dir, "devnet", "keystore.password"), "utf8")).trim();
  });
  afterAll(async () => {
    // Only if a test failed before the SIGINT test ran: do not leave the devnet behind.
    if (devnet && devnet.child.exitCode === null && devnet.child.signalCode === null) {
      devnet.child.kill("SIGTERM");
      await devnet.exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("default: prints the chain URL and one node URL per operator", () => {
    expect(chainUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(chainUrl.endsWith(":0")).toBe(false);
    expect(nodeUrls).toHaveLength(3);
    expect(new Set(nodeUrls).size).toBe(3);
  });

  it("behavior: every node answers /healthz with 200 {ok:true}", async () => {
    for (const url of nodeUrls) {
      const res = await fetch(`${url}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ ok: true });
    }
  });

  it("behavior: the explorer is up, asks for its key and refuses writes", async () => {
    const m = /^ {2}explorer +(http:\/\/127\.0\.0\.1:\d+) +\(read only; explorer key (hx_live_\S+)\)/m.exec(devnet.stdout);
    expect(m, devnet.stdout).not.toBeNull();
    const [, url, key] = m!;
    expect((await fetch(`${url}/api/overview`)).status).toBe(401);
    const overview = await fetch(`${url}/api/overview`, { headers: { authorization: `Bearer ${key}` } });
    expect(overview.status).toBe(200);
    expect((await fetch(`${url}/api/overview`, { method: "POST", headers: { authorization: `Bearer ${key}` } })).status).toBe(405);
  });

  it("behavior: the registry on chain lists 3 active validators", async () => {
    const client = createPublicClient({ transport: http(chainUrl, { retryCount: 0 }) });
    const validators = await client.readContract({ address: registry, abi: walletRegistryAbi, functionName: "getValidators" });
    expect(validators).toHaveLength(3);
    expect(new Set(validators).size).toBe(3);
  });

  it("behavior: operator keystores in the data folder are owner-only", async () => {
    const dataDir = path.join(dir, "devnet");
    const keystores = (await readdir(dataDir)).filter((f) => f.endsWith(".keystore.json"));
    expect(keystores).toHaveLength(3);
    for (const f of keystores) expect((await stat(path.join(dataDir, f))).mode & 0o777).toBe(0o600);
  });

  it("behavior: the data folder and every folder with secrets in it are 0700, key and password files 0600", async () => {
    const dataDir = path.join(dir, "devnet");
    const mode = async (f: string) => (await stat(path.join(dataDir, f))).mode & 0o777;
    expect(await mode(".")).toBe(0o700);
    for (const d of ["alipay", "wechat", "yunpay", "explorer"]) expect(await mode(d)).toBe(0o700);
    const secrets = (await readdir(dataDir)).filter((f) => /\.(api-keys\.json|keystore\.json|password|log)$|^explorer-keys\.json$/.test(f));
    expect(secrets).toHaveLength(3 * 3 + 1 + 1);
    for (const f of secrets) expect([f, await mode(f)]).toEqual([f, 0o600]);
  });

  it("behavior: a node killed with kill -9 is restarted by the devnet and serves /healthz again at its URL", async () => {
    const configFile = path.join(dir, "devnet", "alipay.node.json");
    const pid = await nodePid(configFile);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, "SIGKILL");
    await expect.poll(() => devnet.stderr, { timeout: 60_000 }).toContain(`ALIPAY's node is back on ${nodeUrls[0]}`);
    expect(devnet.stderr).toContain("ALIPAY's node died (signal SIGKILL); restarting it in 500 ms (restart 1 of at most 5 in a row)");
    const res = await fetch(`${nodeUrls[0]}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true });
    expect(await nodePid(configFile)).not.toBe(pid);
  });

  it("behavior: a node stopped cleanly stays stopped, and the command the devnet prints starts it by hand", async () => {
    const devnetDir = path.join(dir, "devnet");
    const configFile = path.join(devnetDir, "wechat.node.json");
    const passwordFile = path.join(devnetDir, "keystore.password");
    const handStart = `HULIAN_KEYSTORE_PASSWORD_FILE=${passwordFile} npx hulian node --config`;
    expect(devnet.stdout).toContain(`${handStart} ${path.join(devnetDir, "alipay.node.json")}`);
    process.kill((await nodePid(configFile))!, "SIGTERM");
    await expect
      .poll(() => devnet.stderr, { timeout: 30_000 })
      .toContain(`WECHAT's node stopped cleanly (exit 0); not restarting it; to start it by hand: ${handStart} ${configFile}`);
    await expect(fetch(`${nodeUrls[1]}/healthz`)).rejects.toThrow();

    const byHand = spawnScript(HULIAN, ["node", "--config", configFile], { HULIAN_KEYSTORE_PASSWORD_FILE: passwordFile });
    const ended = new Promise((resolve) => byHand.once("exit", (code, signal) => resolve({ code, signal })));
    try {
      expect(await listening(byHand)).toBe(nodeUrls[1]);
      expect((await fetch(`${nodeUrls[1]}/healthz`)).status).toBe(200);
    } finally {
      byHand.kill("SIGTERM");
      expect(await ended).toEqual({ code: 0, signal: null });
    }
  });

  it("behavior: SIGINT stops it cleanly: exit 0, 'stopped' on stderr, nodes and chain gone", async () => {
    devnet.child.kill("SIGINT");
    exit = await devnet.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(devnet.stderr).toMatch(/stopped\n$/);
    await expect(fetch(`${nodeUrls[0]}/healthz`)).rejects.toThrow();
    await expect(fetch(chainUrl, { method: "POST", body: "{}" })).rejects.toThrow();
  });

  it("behavior: no secret appears in any output", () => {
    const output = devnet.stdout + devnet.stderr;
    expect(output).not.toContain(keystorePassword);
    // The hand-start command names the password's variable and file, never the password.
    const prose = output.replaceAll("HULIAN_KEYSTORE_PASSWORD_FILE=", "").replaceAll("/keystore.password", "");
    expect(prose).not.toMatch(/private ?key|password|mnemonic/i);
    // A 32-byte hex value would be a private key: addresses are 20 bytes, and the devnet prints no hashes.
    expect(output).not.toMatch(/0x[0-9a-fA-F]{64}/);
    expect(output).not.toMatch(/(?<![0-9a-fA-Fx])[0-9a-fA-F]{64}(?![0-9a-fA-F])/);
  });
});

describe("hulian devnet --data-dir", () => {
  it("error: refuses to wipe a folder that is not empty and holds no devnet", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "hulian-cli-notdevnet-"));
    try {
      await mkdir(path.join(dir, "work"));
      await writeFile(path.join(dir, "work", "thesis.tex"), "precious");
      const r = await runHulian(["devnet", "--rpc-port", "0", "--api-port", "0", "--explorer-port", "0", "--data-dir", path.join(dir, "work")]);
      expect(r.code).toBe(2);
      expect(r.stderr.split("\n")[0]).toBe(
        `hulian devnet: --data-dir ${path.join(dir, "work")} is not empty and holds no devnet; refusing to wipe it`,
      );
      expect(await readdir(path.join(dir, "work"))).toEqual(["thesis.tex"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("error: a folder with a manifest from `hulian deploy` is not a devnet either", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "hulian-cli-notdevnet-"));
    try {
      await writeFile(path.join(dir, "deployment.json"), JSON.stringify({ network: "production", chainId: 1 }));
      const r = await runHulian(["devnet", "--rpc-port", "0", "--api-port", "0", "--explorer-port", "0", "--data-dir", dir]);
      expect(r.code).toBe(2);
      expect(r.stderr.split("\n")[0]).toBe(`hulian devnet: --data-dir ${dir} is not empty and holds no devnet; refusing to wipe it`);
      expect(await readdir(dir)).toEqual(["deployment.json"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
