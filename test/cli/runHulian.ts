import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The real `hulian` entry point, run the way `npm run hulian` and the package's bin run it. */
export const HULIAN = path.join(ROOT, "node", "cli", "hulian.ts");
export const DEPLOY_SCRIPT = path.join(ROOT, "scripts", "deploy.ts");

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment for a child: CI set (no telemetry, no prompts), no keystore password unless given. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: "1", ...extra };
  if (!("HULIAN_KEYSTORE_PASSWORD" in extra)) delete env.HULIAN_KEYSTORE_PASSWORD;
  delete env.HULIAN_DEBUG;
  return env;
}

/** Spawns `node <script> ...args` with stdin closed (so nothing can wait at a password prompt). */
export function spawnScript(script: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [script, ...args], { cwd: ROOT, env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] });
}

/** Runs a script to completion and collects its output. */
export function runScript(script: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const child = spawnScript(script, args, env);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** `hulian ...args`. */
export function runHulian(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return runScript(HULIAN, args, env);
}
