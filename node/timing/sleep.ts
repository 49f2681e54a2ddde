import { setTimeout as delay } from "node:timers/promises";

/**
 * Waits `ms` milliseconds, or less when `signal` aborts: it then resolves at once and never
 * rejects, so a loop that sleeps between attempts can be stopped without a try/catch around each
 * pause. The caller checks its own stop flag afterwards. An already aborted signal resolves on the
 * next turn without starting a timer.
 *
 * The timer keeps the process alive, as a plain `setTimeout` does: a service stops its loops
 * through `stop()`, not by letting the event loop run dry.
 *
 * @example
 * while (!stop.signal.aborted) {
 *   await pollOnce();
 *   await sleep(500, stop.signal);
 * }
 */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return;
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch (err) {
    // node:timers/promises rejects with an AbortError when the signal fires: that is our "resolve early".
    if ((err as { name?: string })?.name !== "AbortError") throw err;
  }
}
