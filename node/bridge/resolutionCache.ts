import type { Hex } from "viem";
import type { Resolution } from "../directory/directoryClient.ts";

/** Asks the payee's node; `payer` is the paying customer's reference, when there is one. */
export type Resolver = (handle: string, walletCode: string, payer?: Hex) => Promise<Resolution>;

/** Options of {@link ResolutionCache}. */
export interface ResolutionCacheOptions {
  /** How long a resolution is reused, ms. 0 turns the cache off. Default 10 s. */
  ttlMs?: number;
  /**
   * Spreads expiries: each resolution lives between `(1 - jitter) × ttlMs` and `ttlMs`, so
   * resolutions made together (a burst of first payments, a bulk request) are not all asked
   * again in the same instant. 0–1, default 0.
   */
  jitter?: number;
  /**
   * For this long after it expires, a resolution is still returned at once while one refresh
   * runs in the background (stale-while-revalidate); a payment then never waits for the
   * directory because a payee's entry aged. Default 0 (an expired entry is asked again first).
   */
  staleMs?: number;
  /** Most resolutions kept; the oldest are dropped first. Default 50,000. */
  maxEntries?: number;
  now?: () => number;
  /** Random numbers in [0, 1), for the jitter (tests pin it). */
  random?: () => number;
}

interface Entry {
  /** When the entry stops being fresh. */
  expires: number;
  value: Resolution;
}

/**
 * Reuses recent `handle@WALLET` resolutions for cross-wallet payments.
 *
 * Why: each resolution is a signed node-to-node request whose signature the payee's node recovers
 * (secp256k1 in JavaScript, about 4 ms of CPU there and 0.6–1.5 ms here, synchronous: it holds up
 * every other request meanwhile). Profiles of the end-to-end benchmark showed it as the largest
 * cost of a cross-wallet payment, while customers pay the same payees again and again; and when the
 * entries of many payees expired in the same instant, their refreshes stalled the node for hundreds
 * of milliseconds (hence `jitter` and `staleMs`).
 *
 * Safety: a payee reference is an HMAC of the payee's account id, so it never changes for an
 * account; if the account closes within the TTL (or while a stale entry is refreshed), the payment
 * settles, the payee's node finds the account closed and returns the money, which is exactly what
 * happens to a payment already in flight when an account closes. The payee's node answers a handle
 * that no open account has exactly like a real one (so that the directory does not tell who is a
 * customer), so this cache cannot tell them apart and keeps both: a payment to a handle whose
 * account opened after it was looked up here, within the TTL and stale time, is returned to the
 * payer like any payment to an unknown handle. Concurrent requests for the same payee share one
 * resolution; the first caller's `payer` goes with it.
 */
export class ResolutionCache {
  readonly #resolve: Resolver;
  readonly #ttlMs: number;
  readonly #jitter: number;
  readonly #staleMs: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Map<string, Promise<Resolution>>();

  constructor(resolve: Resolver, options: ResolutionCacheOptions = {}) {
    this.#resolve = resolve;
    this.#ttlMs = options.ttlMs ?? 10_000;
    this.#jitter = Math.min(1, Math.max(0, options.jitter ?? 0));
    this.#staleMs = Math.max(0, options.staleMs ?? 0);
    this.#max = Math.max(1, options.maxEntries ?? 50_000);
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /** A resolution of `handle@walletCode`, reused while fresh (or, within `staleMs`, while refreshed). */
  resolve(handle: string, walletCode: string, payer?: Hex): Promise<Resolution> {
    if (this.#ttlMs <= 0) return this.#resolve(handle, walletCode, payer);
    const key = `${walletCode}\u0000${handle}`;
    const hit = this.#entries.get(key);
    if (hit) {
      const now = this.#now();
      if (now < hit.expires) return Promise.resolve(hit.value);
      if (now < hit.expires + this.#staleMs) {
        // Stale: answer now, refresh once in the background; a failed refresh leaves the entry.
        if (!this.#inFlight.has(key)) this.#fetch(key, handle, walletCode, payer).catch(() => {});
        return Promise.resolve(hit.value);
      }
    }
    return this.#inFlight.get(key) ?? this.#fetch(key, handle, walletCode, payer);
  }

  #fetch(key: string, handle: string, walletCode: string, payer: Hex | undefined): Promise<Resolution> {
    const fresh = this.#resolve(handle, walletCode, payer).then(
      (value) => {
        this.#inFlight.delete(key);
        this.#entries.delete(key);
        const ttl = this.#ttlMs * (1 - this.#jitter * this.#random());
        this.#entries.set(key, { expires: this.#now() + ttl, value });
        if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
        return value;
      },
      (e: unknown) => {
        this.#inFlight.delete(key);
        throw e;
      },
    );
    this.#inFlight.set(key, fresh);
    return fresh;
  }
}
