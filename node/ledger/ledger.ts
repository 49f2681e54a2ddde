import type { Store } from "../store/store.ts";
import type { StagedOp } from "../store/types.ts";
import { seqKey } from "../store/keys.ts";
import { HulianError } from "../store/errors.ts";
import { SYSTEM_ACCOUNTS, isSystemAccount, mayGoNegative, systemAccount } from "./accounts.ts";
import type { Account, OpenAccountInput } from "./accounts.ts";
import { entryFromRecord, entryToRecord, validateDraft } from "./entries.ts";
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
import { historyKey, readHistory } from "./history.ts";
import type { HistoryOptions, HistoryPage, HistoryRecord } from "./history.ts";
import { Idempotency } from "./idempotency.ts";
import type { IdempotencyClaim, IdempotencyRequest } from "./idempotency.ts";
import { newCustomerId } from "./ids.ts";

/** Options of {@link Ledger.open}. */
export interface LedgerOptions {
  /** Clock in epoch milliseconds (tests pin it). Default `Date.now`. */
  now?: () => number;
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
  readonly #balances = new Map<string, bigint>();
  readonly #accounts = new Map<string, Account>();
  readonly #handles = new Map<string, string>();
  #nextSeq = 1n;
  #liabilities = 0n;
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
    for await (const [id, value] of this.store.sub.balances.iterator()) {
      const balance = BigInt(value);
      this.#balances.set(id, balance);
      if (!isSystemAccount(id)) this.#liabilities += balance;
    }
    const last = await this.store.sub.entries.keys({ reverse: true, limit: 1 }).all();
    if (last.length > 0) this.#nextSeq = BigInt(last[0]) + 1n;
  }

  /**
   * Runs `fn` synchronously as one transaction: validates and stages what
   * it asks for, and if it returns normally, applies the result to memory
   * and returns the batch operations to commit. If it throws, nothing is
   * applied. `fn` must not be async.
   */
  prepare<T>(fn: (tx: LedgerTx) => T, idempotency?: { scope: string; key: string }): Prepared<T> {
    this.store.committer.assertHealthy();
    const tx = new Tx(this.store, this.#base, this.#nextSeq, new Date(this.#now()).toISOString(), idempotency);
    const result = fn(tx);
    if (result instanceof Promise) throw new InvalidTransactionError("the callback must be synchronous");
    return { result, entries: tx.entries, ops: this.#apply(tx) };
  }

  /**
   * Validates one journal entry, applies it to memory and returns it with
   * its batch operations (entry, history index items, balances). Commit them
   * with {@link commit}, alone or with other modules' operations.
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
  async execute<T extends JsonValue>(options: ExecuteOptions, fn: (tx: LedgerTx) => T): Promise<Executed<T>> {
    let claim: IdempotencyClaim | undefined;
    const req = options.idempotency;
    if (req) {
      const claimed = await this.idempotency.claim(req);
      if (claimed.status === "replay") {
        return { replayed: true, result: claimed.record.response, entryIds: claimed.record.entryIds };
      }
      claim = claimed.claim;
    }
    let prepared: Prepared<T>;
    try {
      prepared = this.prepare(fn, req && { scope: req.scope, key: req.key });
      if (claim) {
        const createdAt = new Date(this.#now()).toISOString();
        prepared.ops.push(claim.stage(prepared.result, prepared.entries.map((e) => e.id), createdAt));
      }
    } catch (e) {
      claim?.release();
      throw e;
    }
    try {
      await this.commit(prepared.ops);
    } catch (e) {
      claim?.release();
      throw e;
    }
    claim?.settle();
    return { replayed: false, result: prepared.result, entries: prepared.entries };
  }

  /**
   * Records one movement and waits until it is committed.
   *
   * @example
   * const { entry } = await ledger.post(transferInternal(alice, bob, 1_00n, "lunch"), {
   *   idempotency: { scope: "app", key: "k-1", fingerprint: fingerprint(body) },
   * });
   */
  async post(draft: EntryDraft, options: ExecuteOptions = {}): Promise<Posted> {
    const res = await this.execute(options, (tx) => ({ entryId: tx.stage(draft).id }));
    if (!res.replayed) return { entry: res.entries[0], replayed: false };
    const entry = await this.entry(res.entryIds[0]);
    if (!entry) {
      throw new HulianError("ledger_inconsistent", "Idempotency record points at a missing entry.", {
        details: { entryId: res.entryIds[0] },
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

  #apply(tx: Tx): StagedOp[] {
    const { sub } = this.store;
    const ops = tx.ops;
    for (const [id, account] of tx.accounts) {
      this.#accounts.set(id, account);
      if (account.handle !== undefined) this.#handles.set(account.handle, id);
      ops.push({ type: "put", sublevel: sub.accounts, key: id, value: account });
    }
    for (const [handle, id] of tx.handles) ops.push({ type: "put", sublevel: sub.handles, key: handle, value: id });
    for (const [id, balance] of tx.balances) {
      if (!isSystemAccount(id)) this.#liabilities += balance - this.balance(id);
      this.#balances.set(id, balance);
      ops.push({ type: "put", sublevel: sub.balances, key: id, value: balance.toString() });
    }
    this.#nextSeq = tx.nextSeq;
    return ops;
  }
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
  readonly balances = new Map<string, bigint>();
  readonly accounts = new Map<string, Account>();
  readonly handles = new Map<string, string>();
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
    return this.balances.get(id) ?? this.base.balance(id);
  }

  account(id: string): Account | undefined {
    if (isSystemAccount(id)) return systemAccount(id);
    return this.accounts.get(id) ?? this.base.account(id);
  }

  stage(draft: EntryDraft): Entry {
    validateDraft(draft);
    // Check everything before touching the overlay: a failed entry leaves no trace.
    for (const p of draft.postings) {
      const account = this.account(p.account);
      if (!account) throw new AccountNotFoundError({ id: p.account });
      const closedAllowed = p.amount > 0n ? draft.allowClosedCredit : draft.allowClosedDebit;
      if (account.status === "closed" && !closedAllowed) {
        throw new AccountClosedError(p.account);
      }
    }
    const next = new Map<string, bigint>();
    for (const p of draft.postings) {
      const before = this.balance(p.account);
      const after = before + p.amount;
      if (after < 0n && !mayGoNegative(p.account)) {
        if (p.account === SYSTEM_ACCOUNTS.float) throw new InsufficientReserveError(before, -p.amount);
        throw new InsufficientFundsError(p.account, before, -p.amount);
      }
      next.set(p.account, after);
    }
    const seq = this.nextSeq++;
    const entry: Entry = {
      id: seqKey(seq),
      seq,
      kind: draft.kind,
      postings: draft.postings.map((p) => ({ account: p.account, amount: p.amount })),
      createdAt: this.createdAt,
    };
    if (draft.ref !== undefined) entry.ref = draft.ref;
    if (draft.meta !== undefined) entry.meta = draft.meta;
    if (this.idempotency !== undefined) entry.idempotency = this.idempotency;
    const { sub } = this.store;
    this.ops.push({ type: "put", sublevel: sub.entries, key: entry.id, value: entryToRecord(entry) });
    for (const p of entry.postings) {
      const after = next.get(p.account)!;
      this.balances.set(p.account, after);
      const item: HistoryRecord = { entryId: entry.id, amount: p.amount.toString(), balanceAfter: after.toString() };
      this.ops.push({ type: "put", sublevel: sub.accountHistory, key: historyKey(p.account, seq), value: item });
    }
    this.entries.push(entry);
    return entry;
  }

  openAccount(input: OpenAccountInput): Account {
    const handle = normalizeHandle(input.handle);
    if (this.handles.has(handle) || this.base.handle(handle) !== undefined) throw new HandleTakenError(handle);
    const displayName = String(input.displayName ?? "").trim();
    const account: Account = {
      id: newCustomerId(Date.parse(this.createdAt)),
      kind: "customer",
      handle,
      displayName,
      status: "open",
      createdAt: this.createdAt,
    };
    this.accounts.set(account.id, account);
    this.handles.set(handle, account.id);
    return account;
  }

  closeAccount(id: string): Account {
    const account = this.account(id);
    if (!account || account.kind !== "customer") throw new AccountNotFoundError({ id });
    if (account.status === "closed") return account;
    const balance = this.balance(id);
    if (balance !== 0n) throw new AccountNotEmptyError(id, balance);
    const closed: Account = { ...account, status: "closed", closedAt: this.createdAt };
    this.accounts.set(id, closed);
    return closed;
  }

  add(...ops: StagedOp[]): void {
    for (const op of ops) this.ops.push(op);
  }
}
