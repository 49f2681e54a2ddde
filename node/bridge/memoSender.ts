import type { Hex, LocalAccount } from "viem";
import type { RegistryView } from "../chain/registryView.ts";
import { type PeerEndpointPolicy, checkPeerEndpoint } from "../directory/peerEndpoint.ts";
import { canonicalJson } from "../ledger/idempotency.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { Logger } from "../observability/logger.ts";
import type { StagedOp } from "../store/types.ts";
import { backoff } from "../timing/backoff.ts";
import { Wakeable } from "../timing/wakeable.ts";
import { type DueMemo, type MemoOutbox } from "./memoOutbox.ts";
import {
  MAX_MEMOS_PER_DELIVERY,
  MAX_TRANSACTIONS_PER_DELIVERY,
  MEMOS_PATH,
  type MemoDeliveryAnswer,
  type MemoItem,
  type MemoOutcome,
  signMemoDelivery,
} from "./memoWire.ts";
import { getAcceptedPayments } from "./paymentRecords.ts";

type PeerFetch = (url: URL, init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<Response>;

export interface MemoSenderDeps {
  ledger: Ledger;
  memos: MemoOutbox;
  registry: RegistryView;
  /** This operator's settlement key and wallet: deliveries are signed with them. */
  account: LocalAccount;
  walletId: Hex;
  log: Logger;
  /** How to reach peer nodes; default the global `fetch` (with TLS: node/api/tls.ts `createPeerFetch`). */
  fetch?: PeerFetch;
  /** Which published endpoints may be called (see node/directory/peerEndpoint.ts); default https: on public addresses only. */
  peers?: PeerEndpointPolicy;
}

export interface MemoSenderOptions {
  /** Pause between passes when nothing is due, ms. Default 250. */
  pollIntervalMs?: number;
  /** First retry delay, ms; doubled per attempt up to {@link maxBackoffMs}. Default 1 s. */
  backoffMs?: number;
  /** Longest retry delay, ms. Default 10 min. */
  maxBackoffMs?: number;
  /** A memo not delivered this long after its payment settled is given up, ms. Default 24 h. */
  maxAgeMs?: number;
  /** Memos read per pass. Default 500. */
  passSize?: number;
  /** How long to wait for the payee's node, ms. Default 5 s. */
  timeoutMs?: number;
}

/** What happened to the memos of one pass; counters for tests and metrics. */
export interface MemoSenderStats {
  delivered: number;
  refused: number;
  retried: number;
  expired: number;
}

/**
 * Delivers the memos of settled payments to their payees' nodes (`POST /node/v1/memos`), signed
 * with this operator's settlement key, from the durable {@link MemoOutbox}: a crash or a payee's
 * outage loses nothing. Per delivery: at most {@link MAX_MEMOS_PER_DELIVERY} memos naming at most
 * {@link MAX_TRANSACTIONS_PER_DELIVERY} settlement transactions. A memo the payee took (or refused
 * for good) leaves the queue; one it could not take yet, or whose node did not answer, is tried
 * again with exponential backoff, and given up after `maxAgeMs`. Memo texts are never logged.
 */
export class MemoSender {
  readonly #deps: MemoSenderDeps;
  readonly #options: Required<MemoSenderOptions>;
  readonly stats: MemoSenderStats = { delivered: 0, refused: 0, retried: 0, expired: 0 };
  /** The pause between passes: a settled batch with memos ends it, `stop()` ends it and the loop. */
  readonly #idle = new Wakeable();
  #running: Promise<void> | undefined;

  constructor(deps: MemoSenderDeps, options: MemoSenderOptions = {}) {
    this.#deps = deps;
    this.#options = {
      pollIntervalMs: 250,
      backoffMs: 1_000,
      maxBackoffMs: 600_000,
      maxAgeMs: 86_400_000,
      passSize: 500,
      timeoutMs: 5_000,
      ...options,
    };
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  /** Nudges an idle loop (a batch with memos settled). */
  notify(): void {
    this.#idle.notify();
  }

  /** Stops after the delivery in hand, if any; a pause ends at once. */
  async stop(): Promise<void> {
    this.#idle.stop();
    await this.#running;
  }

  async #loop(): Promise<void> {
    while (!this.#idle.stopped) {
      try {
        const handled = await this.sendOnce();
        if (handled === 0) await this.#idle.wait(this.#options.pollIntervalMs);
      } catch (e) {
        this.#deps.log.warn("memos: retrying after error", { error: (e as Error).message });
        await this.#idle.wait(this.#options.pollIntervalMs);
      }
    }
  }

  /** One pass over the memos due at `now`; returns how many it handled (0: nothing was due). */
  async sendOnce(now = Date.now()): Promise<number> {
    const { ledger, memos } = this.#deps;
    const due = await memos.due(now, this.#options.passSize);
    if (due.length === 0) return 0;
    const records = await getAcceptedPayments(ledger.store, due.map((d) => d.item.paymentId));
    const expired: DueMemo[] = [];
    const byPayee = new Map<string, { due: DueMemo; memo: MemoItem }[]>();
    due.forEach((d, i) => {
      const memo = records[i]?.memo;
      if (!memo || now - d.item.queuedAt > this.#options.maxAgeMs) {
        expired.push(d);
        return;
      }
      const key = d.item.toWalletId.toLowerCase();
      let list = byPayee.get(key);
      if (!list) byPayee.set(key, (list = []));
      list.push({ due: d, memo: { transferId: d.item.transferId, txHash: d.item.txHash, memo } });
    });
    if (expired.length > 0) {
      await ledger.commit(memos.stageRemove(expired));
      const gaveUp = expired.filter((d) => now - d.item.queuedAt > this.#options.maxAgeMs).length;
      this.stats.expired += gaveUp;
      if (gaveUp > 0) this.#deps.log.warn("memos: gave up delivering memos after their maximum age", { count: gaveUp });
    }
    await Promise.all([...byPayee.values()].map((list) => this.#deliverAll(list, now)));
    return due.length;
  }

  /** The memos for one payee wallet, in deliveries within the per-request bounds. */
  async #deliverAll(list: { due: DueMemo; memo: MemoItem }[], now: number): Promise<void> {
    let chunk: typeof list = [];
    let transactions = new Set<string>();
    for (const entry of list) {
      const tx = entry.memo.txHash.toLowerCase();
      const full = chunk.length >= MAX_MEMOS_PER_DELIVERY || (!transactions.has(tx) && transactions.size >= MAX_TRANSACTIONS_PER_DELIVERY);
      if (full) {
        await this.#deliver(chunk, now);
        chunk = [];
        transactions = new Set();
      }
      chunk.push(entry);
      transactions.add(tx);
    }
    if (chunk.length > 0) await this.#deliver(chunk, now);
  }

  /** Sends one delivery and records its outcome per memo in one write. */
  async #deliver(chunk: { due: DueMemo; memo: MemoItem }[], now: number): Promise<void> {
    const { ledger, memos, log } = this.#deps;
    const toWalletId = chunk[0].due.item.toWalletId;
    const outcomes = await this.#post(toWalletId, chunk.map((c) => c.memo));
    const done: DueMemo[] = [];
    const ops: StagedOp[] = [];
    const refusals = new Map<string, number>();
    chunk.forEach((c, i) => {
      const outcome = outcomes[i];
      if (outcome.status === "retry") {
        const delay = backoff(Math.min(c.due.item.attempts, 20), { baseMs: this.#options.backoffMs, maxMs: this.#options.maxBackoffMs, jitter: "none" });
        ops.push(...memos.stageReschedule(c.due, now + delay));
        this.stats.retried++;
        return;
      }
      done.push(c.due);
      if (outcome.status === "refused") {
        this.stats.refused++;
        refusals.set(outcome.code, (refusals.get(outcome.code) ?? 0) + 1);
      } else this.stats.delivered++;
    });
    ops.push(...memos.stageRemove(done));
    await ledger.commit(ops);
    if (refusals.size > 0) log.warn("memos: the payee's node refused memos", { toWalletId, refusals: Object.fromEntries(refusals) });
  }

  /** The payee node's outcome per memo; every memo `retry` when it cannot be reached or answers badly. */
  async #post(toWalletId: Hex, items: MemoItem[]): Promise<MemoOutcome[]> {
    const { registry, account, walletId, log } = this.#deps;
    const retryAll = (code: string): MemoOutcome[] => items.map((m) => ({ transferId: m.transferId, status: "retry", code }));
    const operator = await registry.operator(toWalletId).catch(() => undefined);
    if (!operator || operator.status !== "Active") return retryAll("payee_unavailable");
    let endpoint: URL;
    try {
      endpoint = await checkPeerEndpoint(operator.endpoint, this.#deps.peers);
    } catch {
      return retryAll("payee_endpoint_refused");
    }
    const body = canonicalJson({ memos: items } as never);
    let response: Response;
    try {
      const headers = await signMemoDelivery(account, walletId, toWalletId, body);
      response = await (this.#deps.fetch ?? fetch)(new URL(MEMOS_PATH, endpoint), {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
    } catch {
      // The node may have moved (a restart publishes a new endpoint): read the registry afresh.
      registry.invalidate();
      return retryAll("payee_unreachable");
    }
    const answer = (await response.json().catch(() => undefined)) as Partial<MemoDeliveryAnswer> & { code?: unknown } | undefined;
    if (response.status === 400) {
      // The delivery itself is malformed for the payee's node: sending it again cannot help.
      log.warn("memos: the payee's node refused a delivery", { toWalletId, status: response.status, code: String(answer?.code ?? "") });
      return items.map((m) => ({ transferId: m.transferId, status: "refused", code: "delivery_refused" }));
    }
    const results = answer?.results;
    if (!response.ok || !Array.isArray(results) || results.length !== items.length) return retryAll(`payee_status_${response.status}`);
    return results.map((r, i) => {
      const status = (r as { status?: unknown })?.status;
      if (status === "stored" || status === "duplicate") return { transferId: items[i].transferId, status };
      if (status === "refused") return { transferId: items[i].transferId, status, code: String((r as { code?: unknown }).code ?? "refused") };
      return { transferId: items[i].transferId, status: "retry", code: "payee_retry" };
    });
  }
}
