import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NodeConfig, startNode } from "../../node/cli/nodeRuntime.ts";
import { type Devnet, startDevnetChain } from "../../node/devnet/devnet.ts";
import { startExplorer } from "../../node/explorer/startExplorer.ts";
import { silentLogger } from "../../node/observability/logger.ts";
import { writeNodeFiles } from "../helpers/testNode.ts";
import { runHulian } from "./runHulian.ts";

/*
 * Data folders 0700 and secret files 0600, against a real devnet chain: what a node and the
 * explorer create, and that `hulian node` refuses to start (with the chmod to run) when a data
 * folder or a secret file is open to other local users. Tests run as root, which reads any file
 * anyway; the checks look at the mode bits, so they hold for root too.
 */

let dir: string;
let devnet: Devnet;
const mode = async (p: string) => (await stat(p)).mode & 0o777;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "hulian-cli-perms-"));
  devnet = await startDevnetChain({ dataDir: path.join(dir, "chain"), operators: [{ code: "ALIPAY", name: "Alipay", reserve: 1_000_00n }], scryptN: 1 << 10 });
});
afterAll(async () => {
  await devnet?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A node config of its own folder under the test dir. */
async function nodeFiles(name: string): Promise<{ config: NodeConfig; configFile: string }> {
  const home = path.join(dir, name);
  await mkdir(home, { mode: 0o700 });
  return writeNodeFiles(devnet, home, "ALIPAY");
}

describe("what is created", () => {
  it("default: the devnet's folder is 0700 and its keystores and password file 0600", async () => {
    expect(await mode(devnet.manifestFile.replace(/\/deployment\.json$/, ""))).toBe(0o700);
    expect(await mode(devnet.operators[0].keystoreFile)).toBe(0o600);
    expect(await mode(devnet.keystorePasswordFile)).toBe(0o600);
  });

  it("default: a node creates its data folder 0700, its audit log 0600; its key file is 0600", async () => {
    const { config } = await nodeFiles("fresh");
    const node = await startNode(config, devnet.keystorePassword, { logger: silentLogger });
    try {
      expect(await mode(config.dataDir)).toBe(0o700);
      expect(await mode(path.join(config.dataDir, "audit.log"))).toBe(0o600);
      expect(await mode(config.api.keysFile)).toBe(0o600);
    } finally {
      await node.close();
    }
  });
});

describe("hulian node refuses loose permissions", () => {
  it("error: a data folder of mode 0755 stops the node before it opens anything, naming the chmod to run", async () => {
    const { config, configFile } = await nodeFiles("loose-dir");
    await mkdir(config.dataDir);
    await chmod(config.dataDir, 0o755);
    const run = await runHulian(["node", "--config", configFile], { HULIAN_KEYSTORE_PASSWORD: devnet.keystorePassword });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `hulian node: ${config.dataDir} is open to other users (mode 0755); it holds secrets, so it must be 0700. Run: chmod 700 ${config.dataDir}\n`,
    );
    expect(await readdir(config.dataDir)).toEqual([]);
    expect(await mode(config.dataDir)).toBe(0o755);
  });

  it("error: a keystore of mode 0644 is refused", async () => {
    const { config, configFile } = await nodeFiles("loose-keystore");
    // Its own copy of the keystore, so the shared one keeps its mode.
    const keystore = path.join(path.dirname(configFile), "alipay.keystore.json");
    await copyFile(config.keystore, keystore);
    await chmod(keystore, 0o644);
    await writeFile(configFile, JSON.stringify({ ...config, keystore }));
    const run = await runHulian(["node", "--config", configFile], { HULIAN_KEYSTORE_PASSWORD: devnet.keystorePassword });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${keystore} is open to other users (mode 0644); it holds secrets, so it must be 0600. Run: chmod 600 ${keystore}`);
  });

  it("error: an API key file of mode 0640 is refused", async () => {
    const { config, configFile } = await nodeFiles("loose-keys");
    await chmod(config.api.keysFile, 0o640);
    const run = await runHulian(["node", "--config", configFile], { HULIAN_KEYSTORE_PASSWORD: devnet.keystorePassword });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${config.api.keysFile} is open to other users (mode 0640); it holds secrets, so it must be 0600. Run: chmod 600 ${config.api.keysFile}`);
  });

  it("error: an audit log of mode 0644 is refused", async () => {
    const { config, configFile } = await nodeFiles("loose-audit");
    await mkdir(config.dataDir, { mode: 0o700 });
    const log = path.join(config.dataDir, "audit.log");
    await writeFile(log, "");
    await chmod(log, 0o644);
    const run = await runHulian(["node", "--config", configFile], { HULIAN_KEYSTORE_PASSWORD: devnet.keystorePassword });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${log} is open to other users (mode 0644)`);
  });

  it("error: a keystore password file of mode 0644 is refused", async () => {
    const { configFile } = await nodeFiles("loose-password");
    const file = path.join(path.dirname(configFile), "keystore.password");
    await writeFile(file, devnet.keystorePassword + "\n");
    await chmod(file, 0o644);
    const run = await runHulian(["node", "--config", configFile], { HULIAN_KEYSTORE_PASSWORD_FILE: file });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${file} is open to other users (mode 0644); it holds secrets, so it must be 0600. Run: chmod 600 ${file}`);
  });
});

describe("the explorer", () => {
  it("default: creates its index folder 0700 and its key file 0600", async () => {
    const dataDir = path.join(dir, "explorer-fresh", "index");
    const keysFile = path.join(dir, "explorer-fresh", "keys.json");
    const explorer = await startExplorer({ rpcUrl: devnet.chain.url, deployment: devnet.manifestFile, dataDir, keysFile });
    try {
      expect(await mode(dataDir)).toBe(0o700);
      expect(await mode(keysFile)).toBe(0o600);
    } finally {
      await explorer.close();
    }
  });
});
