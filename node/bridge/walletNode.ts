import { type Hex, keccak256, toHex, zeroHash } from "viem";
import type { DirectoryClient } from "../directory/directoryClient.ts";
import { DirectoryError } from "../directory/directoryClient.ts";
import type { LocalDirectory } from "../directory/localDirectory.ts";
import type { Account } from "../ledger/accounts.ts";
import type { JsonValue } from "../ledger/entries.ts";
import { AccountNotFoundError } from "../ledger/errors.ts";
import { normalizeHandle } from "../ledger/handles.ts";
import { sortableId } from "../ledger/ids.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { reserveOutbound, topUp, transferInternal, withdraw } from "../ledger/movements.ts";
import { HulianError } from "../store/errors.ts";
import type { Batcher } from "./batcher.ts";
import type { BridgeMetrics } from "./metrics.ts";
import type { Outbox } from "./outbox.ts";
import { ResolutionCache } from "./resolutionCache.ts";
import { type PaymentRecord, getPayment, paymentView, putPayment } from "./paymentRecords.ts";
import {
  type AccountView,
  type HealthView,
  type HistoryPage,
  type Idempotency,
  type MetricsView,
  type MovementView,
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
  /** How long a payee's resolution is reused for further payments, ms (0: never). Default 10 s. */
  resolutionTtlMs?: number;
}

const MAX_MEMO = 140;

/** Ledger and directory errors as the API's stable problem codes. */
function asServiceError(e: unknown): unknown {
  if (e instanceof ServiceError) return e;
  if (e instanceof DirectoryError) return new ServiceError(e.code, e.status, e.message, undefined, e);
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
  return { ...paymentView(j as unknown as PaymentRecord), replayed };
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

  constructor(deps: WalletNodeDeps) {
    this.#deps = deps;
    this.wallet = deps.wallet;
    this.#payees = new ResolutionCache((handle, wallet) => deps.directory.resolve(handle, wallet), { ttlMs: deps.resolutionTtlMs });
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
      return {
        items: result.items.map((item) => ({
          entryId: item.entry.id,
          kind: item.entry.kind,
          amount: item.amount,
          balanceAfter: item.balanceAfter,
          paymentId: item.entry.ref?.startsWith("payment:") ? item.entry.ref.slice(8) : undefined,
          createdAt: item.entry.createdAt,
        })),
        nextCursor: result.nextCursor,
      };
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

  pay(input: { fromAccountId: string; to: string; amount: bigint; memo?: string }, idem: Idempotency): Promise<PaymentView> {
    return mapped(async () => {
      if (input.amount <= 0n) throw new ServiceError("invalid_amount", 400, "amount must be positive");
      if (input.memo !== undefined && input.memo.length > MAX_MEMO) {
        throw new ServiceError("validation_failed", 400, `memo is longer than ${MAX_MEMO} characters`);
      }
      this.#account(input.fromAccountId);
      const at = input.to.lastIndexOf("@");
      const handle = at === -1 ? input.to : input.to.slice(0, at);
      const walletCode = at === -1 ? this.wallet.code : input.to.slice(at + 1).toUpperCase();
      if (walletCode === this.wallet.code) return this.#payLocal(input, handle, idem);
      return this.#payCrossWallet(input, handle, walletCode, idem);
    });
  }

  async #payLocal(
    input: { fromAccountId: string; to: string; amount: bigint; memo?: string },
    handle: string,
    idem: Idempotency,
  ): Promise<PaymentView> {
    const { ledger } = this.#deps;
    const res = await ledger.execute({ idempotency: idem }, (tx) => {
      const payee = ledger.accountByHandle(handle);
      if (!payee || payee.kind !== "customer") throw new ServiceError("payee_not_found", 404, `no account ${handle}@${this.wallet.code}`);
      if (payee.id === input.fromAccountId) throw new ServiceError("self_payment", 422, "an account cannot pay itself");
      const id = `pay_${sortableId()}`;
      const now = new Date().toISOString();
      tx.stage(transferInternal(input.fromAccountId, payee.id, input.amount, input.memo, `payment:${id}`));
      const record: PaymentRecord = {
        id,
        kind: "same_wallet",
        status: "settled",
        fromAccountId: input.fromAccountId,
        to: `${normalizeHandle(handle)}@${this.wallet.code}`,
        toWallet: this.wallet.code,
        amount: input.amount.toString(),
        memo: input.memo,
        createdAt: now,
        updatedAt: now,
      };
      tx.add(putPayment(ledger.store, record));
      return JSON.parse(JSON.stringify(record)) as JsonValue;
    });
    if (!res.replayed) this.#deps.metrics.paymentsAccepted++;
    return paymentFromJson(res.result, res.replayed);
  }

  async #payCrossWallet(
    input: { fromAccountId: string; to: string; amount: bigint; memo?: string },
    handle: string,
    walletCode: string,
    idem: Idempotency,
  ): Promise<PaymentView> {
    const { ledger, local, outbox } = this.#deps;
    const seen = await ledger.idempotency.lookup(idem);
    if (seen.status === "replay") return paymentFromJson(seen.record.response, true);
    if (seen.status === "conflict") throw new ServiceError("idempotency_key_reused", 422, "this Idempotency-Key was used with another request");
    const resolution = await this.#payees.resolve(handle, walletCode);
    const res = await ledger.execute({ idempotency: idem }, (tx) => {
      const id = `pay_${sortableId()}`;
      const now = new Date().toISOString();
      const payerRef = local.payerRef(input.fromAccountId);
      const memoHash = input.memo ? keccak256(toHex(input.memo)) : zeroHash;
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
        memo: input.memo,
        memoHash,
        payerRef,
        payeeRef: resolution.payeeRef,
        createdAt: now,
        updatedAt: now,
      };
      tx.add(
        putPayment(ledger.store, record),
        outbox.stageEnqueue({
          paymentId: id,
          fromAccountId: input.fromAccountId,
          toWalletId: resolution.walletId,
          amount: input.amount.toString(),
          payerRef,
          payeeRef: resolution.payeeRef,
          memoHash,
          acceptedAt: Date.now(),
        }),
      );
      return JSON.parse(JSON.stringify(record)) as JsonValue;
    });
    if (!res.replayed) {
      this.#deps.metrics.paymentsAccepted++;
      this.#deps.batcher?.notify();
    }
    return paymentFromJson(res.result, res.replayed);
  }

  getPayment(paymentId: string): Promise<PaymentView> {
    return mapped(async () => {
      const record = await getPayment(this.#deps.ledger.store, paymentId);
      if (!record) throw new ServiceError("payment_not_found", 404, `no payment ${paymentId}`);
      return paymentView(record);
    });
  }

  resolve(address: string): Promise<{ address: string; wallet: string; maskedName: string }> {
    return mapped(async () => {
      const at = address.lastIndexOf("@");
      if (at <= 0) throw new ServiceError("validation_failed", 400, "address must be handle@WALLET");
      const handle = address.slice(0, at);
      const wallet = address.slice(at + 1).toUpperCase();
      if (wallet === this.wallet.code) {
        const { maskedName } = this.#deps.local.resolve(handle);
        return { address: `${normalizeHandle(handle)}@${wallet}`, wallet, maskedName };
      }
      const r = await this.#deps.directory.resolve(handle, wallet);
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

  async metrics(): Promise<MetricsView> {
    const m = this.#deps.metrics;
    return {
      paymentsAccepted: m.paymentsAccepted,
      paymentsSettled: m.paymentsSettled,
      paymentsReturned: m.paymentsReturned,
      paymentsRejected: m.paymentsRejected,
      inboundCredited: m.inboundCredited,
      outboxDepth: this.#deps.outbox.depth,
      batchesSubmitted: m.batchesSubmitted,
      batchSizes: [...m.batchSizes],
      chainHead: m.chainHead,
      cursor: m.cursor,
      liabilities: this.#deps.ledger.liabilities(),
      tokenBalance: await this.#deps.tokenBalance?.().catch(() => undefined),
    };
  }
}
