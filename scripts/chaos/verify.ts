import { parseEventLogs } from "viem";
import { settlementHubAbi } from "../../node/chain/abi/generated.ts";
import { TRANSFERS_SETTLED_TOPIC, receiptsOfTransfersSettled } from "../../node/receipts/transfersSettled.ts";
import type { ApiPayment, ApiReconciliation } from "../../node/devnet/apiClient.ts";
import type { EntryRecord } from "../../node/ledger/entries.ts";
import { verifyLedger } from "../../node/ledger/verify.ts";
import type { Customer, Outcome } from "./load.ts";
import { type ChaosNetwork, type ChaosNode, readLog } from "./network.ts";
import { sleep } from "./random.ts";

/** The verdict on a chaos run. `lost` and `duplicated` count payments (or customers whose balance is off). */
export interface Verdict {
  /** Accepted payments (same-wallet, cross-wallet and to unknown handles; top-ups not counted). */
  payments: number;
  byKind: Record<string, number>;
  settledOnChain: number;
  returnedOnChain: number;
  refused: number;
  lost: number;
  duplicated: number;
  /** Payments whose money moved right but whose status is wrong. */
  statusMismatches: number;
  /** Everything else: unexpected refusals, unreconciled books, passwords in logs… */
  otherViolations: number;
  /** Every operator reconciled and money conserved across the network. */
  reconciled: boolean;
  /** Bytes of node logs searched for the keystore password. */
  logBytesChecked: number;
  violations: string[];
}

const TARGET: Record<string, ApiPayment["status"]> = { same_wallet: "settled", cross_wallet: "settled", unknown_handle: "returned" };

/**
 * Checks a chaos run once the load has stopped and every node is up: waits for every accepted
 * payment to reach its final status and for every node to be quiescent, then checks, against the
 * chain, the API and finally the journals on disk (nodes stopped):
 *
 * - one payment per Idempotency-Key (duplicates and retries replayed, never re-executed);
 * - every accepted cross-wallet payment has exactly one `TransfersSettled` record, every payment to an
 *   unknown handle exactly one `TransferReturned`, nothing on chain that no accepted payment
 *   explains, and `nextSeq` equals the number of accepted cross-wallet payments per wallet;
 * - each payee ledger credited each transfer exactly once (journal refs), each payer debited each
 *   payment once; every customer's balance equals the model's;
 * - every operator reconciled (on-chain balance == ledger), the journals re-derive with a zero
 *   trial balance, tokens and liabilities conserved across the network;
 * - the keystore password appears in no node log.
 */
export async function verifyRun(
  net: ChaosNetwork,
  customers: Customer[],
  outcomes: Outcome[],
  options: { drainTimeoutMs: number; say: (line: string) => void },
): Promise<Verdict> {
  const { say } = options;
  const violations: string[] = [];
  let lost = 0;
  let duplicated = 0;
  let statusMismatches = 0;
  let otherViolations = 0;
  // "status": the money is right but the payment's status says otherwise.
  const violate = (kind: "lost" | "duplicated" | "status" | "other", text: string) => {
    if (kind === "lost") lost++;
    if (kind === "duplicated") duplicated++;
    if (kind === "status") statusMismatches++;
    if (kind === "other") otherViolations++;
    if (violations.length < 50) violations.push(`${kind}: ${text}`);
  };

  // 1. One payment per Idempotency-Key.
  const accepted = outcomes.filter((o) => o.ids.size > 0);
  for (const o of accepted) {
    if (o.ids.size > 1) violate("duplicated", `Idempotency-Key ${o.planned.idempotencyKey} produced ${o.ids.size} ids: ${[...o.ids].join(", ")}`);
  }
  const payments = accepted.filter((o) => o.planned.kind !== "top_up");
  for (const o of payments) {
    if (!o.payment) violate("other", `payment ${[...o.ids][0]} could not be read back`);
    else if (o.payment.kind !== (o.planned.kind === "same_wallet" ? "same_wallet" : "cross_wallet")) violate("other", `payment ${o.payment.id} is ${o.payment.kind}, planned ${o.planned.kind}`);
  }
  for (const o of outcomes) {
    if (o.ids.size > 0 || !o.refused) continue;
    const expectedRefusal = o.planned.kind === "unknown_local" ? o.refused.status === 404 : false;
    if (!expectedRefusal) violate("other", `request ${o.planned.n} (${o.planned.kind}) refused with ${o.refused.status} ${o.refused.code}`);
  }

  // 2. Every accepted payment reaches its final status (or stops moving for long enough).
  say(`waiting for ${payments.length} payments to be final`);
  const final = new Map<string, ApiPayment>();
  const latest = new Map<string, ApiPayment>();
  const deadline = Date.now() + options.drainTimeoutMs;
  let lastProgress = Date.now();
  for (;;) {
    const open = payments.filter((o) => o.payment && !final.has(o.payment.id));
    const before = final.size;
    for (let i = 0; i < open.length; i += 64) {
      await Promise.all(
        open.slice(i, i + 64).map(async (o) => {
          const p = await o.planned.from.node.api.payment(o.payment!.id).catch(() => undefined);
          if (!p) return;
          latest.set(p.id, p);
          if (p.status === TARGET[o.planned.kind] || p.status === "rejected" || (p.status === "returned" && o.planned.kind !== "unknown_handle")) final.set(p.id, p);
        }),
      );
    }
    if (final.size > before) lastProgress = Date.now();
    if (final.size === payments.filter((o) => o.payment).length || Date.now() > deadline || Date.now() - lastProgress > 20_000) break;
    await sleep(250);
  }

  // 3. Quiescence: every node applied the chain to its head; nothing queued, in flight or held.
  const head = await net.client.getBlockNumber({ cacheTime: 0 });
  const recs = new Map<string, ApiReconciliation>();
  for (const node of net.nodes) {
    const until = Date.now() + options.drainTimeoutMs;
    for (;;) {
      const r = await node.api.reconciliation().catch(() => undefined);
      const quiet = r && r.outboxDepth === 0 && !r.batchInFlight && r.suspense === "0" && r.outboundInFlight === "0" && BigInt(r.atBlock) >= head;
      if (quiet || Date.now() > until) {
        if (r) recs.set(node.code, r);
        if (!quiet) violate("other", `${node.code} did not become quiescent: ${JSON.stringify(r)}`);
        break;
      }
      await sleep(200);
    }
  }

  // 4. The chain: exactly one settlement per accepted cross-wallet payment, one return per unknown handle.
  // In slices of blocks: a long run's events do not fit in one JSON-RPC answer.
  const logs = [];
  const last = await net.client.getBlockNumber({ cacheTime: 0 });
  for (let from = BigInt(net.devnet.manifest.deploymentBlock); from <= last; from += 25n) {
    const to = from + 24n < last ? from + 24n : last;
    logs.push(...(await net.client.getLogs({ address: net.devnet.manifest.contracts.settlementHub, fromBlock: from, toBlock: to })));
  }
  const settledCount = new Map<string, number>();
  // One TransfersSettled per payee group of a batch: each packed record is one settled transfer.
  for (const r of logs.filter((l) => l.topics[0] === TRANSFERS_SETTLED_TOPIC).flatMap((l) => receiptsOfTransfersSettled(l))) {
    const id = r.transferId.toLowerCase();
    settledCount.set(id, (settledCount.get(id) ?? 0) + 1);
  }
  const returnedCount = new Map<string, number>();
  for (const l of parseEventLogs({ abi: settlementHubAbi, logs, eventName: "TransferReturned" })) {
    const id = l.args.originalTransferId.toLowerCase();
    returnedCount.set(id, (returnedCount.get(id) ?? 0) + 1);
  }
  const cross = payments.filter((o) => o.planned.kind === "cross_wallet" || o.planned.kind === "unknown_handle");
  const explained = new Set<string>();
  const transferOf = new Map<Outcome, string>();
  for (const o of cross) {
    const p = o.payment && latest.get(o.payment.id);
    if (!p) continue;
    if (p.status === "rejected") {
      violate("other", `payment ${p.id} was rejected after acceptance (${p.reason ?? "no reason"})`);
      continue;
    }
    if (!p.transferId) {
      violate("lost", `payment ${p.id} is ${p.status} without a transfer id`);
      continue;
    }
    const tid = p.transferId.toLowerCase();
    transferOf.set(o, tid);
    explained.add(tid);
    const settled = settledCount.get(tid) ?? 0;
    if (settled === 0) violate("lost", `payment ${p.id}: no TransfersSettled record for ${tid}`);
    if (settled > 1) violate("duplicated", `payment ${p.id}: ${settled} TransfersSettled records for ${tid}`);
    const returned = returnedCount.get(tid) ?? 0;
    const wantReturns = o.planned.kind === "unknown_handle" ? 1 : 0;
    if (returned > 1) violate("duplicated", `payment ${p.id}: ${returned} TransferReturned for ${tid}`);
    else if (returned !== wantReturns) violate(returned < wantReturns ? "lost" : "other", `payment ${p.id} (${o.planned.kind}): ${returned} TransferReturned for ${tid}`);
  }
  for (const tid of settledCount.keys()) if (!explained.has(tid)) violate("duplicated", `transfer ${tid} settled on chain for no accepted payment`);
  for (const node of net.nodes) {
    const want = BigInt(cross.filter((o) => o.planned.from.node === node).length);
    const seq = await net.nextSeq(node.walletId);
    if (seq !== want) violate(seq > want ? "duplicated" : "lost", `nextSeq of ${node.code} is ${seq}, ${want} cross-wallet payments were accepted`);
  }

  // Statuses: each payment rests where the chain says it should.
  for (const o of payments) {
    if (!o.payment) continue;
    const p = latest.get(o.payment.id);
    const tid = transferOf.get(o);
    const chainDone = o.planned.kind === "same_wallet" || (tid !== undefined && (settledCount.get(tid) ?? 0) === 1 && (returnedCount.get(tid) ?? 0) === (o.planned.kind === "unknown_handle" ? 1 : 0));
    if (!p || p.status !== TARGET[o.planned.kind]) {
      violate(chainDone ? "status" : "lost", `payment ${o.payment.id} (${o.planned.kind}) is ${p?.status ?? "unreadable"}${p?.reason ? ` (${p.reason})` : ""}, expected ${TARGET[o.planned.kind]}${chainDone ? "; the chain has it right" : ""}`);
    }
  }

  // 5. Every customer's balance is what the model says. Money follows the chain's facts (settled
  // once → payee credited; returned once → payer refunded), so a wrong status cannot hide a wrong balance.
  for (const o of accepted) {
    const { planned: p } = o;
    if (p.kind === "top_up") {
      p.payee!.expected += p.amount;
      continue;
    }
    p.from.expected -= p.amount;
    if (p.kind === "same_wallet") {
      p.payee!.expected += p.amount;
      continue;
    }
    const tid = transferOf.get(o);
    const settled = tid !== undefined && (settledCount.get(tid) ?? 0) > 0;
    const returned = tid !== undefined && (returnedCount.get(tid) ?? 0) > 0;
    const rejected = o.payment && latest.get(o.payment.id)?.status === "rejected";
    if (settled && !returned && p.payee) p.payee.expected += p.amount;
    if (returned || rejected) p.from.expected += p.amount;
  }
  for (const c of customers) {
    const actual = await c.node.api.account(c.id).then((a) => BigInt(a.balance)).catch(() => undefined);
    if (actual === undefined) violate("other", `could not read ${c.handle}@${c.node.code}`);
    else if (actual !== c.expected) violate(actual < c.expected ? "lost" : "duplicated", `${c.handle}@${c.node.code} holds ${actual}, the model says ${c.expected}`);
  }

  // 6. Reconciliation and conservation.
  let reconciled = true;
  let tokens = 0n;
  let liabilities = 0n;
  for (const node of net.nodes) {
    const r = recs.get(node.code);
    const onChain = await net.tokenBalance(node.account);
    tokens += onChain;
    if (!r || !r.reconciled || !r.balanced || r.difference !== "0" || BigInt(r.tokenBalance) !== onChain || onChain !== BigInt(r.liabilities) + BigInt(r.float)) {
      reconciled = false;
      violate("other", `${node.code} does not reconcile: on chain ${onChain}, ${JSON.stringify(r)}`);
    }
    liabilities += BigInt(r?.liabilities ?? "0");
  }
  const reserves = net.nodes.reduce((s, n) => s + n.reserve, 0n);
  if (tokens !== reserves) {
    reconciled = false;
    violate("other", `Σ on-chain balances ${tokens} != Σ reserves minted ${reserves}`);
  }
  const balances = customers.reduce((s, c) => s + c.expected, 0n);
  const toppedUp = customers.reduce((s, c) => s + c.initial, 0n) + accepted.filter((o) => o.planned.kind === "top_up").reduce((s, o) => s + o.planned.amount, 0n);
  if (liabilities !== toppedUp || balances !== toppedUp) {
    reconciled = false;
    violate("other", `Σ liabilities ${liabilities} / Σ model balances ${balances} != Σ top-ups ${toppedUp}`);
  }

  // 7. The journals on disk: each transfer credited once, each payment debited once; they re-derive to the same balances.
  say("stopping the nodes to read their journals");
  for (const node of net.nodes) await net.stop(node);
  const creditsByPayee = new Map<ChaosNode, Map<string, number>>();
  for (const node of net.nodes) {
    const counts = await net.withStore(node, async (store) => {
      const checked = await verifyLedger(store);
      if (!checked.ok || checked.total !== 0n) {
        reconciled = false;
        violate("other", `${node.code}'s journal does not re-derive: ${checked.problems.slice(0, 3).join("; ")}`);
      }
      const counts = new Map<string, number>();
      for await (const value of store.sub.entries.values()) {
        const e = value as EntryRecord;
        if (!e.ref) continue;
        const k = `${e.kind} ${e.ref}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      return counts;
    });
    for (const [k, n] of counts) {
      if (n > 1 && /^(inbound_credited|return_credited|outbound_reserved|outbound_settled|outbound_refunded|internal_transfer|top_up) /.test(k)) {
        violate("duplicated", `${node.code}'s journal has ${n} entries ${k}`);
      }
    }
    creditsByPayee.set(node, counts);
  }
  for (const o of cross) {
    const tid = transferOf.get(o);
    if (!tid || o.planned.kind !== "cross_wallet") continue;
    const credits = creditsByPayee.get(o.planned.payee!.node)!.get(`inbound_credited transfer:${tid}`) ?? 0;
    if (credits === 0) violate("lost", `transfer ${tid} was never credited by ${o.planned.payee!.node.code}`);
  }

  // 8. The keystore password never reaches a log.
  let logBytesChecked = 0;
  for (const node of net.nodes) {
    const log = await readLog(node);
    logBytesChecked += log.length;
    if (log.includes(net.devnet.keystorePassword)) violate("other", `${node.code}'s log contains the keystore password`);
  }

  const byKind: Record<string, number> = {};
  for (const o of accepted) byKind[o.planned.kind] = (byKind[o.planned.kind] ?? 0) + 1;
  return {
    payments: payments.length,
    byKind,
    settledOnChain: settledCount.size,
    returnedOnChain: returnedCount.size,
    refused: outcomes.filter((o) => o.ids.size === 0).length,
    lost,
    duplicated,
    statusMismatches,
    otherViolations,
    reconciled,
    logBytesChecked,
    violations,
  };
}
