import type { Store } from "../store/store.ts";
import type { StagedOp } from "../store/types.ts";
import { KEY_SEP, compoundKey, seqKey } from "../store/keys.ts";
import { HulianError } from "../store/errors.ts";
import { SYSTEM_ACCOUNTS, isSystemAccount, mayGoNegative, systemAccount } from "./accounts.ts";
import type { Account, OpenAccountInput } from "./accounts.ts";
import { encodeEntry, entryFromRecord, validateDraft } from "./entries.ts";
import type { Entry, EntryDraft, EntryRecord, JsonValue } from "./entries.ts";
import {
  AccountClosedError,
  AccountNotEmptyError,
  AccountNotFoundError,
  HandleTakenError,
  InsufficientFundsError,
  InsufficientReserveError,
  InvalidTransactionError,
} from "./errors.ts";
import { normalizeHandle } from "./handles.ts";
import { readHistory } from "./history.ts";
import type { HistoryOptions, HistoryPage } from "./history.ts";
import { Idempotency } from "./idempotency.ts";
import type { IdempotencyClaim, IdempotencyRequest } from "./idempotency.ts";
import { newCustomerId } from "./ids.ts";

/**
 * Key, in the `balances` sublevel, of the checkpoint position: the sequence
 * number of the last journal entry that the stored balances include. It is
 * never an account id (those are `c_…` or `op:…`).
 */
export const BALANCES_CHECKPOINT_KEY = "~checkpoint";

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
 * What one ledger transaction can do. Everything staged through it is
 * validated against the balances as they stand after the earlier steps of
 * the same transaction, and becomes visible to others only if the
 * transaction callback returns normally.
 */
export interface LedgerTx {
  /** Validates and stages a journal entry; returns it with its id. */
  stage(draft: EntryDraft): Entry;
  /** Stages a new customer account (handle normalised, must be free). */
  openAccount(input: OpenAccountInput): Account;
  /** Stages closing an account; its balance must be zero. */
  closeAccount(id: string): Account;
  /** Adds another module's operations (outbox item, payment record, cursor…) to the batch. */
  add(...ops: StagedOp[]): void;
  /** Balance of `id` including what this transaction staged so far. */
  balance(id: string): bigint;
  /** Account `id` including what this transaction staged so far. */
  account(id: string): Account | undefined;
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
    for await (const [id, value] of this.store.sub.accounts.iterator()) {
      const account = value as Account;
      this.#accounts.set(id, account);
      if (account.handle !== undefined) this.#handles.set(account.handle, id);
    }
    let checkpoint: bigint | undefined;
    for await (const [id, value] of this.store.sub.balances.iterator()) {
      if (id === BALANCES_CHECKPOINT_KEY) {
        checkpoint = BigInt(value);
        continue;
      }
      const balance = BigInt(value);
      this.#balances.set(id, balance);
      if (!isSystemAccount(id)) this.#liabilities += balance;
    }
    const last = await this.store.sub.entries.keys({ reverse: true, limit: 1 }).all();
    if (last.length > 0) this.#nextSeq = BigInt(last[0]) + 1n;
    if (checkpoint === undefined) {
      // A new store, or one written when every batch updated the balances: they are
      // current. Record that before anything else is written.
      await this.store.committer.commit([this.#checkpointOp(this.#nextSeq - 1n)]);
      return;
    }
    // Entries committed after the checkpoint: their balances are not stored yet.
    for await (const value of this.store.sub.entries.values({ gt: seqKey(checkpoint) })) {
      for (const p of (value as EntryRecord).postings) {
        const amount = BigInt(p.amount);
        if (!isSystemAccount(p.account)) this.#liabilities += amount;
        this.#balances.set(p.account, this.balance(p.account) + amount);
        this.#dirty.add(p.account);
      }
      this.#sinceCheckpoint++;
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
    return this.#prepareWith(fn, idempotency);
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
    const ops = this.#apply(tx);
    if (lastOp) ops.push(lastOp);
    return { result, entries: tx.entries, ops };
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
    return this.store.committer.commit(ops);
  }

  /**
   * Runs a transaction and commits it; with `idempotency`, claims the key
   * first, stores `fn`'s result as the response in the same batch, and on a
   * repeated request returns the stored response without running `fn`.
   * Throws `IdempotencyConflictError` if the key was used with another body.
   */
  execute<T extends JsonValue>(options: ExecuteOptions, fn: (tx: LedgerTx) => T): Promise<Executed<T>> {
    const req = options.idempotency;
    let claim: IdempotencyClaim | undefined;
    if (req) {
      try {
        // A key never seen before and not in flight is claimed without a disk read or a wait.
        claim = this.idempotency.tryClaim(req);
      } catch (e) {
        return Promise.reject(e);
      }
      if (claim === undefined) return this.#executeAfterLookup(req, fn);
    }
    return this.#run(claim, fn);
  }

  /** {@link execute} for a key that may have been used: waits for its lookup or for the request in flight. */
  async #executeAfterLookup<T extends JsonValue>(req: IdempotencyRequest, fn: (tx: LedgerTx) => T): Promise<Executed<T>> {
    const claimed = await this.idempotency.claim(req);
    if (claimed.status === "replay") {
      return { replayed: true, result: claimed.record.response, entryIds: claimed.record.entryIds };
    }
    return this.#run(claimed.claim, fn);
  }

  /** Runs `fn` as one transaction, with `claim`'s record in the same batch, and commits it. */
  #run<T extends JsonValue>(claim: IdempotencyClaim | undefined, fn: (tx: LedgerTx) => T): Promise<Executed<T>> {
    return this.#runThen(claim, fn, toExecuted);
  }

  /** {@link #run}, resolving to `done(result, entries)` once committed. */
  #runThen<T extends JsonValue, R>(
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
      // The committer encodes the ops now; only what the caller gets back stays referenced.
      committed = this.commit(prepared.ops);
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

  /**
   * Records one movement and waits until it is committed.
   *
   * @example
   * const { entry } = await ledger.post(transferInternal(alice, bob, 1_00n, "lunch"), {
   *   idempotency: { scope: "app", key: "k-1", fingerprint: fingerprint(body) },
   * });
   */
  post(draft: EntryDraft, options: ExecuteOptions = {}): Promise<Posted> {
    const req = options.idempotency;
    let claim: IdempotencyClaim | undefined;
    if (req) {
      try {
        claim = this.idempotency.tryClaim(req);
      } catch (e) {
        return Promise.reject(e);
      }
      if (claim === undefined) {
        return this.#executeAfterLookup(req, (tx) => ({ entryId: tx.stage(draft).id })).then((res) =>
          res.replayed ? this.#replayed(res.entryIds[0]) : { entry: res.entries[0], replayed: false },
        );
      }
    }
    return this.#runThen(claim, (tx) => ({ entryId: tx.stage(draft).id }), toPosted);
  }

  async #replayed(entryId: string): Promise<Posted> {
    const entry = await this.entry(entryId);
    if (!entry) {
      throw new HulianError("ledger_inconsistent", "Idempotency record points at a missing entry.", {
        details: { entryId },
      });
    }
    return { entry, replayed: true };
  }

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
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const balance = values[i];
      if (!isSystemAccount(id)) this.#liabilities += balance - this.balance(id);
      this.#balances.set(id, balance);
      this.#dirty.add(id);
    }
    this.#nextSeq = tx.nextSeq;
    this.#sinceCheckpoint += tx.entries.length;
    if (this.#sinceCheckpoint >= this.#checkpointEvery) this.#stageCheckpoint(ops);
    return ops;
  }
}

function toExecuted<T>(result: T, entries: Entry[]): Executed<T> {
  return { replayed: false, result, entries } as Executed<T>;
}

function toPosted(_result: unknown, entries: Entry[]): Posted {
  return { entry: entries[0], replayed: false };
}

interface BaseView {
  balance(id: string): bigint;
  account(id: string): Account | undefined;
  handle(handle: string): string | undefined;
}

class Tx implements LedgerTx {
  readonly store: Store;
  readonly base: BaseView;
  readonly createdAt: string;
  readonly idempotency: { scope: string; key: string } | undefined;
  /** Balances changed by this transaction: account ids and their new balances, in parallel. */
  readonly balanceIds: string[] = [];
  readonly balanceValues: bigint[] = [];
  /** Accounts and handles staged by this transaction (made on first use). */
  accounts: Map<string, Account> | undefined;
  handles: Map<string, string> | undefined;
  readonly entries: Entry[] = [];
  readonly ops: StagedOp[] = [];
  nextSeq: bigint;

  constructor(
    store: Store,
    base: BaseView,
    nextSeq: bigint,
    createdAt: string,
    idempotency: { scope: string; key: string } | undefined,
  ) {
    this.store = store;
    this.base = base;
    this.nextSeq = nextSeq;
    this.createdAt = createdAt;
    this.idempotency = idempotency;
  }

  balance(id: string): bigint {
    const i = this.#indexOf(id);
    return i === -1 ? this.base.balance(id) : this.balanceValues[i];
  }

  /** Position of `id` in {@link balanceIds}, or -1. */
  #indexOf(id: string): number {
    // Most transactions touch two accounts: a linear search beats a Map and allocates nothing.
    if (this.#index === undefined) return this.balanceIds.indexOf(id);
    return this.#index.get(id) ?? -1;
  }

  /** Index of {@link balanceIds}, made once a transaction touches many accounts. */
  #index: Map<string, number> | undefined;

  #setBalance(id: string, balance: bigint): void {
    const i = this.#indexOf(id);
    if (i !== -1) {
      this.balanceValues[i] = balance;
      return;
    }
    this.balanceIds.push(id);
    this.balanceValues.push(balance);
    if (this.#index !== undefined) this.#index.set(id, this.balanceIds.length - 1);
    else if (this.balanceIds.length > 16) this.#index = new Map(this.balanceIds.map((a, j) => [a, j]));
  }

  account(id: string): Account | undefined {
    if (isSystemAccount(id)) return systemAccount(id);
    return this.accounts?.get(id) ?? this.base.account(id);
  }

  stage(draft: EntryDraft): Entry {
    validateDraft(draft);
    const postings = draft.postings;
    const n = postings.length;
    // Check everything before touching the overlay: a failed entry leaves no trace.
    for (let i = 0; i < n; i++) {
      const p = postings[i];
      // An id that cannot lead a history key (no account has one) throws InvalidKeyError.
      if (p.account.includes(KEY_SEP)) compoundKey(p.account, "");
      // System accounts always exist and are never closed.
      if (isSystemAccount(p.account)) continue;
      const account = this.accounts?.get(p.account) ?? this.base.account(p.account);
      if (!account) throw new AccountNotFoundError({ id: p.account });
      const closedAllowed = p.amount > 0n ? draft.allowClosedCredit : draft.allowClosedDebit;
      if (account.status === "closed" && !closedAllowed) {
        throw new AccountClosedError(p.account);
      }
    }
    const after = new Array<bigint>(n);
    for (let i = 0; i < n; i++) {
      const p = postings[i];
      const before = this.balance(p.account);
      const next = before + p.amount;
      if (next < 0n && !mayGoNegative(p.account)) {
        if (p.account === SYSTEM_ACCOUNTS.float) throw new InsufficientReserveError(before, -p.amount);
        throw new InsufficientFundsError(p.account, before, -p.amount);
      }
      after[i] = next;
    }
    const seq = this.nextSeq;
    const id = seqKey(seq);
    const entryPostings = new Array<{ account: string; amount: bigint }>(n);
    for (let i = 0; i < n; i++) entryPostings[i] = { account: postings[i].account, amount: postings[i].amount };
    const entry: Entry = { id, seq, kind: draft.kind, postings: entryPostings, createdAt: this.createdAt };
    if (draft.ref !== undefined) entry.ref = draft.ref;
    if (draft.meta !== undefined) entry.meta = draft.meta;
    if (this.idempotency !== undefined) entry.idempotency = this.idempotency;
    // Encoded now (it is never superseded): a meta that cannot be stored fails this entry, not the batch.
    const value = encodeEntry(entry);
    this.nextSeq = seq + 1n;
    const { sub } = this.store;
    this.ops.push({ type: "put", sublevel: sub.entries, key: id, value });
    for (let i = 0; i < n; i++) {
      const account = entryPostings[i].account;
      this.#setBalance(account, after[i]);
      // History item (key checked above): the balance after the entry; the amount is the entry's posting.
      this.ops.push({ type: "put", sublevel: sub.accountHistory, key: account + KEY_SEP + id, value: after[i].toString() });
    }
    this.entries.push(entry);
    return entry;
  }

  openAccount(input: OpenAccountInput): Account {
    const handle = normalizeHandle(input.handle);
    if (this.handles?.has(handle) || this.base.handle(handle) !== undefined) throw new HandleTakenError(handle);
    const displayName = String(input.displayName ?? "").trim();
    const account: Account = {
      id: newCustomerId(Date.parse(this.createdAt)),
      kind: "customer",
      handle,
      displayName,
      status: "open",
      createdAt: this.createdAt,
    };
    (this.accounts ??= new Map()).set(account.id, account);
    (this.handles ??= new Map()).set(handle, account.id);
    return account;
  }

  closeAccount(id: string): Account {
    const account = this.account(id);
    if (!account || account.kind !== "customer") throw new AccountNotFoundError({ id });
    if (account.status === "closed") return account;
    const balance = this.balance(id);
    if (balance !== 0n) throw new AccountNotEmptyError(id, balance);
    const closed: Account = { ...account, status: "closed", closedAt: this.createdAt };
    (this.accounts ??= new Map()).set(id, closed);
    return closed;
  }

  add(...ops: StagedOp[]): void {
    for (const op of ops) this.ops.push(op);
  }
}
