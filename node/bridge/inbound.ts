import type { Address, Hex, PublicClient } from "viem";
import { isTransportError } from "../chain/errors.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { LedgerTx } from "../ledger/ledger.ts";
import { creditInbound, creditReturn, fundReserve, holdInbound } from "../ledger/movements.ts";
import type { Logger } from "../observability/logger.ts";
import { type MerkleTree, buildMerkleTree, merkleProof } from "../receipts/merkleTree.ts";
import { receiptLeaf } from "../receipts/receipt.ts";
import { RETURN_REASON } from "../receipts/returnReasons.ts";
import { compoundKey } from "../store/keys.ts";
import type { Cursors } from "../store/cursor.ts";
import type { StagedOp } from "../store/types.ts";
import { backoff } from "../timing/backoff.ts";
import { sleep } from "../timing/sleep.ts";
import { deleteMemo } from "./memos.ts";
import { isInBatch } from "../receipts/batchMembers.ts";
import { type InboundEvent, type SettledBatchOf, fetchBatchesOf, fetchInboundEvents } from "./inboundEvents.ts";
import type { BridgeMetrics } from "./metrics.ts";
import { type PaymentRecord, paymentByTransfer, putPaymentReturned } from "./paymentRecords.ts";
import { type ReturnItem, stageReturn } from "./returns.ts";

export const INBOUND_CURSOR = "inbound";

export { RETURN_REASON } from "../receipts/returnReasons.ts";

export interface InboundDeps {
  ledger: Ledger;
  cursors: Cursors;
  client: PublicClient;
  contracts: { hub: Address; token: Address };
  walletId: Hex;
  account: Address;
  metrics: BridgeMetrics;
  log: Logger;
  /** Called when returns were queued, so the returner looks at once. */
  onReturnQueued?: () => void;
}

export interface InboundOptions {
  /** Blocks below the head before an event counts as final (0 on QBFT: instant finality). */
  finalityDepth: number;
  /** Where to start on a fresh store (the deployment block). */
  startBlock: bigint;
  pollIntervalMs: number;
  /** Blocks applied per atomic write. Default 2,000. */
  maxBlockRange?: number;
  /** Widest `eth_getLogs` span: at most the node's `rpc-max-logs-range`. Default 5,000 (Besu's default). */
  logSpanBlocks?: number;
}

interface InboundContext {
  markers: Map<string, Marker>;
  accounts: Map<string, string>;
  payments: Map<string, PaymentRecord>;
  returnProofs: Map<string, { batchNo: bigint; proof: Hex[] }>;
}

interface Marker {
  status: "credited" | "returning" | "returned" | "return-credited";
  accountId?: string;
}

/** Backoff after a failed poll: 200 ms doubling to 5 s (the first failure waited 200 ms before too), full jitter. */
const POLL_RETRY = { baseMs: 200, maxMs: 5_000 } as const;

/**
 * Follows the chain for this wallet's inbound events from a persisted cursor and applies them to
 * the ledger, exactly once.
 *
 * Invariants: the cursor names the last block whose events are fully applied; a block range's
 * ledger entries, markers, return items and the cursor move land in ONE atomic write, so a crash
 * leaves either all of a range or none of it. Each transfer is also marked by its id, so an event
 * seen twice (a re-read range) never credits twice.
 */
export class InboundFollower {
  readonly #deps: InboundDeps;
  readonly #options: InboundOptions;
  /** Aborted by `stop()`: ends the pause between polls and the backoff after a failure. */
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;

  constructor(deps: InboundDeps, options: InboundOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  /** Stops after the range being applied, if any; a pause ends at once. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  /** Loads the persisted cursor (the follower's loop does too); after it, {@link cursor} is the stored position. */
  async ready(): Promise<void> {
    await this.#deps.cursors.load(INBOUND_CURSOR);
  }

  /** The last fully applied block. */
  get cursor(): bigint {
    return this.#deps.cursors.current(INBOUND_CURSOR) ?? this.#options.startBlock - 1n;
  }

  async #loop(): Promise<void> {
    await this.#deps.cursors.load(INBOUND_CURSOR);
    let failures = 0;
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      try {
        const progressed = await this.pollOnce();
        failures = 0;
        if (!progressed) await sleep(this.#options.pollIntervalMs, stop);
      } catch (e) {
        this.#deps.metrics.lastError = (e as Error).message;
        if (!isTransportError(e)) this.#deps.log.warn("inbound: retrying after error", { error: (e as Error).message });
        await sleep(backoff(failures++, POLL_RETRY), stop);
      }
    }
  }

  /** Applies the next range of final blocks; false when there was nothing new. */
  async pollOnce(): Promise<boolean> {
    const { client, metrics } = this.#deps;
    await this.#deps.cursors.load(INBOUND_CURSOR);
    const head = await client.getBlockNumber({ cacheTime: 0 });
    metrics.chainHead = head;
    const safe = head - BigInt(this.#options.finalityDepth);
    const from = this.cursor + 1n;
    if (from > safe) return false;
    const to = safe - from + 1n > BigInt(this.#options.maxBlockRange ?? 2_000) ? from + BigInt(this.#options.maxBlockRange ?? 2_000) - 1n : safe;
    const events = await fetchInboundEvents(client, this.#deps.contracts, this.#deps.walletId, this.#deps.account, from, to, this.#options.logSpanBlocks);
    await this.#apply(events, to);
    metrics.cursor = to;
    return true;
  }

  async #apply(events: InboundEvent[], to: bigint): Promise<void> {
    const { ledger, cursors } = this.#deps;
    const context = await this.#loadContext(events);
    let credited = 0;
    let held = 0;
    let returned = 0;
    const prepared = ledger.prepare((tx) => {
      for (const event of events) {
        const outcome = this.#applyOne(tx, event, context);
        if (outcome === "credited") credited++;
        if (outcome === "held") held++;
        if (outcome === "return-credited") returned++;
      }
      tx.add(...cursors.stageAdvance(INBOUND_CURSOR, to));
    });
    await ledger.commit(prepared.ops);
    this.#deps.metrics.inboundCredited += credited;
    this.#deps.metrics.inboundHeld += held;
    this.#deps.metrics.paymentsReturned += returned;
    if (held > 0) this.#deps.onReturnQueued?.();
  }

  /** Everything the synchronous apply step needs from disk or chain, read up front. */
  async #loadContext(events: InboundEvent[]): Promise<InboundContext> {
    const store = this.#deps.ledger.store;
    const markerKeys = events.map((e) => markerKey(e));
    const markers = new Map<string, Marker>();
    const found = (await store.sub.inbound.getMany(markerKeys)) as (Marker | undefined)[];
    markerKeys.forEach((k, i) => found[i] && markers.set(k, found[i]!));
    const settled = events.filter((e) => e.type === "settled");
    const refs = settled.map((e) => e.receipt.payeeRef.toLowerCase());
    const accounts = new Map<string, string>();
    const ids = refs.length ? ((await store.sub.references.getMany(refs)) as (string | undefined)[]) : [];
    refs.forEach((ref, i) => ids[i] && accounts.set(ref, ids[i]!));
    const payments = new Map<string, PaymentRecord>();
    for (const e of events) {
      if (e.type !== "returned") continue;
      const payment = await paymentByTransfer(store, e.originalTransferId);
      if (payment) payments.set(e.originalTransferId.toLowerCase(), payment);
    }
    // Returns need the whole batch of the transfer they send back, to prove it on chain. Several
    // transfers of one payee group share a batch: read each transaction once. A transaction may
    // settle several batches: the transfer's own is the one whose wallet and sequence range hold it.
    // (Bounded: one entry per transaction of this block range.)
    const returnProofs = new Map<string, { batchNo: bigint; proof: Hex[] }>();
    const transactions = new Map<string, Promise<(SettledBatchOf & { tree: MerkleTree })[]>>();
    const batchesOf = (txHash: Hex) => {
      let batches = transactions.get(txHash);
      if (!batches) {
        batches = fetchBatchesOf(this.#deps.client, this.#deps.contracts.hub, txHash).then((list) =>
          list.map((b) => ({ ...b, tree: buildMerkleTree(b.receipts.map(receiptLeaf)) })),
        );
        transactions.set(txHash, batches);
      }
      return batches;
    };
    for (const e of settled) {
      if (markers.has(markerKey(e))) continue;
      const accountId = accounts.get(e.receipt.payeeRef.toLowerCase());
      if (accountId && this.#deps.ledger.account(accountId)?.status === "open") continue;
      const batch = (await batchesOf(e.txHash)).find((b) => isInBatch(b, e.receipt));
      const index = batch ? batch.receipts.findIndex((r) => r.transferId.toLowerCase() === e.receipt.transferId.toLowerCase()) : -1;
      if (!batch || index < 0) throw new Error(`transaction ${e.txHash} holds no batch with transfer ${e.receipt.transferId}`);
      returnProofs.set(e.receipt.transferId.toLowerCase(), { batchNo: batch.batchNo, proof: merkleProof(batch.tree, index) });
    }
    return { markers, accounts, payments, returnProofs };
  }

  #applyOne(
    tx: LedgerTx,
    event: InboundEvent,
    ctx: InboundContext,
  ): "credited" | "held" | "return-credited" | "skipped" | "reserve" {
    const store = this.#deps.ledger.store;
    const key = markerKey(event);
    if (ctx.markers.has(key)) return "skipped";
    const mark = (marker: Marker): StagedOp => {
      ctx.markers.set(key, marker);
      return { type: "put", sublevel: store.sub.inbound, key, value: marker };
    };
    switch (event.type) {
      case "issued":
        tx.stage(fundReserve(event.amount, `mint:${event.txHash}:${event.logIndex}`));
        tx.add(mark({ status: "credited" }));
        return "reserve";
      case "redeemed": {
        // A burn larger than the float (the issuer redeemed before the ledger recorded the
        // withdrawals behind it) must not stop every later credit: the excess goes to suspense,
        // where reconciliation shows it, instead of failing the whole block range.
        const fromFloat = event.amount < tx.balance("op:float") ? event.amount : tx.balance("op:float");
        const postings = [{ account: "op:settlement", amount: event.amount }];
        if (fromFloat > 0n) postings.push({ account: "op:float", amount: -fromFloat });
        if (event.amount > fromFloat) postings.push({ account: "op:suspense", amount: -(event.amount - fromFloat) });
        tx.stage({ kind: "reserve_redeemed", ref: `burn:${event.txHash}:${event.logIndex}`, postings });
        tx.add(mark({ status: "credited" }));
        return "reserve";
      }
      case "returned": {
        const payment = ctx.payments.get(event.originalTransferId.toLowerCase());
        if (!payment) {
          // Not one of ours as far as this store knows: keep the money visible in suspense.
          tx.stage(holdInbound(event.amount, `return:${event.originalTransferId}`));
          tx.add(mark({ status: "returned" }));
          return "held";
        }
        tx.stage(creditReturn(payment.fromAccountId, event.amount, `return:${event.originalTransferId}`));
        tx.add(
          mark({ status: "return-credited", accountId: payment.fromAccountId }),
          putPaymentReturned(store, payment.id, {
            status: "returned",
            transferId: payment.transferId,
            seq: payment.seq,
            txHash: payment.txHash,
            blockNumber: payment.blockNumber,
            reason: event.reasonCode === RETURN_REASON.closedAccount ? "payee_account_closed" : "payee_account_unknown",
            updatedAt: new Date().toISOString(),
          }),
        );
        return "return-credited";
      }
      case "settled": {
        const r = event.receipt;
        const accountId = ctx.accounts.get(r.payeeRef.toLowerCase());
        const account = accountId ? tx.account(accountId) : undefined;
        if (account && account.status === "open") {
          tx.stage({ ...creditInbound(account.id, r.amount, `transfer:${r.transferId}`), meta: { transferId: r.transferId, from: r.fromWallet } });
          tx.add(mark({ status: "credited", accountId: account.id }));
          return "credited";
        }
        const proof = ctx.returnProofs.get(r.transferId.toLowerCase());
        if (!proof) throw new Error(`no proof prepared for ${r.transferId}`);
        const item: ReturnItem = {
          receipt: {
            transferId: r.transferId,
            fromWallet: r.fromWallet,
            toWallet: r.toWallet,
            seq: r.seq.toString(),
            amount: r.amount.toString(),
            payerRef: r.payerRef,
            payeeRef: r.payeeRef,
            memoHash: r.memoHash,
          },
          batchNo: proof.batchNo.toString(),
          proof: proof.proof,
          reasonCode: account ? RETURN_REASON.closedAccount : RETURN_REASON.unknownAccount,
        };
        tx.stage(holdInbound(r.amount, `transfer:${r.transferId}`));
        // A memo delivered ahead of this transfer has no customer to show it to: it goes too.
        tx.add(mark({ status: "returning" }), stageReturn(store, item), deleteMemo(store, r.transferId));
        return "held";
      }
    }
  }
}

function markerKey(event: InboundEvent): string {
  switch (event.type) {
    case "settled":
      return compoundKey("in", event.receipt.transferId.toLowerCase());
    case "returned":
      return compoundKey("back", event.originalTransferId.toLowerCase());
    default:
      return compoundKey("reserve", `${event.txHash}:${event.logIndex}`);
  }
}
