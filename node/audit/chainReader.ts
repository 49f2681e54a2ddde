import { type Address, BaseError, ContractFunctionZeroDataError, type Hex, type PublicClient, decodeEventLog, encodeEventTopics, numberToHex, pad } from "viem";
import {
  reserveAttestationAbi,
  settlementHubAbi,
  settlementTokenAbi,
  walletRegistryAbi,
} from "../chain/abi/generated.ts";
import { decodeRevert } from "../chain/errors.ts";
import { DEFAULT_LOG_SPAN_BLOCKS, logPages, logSpan } from "../chain/getLogsPaged.ts";
import { readNextSeq } from "../chain/hubReads.ts";
import { isStateUnavailable } from "../chain/stateUnavailable.ts";
import type { DeploymentManifest } from "../chain/manifest.ts";
import { parseTransferId } from "../receipts/ids.ts";
import { AuditFailure } from "./errors.ts";
import type { SumProofStep } from "../receipts/merkleSumTree.ts";
import type { Receipt } from "../receipts/receipt.ts";
import {
  HUB_TOPICS,
  type LogPosition,
  type RawLog,
  type ReturnedTransfer,
  type SettledBatch,
  type SettledTransfer,
  decodeBatch,
  decodeReturned,
  decodeTransfersSettled,
  positionOf,
} from "./hubEvents.ts";

/** Reserve money entering (`issued`, a mint) or leaving (`redeemed`, a burn) an operator's account. */
export interface ReserveMovement extends LogPosition {
  kind: "issued" | "redeemed";
  account: Address;
  amount: bigint;
  reserveRef: Hex;
}

/** An operator as the registry knows it. */
export interface OperatorInfo {
  walletId: Hex;
  name: string;
  settlementAccount: Address;
  endpoint: string;
  status: "None" | "Pending" | "Active" | "Suspended" | "Exited";
}

/** An operator's latest posted reserve attestation. */
export interface AttestationRecord {
  root: Hex;
  totalLiabilities: bigint;
  asOf: bigint;
  postedAt: bigint;
  accountCount: number;
}

/** A block range, both ends included. */
export interface BlockRange {
  from: bigint;
  to: bigint;
}

/**
 * Everything the audit checks read from the chain. The verification functions take data plus a
 * reader, so a test can hand them tampered data (or a reader that hides a batch) while the CLI
 * and the audit API pass {@link createChainReader}.
 */
export interface AuditChainReader {
  readonly contracts: { hub: Address; token: Address; attestation: Address; registry: Address };
  /** The first block that can hold Hulian events. */
  readonly startBlock: bigint;
  readonly token: { symbol: string; decimals: number };
  latestBlock(): Promise<bigint>;
  block(number: bigint): Promise<{ number: bigint; hash: Hex; timestamp: bigint }>;
  /**
   * Settled transfers, one per packed record of the `TransfersSettled` logs, in chain order. By
   * `fromWallet` or `toWallet` they are read with topic filters; by `transferId` through
   * {@link AuditChainReader.batchOf}, since no event indexes transfer ids.
   */
  transfers(filter: { transferId?: Hex; fromWallet?: Hex; toWallet?: Hex }, range?: BlockRange): Promise<SettledTransfer[]>;
  batches(filter: { fromWallet: Hex; batchNo?: bigint }, range?: BlockRange): Promise<SettledBatch[]>;
  /**
   * The `BatchSettled` whose sequence range `[firstSeq, firstSeq + count)` holds the wallet's
   * `seq`, or undefined when none does: how a transfer is found from its id (`walletId | seq`).
   * The RPC reader remembers the batches it located (see {@link ChainReaderOptions.cachedBatches}).
   */
  batchOf(walletId: Hex, seq: bigint): Promise<SettledBatch | undefined>;
  returns(filter: { originalTransferId?: Hex; fromWallet?: Hex; toWallet?: Hex }, range?: BlockRange): Promise<ReturnedTransfer[]>;
  reserveMovements(account: Address, range?: BlockRange): Promise<ReserveMovement[]>;
  /** The hub events of one transaction, in log order; undefined when there is no such transaction. */
  transaction(txHash: Hex): Promise<{ blockNumber: bigint; transfers: SettledTransfer[]; batches: SettledBatch[]; returns: ReturnedTransfer[] } | undefined>;
  /** The root the hub stores for a batch; undefined when the hub has no such batch. */
  batchRoot(walletId: Hex, batchNo: bigint): Promise<Hex | undefined>;
  /** How many batches the hub holds for the wallet (at `blockNumber`, default latest). */
  batchCount(walletId: Hex, blockNumber?: bigint): Promise<bigint>;
  /** The wallet's root-chain head (at `blockNumber`, default latest). */
  headOf(walletId: Hex, blockNumber?: bigint): Promise<Hex>;
  /** Every operator with a record in the registry, pending applications and exited members included. */
  operators(): Promise<OperatorInfo[]>;
  /**
   * The members that hold or owe customer money (Active and Suspended), read from the registry's
   * `memberIds`: as many reads as members, however many applications are pending.
   */
  members(): Promise<OperatorInfo[]>;
  operator(walletId: Hex): Promise<OperatorInfo | undefined>;
  tokenBalance(account: Address, blockNumber?: bigint): Promise<bigint>;
  latestAttestation(walletId: Hex): Promise<AttestationRecord | undefined>;
  /** `ReserveAttestation.verifyInclusion`, evaluated by the contract itself. */
  verifyInclusionOnChain(walletId: Hex, accountRef: Hex, balance: bigint, proof: readonly SumProofStep[]): Promise<boolean>;
}

/** A past balance the node cannot give: it prunes old state (Besu Bonsai keeps 512 blocks by default). */
function stateUnavailable(blockNumber: bigint, cause: unknown): AuditFailure {
  return new AuditFailure(
    "state_unavailable",
    `the node has no state for block ${blockNumber} any more (it prunes old state, as Besu's default Bonsai storage does after 512 blocks): point the audit at an archive node (data-storage-format=FOREST, as hulian network init generates)`,
    { blockNumber },
    { cause },
  );
}

const topic = (abi: readonly unknown[], eventName: string) => (encodeEventTopics({ abi: abi as never, eventName } as never) as Hex[])[0];
const TOKEN_TOPICS = { issued: topic(settlementTokenAbi, "Issued"), redeemed: topic(settlementTokenAbi, "Redeemed") };
const STATUS = ["None", "Pending", "Active", "Suspended", "Exited"] as const;

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const inRange = (p: LogPosition, range?: BlockRange) => !range || (p.blockNumber >= range.from && p.blockNumber <= range.to);

export interface ChainReaderOptions {
  /** Largest block span of one `eth_getLogs` call: at most the node's `rpc-max-logs-range`. Default 5,000 (Besu's default). */
  maxBlockRange?: bigint;
  /** Located batches remembered per wallet, the most recent ones (see {@link AuditChainReader.batchOf}). Default 1,024. */
  cachedBatches?: number;
  /** Wallets whose located batches are remembered; the least recently used is forgotten first. Default 16. */
  cachedWallets?: number;
}

/**
 * What a reader has located of one wallet's batches: every `BatchSettled` of the wallet in blocks
 * up to `scannedTo` — the most recent of them kept, in sequence order. A wallet's batches cover
 * consecutive sequence ranges, so the kept ones cover `[batches[0].firstSeq, end)` without gaps.
 */
interface LocatedBatches {
  batches: SettledBatch[];
  /** The last block whose logs were read (all its batches are in `batches`, or were before them). */
  scannedTo: bigint;
}

const endOf = (b: SettledBatch) => b.firstSeq + BigInt(b.count);

/** The kept batch whose range holds `seq` (binary search), if any. */
function lookup(known: LocatedBatches, seq: bigint): SettledBatch | undefined {
  const list = known.batches;
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const b = list[mid];
    if (seq < b.firstSeq) hi = mid - 1;
    else if (seq >= endOf(b)) lo = mid + 1;
    else return b;
  }
  return undefined;
}

/**
 * The {@link AuditChainReader} over JSON-RPC, for a deployment manifest. Read only: it holds no key.
 * Logs are read with topic filters, in block spans of at most `maxBlockRange`. It remembers blocks
 * and the batches {@link AuditChainReader.batchOf} located (for a few wallets, their most recent
 * batches, and how far their logs were read), so locating more transfers of a wallet neither
 * rescans its logs from the deployment nor reads `nextSeq` again. Settled batches are final (QBFT);
 * should a remembered batch's transaction be gone all the same, the wallet is looked up afresh.
 */
export function createChainReader(client: PublicClient, manifest: DeploymentManifest, options: ChainReaderOptions = {}): AuditChainReader {
  const contracts = {
    hub: manifest.contracts.settlementHub,
    token: manifest.contracts.settlementToken,
    attestation: manifest.contracts.reserveAttestation,
    registry: manifest.contracts.walletRegistry,
  };
  const startBlock = BigInt(manifest.deploymentBlock);
  const span = logSpan(options.maxBlockRange ?? DEFAULT_LOG_SPAN_BLOCKS);
  const blocks = new Map<bigint, Promise<{ number: bigint; hash: Hex; timestamp: bigint }>>();
  const keepBatches = Math.max(1, options.cachedBatches ?? 1_024);
  const keepWallets = Math.max(1, options.cachedWallets ?? 16);
  /** Located batches by wallet (lower case), least recently used first. */
  const located = new Map<string, LocatedBatches>();

  /** Logs matching `topics`, one block span (one `eth_getLogs`) at a time, oldest first, with the span's last block. */
  async function* logSpans(address: Address, topics: (Hex | Hex[] | null)[], range?: Partial<BlockRange>): AsyncGenerator<RawLog[] & { to: bigint }> {
    const from = range?.from ?? startBlock;
    const to = range?.to ?? (await client.getBlockNumber({ cacheTime: 0 }));
    for await (const page of logPages<RawLog>(client, { address, topics }, from, to, span)) yield Object.assign(page.logs, { to: page.to });
  }

  async function logs(address: Address, topics: (Hex | Hex[] | null)[], range?: BlockRange): Promise<RawLog[]> {
    const out: RawLog[] = [];
    for await (const page of logSpans(address, topics, range)) out.push(...page);
    return out;
  }

  /** A transfer by id: its batch (found by the sending wallet and seq), then that transaction's records. */
  async function transferById(transferId: Hex): Promise<SettledTransfer[]> {
    const { walletId, seq } = parseTransferId(transferId);
    let batch = await reader.batchOf(walletId, seq);
    let tx = batch && (await reader.transaction(batch.txHash));
    if (batch && !tx && located.delete(walletId.toLowerCase())) {
      // The remembered batch's transaction is gone (a development chain reset or reverted): look again.
      batch = await reader.batchOf(walletId, seq);
      tx = batch && (await reader.transaction(batch.txHash));
    }
    return tx?.transfers.filter((t) => same(t.receipt.transferId, transferId)) ?? [];
  }

  /** The wallet's remembered batches, marked as most recently used. */
  function knownOf(wallet: string): LocatedBatches | undefined {
    const known = located.get(wallet);
    if (known) {
      located.delete(wallet);
      located.set(wallet, known);
    }
    return known;
  }

  /** Remembers batches read in block order, after what is already known (a concurrent scan may have added them). */
  function remember(wallet: string, found: SettledBatch[], scannedTo: bigint): void {
    let known = located.get(wallet);
    if (!known) {
      known = { batches: [], scannedTo: startBlock - 1n };
      located.set(wallet, known);
      for (const oldest of located.keys()) {
        if (located.size <= keepWallets) break;
        located.delete(oldest);
      }
    }
    for (const b of found) {
      const last = known.batches.at(-1);
      if (!last || b.firstSeq >= endOf(last)) known.batches.push(b);
    }
    if (known.batches.length > keepBatches) known.batches.splice(0, known.batches.length - keepBatches);
    if (scannedTo > known.scannedTo) known.scannedTo = scannedTo;
  }

  const read = <T>(address: Address, abi: readonly unknown[], functionName: string, args: readonly unknown[], blockNumber?: bigint) =>
    client.readContract({ address, abi: abi as never, functionName, args, ...(blockNumber === undefined ? {} : { blockNumber }) } as never) as Promise<T>;

  const uint64Topic = (n: bigint) => pad(numberToHex(n), { size: 32 });

  const reader: AuditChainReader = {
    contracts,
    startBlock,
    token: { symbol: manifest.token.symbol, decimals: manifest.token.decimals },
    latestBlock: () => client.getBlockNumber({ cacheTime: 0 }),
    block(number) {
      let hit = blocks.get(number);
      if (!hit) {
        hit = client.getBlock({ blockNumber: number }).then((b) => ({ number: b.number!, hash: b.hash!, timestamp: b.timestamp }));
        hit.catch(() => blocks.delete(number));
        blocks.set(number, hit);
      }
      return hit;
    },
    async transfers(filter, range) {
      if (filter.transferId === undefined) {
        const raw = await logs(contracts.hub, [HUB_TOPICS.transfersSettled, filter.fromWallet ?? null, filter.toWallet ?? null], range);
        return raw.flatMap(decodeTransfersSettled);
      }
      const wallets = (r: Receipt) => (!filter.fromWallet || same(r.fromWallet, filter.fromWallet)) && (!filter.toWallet || same(r.toWallet, filter.toWallet));
      return (await transferById(filter.transferId)).filter((t) => inRange(t, range) && wallets(t.receipt));
    },
    async batches(filter, range) {
      const raw = await logs(contracts.hub, [HUB_TOPICS.batchSettled, filter.fromWallet, filter.batchNo === undefined ? null : uint64Topic(filter.batchNo)], range);
      return raw.map(decodeBatch);
    },
    async batchOf(walletId, seq) {
      const wallet = walletId.toLowerCase();
      const known = knownOf(wallet);
      const remembered = known && lookup(known, seq);
      if (remembered) return remembered;
      // Nothing at or past nextSeq has settled: no need to read the wallet's whole history to say so.
      if (seq >= (await readNextSeq(client, contracts.hub, walletId))) return undefined;
      // BatchSettled names the wallet in topic 1 and carries (firstSeq, count): read the wallet's
      // batches span by span and stop at the first span that covers `seq`. A batch after those
      // remembered is read from where the last scan stopped, and every batch read is remembered;
      // one before them (forgotten, or a gap of a forged view) is read from the deployment again.
      const last = known?.batches.at(-1);
      const resume = known !== undefined && (!last || seq >= endOf(last));
      const from = resume ? known.scannedTo + 1n : startBlock;
      for await (const page of logSpans(contracts.hub, [HUB_TOPICS.batchSettled, walletId], { from })) {
        const found = page.map(decodeBatch);
        if (resume || !known) remember(wallet, found, page.to);
        const hit = found.find((b) => b.firstSeq <= seq && seq < endOf(b));
        if (hit) return hit;
      }
      return undefined;
    },
    async returns(filter, range) {
      const raw = await logs(
        contracts.hub,
        [HUB_TOPICS.transferReturned, filter.originalTransferId ?? null, filter.fromWallet ?? null, filter.toWallet ?? null],
        range,
      );
      return raw.map(decodeReturned);
    },
    async reserveMovements(account, range) {
      const raw = await logs(contracts.token, [[TOKEN_TOPICS.issued, TOKEN_TOPICS.redeemed], pad(account, { size: 32 })], range);
      return raw.map((log) => {
        const kind = log.topics[0] === TOKEN_TOPICS.issued ? "issued" : "redeemed";
        const { args } = decodeEventLog({ abi: settlementTokenAbi, data: log.data, topics: log.topics as never, eventName: kind === "issued" ? "Issued" : "Redeemed" } as never) as unknown as {
          args: { amount: bigint; reserveRef: Hex };
        };
        return { kind, account, amount: BigInt(args.amount), reserveRef: args.reserveRef, ...positionOf(log) };
      });
    },
    async transaction(txHash) {
      let receipt;
      try {
        receipt = await client.getTransactionReceipt({ hash: txHash });
      } catch (e) {
        if ((e as Error).name === "TransactionReceiptNotFoundError") return undefined;
        throw e;
      }
      const hubLogs = (receipt.logs as unknown as RawLog[]).filter((l) => l.address.toLowerCase() === contracts.hub.toLowerCase());
      return {
        blockNumber: receipt.blockNumber,
        transfers: hubLogs.filter((l) => l.topics[0] === HUB_TOPICS.transfersSettled).flatMap(decodeTransfersSettled),
        batches: hubLogs.filter((l) => l.topics[0] === HUB_TOPICS.batchSettled).map(decodeBatch),
        returns: hubLogs.filter((l) => l.topics[0] === HUB_TOPICS.transferReturned).map(decodeReturned),
      };
    },
    async batchRoot(walletId, batchNo) {
      try {
        return ((await read<Hex>(contracts.hub, settlementHubAbi, "batchRoot", [walletId, batchNo])) as Hex).toLowerCase() as Hex;
      } catch (e) {
        if (decodeRevert(e)?.errorName === "HubUnknownBatch") return undefined;
        throw e;
      }
    },
    batchCount: (walletId, blockNumber) => read<bigint>(contracts.hub, settlementHubAbi, "batchCount", [walletId], blockNumber).then(BigInt),
    headOf: async (walletId, blockNumber) => ((await read<Hex>(contracts.hub, settlementHubAbi, "headOf", [walletId], blockNumber)) as Hex).toLowerCase() as Hex,
    async operators() {
      const ids = await read<Hex[]>(contracts.registry, walletRegistryAbi, "walletIds", []);
      const all = await Promise.all(ids.map((id) => reader.operator(id)));
      return all.filter((o): o is OperatorInfo => o !== undefined);
    },
    async members() {
      const ids = await read<Hex[]>(contracts.registry, walletRegistryAbi, "memberIds", []);
      const all = await Promise.all(ids.map((id) => reader.operator(id)));
      return all.filter((o): o is OperatorInfo => o !== undefined);
    },
    async operator(walletId) {
      const status = Number(await read<number>(contracts.registry, walletRegistryAbi, "statusOf", [walletId]));
      if (status === 0) return undefined;
      const op = await read<{ walletId: Hex; name: string; settlementAccount: Address; endpoint: string; status: number }>(
        contracts.registry,
        walletRegistryAbi,
        "getOperator",
        [walletId],
      );
      return {
        walletId: op.walletId.toLowerCase() as Hex,
        name: op.name,
        settlementAccount: op.settlementAccount,
        endpoint: op.endpoint,
        status: STATUS[Number(op.status)] ?? "None",
      };
    },
    async tokenBalance(account, blockNumber) {
      try {
        return BigInt(await read<bigint>(contracts.token, settlementTokenAbi, "balanceOf", [account], blockNumber));
      } catch (e) {
        // Before the token was deployed there is no balance at all.
        if (blockNumber !== undefined && e instanceof BaseError && e.walk((x) => x instanceof ContractFunctionZeroDataError)) return 0n;
        if (blockNumber !== undefined && isStateUnavailable(e)) throw stateUnavailable(blockNumber, e);
        throw e;
      }
    },
    async latestAttestation(walletId) {
      try {
        const a = await read<{ root: Hex; totalLiabilities: bigint; asOf: bigint; postedAt: bigint; accountCount: number }>(
          contracts.attestation,
          reserveAttestationAbi,
          "latest",
          [walletId],
        );
        return {
          root: a.root.toLowerCase() as Hex,
          totalLiabilities: BigInt(a.totalLiabilities),
          asOf: BigInt(a.asOf),
          postedAt: BigInt(a.postedAt),
          accountCount: Number(a.accountCount),
        };
      } catch (e) {
        if (decodeRevert(e)?.errorName === "AttestationNone") return undefined;
        throw e;
      }
    },
    verifyInclusionOnChain: (walletId, accountRef, balance, proof) =>
      read<boolean>(contracts.attestation, reserveAttestationAbi, "verifyInclusion", [
        walletId,
        accountRef,
        balance,
        proof.map((s) => ({ hash: s.hash, sum: s.sum, siblingOnLeft: s.siblingOnLeft })),
      ]),
  };
  return reader;
}
