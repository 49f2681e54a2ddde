import type { DevnetOperatorSeed } from "../../node/devnet/devnetOperators.ts";
import { type Customer, runLoad } from "./load.ts";
import { type MonkeyPlan, type MonkeyReport, runMonkey } from "./monkey.ts";
import { startChaosNetwork } from "./network.ts";
import { createRandom, sleep } from "./random.ts";
import { type Verdict, verifyRun } from "./verify.ts";

/** A chaos run's size. */
export interface ChaosConfig {
  mode: "quick" | "full" | "test";
  seed: number;
  operators: DevnetOperatorSeed[];
  customersPerOperator: number;
  /** Each customer's top-up before the chaos, fen. */
  topUp: bigint;
  /** Parallel clients of the load generator. */
  width: number;
  monkey: MonkeyPlan;
  /** Load keeps running this long after the last fault, so the last restart sees traffic. */
  tailMs: number;
  /** How long the drain may take (every payment final, every node quiescent). */
  drainTimeoutMs: number;
}

const OPERATORS: DevnetOperatorSeed[] = [
  { code: "ALIPAY", name: "Alipay", reserve: 1_000_000_000_00n },
  { code: "WECHAT", name: "WeChat Pay", reserve: 1_000_000_000_00n },
  { code: "YUNPAY", name: "Yunnan Pay (regional)", reserve: 100_000_000_00n },
];

const base = { operators: OPERATORS, customersPerOperator: 6, topUp: 10_000_000_00n, width: 8, drainTimeoutMs: 120_000 };

/** `npm run chaos`: at least 20 kill -9s and several RPC outages, about five minutes. */
export const FULL = (seed: number): ChaosConfig => ({
  ...base,
  mode: "full",
  seed,
  monkey: { kills: 24, rpcOutages: 6, gapMs: [2_000, 9_000], downMs: [200, 3_000], outageMs: [1_000, 6_000] },
  tailMs: 5_000,
});

/** `npm run chaos -- --quick`: under three minutes. */
export const QUICK = (seed: number): ChaosConfig => ({
  ...base,
  mode: "quick",
  seed,
  monkey: { kills: 8, rpcOutages: 2, gapMs: [1_500, 5_000], downMs: [200, 2_000], outageMs: [1_000, 4_000] },
  tailMs: 3_000,
});

/** The short run inside `npm test`. */
export const TEST = (seed: number): ChaosConfig => ({
  ...base,
  mode: "test",
  seed,
  customersPerOperator: 4,
  width: 6,
  monkey: { kills: 3, rpcOutages: 1, gapMs: [1_500, 3_000], downMs: [200, 1_000], outageMs: [1_000, 2_500] },
  tailMs: 2_000,
  drainTimeoutMs: 60_000,
});

export interface ChaosResult extends Verdict {
  seed: number;
  mode: ChaosConfig["mode"];
  requests: number;
  transientFailures: number;
  replays: number;
  monkey: MonkeyReport;
  seconds: { setup: number; chaos: number; drain: number; total: number };
  dataDir?: string;
}

/** The last line of `npm run chaos`. */
export function summaryLine(r: ChaosResult): string {
  const other = r.statusMismatches + r.otherViolations > 0 ? ` status_mismatches=${r.statusMismatches} other_violations=${r.otherViolations}` : "";
  return `chaos: payments=${r.payments} kills=${r.monkey.kills} rpc_outages=${r.monkey.rpcOutages} lost=${r.lost} duplicated=${r.duplicated} ${r.reconciled ? "reconciled" : "NOT reconciled"}${other}`;
}

/**
 * One chaos run: three operators on the embedded chain with nodes as child processes, random
 * payments from parallel clients that retry like real apps, kill -9s and RPC outages from the
 * monkey meanwhile; then drain and check that nothing was lost or doubled (see {@link verifyRun}).
 * On a violation the data folder is kept for inspection and its path returned.
 */
export async function runChaos(config: ChaosConfig, say: (line: string) => void = () => {}): Promise<ChaosResult> {
  const t0 = Date.now();
  const rnd = createRandom(config.seed);
  say(`seed ${config.seed} (replay with --seed ${config.seed}), mode ${config.mode}`);
  const net = await startChaosNetwork({ operators: config.operators, onProgress: say });
  let keep = false;
  try {
    const customers: Customer[] = [];
    for (const node of net.nodes) {
      for (let i = 0; i < config.customersPerOperator; i++) {
        const handle = `${node.code.toLowerCase()}-c${i}`;
        const account = await node.api.openAccount(handle, `Customer ${i} of ${node.code}`, `open-${handle}`);
        await node.api.topUp(account.id, config.topUp);
        customers.push({ node, id: account.id, handle, initial: config.topUp, expected: config.topUp });
      }
    }
    const t1 = Date.now();
    say(`${customers.length} customers ready; chaos begins`);

    let stopLoad!: () => void;
    const stop = new Promise<void>((resolve) => (stopLoad = resolve));
    const load = runLoad({ customers, random: createRandom(config.seed ^ 0x10ad), width: config.width, stop, answerTimeoutMs: config.drainTimeoutMs, onProgress: say });
    let monkey: MonkeyReport;
    try {
      monkey = await runMonkey(net, config.monkey, rnd, say);
      await sleep(config.tailMs);
    } finally {
      stopLoad();
    }
    const outcomes = await load;
    const t2 = Date.now();
    say(`load stopped: ${outcomes.length} requests; draining`);

    const verdict = await verifyRun(net, customers, outcomes, { drainTimeoutMs: config.drainTimeoutMs, say });
    const t3 = Date.now();
    keep = verdict.violations.length > 0;
    return {
      ...verdict,
      seed: config.seed,
      mode: config.mode,
      requests: outcomes.length,
      transientFailures: outcomes.reduce((s, o) => s + o.transientFailures, 0),
      replays: outcomes.reduce((s, o) => s + o.replays, 0),
      monkey,
      seconds: { setup: (t1 - t0) / 1000, chaos: (t2 - t1) / 1000, drain: (t3 - t2) / 1000, total: (t3 - t0) / 1000 },
      dataDir: keep ? net.dataDir : undefined,
    };
  } catch (e) {
    keep = true;
    say(`run failed; data kept in ${net.dataDir}`);
    throw e;
  } finally {
    await net.close({ keepData: keep });
  }
}
