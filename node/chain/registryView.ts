import type { Address, Hex, PublicClient } from "viem";
import { walletRegistryAbi } from "./abi/generated.ts";

/** Status codes as in `IWalletRegistry.OperatorStatus`. */
export const OPERATOR_STATUS = ["None", "Pending", "Active", "Suspended", "Exited"] as const;
export type OperatorStatusName = (typeof OPERATOR_STATUS)[number];

export interface OperatorRecord {
  walletId: Hex;
  name: string;
  settlementAccount: Address;
  validator: Address;
  endpoint: string;
  status: OperatorStatusName;
  suspensionReason: number;
}

/** Options of {@link RegistryView}. */
export interface RegistryViewOptions {
  /** How long a read (of a member, or of a walletId that is none) is reused, ms. Default 5 s. */
  ttlMs?: number;
  /** Operators kept at most; the least recently used go first. Default 1,024. */
  maxEntries?: number;
  /** walletIds that are no member, kept at most (a negative cache). Default 4,096. */
  maxUnknown?: number;
  now?: () => number;
}

interface Cached {
  at: number;
  value: Promise<OperatorRecord | undefined>;
}

/**
 * Reads operators from WalletRegistry with a short, bounded cache: node-to-node calls look up the
 * caller and the payee's endpoint on every request, and membership changes are rare.
 *
 * Bounded: at most `maxEntries` operators and `maxUnknown` non-members are cached (LRU). For
 * {@link member} — the lookup an unauthenticated request triggers — a walletId that is not cached
 * is first looked for in the list of walletIds that ever applied (`WalletRegistry.walletIds()`,
 * read at most once per `ttlMs`, as long as the registry's own list); one that is not there is
 * refused without a chain read of its own. A flood of requests claiming random walletIds thus costs
 * at most one chain read per `ttlMs` and no memory beyond the bounds.
 */
export class RegistryView {
  readonly #client: PublicClient;
  readonly #address: Address;
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #maxUnknown: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, Cached>();
  readonly #unknown = new Map<string, number>();
  /** Every walletId that ever applied, lower-case, and when it was read (see {@link member}). */
  #applied: { at: number; ids: Promise<ReadonlySet<string>> } | undefined;

  constructor(client: PublicClient, address: Address, options: RegistryViewOptions | number = {}) {
    const o = typeof options === "number" ? { ttlMs: options } : options;
    this.#client = client;
    this.#address = address;
    this.#ttlMs = o.ttlMs ?? 5_000;
    this.#max = Math.max(1, o.maxEntries ?? 1_024);
    this.#maxUnknown = Math.max(1, o.maxUnknown ?? 4_096);
    this.#now = o.now ?? Date.now;
  }

  /** Entries cached (members and non-members): never more than `maxEntries + maxUnknown`. */
  get size(): number {
    return this.#cache.size + this.#unknown.size;
  }

  /** The operator with this walletId, or undefined when none applied. */
  operator(walletId: Hex): Promise<OperatorRecord | undefined> {
    const key = walletId.toLowerCase();
    const now = this.#now();
    const hit = this.#fresh(key, now);
    if (hit) return hit;
    const value = this.#load(walletId);
    this.#remember(key, value, now);
    return value;
  }

  /**
   * Like {@link operator}, for a walletId an unauthenticated caller claims: one that is not cached
   * is read only when it is in the list of walletIds that ever applied.
   */
  async member(walletId: Hex): Promise<OperatorRecord | undefined> {
    const key = walletId.toLowerCase();
    const now = this.#now();
    const hit = this.#fresh(key, now);
    if (hit) return hit;
    if (!(await this.#appliedIds(now)).has(key)) {
      this.#markUnknown(key, now);
      return undefined;
    }
    return this.operator(walletId);
  }

  #appliedIds(now: number): Promise<ReadonlySet<string>> {
    if (this.#applied && now - this.#applied.at < this.#ttlMs) return this.#applied.ids;
    const ids = (
      this.#client.readContract({ address: this.#address, abi: walletRegistryAbi, functionName: "walletIds" }) as Promise<readonly Hex[]>
    ).then((list) => new Set(list.map((id) => id.toLowerCase())));
    const entry = { at: now, ids };
    this.#applied = entry;
    ids.catch(() => {
      if (this.#applied === entry) this.#applied = undefined;
    });
    return ids;
  }

  /** Forgets cached entries (after a governance change). */
  invalidate(): void {
    this.#cache.clear();
    this.#unknown.clear();
    this.#applied = undefined;
  }

  #markUnknown(key: string, now: number): void {
    this.#unknown.delete(key);
    this.#unknown.set(key, now);
    if (this.#unknown.size > this.#maxUnknown) this.#unknown.delete(this.#unknown.keys().next().value!);
  }

  #fresh(key: string, now: number): Promise<OperatorRecord | undefined> | undefined {
    const unknownAt = this.#unknown.get(key);
    if (unknownAt !== undefined) {
      if (now - unknownAt < this.#ttlMs) return Promise.resolve(undefined);
      this.#unknown.delete(key);
    }
    const hit = this.#cache.get(key);
    if (!hit) return undefined;
    this.#cache.delete(key);
    if (now - hit.at >= this.#ttlMs) return undefined;
    this.#cache.set(key, hit); // most recently used last
    return hit.value;
  }

  #remember(key: string, value: Promise<OperatorRecord | undefined>, now: number): void {
    this.#cache.set(key, { at: now, value });
    if (this.#cache.size > this.#max) this.#cache.delete(this.#cache.keys().next().value!);
    value.then(
      (record) => {
        if (record || this.#cache.get(key)?.value !== value) return;
        // A non-member moves to the negative cache, which holds a timestamp instead of a promise.
        this.#cache.delete(key);
        this.#markUnknown(key, now);
      },
      () => {
        if (this.#cache.get(key)?.value === value) this.#cache.delete(key);
      },
    );
  }

  async #load(walletId: Hex): Promise<OperatorRecord | undefined> {
    const status = Number(
      await this.#client.readContract({ address: this.#address, abi: walletRegistryAbi, functionName: "statusOf", args: [walletId] }),
    );
    if (status === 0) return undefined;
    return readOperator(this.#client, this.#address, walletId);
  }
}

/** One operator as WalletRegistry stores it (reverts for a walletId that never applied). */
export async function readOperator(client: PublicClient, registry: Address, walletId: Hex): Promise<OperatorRecord> {
  const op = (await client.readContract({ address: registry, abi: walletRegistryAbi, functionName: "getOperator", args: [walletId] })) as {
    walletId: Hex;
    name: string;
    settlementAccount: Address;
    validator: Address;
    endpoint: string;
    status: number;
    suspensionReason: number;
  };
  return {
    walletId: op.walletId,
    name: op.name,
    settlementAccount: op.settlementAccount,
    validator: op.validator,
    endpoint: op.endpoint,
    status: OPERATOR_STATUS[op.status] ?? "None",
    suspensionReason: Number(op.suspensionReason),
  };
}
