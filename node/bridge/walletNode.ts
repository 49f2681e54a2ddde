import type { Hex } from "viem";
import type { DirectoryClient } from "../directory/directoryClient.ts";
import { DirectoryError } from "../directory/directoryClient.ts";
import type { LocalDirectory } from "../directory/localDirectory.ts";
import type { Account } from "../ledger/accounts.ts";
import { ENTRY_KINDS, type Entry, type JsonValue } from "../ledger/entries.ts";
import { AccountNotFoundError } from "../ledger/errors.ts";
import { normalizeHandle } from "../ledger/handles.ts";
import type { Ledger, LedgerTx } from "../ledger/ledger.ts";
import { reserveOutbound, topUp, transferInternal, withdraw } from "../ledger/movements.ts";
import { isWalletId, walletCodeOf } from "../receipts/ids.ts";
import { HulianError } from "../store/errors.ts";
import type { Batcher } from "./batcher.ts";
import type { BridgeMetrics } from "./metrics.ts";
import type { Outbox } from "./outbox.ts";
import { getMemos, memoHashOf } from "./memos.ts";
import { ResolutionCache } from "./resolutionCache.ts";
import type { Resolution } from "../directory/directoryClient.ts";
import type { OutboxItem } from "./outbox.ts";
import { type PaymentRecord, getAcceptedPayments, getPayment, newPaymentId, paymentView, putPayment } from "./paymentRecords.ts";
import {
  type AccountView,
  type BulkPaymentItem,
  type BulkPaymentResult,
  type HealthView,
  type HistoryItem,
  type HistoryPage,
  type Idempotency,
  type MetricsView,
  type MovementView,
  type PaymentInput,
  type PaymentView,
  ServiceError,
  type WalletService,
} from "./walletService.ts";

export interface WalletNodeDeps {
  wallet: { code: string; walletId: Hex; currency: string; decimals: number };
  ledger: Ledger;
  outbox: Outbox;
  batcher?: Batcher;
  directory: DirectoryClient;
  local: LocalDirectory;
  metrics: BridgeMetrics;
  /** Reads the on-chain settlement-token balance (for metrics and health). */
  tokenBalance?: () => Promise<bigint>;
  /** Extra health facts (chain reachable, cursor lag…). */
  healthDetails?: () => Promise<Record<string, string | number | boolean>>;
  /**
   * How long a payee's resolution is reused for further payments, ms (0: never). Default 2 min;
   * after it, the resolution is refreshed in the background while still used for up to as long
   * again (see ResolutionCache).
   */
  resolutionTtlMs?: number;
  /** Memo delivery figures for /metrics (see MemoSender, MemoOutbox). */
  memoMetrics?: () => NonNullable<MetricsView["memos"]>;
}

const MAX_MEMO = 140;
/** Payee resolutions of one bulk request asked of the directory at a time. */
const BULK_RESOLVE_CONCURRENCY = 16;
/** How long a token balance read for /metrics is reused, ms. */
const TOKEN_BALANCE_TTL_MS = 1_000;
/** Payer references kept (an HMAC per account, the same for every payment it makes). */
const PAYER_REFS_MAX = 100_000;

/** A payment of a bulk request once its own checks are done, or why it is refused. */
type BulkPlan =
  | { input: PaymentInput; handle: string; walletCode: string; local: boolean; resolution?: Resolution }
  | { error: ServiceError };

/** How a bulk request's outcome is stored under its Idempotency-Key: payment ids, or refusals. */
type StoredBulkItem = string | { code: string; status: number; message: string; details?: JsonValue };

/** Ledger and directory errors as the API's stable problem codes. */
function asServiceError(e: unknown): unknown {
  if (e instanceof ServiceError) return e;
  if (e instanceof DirectoryError) {
    const details = e.retryAfterSeconds === undefined ? undefined : { retryAfterSeconds: e.retryAfterSeconds };
    return new ServiceError(e.code, e.status, e.message, details, e);
  }
  if (e instanceof HulianError) {
    const status: Record<string, number> = {
      account_not_found: 404,
      insufficient_funds: 422,
      insufficient_reserve: 409,
      account_closed: 409,
      account_not_empty: 409,
      handle_taken: 409,
      invalid_handle: 400,
      invalid_amount: 400,
      idempotency_conflict: 422,
      store_unavailable: 503,
      commit_failed: 503,
    };
    const code = e.code === "idempotency_conflict" ? "idempotency_key_reused" : e.code;
    return new ServiceError(code, status[e.code] ?? 422, e.message, { ...e.details }, e);
  }
  return e;
}

async function mapped<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw asServiceError(e);
  }
}

function accountJson(a: Account, balance: bigint, address: string): JsonValue {
  return {
    id: a.id,
    handle: a.handle ?? "",
    address,
    displayName: a.displayName,
    status: a.status,
    balance: balance.toString(),
    createdAt: a.createdAt,
  };
}

function accountFromJson(j: JsonValue, replayed: boolean): AccountView {
  const o = j as Record<string, string>;
  return { ...(o as unknown as AccountView), balance: BigInt(o.balance), status: o.status as "open" | "closed", replayed };
}

function paymentFromJson(j: JsonValue, replayed: boolean): PaymentView {
  const view = paymentView(j as unknown as PaymentRecord);
  view.replayed = replayed;
  return view;
}

/** A refusal as a {@link ServiceError}, or `undefined` for an unexpected failure (a bug, an outage). */
function refusal(e: unknown): ServiceError | undefined {
  const mappedError = asServiceError(e);
  return mappedError instanceof ServiceError ? mappedError : undefined;
}

function storedRefusal(e: ServiceError): StoredBulkItem {
  const out: StoredBulkItem = { code: e.code, status: e.status, message: e.message };
  if (e.details !== undefined) out.details = JSON.parse(JSON.stringify(e.details, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))) as JsonValue;
  return out;
}

function refusalFromStored(s: Exclude<StoredBulkItem, string>): ServiceError {
  return new ServiceError(s.code, s.status, s.message, s.details as Record<string, unknown> | undefined);
}

/**
 * An account's history line: the payment id of its own payments, the transfer id and payer wallet
 * of a cross-wallet credit (written with the credit), the transfer id of a payment that came back,
 * and the memo of a same-wallet payment (in the journal; a cross-wallet memo is added by the caller).
 */
function historyItem(entry: Entry, amount: bigint, balanceAfter: bigint): HistoryItem {
  const item: HistoryItem = { entryId: entry.id, kind: entry.kind, amount, balanceAfter, createdAt: entry.createdAt };
  const ref = entry.ref ?? "";
  if (ref.startsWith("payment:")) item.paymentId = ref.slice(8);
  if (ref.startsWith("return:")) item.transferId = ref.slice(7) as Hex;
  const meta = entry.meta ?? {};
  if (entry.kind === ENTRY_KINDS.inboundCredited && typeof meta.transferId === "string") {
    item.transferId = meta.transferId as Hex;
    if (typeof meta.from === "string" && isWalletId(meta.from)) item.payerWallet = walletCodeOf(meta.from);
  }
  if (entry.kind === ENTRY_KINDS.internalTransfer && typeof meta.memo === "string") item.memo = meta.memo;
  return item;
}

/**
 * The operator node as its wallet apps see it: accounts, top-ups and withdrawals, same-wallet
 * payments in the ledger, and cross-wallet payments resolved through the directory and handed to
 * the settlement bridge. Every mutation is one atomic ledger write together with its idempotency
 * record (and, for cross-wallet payments, its outbox item).
 */
export class WalletNode implements WalletService {
  readonly wallet: WalletNodeDeps["wallet"];
  readonly #deps: WalletNodeDeps;
  readonly #payees: ResolutionCache;
  readonly #payerRefs = new Map<string, Hex>();
  /** The last token balance read for /metrics, reused for {@link TOKEN_BALANCE_TTL_MS}. */
  #tokenBalance: { at: number; value: Promise<bigint | undefined> } | undefined;

  constructor(deps: WalletNodeDeps) {
    this.#deps = deps;
    this.wallet = deps.wallet;
    const ttlMs = deps.resolutionTtlMs ?? 120_000;
    // Expiries spread over the last quarter of the TTL, and an aged entry is refreshed in the
    // background for another TTL: no payment waits for a payee it paid recently.
    this.#payees = new ResolutionCache((handle, wallet, payer) => deps.directory.resolve(handle, wallet, payer), { ttlMs, jitter: 0.25, staleMs: ttlMs });
  }

  #address(a: Account): string {
    return `${a.handle ?? a.id}@${this.wallet.code}`;
  }

  #account(id: string): Account {
    const account = this.#deps.ledger.account(id);
    if (!account || account.kind !== "customer") throw new AccountNotFoundError({ id });
    return account;
  }

  #view(a: Account): AccountView {
    return accountFromJson(accountJson(a, this.#deps.ledger.balance(a.id), this.#address(a)), false);
  }

  createAccount(input: { handle: string; displayName: string }, idem: Idempotency): Promise<AccountView> {
    return mapped(async () => {
      const { ledger, local } = this.#deps;
      const res = await ledger.execute({ idempotency: idem }, (tx) => {
        const account = tx.openAccount(input);
        const ref = local.payeeRef(account.id).toLowerCase();
        tx.add({ type: "put", sublevel: ledger.store.sub.references, key: ref, value: account.id });
        return accountJson(account, 0n, this.#address(account));
      });
      return accountFromJson(res.result, res.replayed);
    });
  }

  getAccount(accountId: string): Promise<AccountView> {
    return mapped(async () => this.#view(this.#account(accountId)));
  }

  getAccountByHandle(handle: string): Promise<AccountView> {
    return mapped(async () => {
      const account = this.#deps.ledger.accountByHandle(handle);
      if (!account) throw new ServiceError("account_not_found", 404, `no account with handle ${handle}`);
      return this.#view(account);
    });
  }

  history(accountId: string, page: { limit: number; cursor?: string }): Promise<HistoryPage> {
    return mapped(async () => {
      this.#account(accountId);
      const result = await this.#deps.ledger.history(accountId, page);
      const items = result.items.map((item) => historyItem(item.entry, item.amount, item.balanceAfter));
      // Delivered memos live beside the journal, keyed by transfer: one read for the page.
      const inbound = items.filter((i) => i.kind === ENTRY_KINDS.inboundCredited && i.transferId !== undefined);
      const memos = await getMemos(this.#deps.ledger.store, inbound.map((i) => i.transferId!));
      inbound.forEach((i, n) => {
        if (memos[n] !== undefined) i.memo = memos[n]!.memo;
      });
      return { items, nextCursor: result.nextCursor };
    });
  }

  closeAccount(accountId: string, idem: Idempotency): Promise<AccountView> {
    return mapped(async () => {
      const res = await this.#deps.ledger.execute({ idempotency: idem }, (tx) => {
        const account = tx.closeAccount(accountId);
        return accountJson(account, 0n, this.#address(account));
      });
      return accountFromJson(res.result, res.replayed);
    });
  }

  topUp(input: { accountId: string; amount: bigint; reference: string }, idem: Idempotency): Promise<MovementView> {
    return this.#movement("top_up", input, idem);
  }

  withdraw(input: { accountId: string; amount: bigint; reference: string }, idem: Idempotency): Promise<MovementView> {
    return this.#movement("withdrawal", input, idem);
  }

  #movement(
    kind: "top_up" | "withdrawal",
    input: { accountId: string; amount: bigint; reference: string },
    idem: Idempotency,
  ): Promise<MovementView> {
    return mapped(async () => {
      this.#account(input.accountId);
      const res = await this.#deps.ledger.execute({ idempotency: idem }, (tx) => {
        const draft = kind === "top_up" ? topUp(input.accountId, input.amount, input.reference) : withdraw(input.accountId, input.amount, input.reference);
        const entry = tx.stage(draft);
        return {
          entryId: entry.id,
          accountId: input.accountId,
          kind,
          amount: input.amount.toString(),
          balance: tx.balance(input.accountId).toString(),
          createdAt: entry.createdAt,
        };
      });
      const o = res.result as Record<string, string>;
      return { ...(o as unknown as MovementView), amount: BigInt(o.amount), balance: BigInt(o.balance), replayed: res.replayed };
    });
  }

  pay(input: PaymentInput, idem: Idempotency): Promise<PaymentView> {
    return mapped(async () => {
      const { handle, walletCode } = this.#checkPayment(input);
      if (walletCode === this.wallet.code) return this.#payLocal(input, handle, idem);
      return this.#payCrossWallet(input, handle, walletCode, idem);
    });
  }

  /** The checks of a payment before any transaction: amount, memo, payer; and where it goes. */
  #checkPayment(input: PaymentInput): { handle: string; walletCode: string } {
    if (input.amount <= 0n) throw new ServiceError("invalid_amount", 400, "amount must be positive");
    if (input.memo !== undefined && input.memo.length > MAX_MEMO) {
      throw new ServiceError("validation_failed", 400, `memo is longer than ${MAX_MEMO} characters`);
    }
    this.#account(input.fromAccountId);
    const at = input.to.lastIndexOf("@");
    const handle = at === -1 ? input.to : input.to.slice(0, at);
    const walletCode = at === -1 ? this.wallet.code : input.to.slice(at + 1).toUpperCase();
    return { handle, walletCode };
  }

  /** The payer reference of an account: an HMAC that never changes, so it is made once. */
  #payerRef(accountId: string): Hex {
    let ref = this.#payerRefs.get(accountId);
    if (ref === undefined) {
      ref = this.#deps.local.payerRef(accountId);
      if (this.#payerRefs.size >= PAYER_REFS_MAX) this.#payerRefs.delete(this.#payerRefs.keys().next().value!);
      this.#payerRefs.set(accountId, ref);
    }
    return ref;
  }

  /**
   * Stages a same-wallet payment in `tx`: the transfer and the payment record. Throws (staging
   * nothing) when the payee is unknown, the payer pays itself or lacks the money.
   */
  #stageLocal(tx: LedgerTx, input: PaymentInput, handle: string, now: string): PaymentRecord {
    const { ledger } = this.#deps;
    const payee = ledger.accountByHandle(handle);
    if (!payee || payee.kind !== "customer") throw new ServiceError("payee_not_found", 404, `no account ${handle}@${this.wallet.code}`);
    if (payee.id === input.fromAccountId) throw new ServiceError("self_payment", 422, "an account cannot pay itself");
    const id = newPaymentId();
    tx.stage(transferInternal(input.fromAccountId, payee.id, input.amount, input.memo, `payment:${id}`));
    const record: PaymentRecord = {
      id,
      kind: "same_wallet",
      status: "settled",
      fromAccountId: input.fromAccountId,
      to: `${normalizeHandle(handle)}@${this.wallet.code}`,
      toWallet: this.wallet.code,
      amount: input.amount.toString(),
      createdAt: now,
      updatedAt: now,
    };
    if (input.memo !== undefined) record.memo = input.memo;
    tx.add(putPayment(ledger.store, record));
    return record;
  }

  /**
   * Stages a cross-wallet payment in `tx`: the reservation and the payment record; returns them
   * with the outbox item, which the caller enqueues once nothing in the transaction can fail any
   * more (the outbox's memory changes at once). Throws (staging nothing) when the payer lacks the
   * money.
   */
  #stageCrossWallet(tx: LedgerTx, input: PaymentInput, handle: string, walletCode: string, resolution: Resolution, now: string): { record: PaymentRecord; outbox: OutboxItem } {
    const id = newPaymentId();
    const payerRef = this.#payerRef(input.fromAccountId);
    const memoHash = memoHashOf(input.memo);
    tx.stage(reserveOutbound(input.fromAccountId, input.amount, `payment:${id}`));
    const record: PaymentRecord = {
      id,
      kind: "cross_wallet",
      status: "accepted",
      fromAccountId: input.fromAccountId,
      to: `${handle}@${walletCode}`,
      toWallet: walletCode,
      toWalletId: resolution.walletId,
      amount: input.amount.toString(),
      memoHash,
      payerRef,
      payeeRef: resolution.payeeRef,
      createdAt: now,
      updatedAt: now,
    };
    if (input.memo !== undefined) record.memo = input.memo;
    tx.add(putPayment(this.#deps.ledger.store, record));
    const outbox: OutboxItem = {
      paymentId: id,
      fromAccountId: input.fromAccountId,
      toWalletId: resolution.walletId,
      amount: record.amount,
      payerRef,
      payeeRef: resolution.payeeRef,
      memoHash,
      acceptedAt: Date.now(),
    };
    return { record, outbox };
  }

  async #payLocal(input: PaymentInput, handle: string, idem: Idempotency): Promise<PaymentView> {
    const res = await this.#deps.ledger.execute({ idempotency: idem }, (tx) => this.#stageLocal(tx, input, handle, new Date().toISOString()) as unknown as JsonValue);
    if (!res.replayed) this.#deps.metrics.paymentsAccepted++;
    return paymentFromJson(res.result, res.replayed);
  }

  async #payCrossWallet(input: PaymentInput, handle: string, walletCode: string, idem: Idempotency): Promise<PaymentView> {
    const { ledger, outbox } = this.#deps;
    const seen = await ledger.idempotency.lookup(idem);
    if (seen.status === "replay") return paymentFromJson(seen.record.response, true);
    if (seen.status === "conflict") throw new ServiceError("idempotency_key_reused", 422, "this Idempotency-Key was used with another request");
    const resolution = await this.#payees.resolve(handle, walletCode, this.#payerRef(input.fromAccountId));
    const res = await ledger.execute({ idempotency: idem }, (tx) => {
      const staged = this.#stageCrossWallet(tx, input, handle, walletCode, resolution, new Date().toISOString());
      tx.add(outbox.stageEnqueue(staged.outbox));
      return staged.record as unknown as JsonValue;
    });
    if (!res.replayed) {
      this.#deps.metrics.paymentsAccepted++;
      this.#deps.batcher?.notify();
    }
    return paymentFromJson(res.result, res.replayed);
  }

  payBulk(inputs: readonly PaymentInput[], idem: Idempotency): Promise<BulkPaymentResult> {
    return mapped(async () => {
      const { ledger, outbox } = this.#deps;
      const seen = await ledger.idempotency.lookup(idem);
      if (seen.status === "replay") return this.#bulkFromStored(seen.record.response);
      if (seen.status === "conflict") throw new ServiceError("idempotency_key_reused", 422, "this Idempotency-Key was used with another request");

      // Each payment's own checks, as pay() makes them before its transaction.
      const plans: BulkPlan[] = inputs.map((input) => {
        try {
          const { handle, walletCode } = this.#checkPayment(input);
          return { input, handle, walletCode, local: walletCode === this.wallet.code };
        } catch (e) {
          const error = refusal(e);
          if (!error) throw e;
          return { error };
        }
      });
      await this.#resolvePayees(plans);

      // One transaction for every payment: each is staged against the balances the earlier ones
      // left, and one that cannot be made is refused without a trace (tx.stage checks first).
      const records: (PaymentRecord | undefined)[] = [];
      let crossWallet = 0;
      const res = await ledger.execute({ idempotency: idem }, (tx) => {
        const now = new Date().toISOString();
        const stored: StoredBulkItem[] = [];
        const queued: OutboxItem[] = [];
        for (let i = 0; i < plans.length; i++) {
          const plan = plans[i];
          records[i] = undefined;
          if ("error" in plan) {
            stored.push(storedRefusal(plan.error));
            continue;
          }
          try {
            let record: PaymentRecord;
            if (plan.local) record = this.#stageLocal(tx, plan.input, plan.handle, now);
            else {
              const staged = this.#stageCrossWallet(tx, plan.input, plan.handle, plan.walletCode, plan.resolution!, now);
              record = staged.record;
              queued.push(staged.outbox);
            }
            records[i] = record;
            stored.push(record.id);
          } catch (e) {
            const error = refusal(e);
            if (!error) throw e;
            stored.push(storedRefusal(error));
          }
        }
        // Nothing below can fail: only now may the outbox's memory change.
        for (const item of queued) tx.add(outbox.stageEnqueue(item));
        crossWallet = queued.length;
        return { bulk: stored } as unknown as JsonValue;
      });
      if (res.replayed) return this.#bulkFromStored(res.result);
      const stored = (res.result as unknown as { bulk: StoredBulkItem[] }).bulk;
      const items: BulkPaymentItem[] = stored.map((s, i) =>
        typeof s === "string" ? { ok: true, payment: paymentView(records[i]!) } : { ok: false, error: refusalFromStored(s) },
      );
      const accepted = records.reduce((n, r) => (r ? n + 1 : n), 0);
      this.#deps.metrics.paymentsAccepted += accepted;
      if (crossWallet > 0) this.#deps.batcher?.notify();
      return { items, replayed: false };
    });
  }

  /**
   * Resolves the payees of the cross-wallet payments of a bulk request (each distinct payee
   * once, a few at a time); a payment whose payee cannot be resolved is refused with the reason.
   */
  async #resolvePayees(plans: BulkPlan[]): Promise<void> {
    const wanted = new Map<string, { handle: string; walletCode: string; result?: Resolution; error?: unknown }>();
    for (const plan of plans) {
      if ("error" in plan || plan.local) continue;
      const key = `${plan.walletCode}\u0000${plan.handle}`;
      if (!wanted.has(key)) wanted.set(key, { handle: plan.handle, walletCode: plan.walletCode });
    }
    const queue = [...wanted.values()];
    // A wallet whose node is down or failing (5xx) is not asked again for its other payees: they
    // are refused with the same reason at once, rather than each waiting for its own timeout.
    const down = new Map<string, unknown>();
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        if (down.has(next.walletCode)) {
          next.error = down.get(next.walletCode);
          continue;
        }
        try {
          // Without a payer: a bulk request (a payroll) may name many payees of one payer; the payee's node
          // still limits lookups per operator.
          next.result = await this.#payees.resolve(next.handle, next.walletCode);
        } catch (e) {
          next.error = e;
          const mappedError = refusal(e);
          if (mappedError && mappedError.status >= 500) down.set(next.walletCode, e);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(BULK_RESOLVE_CONCURRENCY, queue.length) }, worker));
    for (let i = 0; i < plans.length; i++) {
      const plan = plans[i];
      if ("error" in plan || plan.local) continue;
      const r = wanted.get(`${plan.walletCode}\u0000${plan.handle}`)!;
      if (r.result) {
        plan.resolution = r.result;
        continue;
      }
      const error = refusal(r.error);
      if (!error) throw r.error;
      plans[i] = { error };
    }
  }

  /** A bulk outcome from its stored form: accepted payments as they were accepted. */
  async #bulkFromStored(response: JsonValue): Promise<BulkPaymentResult> {
    const stored = (response as unknown as { bulk: StoredBulkItem[] }).bulk;
    const ids = stored.filter((s): s is string => typeof s === "string");
    const found = await getAcceptedPayments(this.#deps.ledger.store, ids);
    const byId = new Map<string, PaymentRecord>();
    found.forEach((r, i) => {
      if (!r) throw new ServiceError("internal_error", 500, `payment ${ids[i]} of a stored bulk request is missing`);
      byId.set(ids[i], r);
    });
    const items: BulkPaymentItem[] = stored.map((s) =>
      typeof s === "string" ? { ok: true, payment: paymentView(byId.get(s)!) } : { ok: false, error: refusalFromStored(s) },
    );
    return { items, replayed: true };
  }

  getPayment(paymentId: string): Promise<PaymentView> {
    return mapped(async () => {
      const record = await getPayment(this.#deps.ledger.store, paymentId);
      if (!record) throw new ServiceError("payment_not_found", 404, `no payment ${paymentId}`);
      return paymentView(record);
    });
  }

  resolve(address: string, options: { fromAccountId?: string } = {}): Promise<{ address: string; wallet: string; maskedName: string }> {
    return mapped(async () => {
      const payer = options.fromAccountId === undefined ? undefined : this.#payerRef(this.#account(options.fromAccountId).id);
      const at = address.lastIndexOf("@");
      if (at <= 0) throw new ServiceError("validation_failed", 400, "address must be handle@WALLET");
      const handle = address.slice(0, at);
      const wallet = address.slice(at + 1).toUpperCase();
      if (wallet === this.wallet.code) {
        const { maskedName } = this.#deps.local.resolve(handle);
        return { address: `${normalizeHandle(handle)}@${wallet}`, wallet, maskedName };
      }
      const r = await this.#deps.directory.resolve(handle, wallet, payer);
      return { address: `${handle}@${wallet}`, wallet, maskedName: r.maskedName };
    });
  }

  async health(): Promise<HealthView> {
    const details: Record<string, string | number | boolean> =
      (await this.#deps.healthDetails?.().catch((e) => ({ error: String((e as Error).message) }))) ?? {};
    const storeOk = this.#deps.ledger.store.committer.healthy;
    return {
      ok: storeOk && details.chainReachable !== false,
      wallet: this.wallet.code,
      chainHead: this.#deps.metrics.chainHead,
      cursor: this.#deps.metrics.cursor,
      details: { store: storeOk, outboxDepth: this.#deps.outbox.depth, ...details },
    };
  }

  /**
   * The operator's token balance for /metrics: one chain read per second at most, however often
   * the endpoint is scraped (a monitor or a benchmark polling it every few ms would otherwise
   * send the chain a call per scrape).
   */
  #readTokenBalance(): Promise<bigint | undefined> {
    const read = this.#deps.tokenBalance;
    if (!read) return Promise.resolve(undefined);
    const now = Date.now();
    if (!this.#tokenBalance || now - this.#tokenBalance.at >= TOKEN_BALANCE_TTL_MS) {
      this.#tokenBalance = { at: now, value: read().catch(() => undefined) };
    }
    return this.#tokenBalance.value;
  }

  async metrics(): Promise<MetricsView> {
    const m = this.#deps.metrics;
    return {
      paymentsAccepted: m.paymentsAccepted,
      paymentsSettled: m.paymentsSettled,
      paymentsReturned: m.paymentsReturned,
      paymentsRejected: m.paymentsRejected,
      inboundCredited: m.inboundCredited,
      nodeAuthSignatureChecks: m.nodeAuthSignatureChecks,
      outboxDepth: this.#deps.outbox.depth,
      batchesSubmitted: m.batchesSubmitted,
      batchSizes: [...m.batchSizes],
      chainHead: m.chainHead,
      cursor: m.cursor,
      liabilities: this.#deps.ledger.liabilities(),
      tokenBalance: await this.#readTokenBalance(),
      memos: this.#deps.memoMetrics?.(),
      returnsSent: m.returnsSent,
      returnsFailed: m.returnsFailed,
      returnsBlocked: m.returnsBlocked,
    };
  }
}
