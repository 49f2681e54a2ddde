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
import type { BridgeMetrics } from "./metrics.ts";

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
}

const RETURN = "out";

/** Stages a return (written with the hold of the money in suspense, in one batch). */
export function stageReturn(store: Store, item: ReturnItem): StagedOp {
  return { type: "put", sublevel: store.sub.inbound, key: compoundKey(RETURN, item.receipt.transferId.toLowerCase()), value: item };
}

async function pendingReturns(store: Store): Promise<ReturnItem[]> {
  const items: ReturnItem[] = [];
  for await (const value of store.sub.inbound.values(prefixRange(RETURN))) items.push(value as ReturnItem);
  return items;
}

export interface ReturnerDeps {
  ledger: Ledger;
  sender: TransactionSender;
  client: PublicClient;
  hub: Address;
  metrics: BridgeMetrics;
  log: Logger;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends queued returns with `returnTransfer`, exactly once: the hub refuses a second return of the
 * same transfer (`HubAlreadyReturned`), which after a crash tells the returner its earlier attempt
 * landed. Releasing the suspense, removing the item and marking the transfer returned happen in
 * one write.
 */
export class Returner {
  readonly #deps: ReturnerDeps;
  #stopped = false;
  #running: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(deps: ReturnerDeps) {
    this.#deps = deps;
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  notify(): void {
    this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#running;
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      try {
        const items = await pendingReturns(this.#deps.ledger.store);
        for (const item of items) {
          if (this.#stopped) break;
          await this.#send(item);
        }
        if (items.length === 0) await this.#idle(500);
      } catch (e) {
        if (!isTransportError(e)) this.#deps.log.warn("returner: retrying after error", { error: (e as Error).message });
        await sleep(1_000);
      }
    }
  }

  #idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  async #send(item: ReturnItem): Promise<void> {
    const { client, hub, sender, log } = this.#deps;
    const original = {
      ...item.receipt,
      seq: BigInt(item.receipt.seq),
      amount: BigInt(item.receipt.amount),
    };
    const args = [original, BigInt(item.batchNo), item.proof, item.reasonCode] as const;
    try {
      await client.simulateContract({ address: hub, abi: settlementHubAbi, functionName: "returnTransfer", args, account: sender.address });
    } catch (e) {
      const revert = decodeRevert(e);
      if (revert?.errorName === "HubAlreadyReturned") return this.#recordReturned(item, undefined);
      if (revert) {
        log.warn("returner: hub refuses the return for now", { transferId: item.receipt.transferId, error: revert.errorName });
        await sleep(2_000);
        return;
      }
      throw e;
    }
    const data = encodeFunctionData({ abi: settlementHubAbi, functionName: "returnTransfer", args });
    const signed = await sender.sign(hub, data, 300_000n);
    if ((await sender.broadcast(signed)) === "stale") return;
    const receipt = await sender.waitForReceipt(signed.hash);
    if (receipt?.status === "success") await this.#recordReturned(item, signed.hash);
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
    log.info("transfer returned", { transferId, txHash, reasonCode: item.reasonCode });
  }
}
