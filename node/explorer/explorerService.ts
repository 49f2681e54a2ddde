import type { Address, PublicClient } from "viem";
import type { DeploymentManifest } from "../chain/manifest.ts";
import { backingRatio } from "./backingRatio.ts";
import { returnReason } from "../receipts/returnReasons.ts";
import { aggregatesRange, alertCounts, flowMatrix, volumeSeries } from "./aggregates.ts";
import type { AlertRules } from "./alertRules.ts";
import type { PauseState, Totals } from "./applyEvents.ts";
import { checkTransferProof, readBalances, readBlock, recentBlocks } from "./chainViews.ts";
import type { ContractAddresses } from "./decodeEvents.ts";
import type { Indexer } from "./indexer.ts";
import {
  type AlertCounts,
  type AttestationRecord,
  type BatchRecord,
  type IndexStore,
  type OperatorEvent,
  type OperatorState,
  type StoredAlert,
  type TransferRecord,
  numKey,
} from "./indexStore.ts";
import { type TransferFilter, searchTransfers, summarizeTransfers, transfersOfBatch } from "./transferSearch.ts";

/** An operator as the overview shows it: registry state plus backing. */
export interface OperatorRow {
  code: string;
  name: string;
  status: OperatorState["status"];
  reasonCode: number;
  settlementAccount: string;
  /** Token balance at the indexed block, minor units. */
  balance: string;
  /** Latest attested customer liabilities, or null when it never attested. */
  liabilities: string | null;
  /** balance / liabilities rounded down to 4 decimals ("1.0250"), null without an attestation or with zero liabilities. */
  backingRatio: string | null;
  /** The ratio as people read it ("1.02×", "31.2×", "no liabilities"), null without an attestation: see {@link backingRatio}. */
  backingRatioText: string | null;
  /** balance ≥ liabilities; null without an attestation. */
  backed: boolean | null;
  attestedAt: number | null;
  attestationAsOf: number | null;
  sent: OperatorState["sent"];
  received: OperatorState["received"];
  batches: number;
  limits: OperatorState["limits"];
}

/** A live alert (a condition true now) or a kept one (an event that happened). */
export type Alert = Omit<StoredAlert, "pos" | "blockNumber"> & { active: boolean; blockNumber?: string };

/** Options of {@link ExplorerService}. */
export interface ExplorerServiceOptions {
  index: IndexStore;
  client: PublicClient;
  indexer: Indexer;
  manifest: DeploymentManifest;
  rules: AlertRules;
  currency: string;
  now?: () => number;
}

/**
 * Everything the explorer answers, as plain data: the HTTP layer only parses parameters and picks
 * JSON or CSV. Lists come from the index (bounded range scans); balances, roots and blocks are
 * read from the chain at request time, never written.
 */
export class ExplorerService {
  readonly #o: ExplorerServiceOptions;
  readonly contracts: ContractAddresses;
  #balanceCache: { block: bigint; balances: Map<string, bigint> } | undefined;

  constructor(options: ExplorerServiceOptions) {
    this.#o = options;
    const c = options.manifest.contracts;
    this.contracts = { registry: c.walletRegistry, token: c.settlementToken, hub: c.settlementHub, attestation: c.reserveAttestation };
  }

  #now(): number {
    return Math.floor((this.#o.now?.() ?? Date.now()) / 1000);
  }

  /**
   * "Now" for time windows: the wall clock, or the last indexed block's time when the chain runs
   * ahead of it (the embedded chain gives each block at least one second), so a "last 24 hours"
   * window always includes the newest block.
   */
  async now(): Promise<number> {
    const headTime = (await this.#o.index.meta.get("headTime")) as number | null | undefined;
    return Math.max(this.#now(), headTime ?? 0);
  }

  meta() {
    const m = this.#o.manifest;
    return {
      network: m.network,
      chainId: m.chainId,
      deploymentBlock: m.deploymentBlock,
      contracts: this.contracts,
      token: m.token,
      currency: this.#o.currency,
      decimals: m.token.decimals,
      rules: {
        largeAmount: this.#o.rules.largeAmount.toString(),
        burst: this.#o.rules.burst,
        staleAttestationSeconds: this.#o.rules.staleAttestationSeconds,
      },
      indexer: this.#o.indexer.status(),
    };
  }

  async #operators(): Promise<OperatorState[]> {
    return (await this.#o.index.operators.values().all()) as OperatorState[];
  }

  /** Members of the network: admitted and not gone (Active or Suspended). Applicants and exited operators are not. */
  async #members(): Promise<OperatorState[]> {
    return (await this.#operators()).filter(isMember);
  }

  async #balances(ops: readonly OperatorState[]): Promise<Map<string, bigint>> {
    const block = this.#o.indexer.indexedBlock;
    if (block === undefined) return new Map();
    if (this.#balanceCache?.block === block && ops.every((o) => this.#balanceCache!.balances.has(o.code))) return this.#balanceCache.balances;
    const values = await readBalances(this.#o.client, this.contracts.token, ops.map((o) => o.settlementAccount), block);
    const balances = new Map(ops.map((o, i) => [o.code, values[i]]));
    this.#balanceCache = { block, balances };
    return balances;
  }

  /**
   * The members (Active and Suspended) with their balance and backing; with `all`, every entry of
   * the registry, applicants and exited operators too. Anyone may apply, so only admitted members
   * may count in lists and alarms: 300 unapproved applications must not read "not all attested".
   */
  async operators(o: { all?: boolean } = {}): Promise<OperatorRow[]> {
    const ops = o.all ? await this.#operators() : await this.#members();
    const balances = await this.#balances(ops);
    return ops.map((op) => operatorRow(op, balances.get(op.code) ?? 0n));
  }

  /** How many registry entries the member lists leave out. */
  async #notListed(): Promise<{ pending: number; exited: number }> {
    let pending = 0;
    let exited = 0;
    for (const o of await this.#operators()) {
      if (o.status === "Pending") pending++;
      else if (o.status === "Exited") exited++;
    }
    return { pending, exited };
  }

  /** The network at a glance over `[since, until)` (default: the last 24 hours). */
  async overview(window: { since?: number; until?: number } = {}) {
    const now = await this.now();
    const until = window.until ?? now + 1;
    const since = window.since ?? until - 86_400;
    const [operators, totals, paused, flows, windowTotals, batchRate, alerts, notListed] = await Promise.all([
      this.operators(),
      this.#o.index.meta.get("totals") as Promise<Totals | undefined>,
      this.#o.index.meta.get("paused") as Promise<PauseState | undefined>,
      flowMatrix(this.#o.index, { since, until }),
      aggregatesRange(this.#o.index, { since, until }),
      aggregatesRange(this.#o.index, { since: now - 3600, until: now + 1 }).then((a) => a.batches),
      this.alertSummary(),
      this.#notListed(),
    ]);
    const attested = operators.filter((o) => o.backed !== null);
    const status = this.#o.indexer.status();
    return {
      now,
      window: { since, until, ...windowTotals },
      chain: {
        headBlock: status.headBlock,
        indexedBlock: status.indexedBlock,
        lagBlocks: status.lagBlocks,
        caughtUp: status.caughtUp,
        indexerError: status.lastError,
        paused: { hub: paused?.hub ?? false, token: paused?.token ?? false },
        batchesLastHour: batchRate,
      },
      totals: totals ?? { transfers: 0, amount: "0", batches: 0, returns: 0, events: 0, reverted: 0 },
      backing: {
        operators: operators.length,
        attested: attested.length,
        allBacked: attested.length > 0 && attested.length === operators.length && attested.every((o) => o.backed),
        shortfalls: attested.filter((o) => o.backed === false).map((o) => o.code),
        unattested: operators.filter((o) => o.backed === null).map((o) => o.code),
      },
      /** Members only; `notListed` counts the registry entries left out (pending applications, exited or rejected). */
      operators,
      notListed,
      flows,
      alerts,
    };
  }

  volume(o: { since: number; until: number; step: number; offsetSeconds?: number }) {
    return volumeSeries(this.#o.index, o);
  }

  async flows(o: { since: number; until: number }) {
    const cells = await flowMatrix(this.#o.index, o);
    // The members, and any wallet that moved money in the window though it has left since.
    const wallets = [...new Set([...(await this.#members()).map((op) => op.code), ...cells.flatMap((c) => [c.from, c.to])])];
    return { since: o.since, until: o.until, wallets, cells };
  }

  /**
   * One operator: state, backing, lifecycle history, attestations, latest batches, and its returns
   * apart (counted, latest 20, paged by {@link operatorReturns}): a stream of returns cannot push
   * its suspensions and approvals off the page.
   */
  async operator(code: string, o: { eventsCursor?: string; limit?: number } = {}) {
    const state = await this.#o.index.operators.get(code.toUpperCase());
    if (!state) return undefined;
    const balances = await this.#balances([state]);
    const limit = o.limit ?? 100;
    const events = await this.operatorEvents(state.code, { limit, cursor: o.eventsCursor });
    const attestations = (await this.#o.index.attests.values({ gt: `${state.code}!`, lt: `${state.code}!~`, reverse: true, limit: 50 }).all()) as AttestationRecord[];
    const batches = await this.batches({ wallet: state.code, limit: 20 });
    const returns = await this.operatorReturns(state.code, { limit: 20 });
    return {
      operator: { ...state, ...operatorRow(state, balances.get(state.code) ?? 0n) },
      returns: {
        returnedByIt: state.returned,
        returnedToIt: state.returnedToIt ?? { count: 0, amount: "0" },
        items: returns.items,
        nextCursor: returns.nextCursor,
      },
      suspensions: events.items.filter((e) => e.kind === "suspended" || e.kind === "resumed"),
      events: events.items,
      eventsNextCursor: events.nextCursor,
      attestations,
      batches: batches.items,
    };
  }

  /** An operator's lifecycle and governance history (returns are in {@link operatorReturns}), newest first. */
  operatorEvents(code: string, o: { limit?: number; cursor?: string } = {}) {
    return this.#eventPage(this.#o.index.opEvents, code, o);
  }

  /** Returns it made and returns made to it, newest first, each with its reason spelt out. */
  async operatorReturns(code: string, o: { limit?: number; cursor?: string } = {}) {
    const page = await this.#eventPage(this.#o.index.opReturns, code, o);
    return { ...page, items: page.items.map((e) => ({ ...e, reason: returnReason(Number(e.detail.reasonCode)) })) };
  }

  async #eventPage(sublevel: IndexStore["opEvents"], code: string, o: { limit?: number; cursor?: string }) {
    const prefix = `${code.toUpperCase()}!`;
    const limit = Math.min(o.limit ?? 100, 1_000);
    const lt = o.cursor ? `${prefix}${o.cursor}` : `${prefix}~`;
    const items = (await sublevel.values({ gt: prefix, lt, reverse: true, limit: limit + 1 }).all()) as OperatorEvent[];
    const more = items.length > limit;
    if (more) items.pop();
    return { items, nextCursor: more ? items[items.length - 1].pos : undefined };
  }

  async transfers(filter: TransferFilter, o: { cursor?: string; limit?: number; sortByAmount?: boolean; summary?: boolean } = {}) {
    const [page, summary] = await Promise.all([
      searchTransfers(this.#o.index, filter, o),
      o.summary ? summarizeTransfers(this.#o.index, filter) : Promise.resolve(undefined),
    ]);
    return { ...page, items: page.items.map(withReturnReason), summary };
  }

  /** A transfer with its batch and the proof checked against the chain. */
  async transfer(id: string) {
    const pos = await this.#o.index.byId.get(id.toLowerCase());
    const transfer = pos ? await this.#o.index.transfers.get(pos) : undefined;
    if (!transfer) return undefined;
    const batch = transfer.batchNo !== undefined ? await this.#o.index.batches.get(`${transfer.from}!${numKey(BigInt(transfer.batchNo), 20)}`) : undefined;
    let proof: Awaited<ReturnType<typeof checkTransferProof>> | { verified: false; error: string };
    try {
      proof = batch ? await checkTransferProof(this.#o.client, this.contracts.hub, this.#o.index, transfer, batch) : { verified: false, error: "batch not indexed" };
    } catch (err) {
      proof = { verified: false, error: (err as Error).message.split("\n")[0] };
    }
    const frozen = await this.#o.index.frozen.getMany([transfer.payerRef, transfer.payeeRef]);
    return { transfer: withReturnReason(transfer), batch, proof, frozen: { payerRef: frozen[0]?.frozen ?? false, payeeRef: frozen[1]?.frozen ?? false } };
  }

  async batches(o: { wallet?: string; cursor?: string; limit?: number } = {}) {
    const limit = Math.min(o.limit ?? 50, 1_000);
    let items: BatchRecord[];
    if (o.wallet) {
      const prefix = `${o.wallet.toUpperCase()}!`;
      const lt = o.cursor ? `${prefix}${o.cursor}` : `${prefix}~`;
      items = (await this.#o.index.batches.values({ gt: prefix, lt, reverse: true, limit: limit + 1 }).all()) as BatchRecord[];
    } else {
      const keys = (await this.#o.index.batchFeed.values({ lt: o.cursor ?? "~", reverse: true, limit: limit + 1 }).all()) as string[];
      items = (await this.#o.index.batches.getMany(keys)).filter((b) => b !== undefined) as BatchRecord[];
    }
    const more = items.length > limit;
    if (more) items.pop();
    const last = items[items.length - 1];
    const nextCursor = more && last ? (o.wallet ? numKey(BigInt(last.batchNo), 20) : last.pos) : undefined;
    return { items, nextCursor };
  }

  async batch(code: string, batchNo: bigint) {
    const batch = await this.#o.index.batches.get(`${code.toUpperCase()}!${numKey(batchNo, 20)}`);
    if (!batch) return undefined;
    const transfers = (await transfersOfBatch(this.#o.index, batch.walletId, BigInt(batch.firstSeq), batch.count)).map(withReturnReason);
    const previous = batchNo > 0n ? await this.#o.index.batches.get(`${batch.wallet}!${numKey(batchNo - 1n, 20)}`) : undefined;
    return {
      batch,
      transfers,
      chainLinks: batchNo === 0n ? /^0x0+$/.test(batch.prevHead) : previous?.head.toLowerCase() === batch.prevHead.toLowerCase(),
    };
  }

  blocks(o: { before?: bigint; limit?: number } = {}) {
    return recentBlocks(this.#o.client, Math.min(o.limit ?? 25, 200), o.before);
  }

  block(n: bigint) {
    return readBlock(this.#o.client, n, this.contracts as unknown as Record<string, Address>);
  }

  /** Conditions true now: shortfalls, stale or missing attestations, suspensions, pause, frozen references. */
  async activeAlerts(): Promise<Alert[]> {
    const now = await this.now();
    const [ops, paused, frozen] = await Promise.all([
      this.operators(),
      this.#o.index.meta.get("paused") as Promise<PauseState | undefined>,
      this.#o.index.frozen.iterator().all(),
    ]);
    const out: Alert[] = [];
    const add = (a: Omit<Alert, "active">) => out.push({ ...a, active: true });
    if (paused?.hub || paused?.token) {
      add({
        id: "active-network_paused",
        rule: "network_paused",
        severity: "critical",
        title: "Network paused",
        detail: `${[paused.hub ? "settlement hub" : "", paused.token ? "settlement token" : ""].filter(Boolean).join(" and ")} paused by the regulator.`,
        timestamp: paused.since ?? now,
      });
    }
    for (const o of ops) {
      if (o.backed === false) {
        add({
          id: `active-backing_shortfall-${o.code}`,
          rule: "backing_shortfall",
          severity: "critical",
          title: `${o.code} not fully backed`,
          detail: `Token balance ${o.balance} is below attested liabilities ${o.liabilities} (backed ${o.backingRatioText}).`,
          wallet: o.code,
          timestamp: now,
        });
      }
      if (o.status === "Suspended") {
        add({
          id: `active-operator_suspended-${o.code}`,
          rule: "operator_suspended",
          severity: "warning",
          title: `${o.code} suspended`,
          detail: `Suspended with reason code ${o.reasonCode}.`,
          wallet: o.code,
          timestamp: now,
        });
      }
      if (o.status === "Active" && o.attestedAt === null) {
        add({
          id: `active-attestation_missing-${o.code}`,
          rule: "attestation_stale",
          severity: "warning",
          title: `${o.code} has never attested its liabilities`,
          detail: "Backing cannot be checked until the operator posts a reserve attestation.",
          wallet: o.code,
          timestamp: now,
        });
      } else if (o.status === "Active" && o.attestationAsOf !== null && now - o.attestationAsOf > this.#o.rules.staleAttestationSeconds) {
        add({
          id: `active-attestation_stale-${o.code}`,
          rule: "attestation_stale",
          severity: "warning",
          title: `${o.code} attestation is stale`,
          detail: `Latest attestation is as of ${Math.round((now - o.attestationAsOf) / 3600)} h ago (limit ${Math.round(this.#o.rules.staleAttestationSeconds / 3600)} h).`,
          wallet: o.code,
          timestamp: o.attestationAsOf,
        });
      }
    }
    const nowFrozen = frozen.filter(([, v]) => v.frozen);
    if (nowFrozen.length > 0) {
      add({
        id: "active-reference_frozen",
        rule: "reference_frozen",
        severity: "info",
        title: `${nowFrozen.length} customer reference${nowFrozen.length === 1 ? "" : "s"} frozen`,
        detail: nowFrozen.map(([ref]) => ref).slice(0, 10).join(", ") + (nowFrozen.length > 10 ? ", …" : ""),
        timestamp: Math.max(...nowFrozen.map(([, v]) => v.timestamp)),
      });
    }
    return out;
  }

  /** Active alerts and the kept ones, newest first (a page of at most 1,000; `total` counts them all). */
  async alerts(o: { cursor?: string; limit?: number } = {}) {
    const limit = Math.min(o.limit ?? 100, 1_000);
    const history = (await this.#o.index.alerts.values({ lt: o.cursor ?? "~", reverse: true, limit: limit + 1 }).all()) as StoredAlert[];
    const more = history.length > limit;
    if (more) history.pop();
    const nextCursor = more ? `${history[history.length - 1].pos}!${history[history.length - 1].rule}` : undefined;
    return {
      active: o.cursor ? [] : await this.activeAlerts(),
      history: history.map((a) => ({ ...a, active: false })),
      nextCursor,
      total: sumCounts(await this.#alertTotals()),
    };
  }

  /**
   * Counts for the badges: active alerts by severity, and every kept alert of the last 24 hours
   * and of all time (from counters: they used to stop at the 1,000 newest).
   */
  async alertSummary() {
    const now = await this.now();
    const [active, last24h, total] = await Promise.all([this.activeAlerts(), alertCounts(this.#o.index, { since: now - 86_400, until: now + 1 }), this.#alertTotals()]);
    const count = (list: { severity: string }[], s: string) => list.filter((a) => a.severity === s).length;
    return {
      active: { critical: count(active, "critical"), warning: count(active, "warning"), info: count(active, "info") },
      last24h,
      total,
    };
  }

  async #alertTotals(): Promise<AlertCounts> {
    const totals = (await this.#o.index.meta.get("totals")) as Totals | undefined;
    return totals?.alerts ?? { critical: 0, warning: 0, info: 0 };
  }
}

function sumCounts(c: AlertCounts): number {
  return c.critical + c.warning + c.info;
}

/** A transfer with its return reason spelt out (`payee_account_unknown`), not only its code. */
function withReturnReason(t: TransferRecord): TransferRecord & { returned?: { reason?: ReturnType<typeof returnReason> } } {
  return t.returned ? { ...t, returned: { ...t.returned, reason: returnReason(t.returned.reasonCode) } } : t;
}

function isMember(o: OperatorState): boolean {
  return o.status === "Active" || o.status === "Suspended";
}

function operatorRow(o: OperatorState, balance: bigint): OperatorRow {
  const liabilities = o.attestation ? BigInt(o.attestation.totalLiabilities) : null;
  const ratio = liabilities === null ? null : backingRatio(balance, liabilities);
  return {
    code: o.code,
    name: o.name,
    status: o.status,
    reasonCode: o.reasonCode,
    settlementAccount: o.settlementAccount,
    balance: balance.toString(),
    liabilities: liabilities?.toString() ?? null,
    backingRatio: ratio?.value ?? null,
    backingRatioText: ratio?.text ?? null,
    backed: liabilities === null ? null : balance >= liabilities,
    attestedAt: o.attestation?.timestamp ?? null,
    attestationAsOf: o.attestation?.asOf ?? null,
    sent: o.sent,
    received: o.received,
    batches: o.batches,
    limits: o.limits,
  };
}
