import type { Address, Hex, PublicClient } from "viem";
import { encodeFunctionData } from "viem";
import { settlementHubAbi } from "../chain/abi/generated.ts";
import { decodeRevert, isTransportError } from "../chain/errors.ts";
import type { TransactionSender } from "../chain/transactionSender.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { releaseSuspenseOnReturn } from "../ledger/movements.ts";
import type { Logger } from "../observability/logger.ts";
import { compoundKey, prefixRange } from "../store/keys.ts";
import type { Store } from "../store/store.ts";
import type { StagedOp } from "../store/types.ts";
import { sleep } from "../timing/sleep.ts";
import { Wakeable } from "../timing/wakeable.ts";
import type { BridgeMetrics } from "./metrics.ts";
import { RETURN_CALL_ABI, describeReturnFailure, nextAttemptAt } from "./returnRetry.ts";

/** A transfer this wallet received but cannot credit, waiting to go back with its proof. */
export interface ReturnItem {
  receipt: {
    transferId: Hex;
    fromWallet: Hex;
    toWallet: Hex;
    seq: string;
    amount: string;
    payerRef: Hex;
    payeeRef: Hex;
    memoHash: Hex;
  };
  batchNo: string;
  proof: Hex[];
  reasonCode: number;
  /** Failed attempts so far (absent before the first failure). */
  attempts?: number;
  /** Not to be tried before this time (ms since 1970), after a failure. */
  nextAttemptAt?: number;
  /** Why the last attempt failed. */
  lastError?: string;
}

const RETURN = "out";

/** Items the returner reads from the store at a time: a pass walks the whole queue page by page. */
export const RETURN_PAGE_SIZE = 256;
/** How often the returner checks for returns the hub holds for this wallet, ms. */
const HELD_CHECK_MS = 30_000;

/** Stages a return (written with the hold of the money in suspense, in one batch). */
export function stageReturn(store: Store, item: ReturnItem): StagedOp {
  return { type: "put", sublevel: store.sub.inbound, key: returnKey(item), value: item };
}

const returnKey = (item: ReturnItem) => compoundKey(RETURN, item.receipt.transferId.toLowerCase());

/**
 * The queued returns in key order, a page of at most `limit` after the item keyed `after` (from the
 * first when absent).
 */
export async function pendingReturns(store: Store, after?: string, limit = RETURN_PAGE_SIZE): Promise<{ key: string; item: ReturnItem }[]> {
  const range = prefixRange(RETURN);
  const page: { key: string; item: ReturnItem }[] = [];
  for await (const [key, value] of store.sub.inbound.iterator({ ...range, gt: after ?? range.gt, limit })) page.push({ key, item: value as ReturnItem });
  return page;
}

export interface ReturnerDeps {
  ledger: Ledger;
  sender: TransactionSender;
  client: PublicClient;
  hub: Address;
  metrics: BridgeMetrics;
  log: Logger;
  /** This wallet: when given, returns the hub holds for it (while it was suspended) are claimed once it is active. */
  walletId?: Hex;
  /** Clock, ms (tests). */
  now?: () => number;
  /** Pause after the chain could not be reached, ms. Default 1,000. */
  unreachableRetryMs?: number;
}

type Outcome = "returned" | "pending" | "failed";

/**
 * Sends queued returns with `returnTransfer`, exactly once: the hub refuses a second return of the
 * same transfer (`HubAlreadyReturned`), which after a crash tells the returner its earlier attempt
 * landed. Releasing the suspense, removing the item and marking the transfer returned happen in
 * one write.
 *
 * One bad item never holds up the others: an item whose return fails (the hub or the token
 * refuses it, the transaction reverts) records the attempt in the item itself (attempt count,
 * next attempt time, last error, written to the store) and is tried again with exponential backoff
 * ({@link nextAttemptAt}), while every other item goes on. Only a chain that cannot be reached
 * pauses the whole pass, since then no item could go. Each failure is logged as an error line
 * and counted (`returnsFailed`); `returnsBlocked` is how many items are waiting after a failure.
 * No failure drops an item: even `HubReturnWindowClosed` can pass later (the regulator may widen
 * the window), and the money stays visible in suspense meanwhile.
 */
export class Returner {
  readonly #deps: ReturnerDeps;
  readonly #now: () => number;
  /** The idle wait between passes; `stop()` also ends the pause after an unreachable chain. */
  readonly #idle = new Wakeable();
  #running: Promise<void> | undefined;
  #heldCheckedAt = -Infinity;

  constructor(deps: ReturnerDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  /** Ends an idle wait: a return was queued. */
  notify(): void {
    this.#idle.notify();
  }

  /** Stops after the item in hand, if any; an idle wait or a pause after an error ends at once. */
  async stop(): Promise<void> {
    this.#idle.stop();
    await this.#running;
  }

  async #loop(): Promise<void> {
    while (!this.#idle.stopped) {
      try {
        const sent = await this.passOnce();
        await this.#claimHeld();
        if (sent === 0) await this.#idle.wait(500);
      } catch (e) {
        if (!isTransportError(e)) this.#deps.log.warn("returner: retrying after error", { error: (e as Error).message });
        await sleep(this.#deps.unreachableRetryMs ?? 1_000, this.#idle.signal);
      }
    }
  }

  /**
   * One pass over the whole queue, a page at a time (so memory stays bounded however long it is,
   * and items waiting out a backoff never starve the ones behind them): tries every item that is
   * due, in key order. Returns how many items were tried. Throws only when the chain cannot be
   * reached.
   */
  async passOnce(): Promise<number> {
    let tried = 0;
    let blocked = 0;
    let after: string | undefined;
    for (;;) {
      const page = await pendingReturns(this.#deps.ledger.store, after);
      for (const { item } of page) {
        if (this.#idle.stopped) return tried;
        if ((item.nextAttemptAt ?? 0) > this.#now()) {
          blocked++;
          continue;
        }
        tried++;
        if ((await this.#attempt(item)) === "failed") blocked++;
      }
      if (page.length < RETURN_PAGE_SIZE) break;
      after = page.at(-1)!.key;
    }
    this.#deps.metrics.returnsBlocked = blocked;
    return tried;
  }

  /** Tries one item; any failure but an unreachable chain is recorded on the item. */
  async #attempt(item: ReturnItem): Promise<Outcome> {
    try {
      return await this.#send(item);
    } catch (e) {
      if (isTransportError(e)) throw e;
      await this.#recordFailure(item, describeReturnFailure(e));
      return "failed";
    }
  }

  async #send(item: ReturnItem): Promise<Outcome> {
    const { client, hub, sender } = this.#deps;
    const original = {
      ...item.receipt,
      seq: BigInt(item.receipt.seq),
      amount: BigInt(item.receipt.amount),
    };
    const args = [original, BigInt(item.batchNo), item.proof, item.reasonCode] as const;
    try {
      await client.simulateContract({ address: hub, abi: RETURN_CALL_ABI, functionName: "returnTransfer", args, account: sender.address });
    } catch (e) {
      if (decodeRevert(e)?.errorName === "HubAlreadyReturned") {
        await this.#recordReturned(item, undefined);
        return "returned";
      }
      throw e;
    }
    const data = encodeFunctionData({ abi: settlementHubAbi, functionName: "returnTransfer", args });
    const signed = await sender.sign(hub, data, 300_000n);
    if ((await sender.broadcast(signed)) === "stale") return "pending";
    const receipt = await sender.waitForReceipt(signed.hash);
    if (!receipt) return "pending";
    if (receipt.status !== "success") throw new Error(`return transaction ${signed.hash} reverted`);
    await this.#recordReturned(item, signed.hash);
    return "returned";
  }

  async #recordFailure(item: ReturnItem, error: string): Promise<void> {
    const { ledger, metrics, log } = this.#deps;
    const attempts = (item.attempts ?? 0) + 1;
    const next = nextAttemptAt(attempts, this.#now());
    const updated: ReturnItem = { ...item, attempts, nextAttemptAt: next, lastError: error };
    // The item is rewritten only if it is still queued: a return recorded meanwhile stays recorded.
    if ((await ledger.store.sub.inbound.get(returnKey(item))) === undefined) return;
    await ledger.commit([stageReturn(ledger.store, updated)]);
    metrics.returnsFailed++;
    log.error("returner: return failed, retrying later; the money stays in suspense", {
      transferId: item.receipt.transferId,
      error,
      attempts,
      nextAttemptAt: new Date(next).toISOString(),
    });
  }

  async #recordReturned(item: ReturnItem, txHash: Hex | undefined): Promise<void> {
    const { ledger, metrics, log } = this.#deps;
    const store = ledger.store;
    const transferId = item.receipt.transferId.toLowerCase();
    const prepared = ledger.prepare((tx) => {
      tx.stage(releaseSuspenseOnReturn(BigInt(item.receipt.amount), `return:${transferId}`));
      tx.add(
        { type: "del", sublevel: store.sub.inbound, key: compoundKey(RETURN, transferId) },
        { type: "put", sublevel: store.sub.inbound, key: compoundKey("in", transferId), value: { status: "returned", txHash } },
      );
    });
    await ledger.commit(prepared.ops);
    metrics.returnsSent++;
    log.info("transfer returned", { transferId, txHash, reasonCode: item.reasonCode, attempts: (item.attempts ?? 0) + 1 });
  }

  /**
   * Claims the returns the hub holds for this wallet (made while it could not hold tokens), once
   * it is active again. The ledger already credited them when their `TransferReturned` arrived;
   * the claim only moves the tokens from the hub to this wallet's account.
   */
  async #claimHeld(): Promise<void> {
    const { client, hub, sender, walletId, log } = this.#deps;
    if (!walletId || this.#now() - this.#heldCheckedAt < HELD_CHECK_MS) return;
    this.#heldCheckedAt = this.#now();
    const held = (await client.readContract({ address: hub, abi: settlementHubAbi, functionName: "heldReturnsOf", args: [walletId] })) as bigint;
    if (held === 0n) return;
    try {
      await client.simulateContract({ address: hub, abi: RETURN_CALL_ABI, functionName: "claimHeldReturns", args: [walletId], account: sender.address });
    } catch (e) {
      if (isTransportError(e)) throw e;
      // Not active yet (or paused): the money waits in the hub, try again later.
      log.debug("returner: held returns not claimable yet", { held: held.toString(), error: describeReturnFailure(e) });
      return;
    }
    const signed = await sender.sign(hub, encodeFunctionData({ abi: settlementHubAbi, functionName: "claimHeldReturns", args: [walletId] }), 200_000n);
    if ((await sender.broadcast(signed)) === "stale") return;
    const receipt = await sender.waitForReceipt(signed.hash);
    if (receipt?.status === "success") log.info("claimed held returns", { amount: held.toString(), txHash: signed.hash });
  }
}
