import type { AuditEvent } from "../observability/auditLog.ts";
import type { HttpMetrics } from "./metrics.ts";

/** Options of {@link AuditSampler}. */
export interface AuditSamplerOptions {
  /** Where records go (the audit log's append). */
  write: (event: AuditEvent) => void;
  /** A client's window: at most one record per client per window. Default 60 s. */
  windowMs?: number;
  /** Clients tracked at most; the least recently seen is forgotten first (its count stays in {@link AuditSampler.suppressed}). Default 10,000. */
  maxClients?: number;
  /** Records written at most per window over all clients; beyond it attempts are only counted. Default 600. */
  maxRecordsPerWindow?: number;
  /** Clock in ms, for tests. */
  now?: () => number;
}

interface Pending {
  since: number;
  count: number;
  last?: AuditEvent;
}

/**
 * Samples the audit records of refused attempts nobody is accountable for: requests to audited
 * routes without a valid key, and requests refused by a rate limit. Writing each of them with an
 * fsync let anyone grow the log without bound. Instead, per client (an address, or a key for a
 * throttled key): the first attempt is written, later ones in the same minute are counted, and the
 * count is written once the minute ends — with the client's next attempt, or as a `summary` record
 * by {@link sweep}. Every attempt is therefore a record of its own or counted in exactly one
 * record's `suppressed` (until a client is forgotten or the per-window budget is spent: then it is
 * only in the {@link suppressed} counter, which `/metrics` exports).
 *
 * Bounded: at most `maxClients` pending counts, at most `maxRecordsPerWindow` records per window.
 */
export class AuditSampler {
  readonly #write: (event: AuditEvent) => void;
  readonly #window: number;
  readonly #maxClients: number;
  readonly #budget: number;
  readonly #now: () => number;
  readonly #clients = new Map<string, Pending>();
  #budgetSince = Number.NEGATIVE_INFINITY;
  #budgetUsed = 0;
  #suppressed = 0;

  constructor(options: AuditSamplerOptions) {
    this.#write = options.write;
    this.#window = options.windowMs ?? 60_000;
    this.#maxClients = options.maxClients ?? 10_000;
    this.#budget = options.maxRecordsPerWindow ?? 600;
    this.#now = options.now ?? Date.now;
    if (!(this.#window > 0) || !(this.#maxClients >= 1) || !(this.#budget >= 1)) throw new RangeError("audit sampling needs a positive window, client bound and budget");
  }

  /** Attempts counted instead of written one by one, since start. */
  get suppressed(): number {
    return this.#suppressed;
  }

  /** Clients with a window open (at most `maxClients`). */
  get clients(): number {
    return this.#clients.size;
  }

  /** One refused attempt by `client`: written now, or counted for the client's next record. */
  offer(client: string, event: AuditEvent): void {
    const now = this.#now();
    const p = this.#clients.get(client);
    if (p) {
      this.#clients.delete(client);
      this.#clients.set(client, p);
      if (now - p.since >= this.#window && this.#spend(now)) {
        this.#write(p.count > 0 ? { ...event, suppressed: p.count } : event);
        this.#clients.set(client, { since: now, count: 0 });
      } else this.#count(p, event);
      return;
    }
    if (this.#clients.size >= this.#maxClients) this.#clients.delete(this.#clients.keys().next().value!);
    const fresh: Pending = { since: now, count: 0 };
    this.#clients.set(client, fresh);
    if (this.#spend(now)) this.#write(event);
    else this.#count(fresh, event);
  }

  /** Writes the count of every client whose window has ended, and forgets clients that went quiet. */
  sweep(): void {
    const now = this.#now();
    for (const [client, p] of this.#clients) {
      if (now - p.since < this.#window) continue;
      if (p.count === 0) this.#clients.delete(client);
      else if (this.#spend(now)) this.#summarise(client, p, now);
    }
  }

  /** Writes every pending count (within the budget): on shutdown. */
  flush(): void {
    const now = this.#now();
    for (const [client, p] of this.#clients) {
      if (p.count > 0 && this.#spend(now)) this.#summarise(client, p, now);
    }
  }

  #summarise(client: string, p: Pending, now: number): void {
    // The summary carries the fields (time included) of the last attempt it counts.
    this.#write({ ...p.last!, suppressed: p.count, summary: true });
    this.#clients.set(client, { since: now, count: 0 });
  }

  #count(p: Pending, event: AuditEvent): void {
    p.count++;
    p.last = event;
    this.#suppressed++;
  }

  #spend(now: number): boolean {
    if (now - this.#budgetSince >= this.#window) {
      this.#budgetSince = now;
      this.#budgetUsed = 0;
    }
    if (this.#budgetUsed >= this.#budget) return false;
    this.#budgetUsed++;
    return true;
  }
}

/** The API's way to the audit log: {@link createAuditTrail}. */
export interface AuditTrail {
  /** Writes `event`, or offers it to the sampler as an attempt of client `sampledAs`. */
  record(event: AuditEvent, sampledAs?: string): void;
  /** Stops the sweep timer and writes the pending counts. */
  close(): void;
}

/**
 * Wires `audit` (the audit log's append) for the API server: accountable records are written one
 * by one, the rest through an {@link AuditSampler} swept once a window, whose count `/metrics`
 * exports as `hulian_api_audit_suppressed_total`. A failed write goes to `onError`, never to the client.
 */
export function createAuditTrail(
  audit: (event: AuditEvent) => unknown,
  options: { sampling?: Omit<AuditSamplerOptions, "write">; metrics?: HttpMetrics; onError: (err: unknown, event: AuditEvent) => void },
): AuditTrail {
  const write = (event: AuditEvent): void =>
    void Promise.resolve()
      .then(() => audit(event))
      .catch((err: unknown) => options.onError(err, event));
  const sampler = new AuditSampler({ ...options.sampling, write });
  const sweep = setInterval(() => sampler.sweep(), options.sampling?.windowMs ?? 60_000);
  sweep.unref();
  options.metrics?.counter(
    "hulian_api_audit_suppressed_total",
    "Refused admin requests without a valid key, or rate-limited, counted in the audit log instead of written one by one.",
    () => sampler.suppressed,
  );
  return {
    record: (event, sampledAs) => (sampledAs === undefined ? write(event) : sampler.offer(sampledAs, event)),
    close() {
      clearInterval(sweep);
      sampler.flush();
    },
  };
}
