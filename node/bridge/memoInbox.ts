import { type Address, type Hex, type PublicClient, TransactionReceiptNotFoundError } from "viem";
import type { Ledger } from "../ledger/ledger.ts";
import { parseTransferId } from "../receipts/ids.ts";
import type { Receipt } from "../receipts/receipt.ts";
import { TRANSFERS_SETTLED_TOPIC, receiptsOfTransfersSettled } from "../receipts/transfersSettled.ts";
import { compoundKey } from "../store/keys.ts";
import { type StoredMemo, deleteMemo, getMemos, memoHashOf, putMemo } from "./memos.ts";
import { MAX_TRANSACTIONS_PER_DELIVERY, type MemoItem, type MemoOutcome } from "./memoWire.ts";

/** A UTF-16 surrogate without its partner: such text has no UTF-8 form, so no hash to check it by. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A delivery that is refused as a whole (before any chain read). */
export class MemoDeliveryError extends Error {
  override name = "MemoDeliveryError";
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export interface MemoInboxDeps {
  ledger: Ledger;
  client: PublicClient;
  hub: Address;
  /** This wallet: only memos of transfers paid to it are taken. */
  walletId: Hex;
  /** Blocks below the head before a settlement counts as final (0 on QBFT). */
  finalityDepth: number;
}

/** A transfer to this wallet, as settled. */
type Settled = Pick<Receipt, "fromWallet" | "memoHash">;

/**
 * What a settlement transaction says: its transfers to this wallet (by lower-case id) and the ids
 * of its transfers to other wallets; or why it cannot be used (yet).
 */
type Settlement =
  | { kind: "found"; mine: Map<string, Settled>; others: Set<string> }
  | { kind: "retry"; code: string }
  | { kind: "refused"; code: string };

/**
 * Settlement transactions remembered across deliveries: a payer delivers the memos of one large
 * batch in several requests, and each would otherwise read and decode the same transaction. A
 * final transaction never changes, so an entry needs no expiry; at most this many are kept (a
 * 2,000-transfer batch is ~200 kB here).
 */
const SETTLEMENT_CACHE_SIZE = 8;

/** The inbound marker the follower writes per transfer (see inbound.ts). */
type Marker = { status: string };

/**
 * The payee's side of memo delivery: takes the memos a payer's node sends for transfers settled to
 * this wallet, after checking each against the chain — the transfer is in the named settlement
 * transaction, paid to this wallet by the calling wallet, and the memo's hash is the `memoHash`
 * settled with it. Only such memos are stored (one atomic write per delivery), so a flood of memos
 * for transfers that do not exist stores nothing; what it costs is bounded per request by
 * {@link MAX_TRANSACTIONS_PER_DELIVERY} chain reads. Delivering the same memo again is harmless.
 *
 * A memo may arrive before the inbound follower credits the transfer (it is stored and shown once
 * the credit is) or after; one for a transfer the follower could not credit (it is going back to
 * the payer) is refused, and the follower deletes one that arrived first.
 */
export class MemoInbox {
  readonly #deps: MemoInboxDeps;
  readonly #settlements = new Map<string, Promise<Settlement>>();

  constructor(deps: MemoInboxDeps) {
    this.#deps = deps;
  }

  /**
   * Checks and stores the memos `caller` delivered; one outcome per item, in order. Throws only
   * when the chain cannot be read (the caller retries the whole delivery).
   */
  async accept(caller: Hex, items: readonly MemoItem[]): Promise<MemoOutcome[]> {
    const transactions = new Set(items.map((i) => i.txHash.toLowerCase()));
    if (transactions.size > MAX_TRANSACTIONS_PER_DELIVERY) {
      throw new MemoDeliveryError("too_many_transactions", `a delivery names at most ${MAX_TRANSACTIONS_PER_DELIVERY} settlement transactions, not ${transactions.size}`);
    }
    const store = this.#deps.ledger.store;
    const ids = items.map((i) => i.transferId.toLowerCase() as Hex);
    const [markers, existing] = await Promise.all([
      store.sub.inbound.getMany(ids.map((id) => compoundKey("in", id))) as Promise<(Marker | undefined)[]>,
      getMemos(store, ids),
    ]);
    const outcomes: MemoOutcome[] = [];
    const staged = new Map<string, StoredMemo>();
    const now = new Date().toISOString();
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      const id = ids[i];
      const refuse = (code: string): MemoOutcome => ({ transferId: item.transferId, status: "refused", code });
      // A transfer id names its payer's wallet: a node may only speak for its own transfers. Checked
      // first, so no other member learns anything about a transfer (not even whether a guessed
      // memo is the one stored).
      if (payerOf(item.transferId) !== caller.toLowerCase()) {
        outcomes.push(refuse("not_payer"));
        continue;
      }
      if (LONE_SURROGATE.test(item.memo)) {
        outcomes.push(refuse("memo_invalid"));
        continue;
      }
      if (existing[i]?.memo === item.memo || staged.get(id)?.memo === item.memo) {
        outcomes.push({ transferId: item.transferId, status: "duplicate" });
        continue;
      }
      if (markers[i] && markers[i]!.status !== "credited") {
        outcomes.push(refuse("transfer_not_credited"));
        continue;
      }
      const s = await this.#settlement(item.txHash);
      if (s.kind !== "found") {
        outcomes.push({ transferId: item.transferId, status: s.kind, code: s.code });
        continue;
      }
      const receipt = s.mine.get(id);
      if (!receipt) outcomes.push(refuse(s.others.has(id) ? "not_payee" : "transfer_not_in_settlement"));
      else if (receipt.fromWallet.toLowerCase() !== caller.toLowerCase()) outcomes.push(refuse("not_payer"));
      else if (receipt.memoHash.toLowerCase() !== memoHashOf(item.memo)) outcomes.push(refuse("memo_hash_mismatch"));
      else {
        staged.set(id, { memo: item.memo, fromWallet: receipt.fromWallet, receivedAt: now });
        outcomes.push({ transferId: item.transferId, status: "stored" });
      }
    }
    if (staged.size > 0) await this.#store(staged);
    return outcomes;
  }

  /**
   * Writes the memos in one batch, then drops any whose transfer the follower meanwhile marked as
   * not credited: the follower deletes a memo when it holds a transfer, and a memo written after
   * that delete would otherwise outstay its transfer. Writes are applied in order, so after this
   * write every marker written before it is readable.
   */
  async #store(staged: Map<string, StoredMemo>): Promise<void> {
    const { ledger } = this.#deps;
    const ids = [...staged.keys()] as Hex[];
    await ledger.commit(ids.map((id) => putMemo(ledger.store, id, staged.get(id)!)));
    const markers = (await ledger.store.sub.inbound.getMany(ids.map((id) => compoundKey("in", id)))) as (Marker | undefined)[];
    const stale = ids.filter((_, i) => markers[i] && markers[i]!.status !== "credited");
    if (stale.length > 0) await ledger.commit(stale.map((id) => deleteMemo(ledger.store, id)));
  }

  /** A settlement transaction, from the cache or the chain; only final answers are kept. */
  #settlement(txHash: Hex): Promise<Settlement> {
    const key = txHash.toLowerCase();
    const hit = this.#settlements.get(key);
    if (hit) return hit;
    const read = this.#readSettlement(txHash);
    if (this.#settlements.size >= SETTLEMENT_CACHE_SIZE) this.#settlements.delete(this.#settlements.keys().next().value!);
    this.#settlements.set(key, read);
    const forget = () => this.#settlements.get(key) === read && this.#settlements.delete(key);
    read.then((s) => s.kind === "retry" && forget(), forget);
    return read;
  }

  /** The transfers of a settlement transaction, read from the chain. */
  async #readSettlement(txHash: Hex): Promise<Settlement> {
    const { client, hub, finalityDepth } = this.#deps;
    let receipt;
    try {
      receipt = await client.getTransactionReceipt({ hash: txHash });
    } catch (e) {
      if (e instanceof TransactionReceiptNotFoundError) return { kind: "retry", code: "settlement_not_found" };
      throw e;
    }
    if (receipt.status !== "success") return { kind: "refused", code: "settlement_reverted" };
    if (finalityDepth > 0) {
      const head = await client.getBlockNumber({ cacheTime: 0 });
      if (head - receipt.blockNumber < BigInt(finalityDepth)) return { kind: "retry", code: "settlement_not_final" };
    }
    const me = this.#deps.walletId.toLowerCase();
    const mine = new Map<string, Settled>();
    const others = new Set<string>();
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== hub.toLowerCase() || log.topics[0] !== TRANSFERS_SETTLED_TOPIC) continue;
      // topic 2 is the group's payee wallet.
      const toMe = log.topics[2]?.toLowerCase() === me;
      for (const r of receiptsOfTransfersSettled(log)) {
        if (toMe) mine.set(r.transferId.toLowerCase(), { fromWallet: r.fromWallet, memoHash: r.memoHash.toLowerCase() as Hex });
        else others.add(r.transferId.toLowerCase());
      }
    }
    return { kind: "found", mine, others };
  }
}

function payerOf(transferId: Hex): string | undefined {
  try {
    return parseTransferId(transferId).walletId.toLowerCase();
  } catch {
    return undefined;
  }
}
