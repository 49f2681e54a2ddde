import { type Address, type Hex, type TransactionReceipt, getAddress, getContract, parseEventLogs, toHex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settlementHubAbi, settlementTokenAbi, walletRegistryAbi } from "../../node/chain/abi/generated.ts";
import {
  type MerkleTree,
  type Receipt,
  TRANSFERS_SETTLED_TOPIC,
  type TransferRecord,
  buildMerkleTree,
  merkleProof,
  nextHead,
  packTransfers,
  receiptLeaf,
  receiptsOfTransfersSettled,
  transferIdOf,
} from "../../node/receipts/index.ts";
import { expectRevert } from "../helpers/expectRevert.ts";
import { type TestNetwork, type TestOperator, startTestNetwork } from "../helpers/network.ts";
import { prng } from "../../scripts/prng.ts";

/**
 * Random operations against SettlementHub, checked after every step against a TypeScript model.
 *
 * Invariants:
 * - conservation: totalSupply changes only by mint and burn; Σ balances == totalSupply; the hub
 *   holds exactly the returns held for wallets that could not receive them (Σ heldReturnsOf);
 * - no replay: nextSeq only grows, by exactly the batch size; a replayed or gapped batch reverts;
 *   every transferId settles at most once;
 * - every return happens at most once, within the return window, whatever the payer's status
 *   (a return to a suspended payer is held, and claimed once it is active again);
 * - the per-wallet return totals count every return;
 * - the root-chain head on chain equals the head folded in TypeScript from the batches.
 * Every operation the model expects to fail must fail with the error the model names, in the
 * contract's order of checks.
 *
 * Replay a failure with `HULIAN_FUZZ_SEED=<seed printed below>`; `HULIAN_FUZZ_OPS` sets the length.
 */

// A fixed seed keeps `npm test` repeatable; HULIAN_FUZZ_SEED=random explores, a number replays.
const SEED_ENV = process.env.HULIAN_FUZZ_SEED;
const SEED = SEED_ENV === "random" ? (Date.now() ^ 0x5eed) >>> 0 : SEED_ENV ? Number(SEED_ENV) >>> 0 : 20261125;
const OPS = Number(process.env.HULIAN_FUZZ_OPS ?? 1_500);
const DAY = 86_400n;
const MAX_PAYEES = 64;


const rand = prng(SEED);
const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1)); // inclusive
const chance = (p: number) => rand() < p;
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];
const bytes32 = (): Hex => toHex(Uint8Array.from({ length: 32 }, () => Math.floor(rand() * 256)));

interface Settled {
  receipt: Receipt;
  batchNo: bigint;
  /** UTC day its batch settled on. */
  day: bigint;
  tree: MerkleTree;
  index: number;
}

/** What the model expects a call to do: succeed, or revert with this error and these args. */
type Expectation = { ok: true } | { ok: false; error: string; args?: readonly unknown[] };
const fail = (error: string, args?: readonly unknown[]): Expectation => ({ ok: false, error, args });
const OK: Expectation = { ok: true };

describe("SettlementHub invariants", () => {
  let net: TestNetwork;
  let hub: Address;
  let ops: TestOperator[];

  // The model.
  const balances = new Map<Address, bigint>();
  let totalSupply = 0n;
  const nextSeqOf = new Map<Hex, bigint>();
  const batchCountOf = new Map<Hex, bigint>();
  const headOf = new Map<Hex, Hex>();
  const limitsOf = new Map<Hex, { perTransfer: bigint; daily: bigint }>();
  const outflowOf = new Map<Hex, bigint>();
  const active = new Map<Hex, boolean>();
  const frozen = new Set<Hex>();
  const settledIds = new Set<Hex>();
  const returnedIds = new Set<Hex>();
  const settled: Settled[] = [];
  const heldOf = new Map<Hex, bigint>();
  const returnsSent = new Map<Hex, { count: bigint; amount: bigint }>();
  const returnsReceived = new Map<Hex, { count: bigint; amount: bigint }>();
  const RETURN_WINDOW_DAYS = 30n;
  let today = 0n;
  let paused = false;
  const refPool: Hex[] = Array.from({ length: 12 }, bytes32);
  const counts: Record<string, number> = {};

  beforeAll(async () => {
    console.log(`fuzz seed ${SEED} (replay with HULIAN_FUZZ_SEED=${SEED}), ${OPS} operations`);
    net = await startTestNetwork();
    hub = getAddress(net.manifest.contracts.settlementHub);
    ops = net.operators.map((op) => ({ ...op, account: getAddress(op.account) }));
    for (const op of ops) {
      balances.set(op.account, 1_000_000_00n);
      totalSupply += 1_000_000_00n;
      nextSeqOf.set(op.walletId, 0n);
      batchCountOf.set(op.walletId, 0n);
      headOf.set(op.walletId, `0x${"00".repeat(32)}`);
      limitsOf.set(op.walletId, { perTransfer: 0n, daily: 0n });
      outflowOf.set(op.walletId, 0n);
      active.set(op.walletId, true);
      heldOf.set(op.walletId, 0n);
      returnsSent.set(op.walletId, { count: 0n, amount: 0n });
      returnsReceived.set(op.walletId, { count: 0n, amount: 0n });
    }
    // Start one hour into a UTC day; time moves to another day only through the "new day" step.
    await startDay();
  });

  afterAll(async () => {
    await net?.close();
  });

  const rpc = (method: string, params: unknown[]) => net.publicClient.request({ method, params } as never);

  async function startDay(days = 1n) {
    const block = await net.publicClient.getBlock();
    const next = (block.timestamp / DAY + days) * DAY + 3_600n;
    await rpc("evm_setNextBlockTimestamp", [toHex(next)]);
    await rpc("evm_mine", []);
    today = next / DAY;
    for (const op of ops) outflowOf.set(op.walletId, 0n);
  }

  const contract = (address: Address, abi: typeof settlementHubAbi | typeof settlementTokenAbi | typeof walletRegistryAbi, account: Address) =>
    getContract({ address, abi, client: { public: net.publicClient, wallet: net.wallet(account) } }) as never as {
      read: Record<string, (args?: unknown[]) => Promise<unknown>>;
      write: Record<string, (args?: unknown[]) => Promise<Hex>>;
    };
  const hubAs = (account: Address) => contract(hub, settlementHubAbi, account);
  const tokenAs = (account: Address) => contract(net.manifest.contracts.settlementToken, settlementTokenAbi, account);
  const registryAs = (account: Address) => contract(net.manifest.contracts.walletRegistry, walletRegistryAbi, account);

  /** Sends the call and checks it against the expectation; returns the receipt when it succeeded. */
  async function run(expectation: Expectation, call: () => Promise<Hex>): Promise<TransactionReceipt | undefined> {
    if (!expectation.ok) {
      await expectRevert(call(), expectation.error, expectation.args);
      counts[`revert ${expectation.error}`] = (counts[`revert ${expectation.error}`] ?? 0) + 1;
      return undefined;
    }
    const receipt = await net.publicClient.waitForTransactionReceipt({ hash: await call() });
    expect(receipt.status).toBe("success");
    return receipt;
  }

  // ---------------------------------------------------------------------------------------------
  // Settlement
  // ---------------------------------------------------------------------------------------------

  function randomRecords(size: number): TransferRecord[] {
    return Array.from({ length: size }, () => ({
      amount: chance(0.003) ? 0n : BigInt(chance(0.1) ? int(1, 30_000) : int(1, 3_000)),
      payerRef: chance(0.05) ? pick(refPool) : bytes32(),
      payeeRef: chance(0.05) ? pick(refPool) : bytes32(),
      memoHash: chance(0.5) ? bytes32() : `0x${"00".repeat(32)}`,
    }));
  }

  /** A batch as sent: the groups, the records in group (= sequence) order and their packed bytes. */
  interface Batch {
    groups: { payee: Hex; count: number }[];
    records: TransferRecord[];
    packed: Hex;
  }

  /**
   * A random batch to `payees`: records spread over them, one group per payee that got any (now and
   * then an empty group too); rarely malformed bytes or a count too large.
   */
  function randomBatch(payees: Hex[]): Batch {
    const roll = rand();
    const size = chance(0.005) ? 0 : roll < 0.85 ? int(1, 5) : roll < 0.97 ? int(6, 40) : int(41, 200);
    const byPayee = payees.map(() => [] as TransferRecord[]);
    for (const r of randomRecords(size)) byPayee[int(0, payees.length - 1)].push(r);
    const kept = payees.map((payee, j) => ({ payee, records: byPayee[j] })).filter((g) => g.records.length > 0 || chance(0.03));
    const groups = kept.map((g) => ({ payee: g.payee, count: g.records.length }));
    const records = kept.flatMap((g) => g.records);
    let packed = packTransfers(records);
    if (chance(0.01)) {
      // Malformed: a record missing, a record too many, or stray bytes.
      const way = int(0, 2);
      if (way === 0) packed = `0x${packed.slice(2, Math.max(2, packed.length - 224))}`;
      else if (way === 1) packed = `${packed}${packTransfers(randomRecords(1)).slice(2)}`;
      else packed = `${packed}${bytes32().slice(2, 2 + 2 * int(1, 31))}`;
    }
    if (groups.length > 0 && chance(0.003)) groups[0].count += 2_048;
    return { groups, records, packed };
  }

  /** The contract's checks, in its order. */
  function expectBatch(sender: Address, firstSeq: bigint, { groups, records, packed }: Batch): Expectation {
    if (paused) return fail("EnforcedPause", []);
    const payer = ops.find((op) => op.account === sender);
    if (!payer) return fail("HubUnknownSender", [sender]);
    const walletId = payer.walletId;
    if (!active.get(walletId)) return fail("HubOperatorNotActive", [walletId]);
    const expected = nextSeqOf.get(walletId)!;
    if (firstSeq < expected) return fail("HubSequenceReplayed", [walletId, expected, firstSeq]);
    if (firstSeq > expected) return fail("HubSequenceGap", [walletId, expected, firstSeq]);
    const count = groups.reduce((sum, g) => sum + g.count, 0);
    if (count === 0) return fail("HubEmptyBatch", []);
    if (count > 2048 || groups.length > MAX_PAYEES) return fail("HubBatchTooLarge", [BigInt(count), BigInt(groups.length)]);
    const length = (packed.length - 2) / 2;
    if (length !== 112 * count) return fail("HubMalformedTransfers", [BigInt(length), BigInt(112 * count)]);
    for (let j = 0; j < groups.length; j++) {
      const payee = groups[j].payee;
      if (groups[j].count === 0) return fail("HubEmptyGroup", [BigInt(j)]);
      if (payee === walletId) return fail("HubSelfTransfer", [payee]);
      if (groups.slice(0, j).some((g) => g.payee === payee)) return fail("HubDuplicatePayee", [payee]);
      if (!active.get(payee)) return fail("HubOperatorNotActive", [payee]);
    }
    const { perTransfer, daily } = limitsOf.get(walletId)!;
    let total = 0n;
    for (let i = 0; i < records.length; i++) {
      const t = records[i];
      if (t.amount === 0n) return fail("HubZeroAmount", [BigInt(i)]);
      if (perTransfer !== 0n && t.amount > perTransfer) {
        return fail("HubTransferLimitExceeded", [walletId, t.amount, perTransfer]);
      }
      if (frozen.has(t.payerRef)) return fail("HubReferenceFrozen", [t.payerRef]);
      if (frozen.has(t.payeeRef)) return fail("HubReferenceFrozen", [t.payeeRef]);
      total += t.amount;
    }
    const outflow = outflowOf.get(walletId)! + total;
    if (daily !== 0n && outflow > daily) return fail("HubDailyLimitExceeded", [walletId, outflow, daily]);
    const balance = balances.get(sender)!;
    if (balance < total) return fail("ERC20InsufficientBalance", [sender, balance, total]);
    return OK;
  }

  async function settleStep(kind: "valid" | "replay" | "gap") {
    const sender = chance(0.02) ? getAddress(net.strangers[0]) : pick(ops).account;
    const payer = ops.find((op) => op.account === sender);
    const others = ops.filter((op) => op !== payer);
    let payees = others.filter(() => chance(0.7)).map((op) => op.walletId);
    if (payees.length === 0) payees = [pick(others).walletId];
    if (payer && chance(0.01)) payees.push(payer.walletId);
    if (chance(0.01)) payees.push(payees[0]);
    let b = randomBatch(payees);
    if (chance(0.005)) {
      // More groups than allowed, one record each.
      const records = randomRecords(MAX_PAYEES + 1);
      b = { groups: records.map(() => ({ payee: bytes32(), count: 1 })), records, packed: packTransfers(records) };
    }
    const expectedSeq = payer ? nextSeqOf.get(payer.walletId)! : 0n;
    let firstSeq = expectedSeq;
    if (kind === "replay") firstSeq = expectedSeq === 0n ? 0n : expectedSeq - BigInt(int(1, Number(expectedSeq > 50n ? 50n : expectedSeq)));
    if (kind === "gap") firstSeq = expectedSeq + BigInt(int(1, 1_000));

    const expectation = expectBatch(sender, firstSeq, b);
    if (kind !== "valid" && payer && expectedSeq > 0n && expectation.ok) {
      throw new Error(`model error: a ${kind} batch was expected to settle`);
    }
    const receipt = await run(expectation, () => hubAs(sender).write.settleBatch([firstSeq, b.groups, b.packed]));
    if (!receipt || !payer) return;
    const { groups, records } = b;
    counts["settled batches"] = (counts["settled batches"] ?? 0) + 1;
    counts["settled transfers"] = (counts["settled transfers"] ?? 0) + records.length;

    // Events: one TransfersSettled per group, whose records are the receipts (derived ids, each new).
    const logs = receipt.logs.filter((log) => log.topics[0] === TRANSFERS_SETTLED_TOPIC);
    expect(logs).toHaveLength(groups.length);
    const receipts = logs.flatMap((log) => receiptsOfTransfersSettled(log));
    expect(receipts).toHaveLength(records.length);
    const toWallets = groups.flatMap((g) => Array.from({ length: g.count }, () => g.payee));
    const tree = buildMerkleTree(receipts.map(receiptLeaf));
    const batchNo = batchCountOf.get(payer.walletId)!;
    receipts.forEach((r, i) => {
      expect(r.transferId).toBe(transferIdOf(payer.walletId, firstSeq + BigInt(i)));
      expect(r.toWallet).toBe(toWallets[i]);
      expect(r).toMatchObject(records[i]);
      expect(settledIds.has(r.transferId)).toBe(false);
      settledIds.add(r.transferId);
      settled.push({ receipt: r, batchNo, tree, index: i, day: today });
    });
    const [batch] = parseEventLogs({ abi: settlementHubAbi, logs: receipt.logs, eventName: "BatchSettled" });
    expect(batch.args.root).toBe(tree.root);
    expect(batch.args.batchNo).toBe(batchNo);
    expect(batch.args.prevHead).toBe(headOf.get(payer.walletId));

    // Model update.
    let total = 0n;
    records.forEach((t, i) => {
      total += t.amount;
      const to = ops.find((op) => op.walletId === toWallets[i])!.account;
      balances.set(to, balances.get(to)! + t.amount);
    });
    expect(batch.args.total).toBe(total);
    balances.set(sender, balances.get(sender)! - total);
    outflowOf.set(payer.walletId, outflowOf.get(payer.walletId)! + total);
    nextSeqOf.set(payer.walletId, firstSeq + BigInt(records.length));
    batchCountOf.set(payer.walletId, batchNo + 1n);
    headOf.set(
      payer.walletId,
      nextHead(headOf.get(payer.walletId)!, { batchNo, firstSeq, count: records.length, root: tree.root }),
    );
    expect(batch.args.head).toBe(headOf.get(payer.walletId));
  }

  // ---------------------------------------------------------------------------------------------
  // Returns
  // ---------------------------------------------------------------------------------------------

  async function returnStep() {
    if (settled.length === 0) return;
    const candidates = settled.filter((s) => !returnedIds.has(s.receipt.transferId));
    const again = candidates.length === 0 || chance(0.1);
    const s = again && returnedIds.size > 0 ? pick(settled.filter((x) => returnedIds.has(x.receipt.transferId))) : pick(candidates.length ? candidates : settled);
    const payee = ops.find((op) => op.walletId === s.receipt.toWallet)!;
    const payer = ops.find((op) => op.walletId === s.receipt.fromWallet)!;
    const caller = chance(0.1) ? pick(ops) : payee;
    const proof = merkleProof(s.tree, s.index);
    const { transferId, amount } = s.receipt;
    let expectation: Expectation = OK;
    if (paused) expectation = fail("EnforcedPause", []);
    else if (caller !== payee) expectation = fail("HubNotPayee", [transferId, caller.walletId]);
    else if (returnedIds.has(transferId)) expectation = fail("HubAlreadyReturned", [transferId]);
    else if (today > s.day + RETURN_WINDOW_DAYS) expectation = fail("HubReturnWindowClosed", [transferId, s.day, s.day + RETURN_WINDOW_DAYS]);
    else if (balances.get(payee.account)! < amount) {
      expectation = fail("ERC20InsufficientBalance", [payee.account, balances.get(payee.account), amount]);
    }
    const receipt = await run(expectation, () =>
      hubAs(caller.account).write.returnTransfer([s.receipt, s.batchNo, proof, int(1, 3)]),
    );
    if (!receipt) return;
    returnedIds.add(transferId);
    balances.set(payee.account, balances.get(payee.account)! - amount);
    const held = parseEventLogs({ abi: settlementHubAbi, logs: receipt.logs, eventName: "ReturnHeld" });
    if (active.get(payer.walletId)) {
      counts.returns = (counts.returns ?? 0) + 1;
      expect(held).toHaveLength(0);
      balances.set(payer.account, balances.get(payer.account)! + amount);
    } else {
      counts["returns held"] = (counts["returns held"] ?? 0) + 1;
      expect(held.map((e) => e.args)).toEqual([{ originalTransferId: transferId, fromWallet: payer.walletId, amount }]);
      heldOf.set(payer.walletId, heldOf.get(payer.walletId)! + amount);
    }
    for (const [totals, wallet] of [[returnsSent, payee.walletId], [returnsReceived, payer.walletId]] as const) {
      const t = totals.get(wallet)!;
      totals.set(wallet, { count: t.count + 1n, amount: t.amount + amount });
    }
  }

  /** Anyone claims a wallet's held returns: paid to its own account, only once it is active again. */
  async function claimStep() {
    const withHeld = ops.filter((op) => heldOf.get(op.walletId)! > 0n);
    const op = withHeld.length > 0 && chance(0.8) ? pick(withHeld) : pick(ops);
    const held = heldOf.get(op.walletId)!;
    let expectation: Expectation = OK;
    if (paused) expectation = fail("EnforcedPause", []);
    else if (!active.get(op.walletId)) expectation = fail("HubOperatorNotActive", [op.walletId]);
    else if (held === 0n) expectation = fail("HubNothingHeld", [op.walletId]);
    const receipt = await run(expectation, () => hubAs(pick(ops).account).write.claimHeldReturns([op.walletId]));
    if (!receipt) return;
    counts["held claimed"] = (counts["held claimed"] ?? 0) + 1;
    heldOf.set(op.walletId, 0n);
    balances.set(op.account, balances.get(op.account)! + held);
  }

  // ---------------------------------------------------------------------------------------------
  // Regulator, governor, issuer
  // ---------------------------------------------------------------------------------------------

  async function limitsStep() {
    const op = pick(ops);
    const perTransfer = BigInt(pick([0, 0, 5_000, 20_000]));
    const daily = BigInt(pick([0, 0, 60_000, 400_000, 2_000_000]));
    await run(OK, () => hubAs(net.regulator).write.setLimits([op.walletId, perTransfer, daily]));
    limitsOf.set(op.walletId, { perTransfer, daily });
    counts.limits = (counts.limits ?? 0) + 1;
  }

  async function freezeStep() {
    const ref = pick(refPool);
    if (frozen.has(ref) && chance(0.8)) {
      await run(OK, () => hubAs(net.regulator).write.unfreezeReference([ref]));
      frozen.delete(ref);
    } else {
      await run(OK, () => hubAs(net.regulator).write.freezeReference([ref]));
      frozen.add(ref);
    }
    expect(await hubAs(net.regulator).read.isFrozen([ref])).toBe(frozen.has(ref));
    counts["freeze/unfreeze"] = (counts["freeze/unfreeze"] ?? 0) + 1;
  }

  async function suspendStep() {
    const suspended = ops.filter((op) => !active.get(op.walletId));
    const op = suspended.length > 0 && chance(0.7) ? pick(suspended) : pick(ops);
    if (active.get(op.walletId)) {
      await run(OK, () => registryAs(net.governor).write.suspend([op.walletId, 1]));
      active.set(op.walletId, false);
    } else {
      await run(OK, () => registryAs(net.governor).write.resume([op.walletId]));
      active.set(op.walletId, true);
    }
    counts["suspend/resume"] = (counts["suspend/resume"] ?? 0) + 1;
  }

  async function pauseStep() {
    await run(OK, () => (paused ? hubAs(net.regulator).write.unpause() : hubAs(net.regulator).write.pause()));
    paused = !paused;
    counts["pause/unpause"] = (counts["pause/unpause"] ?? 0) + 1;
  }

  async function mintBurnStep() {
    const op = pick(ops);
    const amount = BigInt(int(1, 500_000));
    if (chance(0.5)) {
      const expectation = active.get(op.walletId) ? OK : fail("SettlementTokenHolderNotAllowed", [op.account]);
      if (await run(expectation, () => tokenAs(net.issuer).write.mint([op.account, amount, bytes32()]))) {
        balances.set(op.account, balances.get(op.account)! + amount);
        totalSupply += amount;
      }
    } else {
      const balance = balances.get(op.account)!;
      const expectation = balance >= amount ? OK : fail("ERC20InsufficientBalance", [op.account, balance, amount]);
      if (await run(expectation, () => tokenAs(net.issuer).write.burn([op.account, amount, bytes32()]))) {
        balances.set(op.account, balance - amount);
        totalSupply -= amount;
      }
    }
    counts["mint/burn"] = (counts["mint/burn"] ?? 0) + 1;
  }

  // ---------------------------------------------------------------------------------------------
  // Invariants
  // ---------------------------------------------------------------------------------------------

  async function checkInvariants(step: number) {
    const token = tokenAs(net.issuer).read;
    const read = hubAs(net.issuer).read;
    const [supply, hubBalance, ...rest] = (await Promise.all([
      token.totalSupply(),
      token.balanceOf([hub]),
      ...ops.map((op) => token.balanceOf([op.account])),
      ...ops.map((op) => read.nextSeq([op.walletId])),
      ...ops.map((op) => read.headOf([op.walletId])),
      ...ops.map((op) => read.batchCount([op.walletId])),
    ])) as [bigint, bigint, ...unknown[]];
    const n = ops.length;
    const onChainBalances = rest.slice(0, n) as bigint[];
    const context = `after step ${step} (seed ${SEED})`;
    expect(supply, `totalSupply ${context}`).toBe(totalSupply);
    const totalHeld = [...heldOf.values()].reduce((a, b) => a + b, 0n);
    expect(hubBalance, `hub balance ${context}`).toBe(totalHeld);
    for (const op of ops) {
      const read = hubAs(net.issuer).read;
      expect(await read.heldReturnsOf([op.walletId]), `held for ${op.code} ${context}`).toBe(heldOf.get(op.walletId));
      const [sent, received] = (await read.returnTotalsOf([op.walletId])) as [{ count: bigint; amount: bigint }, { count: bigint; amount: bigint }];
      expect({ sent, received }, `return totals of ${op.code} ${context}`).toEqual({ sent: returnsSent.get(op.walletId), received: returnsReceived.get(op.walletId) });
    }
    expect(onChainBalances.reduce((a, b) => a + b, 0n) + hubBalance, `Σ balances ${context}`).toBe(supply);
    ops.forEach((op, i) => {
      expect(onChainBalances[i], `balance of ${op.code} ${context}`).toBe(balances.get(op.account));
      expect(rest[n + i], `nextSeq of ${op.code} ${context}`).toBe(nextSeqOf.get(op.walletId));
      expect(rest[2 * n + i], `head of ${op.code} ${context}`).toBe(headOf.get(op.walletId));
      expect(rest[3 * n + i], `batchCount of ${op.code} ${context}`).toBe(batchCountOf.get(op.walletId));
    });
  }

  it(`behavior: ${OPS} random operations keep conservation, no-replay and the root chain`, async () => {
    const steps: [number, () => Promise<void>][] = [
      [45, () => settleStep("valid")],
      [5, () => settleStep("replay")],
      [5, () => settleStep("gap")],
      [12, returnStep],
      [3, claimStep],
      [5, limitsStep],
      [8, freezeStep],
      [5, suspendStep],
      [3, pauseStep],
      [8, mintBurnStep],
      [
        2,
        async () => {
          // Sometimes weeks pass, so that returns of old batches meet the return window.
          await startDay(chance(0.3) ? 9n : 1n);
          counts["new day"] = (counts["new day"] ?? 0) + 1;
        },
      ],
    ];
    const weight = steps.reduce((sum, [w]) => sum + w, 0);
    const previousSeq = new Map(nextSeqOf);
    for (let step = 0; step < OPS; step++) {
      let roll = rand() * weight;
      let [, action] = steps.find(([w]) => (roll -= w) < 0) ?? steps[0];
      // Pauses and suspensions are short spells, so most steps exercise settlement.
      if (paused && chance(0.3)) action = pauseStep;
      else if (ops.some((op) => !active.get(op.walletId)) && chance(0.25)) action = suspendStep;
      try {
        await action();
      } catch (error) {
        throw new Error(`step ${step} failed (replay with HULIAN_FUZZ_SEED=${SEED})`, { cause: error });
      }
      await checkInvariants(step);
      // nextSeq never moves backwards (and moves forward only by settled batches, checked above).
      for (const op of ops) {
        expect(nextSeqOf.get(op.walletId)! >= previousSeq.get(op.walletId)!).toBe(true);
        previousSeq.set(op.walletId, nextSeqOf.get(op.walletId)!);
      }
    }
    console.log("fuzz coverage", JSON.stringify(counts));
    expect(counts["settled batches"] ?? 0).toBeGreaterThan(OPS / 10);
  });
});
