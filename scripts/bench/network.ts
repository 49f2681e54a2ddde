import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Address, Hex } from "viem";
import type { DeploymentManifest } from "../../node/chain/manifest.ts";
import type { Devnet, DevnetOperator } from "../../node/devnet/devnet.ts";
import { type DevnetNode, startDevnetNodes } from "../../node/devnet/devnetNodes.ts";

const CHAIN_HOST = path.join(path.dirname(fileURLToPath(import.meta.url)), "chainHost.ts");

/** The three operators whose nodes run, and four node-less ones the gas table settles between. */
export const NODE_OPERATORS = [
  { code: "ALIPAY", name: "Alipay", reserve: 50_000_000_00n },
  { code: "WECHAT", name: "WeChat Pay", reserve: 50_000_000_00n },
  { code: "YUNPAY", name: "Yunnan Pay (regional)", reserve: 50_000_000_00n },
];
export const GAS_OPERATORS = ["GASA", "GASB", "GASC", "GASD"].map((code) => ({ code, name: `Gas ${code}`, reserve: 1_000_000_000_00n }));

/** The chain process and what it deployed. */
export interface BenchChain {
  url: string;
  chainId: number;
  manifest: DeploymentManifest;
  manifestFile: string;
  operators: DevnetOperator[];
  keystorePassword: string;
  pid: number;
  /** The devnet view the node launcher takes (only the node operators). */
  devnet: Devnet;
  close(): Promise<void>;
}

/** Starts the embedded chain in its own process with the contracts and operators in place. */
export async function startBenchChain(dataDir: string, profileDir?: string): Promise<BenchChain> {
  const seeds = [...NODE_OPERATORS, ...GAS_OPERATORS].map((s) => ({ ...s, reserve: s.reserve.toString() }));
  const flags = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, "--cpu-prof-name=chain.cpuprofile"] : [];
  const child: ChildProcess = spawn(process.execPath, [...flags, CHAIN_HOST, dataDir, JSON.stringify(seeds)], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, CI: "1" },
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once("line", (l) => resolve(l));
    child.once("exit", (code) => reject(new Error(`chain process exited with ${code}:\n${stderr}`)));
  });
  const info = JSON.parse(line) as Omit<BenchChain, "pid" | "devnet" | "close">;
  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin!.end();
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const nodeCodes = new Set(NODE_OPERATORS.map((o) => o.code));
  const devnet = {
    chain: { url: info.url, chainId: info.chainId },
    manifest: info.manifest,
    manifestFile: info.manifestFile,
    operators: info.operators.filter((o) => nodeCodes.has(o.code)),
    keystorePassword: info.keystorePassword,
    close,
  } as unknown as Devnet;
  return { ...info, pid: child.pid!, devnet, close };
}

/** The operator nodes, as child processes, with the default batching policy unless told otherwise. */
export async function startBenchNodes(
  chain: BenchChain,
  dataDir: string,
  batch: { maxTransfers?: number; maxDelayMs?: number } = {},
  profileDir?: string,
): Promise<DevnetNode[]> {
  await mkdir(dataDir, { recursive: true });
  if (!profileDir) return startDevnetNodes(chain.devnet, dataDir, { batch });
  // The node processes inherit this environment: each writes a V8 CPU profile when it stops.
  const saved = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `${saved ?? ""} --cpu-prof --cpu-prof-dir=${profileDir}`.trim();
  try {
    return await startDevnetNodes(chain.devnet, dataDir, { batch });
  } finally {
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  }
}

/** Peak resident memory (VmHWM) of a process, in MB; undefined when it cannot be read. */
export async function peakRssMb(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const kb = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return kb ? Number(kb[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** One JSON-RPC call. */
export async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

export type { Address, Hex };
