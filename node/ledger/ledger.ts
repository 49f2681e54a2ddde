import type { Store } from "../store/store.ts";
import type { StagedOp } from "../store/types.ts";
import { invariant } from "../store/invariant.ts";
import { SYSTEM_ACCOUNTS, isSystemAccount, systemAccount } from "./accounts.ts";
import type { Account, OpenAccountInput } from "./accounts.ts";
import { entryFromRecord } from "./entries.ts";
import type { Entry, EntryDraft, EntryRecord, JsonValue } from "./entries.ts";
import { InvalidTransactionError, LedgerInconsistentError } from "./errors.ts";
import { normalizeHandle } from "./handles.ts";
import { readHistory } from "./history.ts";
import type { HistoryOptions, HistoryPage } from "./history.ts";
import { Idempotency } from "./idempotency.ts";
import type { IdempotencyClaim, IdempotencyRecord, IdempotencyRequest } from "./idempotency.ts";
import { BALANCES_CHECKPOINT_KEY, loadLedgerState } from "./replay.ts";
import { Tx } from "./tx.ts";
import type { BaseView, LedgerTx } from "./tx.ts";

export { BALANCES_CHECKPOINT_KEY } from "./replay.ts";
export type { LedgerTx } from "./tx.ts";

/**
 * Stored balances are a checkpoint, written with the transaction that
 * completes this many journal entries since the previous one (and by
 * {@link Ledger.checkpoint}); opening replays the journal after it.
 */
const CHECKPOINT_ENTRIES = 8_192;

/** Options of {@link Ledger.open}. */
export interface LedgerOptions {
  /** Clock in epoch milliseconds (tests pin it). Default `Date.now`. */
  now?: () => number;
  /**
   * Journal entries between two balance checkpoints (at most this many are
   * replayed when the ledger opens after a crash). Default 8,192.
   */
  checkpointEvery?: number;
}

/** The staged form of one journal entry. */
export interface Staged {
  entry: Entry;
  ops: StagedOp[];
}

/** Result of {@link Ledger.prepare}: what the callback returned, plus everything to write. */
export interface Prepared<T> {
  result: T;
  entries: Entry[];
  ops: StagedOp[];
}

/** Options of {@link Ledger.execute} and the committing conveniences. */
export interface ExecuteOptions {
  /** Guard the state change with this idempotency key; its record joins the same batch. */
  idempotency?: IdempotencyRequest;
}

/** Result of {@link Ledger.execute}. */
export type Executed<T> =
  | { replayed: false; result: T; entries: Entry[] }
  | { replayed: true; result: JsonValue; entryIds: string[] };

/** Result of {@link Ledger.post}. */
export interface Posted {
  entry: Entry;
  /** True when an idempotent request was repeated and nothing new was written. */
  replayed: boolean;
}

/** Result of {@link Ledger.trialBalance}. */
export interface TrialBalance {
  /** Σ of every account balance; double entry keeps it at 0n. */
  total: bigint;
  balanced: boolean;
  /** Σ customer balances. */
  liabilities: bigint;
  /** Balance of each system account. */
  system: Record<string, bigint>;
}


/**
 * The operator's internal double-entry ledger.
 *
 * Storage: every movement is one journal entry plus one history item per
 * posting (the account's balance after it), written in the same batch as
 * the request's idempotency record. The stored balances are a checkpoint of
 * the journal, not a copy updated by every entry: each balance is written
 * at most once per {@link LedgerOptions.checkpointEvery} entries, in the same batch as
 * the transaction that completes them and together with the sequence number
 * they include ({@link BALANCES_CHECKPOINT_KEY}). Opening loads the
 * checkpoint and replays the journal entries after it, so after a crash at
 * any instant the balances are exactly those of the committed journal.
 * Opening also checks the trial balance (Σ balances = 0, each balance equal
 * to its latest history item) and refuses a store that fails it.
 *
 * Concurrency invariant: balances, accounts and handles live in memory
 * (loaded in full at {@link Ledger.open}). A transaction validates against
 * that memory and updates it in ONE synchronous run of JavaScript
 * ({@link prepare}); only then is the write handed to the store's group
 * committer. Because nothing else can run in between, two requests can
 * never both spend the same money, and memory is always the state that the
 * committed-plus-queued batches produce. Batches are written in order, so
 * disk always holds a prefix of that history. If a batch write fails, the
 * committer refuses everything afterwards: memory is then ahead of disk and
 * the process must restart (reopening rebuilds memory from disk).
 *
 * Every state change goes through one path: {@link prepare} (validate,
 * apply to memory, return the ops) then {@link commit}. {@link execute} and
 * {@link post} do both at once, with an optional idempotency key, through
 * one private `#execute`. The rule "commit what was prepared before the next
 * transaction is applied" is asserted (`invariant_violated`,
 * `commit_before_next_prepare`), not only documented.
 */
export class Ledger {
  /** The store the ledger lives in. */
  readonly store: Store;
  /** Idempotency records (shared with other modules that write through the ledger). */
  readonly idempotency: Idempotency;
  readonly #now: () => number;
  readonly #checkpointEvery: number;
  readonly #balances = new Map<string, bigint>();
  readonly #accounts = new Map<string, Account>();
  readonly #handles = new Map<string, string>();
  #nextSeq = 1n;
  #liabilities = 0n;
  /** Accounts whose balance changed since the last checkpoint was staged. */
  readonly #dirty = new Set<string>();
  /** Journal entries staged since the last checkpoint was staged. */
  #sinceCheckpoint = 0;
  /** Ops returned by {@link prepare} and not yet passed to {@link commit} (one at most). */
  #pending: readonly StagedOp[] | undefined;
  /** Last clock reading and its ISO 8601 text (most transactions share a millisecond). */
  #isoMs = Number.NaN;
  #iso = "";
  /** Read-only view of committed-or-queued state, for transactions. */
  readonly #base: BaseView = {
    balance: (id) => this.#balances.get(id) ?? 0n,
    account: (id) => this.#accounts.get(id),
    handle: (handle) => this.#handles.get(handle),
  };

  private constructor(store: Store, options: LedgerOptions) {
    this.store = store;
    this.idempotency = new Idempotency(store);
    this.#now = options.now ?? Date.now;
    this.#checkpointEvery = Math.max(1, Math.floor(options.checkpointEvery ?? CHECKPOINT_ENTRIES));
  }

  /**
   * Opens the ledger on an open store, loading accounts, handles, balances
   * and the journal position into memory.
   *
   * @example
   * const ledger = await Ledger.open(await openStore(dir));
   * await ledger.post(fundReserve(1_000_000n, "mint-1"));
   */
  static async open(store: Store, options: LedgerOptions = {}): Promise<Ledger> {
    const ledger = new Ledger(store, options);
    await ledger.#load();
    return ledger;
  }

  async #load(): Promise<void> {
    await this.idempotency.load();
    const loaded = await loadLedgerState(this.store, {
      balances: this.#balances,
      accounts: this.#accounts,
      handles: this.#handles,
      dirty: this.#dirty,
    });
    this.#nextSeq = loaded.nextSeq;
    this.#liabilities = loaded.liabilities;
    this.#sinceCheckpoint = loaded.sinceCheckpoint;
    if (loaded.checkpoint === undefined) {
      // A new store, or one written when every batch updated the balances: they are
      // current. Record that before anything else is written.
      await this.store.committer.commit([this.#checkpointOp(this.#nextSeq - 1n)]);
    }
  }

  /**
   * Stages and commits a checkpoint of the balances now (opening then has no
   * journal entries to replay). Optional: checkpoints are also written as
   * entries accumulate.
   */
  checkpoint(): Promise<void> {
    try {
      this.store.committer.assertHealthy();
      this.#assertNothingPending();
    } catch (e) {
      return Promise.reject(e);
    }
    const ops: StagedOp[] = [];
    this.#stageCheckpoint(ops);
    return this.commit(ops);
  }

  #checkpointOp(seq: bigint): StagedOp {
    return { type: "put", sublevel: this.store.sub.balances, key: BALANCES_CHECKPOINT_KEY, value: seq.toString() };
  }

  /**
   * Adds to `ops` the balance of every account moved since the last checkpoint, and the
   * checkpoint position: they reflect every entry staged so far, which are committed in
   * the same batch as `ops` or before it (batches keep the order of staging).
   */
  #stageCheckpoint(ops: StagedOp[]): void {
    const sub = this.store.sub.balances;
    for (const id of this.#dirty) ops.push({ type: "put", sublevel: sub, key: id, value: this.balance(id).toString() });
    ops.push(this.#checkpointOp(this.#nextSeq - 1n));
    this.#dirty.clear();
    this.#sinceCheckpoint = 0;
  }

  /**
   * Runs `fn` synchronously as one transaction: validates and stages what
   * it asks for, and if it returns normally, applies the result to memory
   * and returns the batch operations to commit. If it throws, nothing is
   * applied. `fn` must not be async. Commit the operations (in one
   * {@link commit}, possibly with other modules' operations) before the next
   * transaction is prepared: memory must stay the state of the committed and
   * queued batches, and the operations may carry a balance checkpoint.
   */
  prepare<T>(fn: (tx: LedgerTx) => T, idempotency?: { scope: string; key: string }): Prepared<T> {
    const prepared = this.#prepareWith(fn, idempotency);
    // Until these ops reach commit(), nothing else may be applied (see #assertNothingPending).
    if (prepared.ops.length > 0) this.#pending = prepared.ops;
    return prepared;
  }

  /**
   * {@link prepare}, with `last(result, entries)` staged after the transaction's own operations.
   * `last` runs before anything is applied to memory, so if it throws (a response that cannot be
   * encoded, say) memory stays exactly what the disk holds.
   */
  #prepareWith<T>(
    fn: (tx: LedgerTx) => T,
    idempotency: { scope: string; key: string } | undefined,
    last?: (result: T, entries: Entry[]) => StagedOp,
  ): Prepared<T> {
    this.store.committer.assertHealthy();
    const tx = new Tx(this.store, this.#base, this.#nextSeq, this.#nowIso(), idempotency);
    const result = fn(tx);
    if (result instanceof Promise) throw new InvalidTransactionError("the callback must be synchronous");
    const lastOp = last?.(result, tx.entries);
    // Checked once the transaction validated: one that fails its own checks applies nothing and
    // reports its own error, but one that would apply must come after the previous commit.
    this.#assertNothingPending();
    const ops = this.#apply(tx);
    if (lastOp) ops.push(lastOp);
    return { result, entries: tx.entries, ops };
  }

  /**
   * "Commit before the next prepare": memory must stay the state of the committed and queued
   * batches, in the order they were prepared (their ops may carry a balance checkpoint that
   * includes every entry applied so far). Ops returned by {@link prepare} and not yet handed to
   * {@link commit} break that.
   */
  #assertNothingPending(): void {
    invariant(this.#pending === undefined, "commit_before_next_prepare", "a transaction was prepared while the previous one's ops were not committed", () => ({
      pendingOps: this.#pending?.length,
    }));
  }

  /**
   * Validates one journal entry, applies it to memory and returns it with
   * its batch operations (entry, history items, now and then a balance
   * checkpoint). Commit them with {@link commit}, alone or with other
   * modules' operations, before staging anything else.
   *
   * @example
   * const { entry, ops } = ledger.stage(reserveOutbound(alice, 500n, paymentId));
   * await ledger.commit([...ops, outboxPut]);
   */
  stage(draft: EntryDraft): Staged {
    const { result, ops } = this.prepare((tx) => tx.stage(draft));
    return { entry: result, ops };
  }

  /** Writes staged operations through the store's group committer. */
  commit(ops: readonly StagedOp[]): Promise<void> {
    const pending = this.#pending;
    if (pending !== undefined && (ops === pending || ops.includes(pending[0]))) this.#pending = undefined;
    return this.store.committer.commit(ops);
  }

  /**
   * Runs a transaction and commits it; with `idempotency`, claims the key
   * first, stores `fn`'s result as the response in the same batch, and on a
   * repeated request returns the stored response without running `fn`.
   * Throws `IdempotencyConflictError` if the key was used with another body.
   */
  execute<T extends JsonValue>(options: ExecuteOptions, fn: (tx: LedgerTx) => T): Promise<Executed<T>> {
    return this.#execute(options.idempotency, fn, toExecuted, replayedExecution);
  }

  /**
   * Records one movement and waits until it is committed.
   *
   * @example
   * const { entry } = await ledger.post(transferInternal(alice, bob, 1_00n, "lunch"), {
   *   idempotency: { scope: "app", key: "k-1", fingerprint: fingerprint(body) },
   * });
   */
  post(draft: EntryDraft, options: ExecuteOptions = {}): Promise<Posted> {
    return this.#execute(options.idempotency, (tx) => ({ entryId: tx.stage(draft).id }), toPosted, this.#replayedPost);
  }

  /**
   * The one way a transaction is run and committed. With `req`, the key is claimed first: a key
   * never seen and not in flight is claimed at once (no disk read, no extra promise hop: the hot
   * path of {@link post}); otherwise its lookup or the request in flight is awaited, and a repeat
   * resolves to `replay(record)` without running `fn`. Resolves to `done(result, entries)` once
   * the batch holding the transaction (and the idempotency record) is written.
   */
  #execute<T extends JsonValue, R>(
    req: IdempotencyRequest | undefined,
    fn: (tx: LedgerTx) => T,
    done: (result: T, entries: Entry[]) => R,
    replay: (record: IdempotencyRecord) => R | Promise<R>,
  ): Promise<R> {
    if (req === undefined) return this.#commitTx(undefined, fn, done);
    let claim: IdempotencyClaim | undefined;
    try {
      claim = this.idempotency.tryClaim(req);
    } catch (e) {
      return Promise.reject(e);
    }
    if (claim !== undefined) return this.#commitTx(claim, fn, done);
    return this.idempotency.claim(req).then((claimed) =>
      claimed.status === "replay" ? replay(claimed.record) : this.#commitTx(claimed.claim, fn, done),
    );
  }

  /** Runs `fn` as one transaction, with `claim`'s record in the same batch, and commits it. */
  #commitTx<T extends JsonValue, R>(
    claim: IdempotencyClaim | undefined,
    fn: (tx: LedgerTx) => T,
    done: (result: T, entries: Entry[]) => R,
  ): Promise<R> {
    let committed: Promise<void>;
    let result: T;
    let entries: Entry[];
    try {
      const req = claim?.request;
      // The idempotency record is encoded before the transaction touches memory (see #prepareWith).
      const stageRecord =
        claim &&
        ((res: T, staged: Entry[]) => {
          const ids = new Array<string>(staged.length);
          for (let i = 0; i < staged.length; i++) ids[i] = staged[i].id;
          // Same time as the transaction (prepare just read the clock).
          return claim.stage(res, ids, this.#iso);
        });
      const prepared = this.#prepareWith(fn, req && { scope: req.scope, key: req.key }, stageRecord);
      result = prepared.result;
      entries = prepared.entries;
      // Handed to the committer in the same synchronous run, so nothing is ever pending here.
      // The committer encodes the ops now; only what the caller gets back stays referenced.
      committed = this.store.committer.commit(prepared.ops);
    } catch (e) {
      claim?.release();
      return Promise.reject(e);
    }
    return committed.then(
      () => {
        claim?.settle();
        return done(result, entries);
      },
      (e: unknown) => {
        claim?.release();
        throw e;
      },
    );
  }

  readonly #replayedPost = async (record: IdempotencyRecord): Promise<Posted> => {
    const entryId = record.entryIds[0];
    const entry = await this.entry(entryId);
    if (!entry) throw new LedgerInconsistentError("Idempotency record points at a missing entry.", { entryId });
    return { entry, replayed: true };
  };

  /** Opens a customer account and waits until it is committed. */
  async openAccount(input: OpenAccountInput, options: ExecuteOptions = {}): Promise<{ account: Account; replayed: boolean }> {
    const res = await this.execute(options, (tx) => tx.openAccount(input) as unknown as JsonValue);
    return { account: res.result as unknown as Account, replayed: res.replayed };
  }

  /** Closes a customer account (balance must be zero) and waits until it is committed. */
  async closeAccount(id: string, options: ExecuteOptions = {}): Promise<Account> {
    const res = await this.execute(options, (tx) => tx.closeAccount(id) as unknown as JsonValue);
    return res.result as unknown as Account;
  }

  /** Balance of an account in minor units (0n for unknown accounts). */
  balance(id: string): bigint {
    return this.#balances.get(id) ?? 0n;
  }

  /** A customer or system account by id. */
  account(id: string): Account | undefined {
    if (isSystemAccount(id)) return systemAccount(id);
    return this.#accounts.get(id);
  }

  /** A customer account by handle (normalised first; invalid handles throw `InvalidHandleError`). */
  accountByHandle(handle: string): Account | undefined {
    const id = this.#handles.get(normalizeHandle(handle));
    return id === undefined ? undefined : this.#accounts.get(id);
  }

  /** A journal entry by id, from disk (committed entries only). */
  async entry(id: string): Promise<Entry | undefined> {
    const rec = (await this.store.sub.entries.get(id)) as EntryRecord | undefined;
    return rec && entryFromRecord(rec);
  }

  /** One page of an account's committed history, newest first. */
  history(accountId: string, options: HistoryOptions = {}): Promise<HistoryPage> {
    return readHistory(this.store, accountId, options);
  }

  /** Σ customer balances: what the operator owes its customers. */
  liabilities(): bigint {
    return this.#liabilities;
  }

  /** Sum of all balances (must be 0n), with liabilities and system balances. */
  trialBalance(): TrialBalance {
    let total = 0n;
    for (const b of this.#balances.values()) total += b;
    const system: Record<string, bigint> = {};
    for (const id of Object.values(SYSTEM_ACCOUNTS)) system[id] = this.balance(id);
    return { total, balanced: total === 0n, liabilities: this.#liabilities, system };
  }

  /**
   * Every customer account with its balance, sorted by id, taken
   * synchronously (a consistent snapshot, for reserve attestation).
   */
  customerBalances(): { accountId: string; balance: bigint }[] {
    const out: { accountId: string; balance: bigint }[] = [];
    for (const id of [...this.#accounts.keys()].sort()) out.push({ accountId: id, balance: this.balance(id) });
    return out;
  }

  /** Number of journal entries staged so far (committed or queued). */
  get entryCount(): bigint {
    return this.#nextSeq - 1n;
  }

  /** The clock as ISO 8601 text. */
  #nowIso(): string {
    const ms = this.#now();
    if (ms !== this.#isoMs) {
      this.#iso = new Date(ms).toISOString();
      this.#isoMs = ms;
    }
    return this.#iso;
  }

  #apply(tx: Tx): StagedOp[] {
    const { sub } = this.store;
    const ops = tx.ops;
    if (tx.accounts) {
      for (const [id, account] of tx.accounts) {
        this.#accounts.set(id, account);
        if (account.handle !== undefined) this.#handles.set(account.handle, id);
        ops.push({ type: "put", sublevel: sub.accounts, key: id, value: account });
      }
    }
    if (tx.handles) for (const [handle, id] of tx.handles) ops.push({ type: "put", sublevel: sub.handles, key: handle, value: id });
    const ids = tx.balanceIds;
    const values = tx.balanceValues;
    let moved = 0n;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const balance = values[i];
      const delta = balance - this.balance(id);
      moved += delta;
      if (!isSystemAccount(id)) this.#liabilities += delta;
      this.#balances.set(id, balance);
      this.#dirty.add(id);
    }
    // Each entry was checked to balance (validateDraft); this holds the whole transaction to it.
    invariant(moved === 0n, "postings_sum_to_zero", "a transaction's postings do not sum to zero", () => ({ sum: moved.toString() }));
    this.#nextSeq = tx.nextSeq;
    this.#sinceCheckpoint += tx.entries.length;
    if (this.#sinceCheckpoint >= this.#checkpointEvery) this.#stageCheckpoint(ops);
    return ops;
  }
}

function toExecuted<T>(result: T, entries: Entry[]): Executed<T> {
  return { replayed: false, result, entries } as Executed<T>;
}

function replayedExecution(record: IdempotencyRecord): Executed<never> {
  return { replayed: true, result: record.response, entryIds: record.entryIds };
}

function toPosted(_result: unknown, entries: Entry[]): Posted {
  return { entry: entries[0], replayed: false };
}

