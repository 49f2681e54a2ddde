import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import type { NodeProcess } from "../../node/devnet/nodeProcess.ts";
import { NodeSupervisor } from "../../node/devnet/nodeSupervisor.ts";

/*
 * The devnet's supervisor over real child processes (small Node scripts that exit the way a node
 * does: a crash, a clean stop, staying up): restarts with backoff, gives up after a bounded number
 * in a row, leaves a clean stop alone, and stop() ends both the watching and the process. The
 * full path (kill -9 of a real `hulian node`, back on /healthz) is in test/cli/devnet.test.ts.
 */

/** A child running `script`, in the shape spawnNode hands back. */
function child(script: string): NodeProcess {
  const c = spawn(process.execPath, ["-e", script], { stdio: "ignore" });
  const exited = new Promise<number | null>((resolve) => c.once("exit", (code) => resolve(code)));
  return {
    url: `http://127.0.0.1/${c.pid}`,
    child: c,
    exited,
    async stop() {
      if (c.exitCode !== null || c.signalCode !== null) return;
      c.kill("SIGTERM");
      await exited;
    },
    async kill9() {
      c.kill("SIGKILL");
      await exited;
    },
  };
}

const CRASH = "setTimeout(() => process.exit(3), 20)";
const STAY_UP = "setInterval(() => {}, 1000)";

describe("NodeSupervisor", () => {
  it("default: a node that dies is started again and stays up", async () => {
    const events: string[] = [];
    const node = { code: "ALIPAY", process: child(CRASH) };
    const supervisor = new NodeSupervisor(node, async () => child(STAY_UP), { backoffMs: 10, onEvent: (m) => events.push(m) });
    supervisor.start();
    await expect.poll(() => supervisor.restarts).toBe(1);
    expect(events).toEqual([
      "ALIPAY's node died (exit code 3); restarting it in 10 ms (restart 1 of at most 5 in a row)",
      `ALIPAY's node is back on ${node.process.url}`,
    ]);
    expect(node.process.child.exitCode).toBeNull();
    await supervisor.stop();
    expect(node.process.child.signalCode).toBe("SIGTERM");
  });

  it("behavior: backoff doubles, and after maxRestarts in a row it gives up and says how to start it by hand", async () => {
    const events: string[] = [];
    const node = { code: "WECHAT", process: child(CRASH) };
    let spawned = 0;
    const supervisor = new NodeSupervisor(
      node,
      async () => {
        spawned++;
        return child(CRASH);
      },
      { backoffMs: 5, maxRestarts: 3, handStart: "hulian node --config wechat.node.json", onEvent: (m) => events.push(m) },
    );
    supervisor.start();
    await expect.poll(() => events.at(-1)).toMatch(/giving up/);
    expect(spawned).toBe(3);
    expect(events.filter((e) => e.includes("restarting it in"))).toEqual([
      "WECHAT's node died (exit code 3); restarting it in 5 ms (restart 1 of at most 3 in a row)",
      "WECHAT's node died (exit code 3); restarting it in 10 ms (restart 2 of at most 3 in a row)",
      "WECHAT's node died (exit code 3); restarting it in 20 ms (restart 3 of at most 3 in a row)",
    ]);
    expect(events.at(-1)).toBe(
      "WECHAT's node died (exit code 3) after 3 restarts in a row; giving up on it; to start it by hand: hulian node --config wechat.node.json",
    );
    await supervisor.stop();
  });

  it("behavior: a start that fails counts as a restart and is reported with its reason", async () => {
    const events: string[] = [];
    const node = { code: "YUNPAY", process: child(CRASH) };
    let attempts = 0;
    const supervisor = new NodeSupervisor(
      node,
      async () => {
        if (++attempts === 1) throw new Error("node alipay.node.json exited with 1 before listening:\nstack");
        return child(STAY_UP);
      },
      { backoffMs: 5, onEvent: (m) => events.push(m) },
    );
    supervisor.start();
    await expect.poll(() => supervisor.restarts).toBe(1);
    expect(events[1]).toBe(
      "YUNPAY's node died (it did not start again: node alipay.node.json exited with 1 before listening:); restarting it in 10 ms (restart 2 of at most 5 in a row)",
    );
    await supervisor.stop();
  });

  it("behavior: a clean exit (code 0) is not restarted", async () => {
    const events: string[] = [];
    const node = { code: "ALIPAY", process: child("process.exit(0)") };
    let spawned = 0;
    const supervisor = new NodeSupervisor(node, async () => (spawned++, child(STAY_UP)), { backoffMs: 5, onEvent: (m) => events.push(m) });
    supervisor.start();
    await expect.poll(() => events.length).toBe(1);
    expect(events[0]).toBe("ALIPAY's node stopped cleanly (exit 0); not restarting it");
    expect(spawned).toBe(0);
    await supervisor.stop();
  });

  it("behavior: stop() during a backoff ends it at once, with no restart after", async () => {
    const node = { code: "ALIPAY", process: child(CRASH) };
    let spawned = 0;
    // A backoff far beyond the test's timeout: stop() can only return in time if it cuts the wait short.
    const supervisor = new NodeSupervisor(node, async () => (spawned++, child(STAY_UP)), { backoffMs: 3_600_000, maxBackoffMs: 3_600_000 });
    supervisor.start();
    await node.process.exited;
    await supervisor.stop();
    expect(spawned).toBe(0);
  });
});
