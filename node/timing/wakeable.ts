import { sleep } from "./sleep.ts";

/**
 * The idle wait of a background loop: {@link wait} pauses until its time is up, {@link notify}
 * ends it early (new work arrived), {@link stop} ends it and every later wait at once, and
 * {@link signal} lets the loop's other pauses (backoffs after an error) end on `stop()` too. So a
 * loop's `stop()` never waits out an idle pause or a backoff.
 *
 * A notify that comes while the loop is busy (not waiting) is kept, and the next wait returns at
 * once: work that arrived during a pass is never left for a whole idle period.
 *
 * Bounded: at most one wait is pending at a time (the loop's own), plus one kept notify flag.
 *
 * @example
 * const idle = new Wakeable();
 * while (!idle.stopped) {
 *   if (!(await step())) await idle.wait(500);
 * }
 * // elsewhere: idle.notify() on new work, idle.stop() to end the loop promptly
 */
export class Wakeable {
  readonly #stop = new AbortController();
  #current: AbortController | undefined;
  #notified = false;

  /** True once {@link stop} was called. */
  get stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  /** Aborted by {@link stop} (not by {@link notify}): pass it to {@link sleep} for backoffs. */
  get signal(): AbortSignal {
    return this.#stop.signal;
  }

  /** Waits up to `ms`; returns early on {@link notify} or {@link stop}, at once if either already happened. */
  async wait(ms: number): Promise<void> {
    if (this.stopped) return;
    if (this.#notified) {
      this.#notified = false;
      return;
    }
    const current = new AbortController();
    this.#current = current;
    try {
      await sleep(ms, current.signal);
    } finally {
      if (this.#current === current) this.#current = undefined;
    }
  }

  /** Ends the current wait, or the next one if the loop is busy. */
  notify(): void {
    if (this.#current) this.#current.abort();
    else this.#notified = true;
  }

  /** Ends the current wait and makes every later one (and every sleep on {@link signal}) return at once. */
  stop(): void {
    this.#stop.abort();
    this.#current?.abort();
  }
}
