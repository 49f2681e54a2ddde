import { spawn } from "node:child_process";
import { access, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CONTRACTS, generateAbis } from "../chain/generateAbis.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const GENERATED = path.join(ROOT, "node", "chain", "abi", "generated.ts");
/** Kept of the compiler's output, to quote when the build fails. */
const MAX_OUTPUT_CHARS = 4_000;

/** The contracts could not be built on first use; says what to run instead. */
export class BuildRequiredError extends Error {
  override name = "BuildRequiredError";
}

/**
 * Makes sure the typed ABIs every command imports (`node/chain/abi/generated.ts`, generated and not
 * committed) exist: `npm ci` builds them (the `prepare` script), but an install with
 * `--ignore-scripts` or a deleted folder would leave every command failing with a bare
 * "Cannot find module". Builds them once (Hardhat with the solc from npm, then the generator),
 * saying so on stderr; stdout stays the command's.
 *
 * @throws {BuildRequiredError} when the build fails, naming the command to run by hand.
 */
export async function ensureGeneratedAbis(say: (message: string) => void): Promise<void> {
  if (await exists(GENERATED)) return;
  say(`the contracts' typed ABIs (${path.relative(ROOT, GENERATED)}) are not generated yet: building them once (npm run build)`);
  await hardhatBuild();
  const found = await generateAbis(ROOT);
  const missing = CONTRACTS.filter((c) => !found.includes(c));
  if (missing.length > 0) {
    // A partial file would fail later with a bare "does not provide an export"; better none at all.
    await rm(GENERATED, { force: true });
    throw new BuildRequiredError(`the build produced no artifact for ${missing.join(", ")}; run "npm run build" in ${ROOT} and look at its output`);
  }
  say(`typed ABIs generated: ${found.join(", ")}`);
}

async function hardhatBuild(): Promise<void> {
  let cli: string;
  try {
    cli = fileURLToPath(new URL("./cli.js", import.meta.resolve("hardhat")));
  } catch {
    throw new BuildRequiredError(`the contracts are not built and Hardhat is not installed; run "npm ci" in ${ROOT}`);
  }
  const child = spawn(process.execPath, [cli, "build", "--quiet"], {
    cwd: ROOT,
    // CI keeps Hardhat from its telemetry prompt and banner look-ups.
    env: { ...process.env, CI: process.env.CI ?? "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-MAX_OUTPUT_CHARS));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  if (code !== 0) {
    throw new BuildRequiredError(`building the contracts failed (hardhat build exited with ${code}); run "npm run build" in ${ROOT} to see why:\n${output.trim()}`);
  }
}

function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
