import { cp, mkdtemp, readFile, rm, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Devnet, startDevnetChain } from "../../node/devnet/devnet.ts";
import { runScript } from "./runHulian.ts";

/*
 * `npx hulian audit …` right after an install that built nothing (`npm ci --ignore-scripts`, or the
 * generated folder deleted): the CLI builds the typed ABIs once, says so on stderr, and the command
 * then works. Run in a copy of the repository without node/chain/abi, artifacts or cache, over the
 * real node_modules. (`npm ci` itself builds them through the `prepare` script.)
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const NOTICE = "the contracts' typed ABIs (node/chain/abi/generated.ts) are not generated yet: building them once (npm run build)";

let dir: string;
let devnet: Devnet;

/** A copy of the sources a user gets from a clone (no generated files), with the installed node_modules. */
async function cloneWithoutBuild(name: string, parts: string[]): Promise<string> {
  const copy = path.join(dir, name);
  for (const part of parts) {
    await cp(path.join(ROOT, part), path.join(copy, part), {
      recursive: true,
      filter: (src) => !src.startsWith(path.join(ROOT, "node", "chain", "abi")),
    });
  }
  await symlink(path.join(ROOT, "node_modules"), path.join(copy, "node_modules"));
  return copy;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "hulian-cli-firstuse-"));
  devnet = await startDevnetChain({ dataDir: path.join(dir, "chain"), operators: [{ code: "ALIPAY", name: "Alipay", reserve: 100n }], scryptN: 1 << 10 });
});
afterAll(async () => {
  await devnet?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("hulian on first use", () => {
  it("behavior: without generated ABIs, `hulian audit chain` builds them once, then answers; the next run builds nothing", async () => {
    const copy = await cloneWithoutBuild("clone", ["package.json", "hardhat.config.ts", "contracts", "node"]);
    await expect(stat(path.join(copy, "node", "chain", "abi"))).rejects.toMatchObject({ code: "ENOENT" });
    const hulian = path.join(copy, "node", "cli", "hulian.ts");
    const args = ["audit", "chain", "--wallet", "ALIPAY", "--rpc", devnet.chain.url, "--deployment", devnet.manifestFile, "--json"];

    const first = await runScript(hulian, args);
    expect(first.stderr).toContain(`• ${NOTICE}\n`);
    expect(first.stderr).toContain("• typed ABIs generated: WalletRegistry, SettlementToken, SettlementHub, ReserveAttestation, NaivePayments\n");
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ status: "verified" });
    expect(await readFile(path.join(copy, "node", "chain", "abi", "generated.ts"), "utf8")).toContain("export const settlementHubAbi");

    const second = await runScript(hulian, args);
    expect(second.code).toBe(0);
    expect(second.stderr).not.toContain(NOTICE);
    expect(second.stdout).toBe(first.stdout);
  });

  it("error: when the build cannot produce the ABIs, a readable message says what to run, and no partial file is left", async () => {
    // No contracts folder: Hardhat compiles nothing.
    const copy = await cloneWithoutBuild("no-contracts", ["package.json", "hardhat.config.ts", "node"]);
    const run = await runScript(path.join(copy, "node", "cli", "hulian.ts"), ["audit", "chain", "--wallet", "ALIPAY"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `hulian audit: the build produced no artifact for WalletRegistry, SettlementToken, SettlementHub, ReserveAttestation, NaivePayments; run "npm run build" in ${copy} and look at its output\n`,
    );
    expect(run.stderr).not.toContain("Cannot find module");
    await expect(stat(path.join(copy, "node", "chain", "abi", "generated.ts"))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
