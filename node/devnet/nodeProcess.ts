import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HULIAN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "cli", "hulian.ts");

export interface NodeProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code when the process ends. */
  readonly exited: Promise<number | null>;
  /** SIGTERM and wait (clean shutdown); SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** kill -9: no shutdown code runs. */
  kill9(): Promise<void>;
}

/**
 * Runs `hulian node --config FILE` as a child process (so it can be killed like a real server),
 * with the keystore password in its environment only. Its JSON log lines go to `logFile`.
 * Resolves once the node says it is listening.
 */
export function spawnNode(configFile: string, password: string, logFile: string, timeoutMs = 60_000): Promise<NodeProcess> {
  const child = spawn(process.execPath, [HULIAN, "node", "--config", configFile], {
    env: { ...process.env, HULIAN_KEYSTORE_PASSWORD: password },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Node logs name customers' handles and payments: owner-only, like the rest of the data folder.
  const log = createWriteStream(logFile, { flags: "a", mode: 0o600 });
  child.stdout!.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let stderr = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`node ${configFile} did not start within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.stderr!.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      log.write(text);
      stderr += text;
      const match = /listening on (http\S+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(handle(match[1], child, exited));
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`node ${configFile} exited with ${code} before listening:\n${stderr}`));
    });
  });
}

function handle(url: string, child: ChildProcess, exited: Promise<number | null>): NodeProcess {
  return {
    url,
    child,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill9() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
}
