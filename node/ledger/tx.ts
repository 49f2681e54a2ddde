import type { Store } from "../store/store.ts";
import type { StagedOp } from "../store/types.ts";
import { KEY_SEP, compoundKey, seqKey } from "../store/keys.ts";
import { SYSTEM_ACCOUNTS, isSystemAccount, mayGoNegative, systemAccount } from "./accounts.ts";
import type { Account, OpenAccountInput } from "./accounts.ts";
import { encodeEntry, validateDraft } from "./entries.ts";
import type { Entry, EntryDraft } from "./entries.ts";
import {
  AccountClosedError,
  AccountNotEmptyError,
  AccountNotFoundError,
  HandleTakenError,
  InsufficientFundsError,
  InsufficientReserveError,
} from "./errors.ts";
import { normalizeHandle } from "./handles.ts";
import { newCustomerId } from "./ids.ts";

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

/** Read-only view of the committed-or-queued ledger state that a transaction starts from. */
export interface BaseView {
  balance(id: string): bigint;
  account(id: string): Account | undefined;
  handle(handle: string): string | undefined;
}

/**
 * One ledger transaction being staged: an overlay of balances, accounts and
 * handles over {@link BaseView}, and the batch operations it will write.
 * {@link Ledger} applies it to memory only if the transaction callback
 * returns normally.
 */
export class Tx implements LedgerTx {
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
