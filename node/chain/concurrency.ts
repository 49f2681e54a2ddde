/**
 * How many JSON-RPC HTTP requests one client keeps in flight, and so how many sockets it opens to
 * the node. Besu closes connections past `rpc-http-max-active-connections` (80 by default), which
 * every process of an operator (node, explorer, auditors) shares.
 */
export const DEFAULT_RPC_CONCURRENCY = 16;

/** Work queued behind a full {@link Semaphore} beyond this many waiters is refused, not buffered. */
export const DEFAULT_MAX_WAITING = 100_000;

/** A {@link Semaphore}'s queue is full: the caller issued far more work than it can ever drain. */
export class ConcurrencyQueueFullError extends Error {
  override name = "ConcurrencyQueueFullError";
  readonly waiting: number;
  constructor(waiting: number) {
    super(`more than ${waiting} calls are waiting for a free slot`);
    this.waiting = waiting;
  }
}

/**
 * At most `max` tasks run at once; the rest wait in arrival order (at most `maxWaiting` of them).
 *
 * Invariant: `active <= max`, and a slot is handed straight to the oldest waiter when it frees up.
 *
 * @example
 * const gate = new Semaphore(16);
 * await gate.run(() => fetch(url));
 */
export class Semaphore {
  readonly max: number;
  readonly maxWaiting: number;
  #active = 0;
  #peak = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(max: number, maxWaiting = DEFAULT_MAX_WAITING) {
    if (!Number.isSafeInteger(max) || max < 1) throw new Error(`a concurrency limit is a positive integer, not ${max}`);
    this.max = max;
    this.maxWaiting = maxWaiting;
  }

  /** Tasks running now. */
  get active(): number {
    return this.#active;
  }

  /** Most tasks that ever ran at once (never above {@link max}). */
  get peak(): number {
    return this.#peak;
  }

  /** Runs `task` once a slot is free. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.#acquire();
    try {
      return await task();
    } finally {
      this.#release();
    }
  }

  #acquire(): Promise<void> | void {
    if (this.#active < this.max) {
      this.#enter();
      return;
    }
    if (this.#waiting.length >= this.maxWaiting) throw new ConcurrencyQueueFullError(this.maxWaiting);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #enter(): void {
    this.#active++;
    if (this.#active > this.#peak) this.#peak = this.#active;
    if (this.#active > this.max) throw new Error(`semaphore invariant broken: ${this.#active} > ${this.max}`);
  }

  #release(): void {
    this.#active--;
    const next = this.#waiting.shift();
    if (next) {
      this.#enter();
      next();
    }
  }
}

/**
 * `fn` over `items` with at most `limit` calls in flight; results in input order. Rejects with the
 * first failure (calls already started run to their end; no new ones start).
 *
 * @example
 * const blocks = await mapConcurrent(numbers, 32, (n) => client.getBlock({ blockNumber: n }));
 */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`a concurrency limit is a positive integer, not ${limit}`);
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  async function worker(): Promise<void> {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * A `fetch` that keeps at most `max` requests in flight (and so at most `max` keep-alive sockets
 * to the node: Node's fetch reuses idle connections). A slot is held until the response body is
 * read, since the socket is busy until then. For viem's `http(url, { fetchFn })`.
 */
export function limitedFetch(max = DEFAULT_RPC_CONCURRENCY, inner: Fetch = globalThis.fetch): Fetch & { gate: Semaphore } {
  const gate = new Semaphore(max);
  const fetchFn = (input: string | URL | Request, init?: RequestInit) =>
    gate.run(async () => {
      const response = await inner(input, init);
      const body = await response.arrayBuffer();
      // A null-body status (204, 304…) may not carry even an empty body in a Response.
      const nullBody = response.status === 101 || response.status === 204 || response.status === 205 || response.status === 304;
      return new Response(nullBody ? null : body, { status: response.status, statusText: response.statusText, headers: response.headers });
    });
  return Object.assign(fetchFn, { gate });
}
