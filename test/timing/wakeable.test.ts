import { describe, expect, test } from "vitest";
import { sleep } from "../../node/timing/sleep.ts";
import { Wakeable } from "../../node/timing/wakeable.ts";

/** Longer than any test may take: a wait that resolves did so early, or the test times out. */
const TEN_MINUTES = 600_000;

describe("sleep", () => {
  test("default: resolves after its time when nothing aborts it", async () => {
    await expect(sleep(5)).resolves.toBeUndefined();
    await expect(sleep(5, new AbortController().signal)).resolves.toBeUndefined();
  });

  test("behavior: an abort ends a ten-minute sleep early, resolving (not rejecting)", async () => {
    const stop = new AbortController();
    const slept = sleep(TEN_MINUTES, stop.signal);
    stop.abort();
    await expect(slept).resolves.toBeUndefined();
  });

  test("behavior: an already aborted signal resolves at once", async () => {
    await expect(sleep(TEN_MINUTES, AbortSignal.abort())).resolves.toBeUndefined();
  });

  test("behavior: many sleeps on one long-lived signal leave no abort listener behind", async () => {
    const stop = new AbortController();
    let listeners = 0;
    let added = 0;
    const { addEventListener, removeEventListener } = stop.signal;
    stop.signal.addEventListener = function (...args: Parameters<AbortSignal["addEventListener"]>) {
      listeners++;
      added++;
      return addEventListener.apply(this, args);
    };
    stop.signal.removeEventListener = function (...args: Parameters<AbortSignal["removeEventListener"]>) {
      listeners--;
      return removeEventListener.apply(this, args);
    };
    for (let i = 0; i < 50; i++) await sleep(0, stop.signal);
    expect(added).toBe(50);
    expect(listeners).toBe(0);
  });
});

describe("Wakeable", () => {
  test("default: wait resolves after its time", async () => {
    await expect(new Wakeable().wait(5)).resolves.toBeUndefined();
  });

  test("behavior: notify ends a ten-minute wait", async () => {
    const idle = new Wakeable();
    const waited = idle.wait(TEN_MINUTES);
    idle.notify();
    await expect(waited).resolves.toBeUndefined();
    expect(idle.stopped).toBe(false);
  });

  test("behavior: a notify while the loop is busy ends the next wait at once, once", async () => {
    const idle = new Wakeable();
    idle.notify();
    idle.notify();
    await idle.wait(TEN_MINUTES);
    // Kept once only: the next wait runs its time (here a short one).
    await idle.wait(5);
  });

  test("behavior: stop ends the current wait, every later wait and every sleep on its signal", async () => {
    const idle = new Wakeable();
    const waited = idle.wait(TEN_MINUTES);
    const backedOff = sleep(TEN_MINUTES, idle.signal);
    idle.stop();
    await Promise.all([waited, backedOff]);
    expect(idle.stopped).toBe(true);
    await idle.wait(TEN_MINUTES);
    await sleep(TEN_MINUTES, idle.signal);
  });

  test("behavior: notify does not cut a backoff on the stop signal short", async () => {
    const idle = new Wakeable();
    const backedOff = sleep(TEN_MINUTES, idle.signal);
    let ended = false;
    void backedOff.then(() => (ended = true));
    idle.notify();
    await sleep(20);
    expect(ended).toBe(false);
    idle.stop();
    await backedOff;
  });
});
