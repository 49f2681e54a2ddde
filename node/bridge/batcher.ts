import { type Address, type Hex, type PublicClient, type TransactionReceipt, getContractError, zeroHash } from "viem";
import { settlementHubAbi } from "../chain/abi/generated.ts";
import { decodeRevert, isTransportError } from "../chain/errors.ts";
import { readNextSeq } from "../chain/hubReads.ts";
import type { TransactionSender } from "../chain/transactionSender.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { refundOutbound, settleOutbound } from "../ledger/movements.ts";
import type { Logger } from "../observability/logger.ts";
import type { StagedOp } from "../store/types.ts";
import { type BackoffOptions, backoff } from "../timing/backoff.ts";
import { sleep } from "../timing/sleep.ts";
import { Wakeable } from "../timing/wakeable.ts";
import {
  type BatchPlan,
  batchGasLimit,
  deletePlan,
  type EncodedBatch,
  encodeBatch,
  loadPlans,
  planTransferIds,
  putPlan,
} from "./batchPlan.ts";
import type { MemoOutbox } from "./memoOutbox.ts";
import type { BridgeMetrics } from "./metrics.ts";
import type { Outbox, OutboxItem } from "./outbox.ts";
import { indexTransfer, putPaymentState } from "./paymentRecords.ts";
import { type Rejection, judgeRevert } from "./rejections.ts";

export interface BatcherOptions {
  /** Most transfers in one batch. */
  maxTransfers: number;
  /** Longest time the oldest accepted payment waits for a fuller batch. */
  maxDelayMs: number;
  /** Pause between looks at an empty outbox. */
  idleMs?: number;
  /** How long to wait for a receipt before checking nextSeq and rebroadcasting. */
  receiptTimeoutMs?: number;
  /** Backoff between attempts of a recovery or of a batch in flight. Default 200 ms doubling to 5 s, full jitter. */
  retry?: BackoffOptions;
}

export interface BatcherDeps {
  ledger: Ledger;
  outbox: Outbox;
  sender: TransactionSender;
  client: PublicClient;
  hub: Address;
  walletId: Hex;
  metrics: BridgeMetrics;
  log: Logger;
  /** Where the memos of settled payments wait for delivery to their payees' nodes (none: memos stay here). */
  memos?: MemoOutbox;
  /** Called after a batch with memos settled, so the memo sender looks at once. */
  onMemosQueued?: () => void;
}

/**
 * Default most transfers in one batch. The hub takes up to `MAX_BATCH_TRANSFERS` = 2,048; a batch
 * only grows past a few hundred when the outbox is deep (a batch forms as soon as the oldest payment
 * waited `maxDelayMs`), so light load keeps small, quick batches while heavy load pays the fixed
 * per-batch cost (simulation, signing, two fsyncs, a block) once per 2,000 payments.
 */
export const DEFAULT_MAX_BATCH_TRANSFERS = 2_000;

/** The hub's `MAX_BATCH_PAYEES`: a batch names at most this many distinct payee wallets. */
export const MAX_BATCH_PAYEES = 64;

/** The longest prefix of the outbox whose payees fit in one batch. */
export function withinPayeeLimit<T extends { item: OutboxItem }>(picked: T[], limit = MAX_BATCH_PAYEES): T[] {
  const payees = new Set<string>();
  for (let i = 0; i < picked.length; i++) {
    payees.add(picked[i].item.toWalletId.toLowerCase());
    if (payees.size > limit) return picked.slice(0, i);
  }
  return picked;
}

/**
 * Runs `settleBatch` as an `eth_call` from `from`: undefined when it would succeed, the decoded
 * custom error when the hub refuses it; anything else (transport, an undecodable revert) throws.
 *
 * A plain call with the batch's calldata, encoded once: exactly what viem's `simulateContract` does
 * after encoding the same arguments a second time (~450 kB of hex for 2,000 transfers), with the
 * same error decoding.
 */
export async function simulateSettleBatch(client: PublicClient, hub: Address, from: Address, batch: EncodedBatch) {
  try {
    await client.call({ batch: false, account: from, to: hub, data: batch.data });
    return undefined;
  } catch (err) {
    const e = getContractError(err as never, { abi: settlementHubAbi, address: hub, args: batch.args, functionName: "settleBatch", sender: from });
    const decoded = decodeRevert(e);
    if (!decoded) throw e;
    return decoded;
  }
}

/**
 * Outbox → batches → `settleBatch`, exactly once.
 *
 * One batch is in flight at a time. Before a batch is first broadcast, its plan (sequence numbers,
 * payments, signed transaction) is written in the same atomic write that takes its payments out of
 * the outbox. The chain's `nextSeq` is then the only judge: at or past the batch's end it settled
 * (record it), still at its start it did not (rebroadcast the same bytes). A batch can never
 * settle twice, because the hub refuses a second batch at the same sequence numbers.
 */
export class Batcher {
  readonly #deps: BatcherDeps;
  readonly #options: Required<BatcherOptions>;
  #nextSeq = 0n;
  /** The idle wait between looks at the outbox; `stop()` also cuts every backoff short. */
  readonly #idle = new Wakeable();
  #running: Promise<void> | undefined;
  /** Milliseconds spent in each step of the batch in hand (logged with "batch settled"). */
  #timing: Record<string, number> = {};
  #clock = 0;

  #startTiming(): void {
    this.#timing = {};
    this.#clock = performance.now();
  }

  #lap(step: string): void {
    const now = performance.now();
    this.#timing[step] = Math.round((this.#timing[step] ?? 0) + now - this.#clock);
    this.#clock = now;
  }

  constructor(deps: BatcherDeps, options: BatcherOptions) {
    this.#deps = deps;
    this.#options = { idleMs: 20, receiptTimeoutMs: 30_000, retry: { baseMs: 200, maxMs: 5_000 }, ...options };
  }

  /** Starts the loop: recovers what a previous run left in flight, then batches. */
  start(): void {
    this.#running ??= this.#loop();
  }

  /** Nudges an idle loop (a payment was accepted). */
  notify(): void {
    this.#idle.notify();
  }

  /** Stops after the batch in hand, if any; an idle wait or a backoff ends at once. */
  async stop(): Promise<void> {
    this.#idle.stop();
    await this.#running;
  }

  /** True while a batch plan is in flight. */
  inFlight = false;

  async #loop(): Promise<void> {
    await this.#retrying("recover", () => this.#recover());
    while (!this.#idle.stopped) {
      try {
        if (!this.#ready()) {
          await this.#idle.wait(this.#idleMs());
          continue;
        }
        await this.#settleNext();
      } catch (e) {
        this.#deps.metrics.lastError = (e as Error).message;
        this.#deps.log.warn("batcher: retrying after error", { error: (e as Error).message });
        await sleep(isTransportError(e) ? 500 : 1_000, this.#idle.signal);
      }
    }
  }

  #ready(): boolean {
    const { outbox } = this.#deps;
    if (outbox.depth === 0) return false;
    return outbox.depth >= this.#options.maxTransfers || outbox.oldestAgeMs() >= this.#options.maxDelayMs;
  }

  /** How long the loop may idle: until the oldest payment is due, at most 250 ms. */
  #idleMs(): number {
    const { outbox } = this.#deps;
    const wait = outbox.depth > 0 ? Math.max(1, this.#options.maxDelayMs - outbox.oldestAgeMs()) : this.#options.idleMs * 10;
    return Math.min(wait, 250);
  }

  async #retrying(what: string, run: () => Promise<void>): Promise<void> {
    for (let attempt = 0; !this.#idle.stopped; attempt++) {
      try {
        return await run();
      } catch (e) {
        this.#deps.log.warn(`batcher: ${what} failed, retrying`, { error: (e as Error).message, attempt });
        await sleep(backoff(attempt, this.#options.retry), this.#idle.signal);
      }
    }
  }

  async #readNextSeq(): Promise<bigint> {
    const { client, hub, walletId } = this.#deps;
    return readNextSeq(client, hub, walletId);
  }

  async #recover(): Promise<void> {
    this.#nextSeq = await this.#readNextSeq();
    for (const plan of await loadPlans(this.#deps.ledger.store)) {
      this.#deps.log.info("batcher: resuming batch left in flight", { firstSeq: plan.firstSeq, count: plan.items.length });
      await this.#drive(plan);
    }
  }

  /**
   * Runs the batch as an `eth_call` first: a refusal names the payments (or the condition) at
   * fault before anything is signed. `judged` are the payments in the order the refusal should be
   * judged in (acceptance order: a daily limit keeps the oldest).
   */
  async #simulate(batch: EncodedBatch, judged: readonly OutboxItem[]): Promise<Rejection | undefined> {
    const { client, hub, sender } = this.#deps;
    const decoded = await simulateSettleBatch(client, hub, sender.address, batch);
    return decoded && judgeRevert(decoded, judged, this.#deps.walletId);
  }

  async #settleNext(): Promise<void> {
    const { outbox, ledger, sender, hub, walletId, metrics } = this.#deps;
    const picked = withinPayeeLimit(outbox.peek(this.#options.maxTransfers));
    const accepted = picked.map((p) => p.item);
    const firstSeq = this.#nextSeq;
    this.#startTiming();
    const batch = encodeBatch(firstSeq, accepted);
    this.#lap("encode");
    // The gas price is read alongside the simulation (the chain answers both from the same state),
    // sparing the signer a round trip of its own.
    const [rejection, gasPrice] = await Promise.all([this.#simulate(batch, accepted), sender.gasPrice().catch(() => undefined)]);
    this.#lap("simulate");
    if (rejection) {
      await this.#applyRejection(picked, rejection);
      return;
    }
    // From here on the payments are in batch order (grouped by payee): item i is firstSeq + i.
    const { items, groups, data } = batch;
    const gas = batchGasLimit(items.length);
    const signed = await sender.sign(hub, data, gas, gasPrice);
    this.#lap("sign");
    const plan: BatchPlan = {
      firstSeq: firstSeq.toString(),
      items,
      groups,
      data,
      gas: gas.toString(),
      raw: signed.raw,
      hash: signed.hash,
      nonce: signed.nonce,
      createdAt: new Date().toISOString(),
    };
    const now = plan.createdAt;
    const ids = planTransferIds(walletId, plan);
    const ops: StagedOp[] = [putPlan(ledger.store, plan), ...outbox.stageRemove(picked.map((p) => p.n))];
    items.forEach((item, i) => {
      ops.push(
        putPaymentState(ledger.store, item.paymentId, {
          status: "settling",
          transferId: ids[i],
          seq: (firstSeq + BigInt(i)).toString(),
          updatedAt: now,
        }),
        indexTransfer(ledger.store, ids[i], item.paymentId),
      );
    });
    this.inFlight = true;
    try {
      await ledger.commit(ops);
      this.#lap("commitPlan");
      metrics.recordBatch(items.length);
      await this.#drive(plan, true);
    } finally {
      this.inFlight = false;
    }
  }

  /**
   * Takes a plan to its end: settled, or (only when it certainly did not land) back to the outbox.
   *
   * `fresh`: the plan was formed just now, right after its `settleBatch` simulated successfully at
   * the chain's latest state — which proves the hub's `nextSeq` for this wallet was `firstSeq` then,
   * and only this node's batcher (one batch at a time) moves it. So the first attempt broadcasts at
   * once instead of reading `nextSeq` again. This skips a read, never a safety check: broadcasting
   * is harmless whatever the chain holds (the hub refuses a batch whose `firstSeq` is not `nextSeq`,
   * and a used nonce comes back "stale", which reads `nextSeq` before anything is re-signed), and
   * every later attempt — and every plan resumed after a restart — reads `nextSeq` first as before.
   */
  async #drive(plan: BatchPlan, fresh = false): Promise<void> {
    const first = BigInt(plan.firstSeq);
    const end = first + BigInt(plan.items.length);
    if (!fresh) this.#startTiming();
    for (let attempt = 0; ; attempt++) {
      if (this.#idle.stopped && attempt > 0) return;
      try {
        const onChain = fresh && attempt === 0 ? first : await this.#readNextSeq();
        this.#lap("readNextSeq");
        if (onChain >= end) return await this.#recordSettled(plan, await this.#receipt(plan));
        if (onChain !== first) {
          throw new Error(`batch at ${first} cannot land: chain expects sequence ${onChain}`);
        }
        const sent = await this.#deps.sender.broadcast({ raw: plan.raw!, hash: plan.hash!, nonce: plan.nonce! });
        this.#lap("broadcast");
        if (sent === "stale") {
          // The nonce is used: either this very transaction landed since we read nextSeq, or another
          // one took the nonce. Only in the second case is the batch signed again (with a fresh
          // nonce); re-signing a batch that already landed would leave a nonce gap behind it.
          if ((await this.#readNextSeq()) >= end) return await this.#recordSettled(plan, await this.#receipt(plan));
          await this.#resign(plan);
          continue;
        }
        const receipt = await this.#deps.sender.waitForReceipt(plan.hash!, this.#options.receiptTimeoutMs);
        this.#lap("receipt");
        if (!receipt) continue;
        if (receipt.status === "success") return await this.#recordSettled(plan, receipt);
        // Reverted on chain: the state changed between simulation and inclusion.
        const rejection = await this.#simulate(encodeBatch(first, plan.items), plan.items);
        if (rejection) return await this.#requeue(plan);
        await this.#resign(plan);
      } catch (e) {
        if (!isTransportError(e)) this.#deps.log.warn("batcher: batch attempt failed", { error: (e as Error).message });
        await sleep(backoff(attempt, this.#options.retry), this.#idle.signal);
      }
    }
  }

  async #receipt(plan: BatchPlan): Promise<TransactionReceipt | undefined> {
    try {
      return await this.#deps.client.getTransactionReceipt({ hash: plan.hash! });
    } catch {
      return undefined;
    }
  }

  async #resign(plan: BatchPlan): Promise<void> {
    const { sender, hub, ledger } = this.#deps;
    const signed = await sender.sign(hub, plan.data, BigInt(plan.gas));
    plan.raw = signed.raw;
    plan.hash = signed.hash;
    plan.nonce = signed.nonce;
    await ledger.commit([putPlan(ledger.store, plan)]);
  }

  async #recordSettled(plan: BatchPlan, receipt: TransactionReceipt | undefined): Promise<void> {
    const { ledger, walletId, metrics, log } = this.#deps;
    const total = plan.items.reduce((sum, item) => sum + BigInt(item.amount), 0n);
    const ids = planTransferIds(walletId, plan);
    const now = new Date().toISOString();
    const txHash = (receipt?.transactionHash ?? plan.hash) as Hex;
    const queuedAt = Date.now();
    let memos = 0;
    let unqueued = 0;
    const prepared = ledger.prepare((tx) => {
      tx.stage({ ...settleOutbound(total, `batch:${plan.firstSeq}`), meta: { firstSeq: plan.firstSeq, count: plan.items.length } });
      tx.add(deletePlan(ledger.store, plan));
      plan.items.forEach((item, i) => {
        tx.add(
          putPaymentState(ledger.store, item.paymentId, {
            status: "settled",
            transferId: ids[i],
            seq: (BigInt(plan.firstSeq) + BigInt(i)).toString(),
            txHash,
            blockNumber: receipt?.blockNumber.toString(),
            updatedAt: now,
          }),
        );
        // The memo goes to the payee's node only now that the transfer (and its memo hash) is on chain.
        if (this.#deps.memos && item.memoHash !== zeroHash) {
          const queued = this.#deps.memos.stageEnqueue({ paymentId: item.paymentId, toWalletId: item.toWalletId, transferId: ids[i], txHash, attempts: 0, queuedAt });
          tx.add(...queued);
          memos += queued.length;
          unqueued += 1 - queued.length;
        }
      });
    });
    this.#lap("prepareSettled");
    await ledger.commit(prepared.ops);
    this.#lap("commitSettled");
    this.#nextSeq = BigInt(plan.firstSeq) + BigInt(plan.items.length);
    metrics.paymentsSettled += plan.items.length;
    if (memos > 0) this.#deps.onMemosQueued?.();
    if (unqueued > 0) log.warn("batcher: memo queue full, memos of settled payments not queued for delivery", { count: unqueued });
    log.info("batch settled", {
      firstSeq: plan.firstSeq,
      count: plan.items.length,
      total: total.toString(),
      txHash: receipt?.transactionHash,
      block: receipt?.blockNumber?.toString(),
      ms: this.#timing,
    });
  }

  /** The plan can no longer land as signed: its payments go back to the outbox and are judged again. */
  async #requeue(plan: BatchPlan): Promise<void> {
    const { ledger, outbox } = this.#deps;
    const now = new Date().toISOString();
    const prepared = ledger.prepare((tx) => {
      tx.add(deletePlan(ledger.store, plan));
      for (const item of plan.items) {
        tx.add(outbox.stageEnqueue(item), putPaymentState(ledger.store, item.paymentId, { status: "accepted", updatedAt: now }));
      }
    });
    await ledger.commit(prepared.ops);
  }

  async #applyRejection(picked: { n: bigint; item: OutboxItem }[], rejection: Rejection): Promise<void> {
    const { ledger, outbox, metrics, log } = this.#deps;
    if (rejection.kind === "wait") {
      log.warn("batcher: settlement refused for now, waiting", { reason: rejection.reason });
      metrics.lastError = rejection.reason;
      await sleep(rejection.retryAfterMs, this.#idle.signal);
      return;
    }
    if (rejection.kind === "resync") {
      this.#nextSeq = await this.#readNextSeq();
      return;
    }
    const rejected = picked.filter((p) => rejection.rejects(p.item));
    if (rejected.length === 0) {
      await sleep(1_000, this.#idle.signal);
      return;
    }
    const now = new Date().toISOString();
    const prepared = ledger.prepare((tx) => {
      tx.add(...outbox.stageRemove(rejected.map((p) => p.n)));
      for (const { item } of rejected) {
        tx.stage(refundOutbound(item.fromAccountId, BigInt(item.amount), `payment:${item.paymentId}`));
        tx.add(putPaymentState(ledger.store, item.paymentId, { status: "rejected", reason: rejection.reason, updatedAt: now }));
      }
    });
    await ledger.commit(prepared.ops);
    metrics.paymentsRejected += rejected.length;
    log.warn("payments rejected by the settlement hub", { count: rejected.length, reason: rejection.reason });
  }
}
