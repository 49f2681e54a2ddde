import type { NodeProcess } from "./nodeProcess.ts";

/** Options of {@link NodeSupervisor}. */
export interface NodeSupervisorOptions {
  /** Restarts in a row (no stable run between them) before the supervisor gives up. Default 5. */
  maxRestarts?: number;
  /** Wait before the first restart in a row; it doubles with each next one. Default 500 ms. */
  backoffMs?: number;
  /** Longest wait between two restarts. Default 30 s. */
  maxBackoffMs?: number;
  /** A node that ran this long before it died counts as having run stably: the count starts again. Default 60 s. */
  stableMs?: number;
  /** Where the supervisor's log lines go (one line a restart, a recovery, a give-up). */
  onEvent?: (message: string) => void;
  /** The command that starts the node by hand, quoted in the lines that say it will not be restarted. */
  handStart?: string;
}

/** What the supervisor watches: a node process that it may replace (read `process` for the current one). */
export interface SupervisedNode {
  code: string;
  process: NodeProcess;
}

/**
 * Keeps one devnet node running: when its process dies (a signal or a non-zero exit), it is started
 * again after a backoff (500 ms, doubling, at most 30 s), up to `maxRestarts` times in a row; a run
 * of `stableMs` resets the count. A node that exits cleanly (code 0: someone stopped it on purpose)
 * is left stopped. Every restart and give-up is a log line naming the node and how it ended.
 *
 * Invariant: at most one node process per supervisor runs at any time; a restart begins only after
 * the previous process has exited.
 *
 * @example
 * const supervisor = new NodeSupervisor(node, () => spawnNode(node.configFile, password, node.logFile), { onEvent: progress });
 * supervisor.start();
 * // … later
 * await supervisor.stop();
 */
export class NodeSupervisor {
  readonly #node: SupervisedNode;
  readonly #spawn: () => Promise<NodeProcess>;
  readonly #o: Required<Omit<NodeSupervisorOptions, "handStart">> & { handStart?: string };
  #stopping = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #restarts = 0;

  constructor(node: SupervisedNode, spawn: () => Promise<NodeProcess>, options: NodeSupervisorOptions = {}) {
    this.#node = node;
    this.#spawn = spawn;
    this.#o = {
      maxRestarts: options.maxRestarts ?? 5,
      backoffMs: options.backoffMs ?? 500,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      stableMs: options.stableMs ?? 60_000,
      onEvent: options.onEvent ?? (() => {}),
      handStart: options.handStart,
    };
  }

  /** Restarts done so far. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Starts watching the node's current process. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops restarting, then stops the node (SIGTERM, then SIGKILL after its grace). */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#node.process.stop();
    await this.#loop;
    // A restart that was starting while we stopped has put a new process in place: stop it too.
    await this.#node.process.stop();
  }

  async #run(): Promise<void> {
    let inARow = 0;
    while (!this.#stopping) {
      const proc = this.#node.process;
      const startedAt = performance.now();
      await proc.exited;
      if (this.#stopping) return;
      if (proc.child.exitCode === 0) {
        this.#say(`${this.#node.code}'s node stopped cleanly (exit 0); not restarting it${this.#hint()}`);
        return;
      }
      if (performance.now() - startedAt >= this.#o.stableMs) inARow = 0;
      let how = describeExit(proc);
      for (;;) {
        if (inARow >= this.#o.maxRestarts) {
          this.#say(`${this.#node.code}'s node died (${how}) after ${inARow} restarts in a row; giving up on it${this.#hint()}`);
          return;
        }
        const delay = Math.min(this.#o.backoffMs * 2 ** inARow, this.#o.maxBackoffMs);
        inARow++;
        this.#say(`${this.#node.code}'s node died (${how}); restarting it in ${delay} ms (restart ${inARow} of at most ${this.#o.maxRestarts} in a row)`);
        await this.#sleep(delay);
        if (this.#stopping) return;
        try {
          this.#node.process = await this.#spawn();
          this.#restarts++;
          this.#say(`${this.#node.code}'s node is back on ${this.#node.process.url}`);
          break;
        } catch (e) {
          how = `it did not start again: ${(e as Error).message.split("\n")[0]}`;
        }
      }
    }
  }

  #hint(): string {
    return this.#o.handStart ? `; to start it by hand: ${this.#o.handStart}` : "";
  }

  #say(message: string): void {
    this.#o.onEvent(message);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }
}

function describeExit(proc: NodeProcess): string {
  const { exitCode, signalCode } = proc.child;
  return signalCode ? `signal ${signalCode}` : `exit code ${exitCode}`;
}
