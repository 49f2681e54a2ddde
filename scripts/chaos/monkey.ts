import type { ChaosNetwork, ChaosNode } from "./network.ts";
import { type Random, sleep } from "./random.ts";

/** How much havoc to make. */
export interface MonkeyPlan {
  /** kill -9s in all. */
  kills: number;
  /** RPC outages in all. */
  rpcOutages: number;
  /** Pause between two faults, ms: [min, max]. */
  gapMs: [number, number];
  /** How long a killed node stays down, ms. */
  downMs: [number, number];
  /** How long an RPC outage lasts, ms. */
  outageMs: [number, number];
}

/** What the monkey did. */
export interface MonkeyReport {
  kills: number;
  rpcOutages: number;
  restarts: number;
  /** Kills of a node that had been up less than a second (crash during recovery). */
  killsDuringRecovery: number;
  /** Kills while the RPC was down (the node restarts without a chain and must wait for it). */
  killsDuringOutage: number;
  log: string[];
}

/**
 * The fault injector. Between random pauses it either kill -9s a random node (sometimes two at
 * once, sometimes again right after it came back) and restarts it after a random time, or closes
 * the chain's JSON-RPC listener for a while (sometimes killing a node meanwhile, whose restart must
 * then wait for the chain). Returns once every planned fault has happened and every node is up.
 */
export async function runMonkey(net: ChaosNetwork, plan: MonkeyPlan, rnd: Random, say: (line: string) => void): Promise<MonkeyReport> {
  const report: MonkeyReport = { kills: 0, rpcOutages: 0, restarts: 0, killsDuringRecovery: 0, killsDuringOutage: 0, log: [] };
  const started = Date.now();
  const note = (line: string) => {
    const text = `t=${((Date.now() - started) / 1000).toFixed(1)}s ${line}`;
    report.log.push(text);
    say(text);
  };
  const between = ([lo, hi]: [number, number]) => rnd.between(lo, hi);
  const running = () => net.nodes.filter((n) => n.process);

  const kill = async (node: ChaosNode, why = "") => {
    const pid = node.process?.child.pid;
    await net.kill9(node);
    report.kills++;
    note(`kill -9 ${node.code} (pid ${pid})${why}`);
  };
  const restart = async (node: ChaosNode) => {
    await net.start(node);
    report.restarts++;
    note(`restarted ${node.code}`);
  };

  const faults: ("kill" | "outage")[] = [...Array(plan.kills).fill("kill"), ...Array(plan.rpcOutages).fill("outage")];
  for (let i = faults.length - 1; i > 0; i--) {
    const j = rnd.int(i + 1);
    [faults[i], faults[j]] = [faults[j], faults[i]];
  }
  for (const fault of faults) {
    // Kills made inside outages and during recovery count against the plan too.
    if (fault === "kill" && report.kills >= plan.kills) continue;
    await sleep(between(plan.gapMs));
    if (fault === "outage") {
      const ms = between(plan.outageMs);
      await net.devnet.chain.stopRpc();
      report.rpcOutages++;
      note(`RPC down for ${ms} ms`);
      let restarting: Promise<void> | undefined;
      if (report.kills < plan.kills && rnd.chance(0.4)) {
        await sleep(rnd.int(ms / 2));
        const victim = rnd.pick(running());
        await kill(victim, " during the RPC outage");
        report.killsDuringOutage++;
        await sleep(rnd.int(300));
        restarting = restart(victim);
      } else {
        await sleep(ms);
      }
      await net.devnet.chain.startRpc();
      note("RPC back");
      await restarting;
      continue;
    }
    // Two nodes at once now and then: the payer and the payee of some transfers both crash.
    const victims = running().length > 1 && plan.kills - report.kills >= 2 && rnd.chance(0.15) ? pickTwo(running(), rnd) : [rnd.pick(running())];
    for (const v of victims) await kill(v);
    await sleep(between(plan.downMs));
    await Promise.all(victims.map(restart));
    // Crash again while it recovers (replaying its outbox, catching up on inbound events).
    if (report.kills < plan.kills && rnd.chance(0.2)) {
      const v = victims[0];
      await sleep(rnd.int(800));
      await kill(v, " while it recovers");
      report.killsDuringRecovery++;
      await sleep(between(plan.downMs));
      await restart(v);
    }
  }
  return report;
}

function pickTwo<T>(items: readonly T[], rnd: Random): T[] {
  const a = rnd.int(items.length);
  const b = (a + 1 + rnd.int(items.length - 1)) % items.length;
  return [items[a], items[b]];
}
