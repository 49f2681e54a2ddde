/**
 * TEST DOUBLE — delete before merge. An in-memory WalletService for developing node/api while the
 * real node (test/helpers/testNode.ts → startTestNode) is being written. test/api/node.ts uses
 * the real node as soon as that helper exists; nothing else should import this file.
 */
import { ServiceError, type AccountView, type HealthView, type HistoryItem, type HistoryPage, type Idempotency, type MetricsView, type MovementView, type PaymentView, type WalletService } from "../../node/bridge/walletService.ts";

type Stored = { fingerprint: string; result: object };

/** An in-memory WalletService for the API tests (same-wallet payments only settle; cross-wallet ones are accepted). */
export class FakeWalletService implements WalletService {
  readonly wallet = { code: "TESTPAY", walletId: `0x${"54455354504159".padEnd(64, "0")}` as const, currency: "CNY", decimals: 2 };
  #accounts = new Map<string, AccountView>();
  #byHandle = new Map<string, string>();
  #history = new Map<string, HistoryItem[]>();
  #payments = new Map<string, PaymentView>();
  #idem = new Map<string, Stored>();
  #n = 0;
  #accepted = 0;

  #id(prefix: string): string {
    return `${prefix}_${String(++this.#n).padStart(8, "0")}`;
  }

  async #once<T extends object>(idem: Idempotency, run: () => T): Promise<T> {
    const k = `${idem.scope}\u0000${idem.key}`;
    const stored = this.#idem.get(k);
    if (stored) {
      if (stored.fingerprint !== idem.fingerprint) throw new ServiceError("idempotency_key_reused", 422, "Idempotency-Key was already used with a different request.");
      return { ...(stored.result as T), replayed: true };
    }
    const result = run();
    this.#idem.set(k, { fingerprint: idem.fingerprint, result: structuredClone(result) });
    return result;
  }

  #account(id: string): AccountView {
    const a = this.#accounts.get(id);
    if (!a) throw new ServiceError("account_not_found", 404, "Account not found.", { id });
    return a;
  }

  #post(a: AccountView, item: Omit<HistoryItem, "entryId" | "createdAt" | "balanceAfter">): HistoryItem {
    a.balance += item.amount;
    const full: HistoryItem = { ...item, entryId: this.#id("e"), balanceAfter: a.balance, createdAt: new Date().toISOString() };
    this.#history.get(a.id)!.unshift(full);
    return full;
  }

  async createAccount(input: { handle: string; displayName: string }, idem: Idempotency): Promise<AccountView> {
    return this.#once(idem, () => {
      const handle = input.handle.normalize("NFKC").trim().toLowerCase();
      if (this.#byHandle.has(handle)) throw new ServiceError("handle_taken", 409, "Handle is already taken.", { handle });
      const a: AccountView = { id: this.#id("c"), handle, address: `${handle}@${this.wallet.code}`, displayName: input.displayName, status: "open", balance: 0n, createdAt: new Date().toISOString() };
      this.#accounts.set(a.id, a);
      this.#byHandle.set(handle, a.id);
      this.#history.set(a.id, []);
      return { ...a };
    });
  }

  async getAccount(accountId: string): Promise<AccountView> {
    return { ...this.#account(accountId) };
  }

  async getAccountByHandle(handle: string): Promise<AccountView> {
    const id = this.#byHandle.get(handle.normalize("NFKC").trim().toLowerCase());
    if (!id) throw new ServiceError("account_not_found", 404, "Account not found.", { handle });
    return { ...this.#account(id) };
  }

  async history(accountId: string, page: { limit: number; cursor?: string }): Promise<HistoryPage> {
    const items = this.#history.get(this.#account(accountId).id)!;
    const start = page.cursor === undefined ? 0 : Number(page.cursor);
    if (!Number.isInteger(start) || start < 0) throw new ServiceError("invalid_cursor", 400, "Invalid pagination cursor.");
    const slice = items.slice(start, start + page.limit);
    const next = start + page.limit;
    return next < items.length ? { items: slice, nextCursor: String(next) } : { items: slice };
  }

  async closeAccount(accountId: string, idem: Idempotency): Promise<AccountView> {
    return this.#once(idem, () => {
      const a = this.#account(accountId);
      if (a.balance !== 0n) throw new ServiceError("account_not_empty", 409, "Account balance must be zero to close it.", { balance: a.balance.toString() });
      a.status = "closed";
      return { ...a };
    });
  }

  async topUp(input: { accountId: string; amount: bigint; reference: string }, idem: Idempotency): Promise<MovementView> {
    return this.#once(idem, () => this.#move(input, "top_up", input.amount));
  }

  async withdraw(input: { accountId: string; amount: bigint; reference: string }, idem: Idempotency): Promise<MovementView> {
    return this.#once(idem, () => this.#move(input, "withdrawal", -input.amount));
  }

  #move(input: { accountId: string; amount: bigint }, kind: MovementView["kind"], delta: bigint): MovementView {
    const a = this.#account(input.accountId);
    if (a.status === "closed") throw new ServiceError("account_closed", 409, "Account is closed.");
    if (a.balance + delta < 0n) throw new ServiceError("insufficient_funds", 409, "Insufficient funds.", { balance: a.balance.toString(), needed: input.amount.toString() });
    const e = this.#post(a, { kind, amount: delta });
    return { entryId: e.entryId, accountId: a.id, kind, amount: input.amount, balance: a.balance, createdAt: e.createdAt };
  }

  async pay(input: { fromAccountId: string; to: string; amount: bigint; memo?: string }, idem: Idempotency): Promise<PaymentView> {
    return this.#once(idem, () => {
      const from = this.#account(input.fromAccountId);
      if (from.status === "closed") throw new ServiceError("account_closed", 409, "Account is closed.");
      const at = input.to.lastIndexOf("@");
      const wallet = at > 0 && /^[A-Za-z0-9_-]+$/.test(input.to.slice(at + 1)) ? input.to.slice(at + 1).toUpperCase() : this.wallet.code;
      const local = wallet === this.wallet.code;
      const handle = local && at > 0 && wallet === input.to.slice(at + 1).toUpperCase() ? input.to.slice(0, at) : input.to;
      if (from.balance < input.amount) throw new ServiceError("insufficient_funds", 409, "Insufficient funds.", { balance: from.balance.toString(), needed: input.amount.toString() });
      const now = new Date().toISOString();
      const id = this.#id("p");
      let toAccount: AccountView | undefined;
      if (local) {
        const toId = this.#byHandle.get(handle.toLowerCase());
        if (!toId) throw new ServiceError("payee_not_found", 404, "No account has this handle.", { to: input.to });
        toAccount = this.#account(toId);
      }
      this.#post(from, { kind: "payment_out", amount: -input.amount, paymentId: id, counterparty: input.to });
      if (toAccount) this.#post(toAccount, { kind: "payment_in", amount: input.amount, paymentId: id, counterparty: from.address });
      this.#accepted++;
      const p: PaymentView = {
        id,
        kind: local ? "same_wallet" : "cross_wallet",
        status: local ? "settled" : "accepted",
        fromAccountId: from.id,
        to: input.to,
        toWallet: wallet,
        amount: input.amount,
        createdAt: now,
        updatedAt: now,
      };
      if (input.memo !== undefined) p.memo = input.memo;
      this.#payments.set(id, p);
      return { ...p };
    });
  }

  async getPayment(paymentId: string): Promise<PaymentView> {
    const p = this.#payments.get(paymentId);
    if (!p) throw new ServiceError("payment_not_found", 404, "Payment not found.", { id: paymentId });
    return { ...p };
  }

  async resolve(address: string): Promise<{ address: string; wallet: string; maskedName: string }> {
    const at = address.lastIndexOf("@");
    const wallet = address.slice(at + 1).toUpperCase();
    if (wallet !== this.wallet.code) throw new ServiceError("wallet_not_found", 404, "No active wallet has this code.", { wallet });
    const a = await this.getAccountByHandle(address.slice(0, at));
    return { address: a.address, wallet, maskedName: `${[...a.displayName][0]}*` };
  }

  async health(): Promise<HealthView> {
    return { ok: true, wallet: this.wallet.code, chainHead: 10n, cursor: 10n, details: { store: "memory" } };
  }

  async metrics(): Promise<MetricsView> {
    let liabilities = 0n;
    for (const a of this.#accounts.values()) liabilities += a.balance;
    return {
      paymentsAccepted: this.#accepted,
      paymentsSettled: 0,
      paymentsReturned: 0,
      paymentsRejected: 0,
      inboundCredited: 0,
      outboxDepth: 0,
      batchesSubmitted: 0,
      batchSizes: [],
      chainHead: 10n,
      cursor: 10n,
      liabilities,
    };
  }
}

/** Starts the fake "node" with the same shape as `startTestNode()`. */
export async function startFakeNode(): Promise<{ service: WalletService; close(): Promise<void> }> {
  return { service: new FakeWalletService(), close: async () => {} };
}
