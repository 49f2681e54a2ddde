import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";

/** Event-loop delay figures of one window, in seconds. */
export interface EventLoopDelayWindow {
  p50: number;
  p99: number;
  max: number;
  /** Delay samples in the window (0 before the first window has completed). */
  samples: number;
}

/** Options of {@link EventLoopDelayMonitor}. */
export interface EventLoopDelayOptions {
  /** Length of one window, ms. Default 10 s. */
  windowMs?: number;
  /** Sampling resolution of `monitorEventLoopDelay`, ms. Default 10. */
  resolutionMs?: number;
}

const EMPTY: EventLoopDelayWindow = Object.freeze({ p50: 0, p99: 0, max: 0, samples: 0 });

/**
 * Measures this process's event-loop delay with `perf_hooks.monitorEventLoopDelay` and keeps the
 * p50, p99 and max of the last completed window (each less the sampling resolution, so an idle
 * loop reads about 0 rather than 10 ms): at each window's end the figures are copied and
 * the histogram reset, so a scrape always sees one whole window (all zeros before the first one
 * completes). The window timer is unref'd: the monitor never keeps the process alive.
 */
export class EventLoopDelayMonitor {
  readonly windowMs: number;
  readonly #resolutionNs: number;
  #histogram: IntervalHistogram;
  #timer: NodeJS.Timeout | undefined;
  #last: EventLoopDelayWindow = EMPTY;

  constructor(options: EventLoopDelayOptions = {}) {
    this.windowMs = options.windowMs ?? 10_000;
    const resolutionMs = options.resolutionMs ?? 10;
    this.#resolutionNs = resolutionMs * 1e6;
    this.#histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  }

  /** Starts measuring (idempotent). */
  start(): this {
    if (this.#timer) return this;
    this.#histogram.reset();
    this.#histogram.enable();
    this.#timer = setInterval(() => this.rollover(), this.windowMs);
    this.#timer.unref();
    return this;
  }

  /** Stops measuring; the last window's figures stay readable. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#histogram.disable();
  }

  /** Ends the current window now: keeps its figures and resets the histogram. */
  rollover(): void {
    const h = this.#histogram;
    // The histogram holds the time between two ticks of its `resolution` timer; the delay is what
    // exceeds the resolution.
    const delay = (ns: number) => Math.max(0, ns - this.#resolutionNs) / 1e9;
    this.#last =
      h.count === 0 ? EMPTY : { p50: delay(h.percentile(50)), p99: delay(h.percentile(99)), max: delay(h.max), samples: h.count };
    h.reset();
  }

  /** The last completed window's figures, in seconds. */
  last(): EventLoopDelayWindow {
    return this.#last;
  }
}

let shared: EventLoopDelayMonitor | undefined;

/** This process's event-loop delay monitor (10 s windows, 10 ms resolution), started on first use. */
export function processEventLoopDelay(): EventLoopDelayMonitor {
  return (shared ??= new EventLoopDelayMonitor().start());
}
