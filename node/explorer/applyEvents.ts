import type { Hex } from "viem";
import { walletCodeOf } from "../receipts/ids.ts";
import type { Receipt } from "../receipts/receipt.ts";
import type { AlertRules, BurstDetector } from "./alertRules.ts";
import { type ChainEvent, blockKey, posKey } from "./decodeEvents.ts";
import {
  type AlertCounts,
  type AttestationRecord,
  type BatchRecord,
  type Bucket,
  type IndexOp,
  type IndexStore,
  type OperatorEvent,
  type OperatorState,
  type StoredAlert,
  type Sub,
  type TransferRecord,
  amountKey,
  bucketOf,
  indexValue,
  numKey,
} from "./indexStore.ts";

/** Network-wide counters kept in `meta.totals`. */
export interface Totals {
  transfers: number;
  amount: string;
  batches: number;
  returns: number;
  events: number;
  reverted: number;
  /** Every alert ever raised, by severity (the list keeps them all; counts never stop at a page). */
  alerts: AlertCounts;
}

/** Pause state of the two pausable contracts, kept in `meta.paused`. */
export interface PauseState {
  hub: boolean;
  token: boolean;
  since?: number;
}

/** A transaction to a Hulian contract that reverted on chain. */
export interface RevertedAttempt {
  txHash: string;
  blockNumber: bigint;
  logIndex: number;
  from: string;
  contract: string;
  functionName: string;
  errorName?: string;
  errorArgs?: string[];
  wallet?: string;
}

/** The short code of a walletId, or the hex itself when it is not a valid one. */
export function codeOf(walletId: string): string {
  try {
    return walletCodeOf(walletId as Hex);
  } catch {
    return walletId.toLowerCase();
  }
}

const noAlerts = (): AlertCounts => ({ critical: 0, warning: 0, info: 0 });
const str = (v: unknown): string => (typeof v === "bigint" ? v.toString() : String(v));
const plain = (args: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(Object.entries(args).map(([k, v]) => [k, Array.isArray(v) ? v.map(str).join(",") : str(v)]));

/**
 * Folds one block range of decoded events into index writes. It reads current state through a
 * write-back cache (operators, buckets, transfers touched by returns), so the whole range lands
 * in one atomic batch together with the cursor: after a crash the index is either before or
 * after the range, never in between.
 *
 * Invariant: events are applied in chain order (block, log index), each exactly once, because the
 * cursor moves in the same batch as the writes.
 */
export class RangeApplier {
  readonly #index: IndexStore;
  readonly #rules: AlertRules;
  readonly #bursts: BurstDetector;
  readonly #times: Map<bigint, number>;
  readonly ops: IndexOp[] = [];
  /** Operators read or changed in this range; null remembers "not a member" for this range. */
  readonly #operators = new Map<string, OperatorState | null>();
  readonly #accounts: Map<string, string>;
  readonly #volume = new Map<string, Bucket>();
  readonly #flows = new Map<string, Bucket>();
  readonly #alertCounts = new Map<string, AlertCounts>();
  readonly #transfers = new Map<string, TransferRecord>();
  readonly #transferPosById = new Map<string, string>();
  readonly #transfersOfTx = new Map<string, string[]>();
  readonly #blocksWithTransfers = new Set<bigint>();
  totals!: Totals;
  paused!: PauseState;

  /**
   * @param times block number → unix timestamp for every block that has events in the range.
   * @param accounts settlement account (lower case) → wallet code, shared across ranges.
   */
  constructor(index: IndexStore, rules: AlertRules, bursts: BurstDetector, times: Map<bigint, number>, accounts: Map<string, string>) {
    this.#index = index;
    this.#rules = rules;
    this.#bursts = bursts;
    this.#times = times;
    this.#accounts = accounts;
  }

  async load(): Promise<void> {
    this.totals = ((await this.#index.meta.get("totals")) as Totals | undefined) ?? {
      transfers: 0,
      amount: "0",
      batches: 0,
      returns: 0,
      events: 0,
      reverted: 0,
      alerts: noAlerts(),
    };
    this.paused = ((await this.#index.meta.get("paused")) as PauseState | undefined) ?? { hub: false, token: false };
  }

  #time(block: bigint): number {
    const t = this.#times.get(block);
    if (t === undefined) throw new Error(`no timestamp for block ${block}`);
    return t;
  }

  #put(sublevel: IndexOp["sublevel"], key: string, value: unknown): void {
    this.ops.push({ type: "put", sublevel, key, value });
  }

  async #operator(code: string): Promise<OperatorState | undefined> {
    const cached = this.#operators.get(code);
    if (cached !== undefined) return cached ?? undefined;
    const stored = await this.#index.operators.get(code);
    this.#operators.set(code, stored ?? null);
    return stored;
  }

  async #bucket(map: Map<string, Bucket>, sub: IndexStore["volume"], key: string): Promise<Bucket> {
    let b = map.get(key);
    if (!b) {
      b = (await sub.get(key)) ?? { count: 0, amount: "0" };
      map.set(key, b);
    }
    return b;
  }

  /** Reads the alert counter of the bucket of `timestamp` into the cache, so {@link #alert} can count synchronously. */
  async #loadAlertCounts(timestamp: number): Promise<void> {
    const key = numKey(bucketOf(timestamp));
    if (!this.#alertCounts.has(key)) this.#alertCounts.set(key, (await this.#index.alertCounts.get(key)) ?? noAlerts());
  }

  #alert(e: { pos: string; blockNumber: bigint; txHash?: string }, alert: Omit<StoredAlert, "id" | "pos" | "blockNumber" | "timestamp">): void {
    const counts = this.#alertCounts.get(numKey(bucketOf(this.#time(e.blockNumber))));
    // Invariant: apply() and reverted() load the bucket of their block before anything can raise an alert.
    if (!counts) throw new Error(`alert counter of block ${e.blockNumber} not loaded`);
    counts[alert.severity]++;
    this.totals.alerts[alert.severity]++;
    const record: StoredAlert = {
      ...alert,
      id: `${e.pos}-${alert.rule}`,
      pos: e.pos,
      blockNumber: e.blockNumber.toString(),
      timestamp: this.#time(e.blockNumber),
    };
    if (e.txHash) record.txHash = e.txHash;
    this.#put(this.#index.alerts, `${e.pos}!${alert.rule}`, record);
  }

  #opEvent(e: ChainEvent, wallet: string, kind: string, detail: Record<string, string | number> = {}, sublevel: Sub<OperatorEvent> = this.#index.opEvents): void {
    const ev: OperatorEvent = {
      pos: e.pos,
      wallet,
      kind,
      detail,
      txHash: e.txHash,
      blockNumber: e.blockNumber.toString(),
      timestamp: this.#time(e.blockNumber),
    };
    this.#put(sublevel, `${wallet}!${e.pos}`, ev);
  }

  /** Applies one event. */
  async apply(e: ChainEvent): Promise<void> {
    const a = e.args;
    const timestamp = this.#time(e.blockNumber);
    await this.#loadAlertCounts(timestamp);
    this.totals.events++;
    // The raw feed keeps every event but TransfersSettled, whose transfers are records of their own
    // (`transfers[pos]`, one position per packed record).
    if (e.name !== "TransfersSettled") this.#put(this.#index.events, e.pos, {
      contract: e.contract,
      name: e.name,
      args: plain(a),
      txHash: e.txHash,
      blockNumber: e.blockNumber.toString(),
      timestamp,
    });
    const wallet = typeof a.walletId === "string" ? codeOf(a.walletId) : undefined;

    switch (`${e.contract}.${e.name}`) {
      case "registry.OperatorApplied": {
        const op: OperatorState = {
          code: wallet!,
          walletId: a.walletId as string,
          name: a.name as string,
          settlementAccount: a.settlementAccount as string,
          validator: a.validator as string,
          endpoint: a.endpoint as string,
          status: "Pending",
          reasonCode: 0,
          appliedAt: timestamp,
          updatedAt: timestamp,
          limits: null,
          batches: 0,
          sent: { count: 0, amount: "0" },
          received: { count: 0, amount: "0" },
          returned: { count: 0, amount: "0" },
          issued: "0",
          redeemed: "0",
          attestation: null,
        };
        this.#operators.set(op.code, op);
        this.#accounts.set(op.settlementAccount.toLowerCase(), op.code);
        this.#opEvent(e, op.code, "applied", { name: op.name, settlementAccount: op.settlementAccount, validator: op.validator, endpoint: op.endpoint });
        break;
      }
      case "registry.OperatorApproved":
        await this.#setStatus(e, wallet!, "Active", 0, "approved", { approver: str(a.approver) });
        break;
      case "registry.OperatorRejected":
        await this.#setStatus(e, wallet!, "Exited", Number(a.reasonCode), "rejected", { reasonCode: Number(a.reasonCode) });
        break;
      case "registry.OperatorSuspended": {
        const reasonCode = Number(a.reasonCode);
        await this.#setStatus(e, wallet!, "Suspended", reasonCode, "suspended", { reasonCode });
        this.#alert(e, {
          rule: "operator_suspended",
          severity: "warning",
          title: `${wallet} suspended`,
          detail: `Governance suspended ${wallet} with reason code ${reasonCode}.`,
          wallet,
        });
        break;
      }
      case "registry.OperatorResumed":
        await this.#setStatus(e, wallet!, "Active", 0, "resumed");
        break;
      case "registry.OperatorExited":
        await this.#setStatus(e, wallet!, "Exited", 0, "exited", { by: str(a.by) });
        break;
      case "registry.OperatorEndpointUpdated": {
        const op = await this.#operator(wallet!);
        if (op) {
          op.endpoint = a.endpoint as string;
          op.updatedAt = timestamp;
        }
        this.#opEvent(e, wallet!, "endpoint_updated", { endpoint: a.endpoint as string });
        break;
      }
      case "token.Issued":
      case "token.Redeemed": {
        const code = this.#accounts.get(str(e.name === "Issued" ? a.to : a.from).toLowerCase());
        if (!code) break;
        const op = await this.#operator(code);
        if (op) {
          if (e.name === "Issued") op.issued = (BigInt(op.issued) + (a.amount as bigint)).toString();
          else op.redeemed = (BigInt(op.redeemed) + (a.amount as bigint)).toString();
        }
        this.#opEvent(e, code, e.name === "Issued" ? "issued" : "redeemed", { amount: str(a.amount), reserveRef: str(a.reserveRef) });
        break;
      }
      case "token.Paused":
      case "hub.Paused":
      case "token.Unpaused":
      case "hub.Unpaused": {
        const paused = e.name === "Paused";
        this.paused = { ...this.paused, [e.contract]: paused, since: timestamp };
        if (paused) {
          this.#alert(e, {
            rule: "network_paused",
            severity: "critical",
            title: `${e.contract === "hub" ? "Settlement" : "Token"} paused`,
            detail: `The regulator paused the ${e.contract === "hub" ? "settlement hub: no cross-wallet payment can settle" : "settlement token: no token can move"}.`,
          });
        }
        break;
      }
      case "hub.TransfersSettled":
        // One log per payee group: each packed record is a transfer of its own, at its own position.
        for (const [record, receipt] of (e.receipts ?? []).entries()) await this.#transfer(e, receipt, record, timestamp);
        break;
      case "hub.BatchSettled":
        await this.#batch(e, timestamp);
        break;
      case "hub.TransferReturned":
        await this.#returned(e, timestamp);
        break;
      case "hub.LimitsSet": {
        const op = await this.#operator(wallet!);
        const limits = { perTransfer: str(a.perTransfer), daily: str(a.daily) };
        if (op) {
          op.limits = limits;
          op.updatedAt = timestamp;
        }
        this.#opEvent(e, wallet!, "limits_set", limits);
        break;
      }
      case "hub.ReferenceFrozen":
      case "hub.ReferenceUnfrozen": {
        const ref = str(a.ref).toLowerCase();
        const frozen = e.name === "ReferenceFrozen";
        this.#put(this.#index.frozen, ref, { frozen, pos: e.pos, txHash: e.txHash, timestamp });
        if (frozen) {
          this.#alert(e, {
            rule: "reference_frozen",
            severity: "warning",
            title: "Customer reference frozen",
            detail: `The regulator froze reference ${ref}: transfers from or to it are refused.`,
          });
        }
        break;
      }
      case "attestation.ReservesAttested": {
        const record: AttestationRecord = {
          pos: e.pos,
          wallet: wallet!,
          root: str(a.root),
          totalLiabilities: str(a.totalLiabilities),
          asOf: Number(a.asOf),
          accountCount: Number(a.accountCount),
          txHash: e.txHash,
          blockNumber: e.blockNumber.toString(),
          timestamp,
        };
        this.#put(this.#index.attests, `${wallet}!${e.pos}`, record);
        const op = await this.#operator(wallet!);
        if (op) op.attestation = record;
        this.#opEvent(e, wallet!, "attested", { totalLiabilities: record.totalLiabilities, accountCount: record.accountCount, asOf: record.asOf, root: record.root });
        break;
      }
      default:
        break;
    }
  }

  async #setStatus(e: ChainEvent, code: string, status: OperatorState["status"], reasonCode: number, kind: string, detail: Record<string, string | number> = {}) {
    const op = await this.#operator(code);
    if (op) {
      op.status = status;
      op.reasonCode = reasonCode;
      op.updatedAt = this.#time(e.blockNumber);
    }
    this.#opEvent(e, code, kind, detail);
  }

  /** Record `n` of a `TransfersSettled` log: one transfer, at its own position `block.log.n`. */
  async #transfer(e: ChainEvent, r: Receipt, n: number, timestamp: number): Promise<void> {
    const pos = posKey(e.blockNumber, e.logIndex, n);
    const record: TransferRecord = {
      pos,
      transferId: r.transferId.toLowerCase(),
      from: codeOf(r.fromWallet),
      to: codeOf(r.toWallet),
      fromWallet: r.fromWallet,
      toWallet: r.toWallet,
      seq: r.seq.toString(),
      amount: r.amount.toString(),
      payerRef: r.payerRef.toLowerCase(),
      payeeRef: r.payeeRef.toLowerCase(),
      memoHash: r.memoHash,
      txHash: e.txHash.toLowerCase(),
      blockNumber: e.blockNumber.toString(),
      logIndex: e.logIndex,
      record: n,
      timestamp,
    };
    this.#transfers.set(pos, record);
    this.#transferPosById.set(record.transferId, pos);
    const ofTx = this.#transfersOfTx.get(record.txHash);
    if (ofTx) ofTx.push(pos);
    else this.#transfersOfTx.set(record.txHash, [pos]);
    this.#indexTransfer(record, e.blockNumber);
    await this.#countTransfer(record, r.amount);
    this.#transferAlerts({ pos, blockNumber: e.blockNumber, txHash: e.txHash }, record, r.amount);
  }

  /** The search index entries of a transfer (every key ends in its position). */
  #indexTransfer(t: TransferRecord, blockNumber: bigint): void {
    const { pos, from, to } = t;
    const value = indexValue(from, to, t.amount);
    this.#put(this.#index.byId, t.transferId, pos);
    this.#put(this.#index.byTx, `${t.txHash}!${pos}`, value);
    this.#put(this.#index.byRef, `${t.payerRef}!${pos}`, value);
    if (t.payeeRef !== t.payerRef) this.#put(this.#index.byRef, `${t.payeeRef}!${pos}`, value);
    this.#put(this.#index.byWallet, `${from}!${pos}`, value);
    this.#put(this.#index.byWallet, `${to}!${pos}`, value);
    this.#put(this.#index.byPair, `${from}!${to}!${pos}`, value);
    this.#put(this.#index.byAmount, `${amountKey(t.amount)}!${pos}`, value);
    if (!this.#blocksWithTransfers.has(blockNumber)) {
      this.#blocksWithTransfers.add(blockNumber);
      this.#put(this.#index.times, `${numKey(t.timestamp)}!${blockKey(blockNumber)}`, "");
    }
  }

  /** A transfer's share of the volume and flow buckets, the totals and both operators' counters. */
  async #countTransfer(t: TransferRecord, amount: bigint): Promise<void> {
    const add = (b: { count: number; amount: string }) => {
      b.count++;
      b.amount = (BigInt(b.amount) + amount).toString();
    };
    const bucket = numKey(bucketOf(t.timestamp));
    add(await this.#bucket(this.#volume, this.#index.volume, bucket));
    add(await this.#bucket(this.#flows, this.#index.flows, `${bucket}!${t.from}!${t.to}`));
    this.totals.transfers++;
    this.totals.amount = (BigInt(this.totals.amount) + amount).toString();
    const sender = await this.#operator(t.from);
    if (sender) sender.sent = { count: sender.sent.count + 1, amount: (BigInt(sender.sent.amount) + amount).toString() };
    const payee = await this.#operator(t.to);
    if (payee) payee.received = { count: payee.received.count + 1, amount: (BigInt(payee.received.amount) + amount).toString() };
  }

  /** Large-payment and burst alerts, keyed by the transfer's own position (a group log holds many). */
  #transferAlerts(at: { pos: string; blockNumber: bigint; txHash: string }, t: TransferRecord, amount: bigint): void {
    const { from, to } = t;
    if (amount >= this.#rules.largeAmount) {
      this.#alert(at, {
        rule: "large_payment",
        severity: "warning",
        title: `Large payment ${from} → ${to}`,
        detail: `Transfer of ${amount} minor units, at or above the threshold of ${this.#rules.largeAmount}.`,
        wallet: from,
        transferId: t.transferId,
      });
    }
    const burst = this.#bursts.observe(`${from}!${t.payerRef}`, t.timestamp);
    if (burst !== undefined) {
      this.#alert(at, {
        rule: "burst",
        severity: "warning",
        title: `Burst of payments from one ${from} customer`,
        detail: `${burst} transfers from payer reference ${t.payerRef} within ${this.#rules.burst.windowSeconds} s (limit ${this.#rules.burst.maxTransfers}).`,
        wallet: from,
        transferId: t.transferId,
      });
    }
  }

  async #batch(e: ChainEvent, timestamp: number): Promise<void> {
    const a = e.args;
    const walletId = str(a.fromWallet);
    const wallet = codeOf(walletId);
    const firstSeq = a.firstSeq as bigint;
    const count = Number(a.count);
    const payees = new Set<string>();
    // The batch's transfers were emitted just before it in the same transaction.
    for (const pos of this.#transfersOfTx.get(e.txHash.toLowerCase()) ?? []) {
      const t = this.#transfers.get(pos)!;
      if (t.from === wallet && BigInt(t.seq) >= firstSeq && BigInt(t.seq) < firstSeq + BigInt(count)) {
        t.batchNo = str(a.batchNo);
        payees.add(t.to);
      }
    }
    const record: BatchRecord = {
      pos: e.pos,
      wallet,
      walletId,
      batchNo: str(a.batchNo),
      firstSeq: firstSeq.toString(),
      count,
      total: str(a.total),
      root: str(a.root),
      prevHead: str(a.prevHead),
      head: str(a.head),
      txHash: e.txHash.toLowerCase(),
      blockNumber: e.blockNumber.toString(),
      timestamp,
      payees: [...payees].sort(),
    };
    const key = `${wallet}!${numKey(a.batchNo as bigint, 20)}`;
    this.#put(this.#index.batches, key, record);
    this.#put(this.#index.batchFeed, e.pos, key);
    this.totals.batches++;
    const op = await this.#operator(wallet);
    if (op) op.batches++;
    const vol = await this.#bucket(this.#volume, this.#index.volume, numKey(bucketOf(timestamp)));
    vol.batches = (vol.batches ?? 0) + 1;
  }

  async #returned(e: ChainEvent, timestamp: number): Promise<void> {
    const a = e.args;
    const id = str(a.originalTransferId).toLowerCase();
    const from = codeOf(str(a.fromWallet));
    const to = codeOf(str(a.toWallet));
    const pos = this.#transferPosById.get(id) ?? (await this.#index.byId.get(id));
    if (pos) {
      const t = this.#transfers.get(pos) ?? (await this.#index.transfers.get(pos));
      if (t) {
        t.returned = { pos: e.pos, txHash: e.txHash, reasonCode: Number(a.reasonCode), timestamp };
        this.#transfers.set(pos, t);
      }
    }
    this.totals.returns++;
    const payee = await this.#operator(to);
    if (payee) payee.returned = { count: payee.returned.count + 1, amount: (BigInt(payee.returned.amount) + (a.amount as bigint)).toString() };
    const detail = { transferId: id, amount: str(a.amount), reasonCode: Number(a.reasonCode) };
    const payer = await this.#operator(from);
    if (payer) {
      const before = payer.returnedToIt ?? { count: 0, amount: "0" };
      payer.returnedToIt = { count: before.count + 1, amount: (BigInt(before.amount) + (a.amount as bigint)).toString() };
    }
    this.#opEvent(e, to, "returned_transfer", { ...detail, to: from }, this.#index.opReturns);
    this.#opEvent(e, from, "transfer_returned", { ...detail, by: to }, this.#index.opReturns);
  }

  /** Records a transaction to a Hulian contract that reverted. */
  async reverted(attempt: RevertedAttempt): Promise<void> {
    const pos = posKey(attempt.blockNumber, attempt.logIndex);
    this.totals.reverted++;
    const timestamp = this.#time(attempt.blockNumber);
    await this.#loadAlertCounts(timestamp);
    const wallet = this.#accounts.get(attempt.from.toLowerCase());
    const why = attempt.errorName ? `${attempt.errorName}(${(attempt.errorArgs ?? []).join(", ")})` : "an unknown reason";
    this.#put(this.#index.events, pos, {
      contract: attempt.contract,
      name: "Reverted",
      args: { functionName: attempt.functionName, error: attempt.errorName ?? "", from: attempt.from },
      txHash: attempt.txHash,
      blockNumber: attempt.blockNumber.toString(),
      timestamp,
    });
    const alert: Omit<StoredAlert, "id" | "pos" | "blockNumber" | "timestamp"> = {
      rule: "reverted_attempt",
      severity: attempt.errorName === "HubReferenceFrozen" ? "critical" : "warning",
      title: `Reverted ${attempt.contract}.${attempt.functionName}${wallet ? ` by ${wallet}` : ""}`,
      detail: `Transaction from ${attempt.from} reverted with ${why}.`,
    };
    if (wallet) alert.wallet = wallet;
    this.#alert({ pos, blockNumber: attempt.blockNumber, txHash: attempt.txHash }, alert);
  }

  /** Stages the cached state (operators, buckets, transfers, totals) after the last event. */
  finish(): void {
    for (const [code, op] of this.#operators) if (op) this.#put(this.#index.operators, code, op);
    for (const [key, b] of this.#volume) this.#put(this.#index.volume, key, b);
    for (const [key, b] of this.#flows) this.#put(this.#index.flows, key, b);
    for (const [key, c] of this.#alertCounts) if (c.critical + c.warning + c.info > 0) this.#put(this.#index.alertCounts, key, c);
    for (const [pos, t] of this.#transfers) this.#put(this.#index.transfers, pos, t);
    this.#put(this.#index.meta, "totals", this.totals);
    this.#put(this.#index.meta, "paused", this.paused);
  }
}
