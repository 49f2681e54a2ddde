import { type Address, BaseError, ContractFunctionZeroDataError, type Hex, type PublicClient, decodeEventLog, encodeEventTopics, numberToHex, pad } from "viem";
import {
  reserveAttestationAbi,
  settlementHubAbi,
  settlementTokenAbi,
  walletRegistryAbi,
} from "../chain/abi/generated.ts";
import { decodeRevert } from "../chain/errors.ts";
import type { DeploymentManifest } from "../chain/manifest.ts";
import type { SumProofStep } from "../receipts/merkleSumTree.ts";
import type { Receipt } from "../receipts/receipt.ts";

/** Where a log sits on chain. */
export interface LogPosition {
  txHash: Hex;
  blockNumber: bigint;
  logIndex: number;
}

/** A `TransferSettled` event. */
export interface SettledTransfer extends LogPosition {
  receipt: Receipt;
}

/** A `BatchSettled` event: one link of a wallet's root chain. */
export interface SettledBatch extends LogPosition {
  fromWallet: Hex;
  batchNo: bigint;
  firstSeq: bigint;
  count: number;
  total: bigint;
  root: Hex;
  prevHead: Hex;
  head: Hex;
}

/** A `TransferReturned` event: the payee operator sent a transfer back. */
export interface ReturnedTransfer extends LogPosition {
  originalTransferId: Hex;
  /** The original payer's wallet (who gets the money back). */
  fromWallet: Hex;
  /** The original payee's wallet (who sends it back). */
  toWallet: Hex;
  amount: bigint;
  payerRef: Hex;
  reasonCode: number;
}

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
  transfers(filter: { transferId?: Hex; fromWallet?: Hex; toWallet?: Hex }, range?: BlockRange): Promise<SettledTransfer[]>;
  batches(filter: { fromWallet: Hex; batchNo?: bigint }, range?: BlockRange): Promise<SettledBatch[]>;
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
  operators(): Promise<OperatorInfo[]>;
  operator(walletId: Hex): Promise<OperatorInfo | undefined>;
  tokenBalance(account: Address, blockNumber?: bigint): Promise<bigint>;
  latestAttestation(walletId: Hex): Promise<AttestationRecord | undefined>;
  /** `ReserveAttestation.verifyInclusion`, evaluated by the contract itself. */
  verifyInclusionOnChain(walletId: Hex, accountRef: Hex, balance: bigint, proof: readonly SumProofStep[]): Promise<boolean>;
}

type RawLog = { address: Address; data: Hex; topics: Hex[]; transactionHash: Hex; blockNumber: Hex | bigint; logIndex: Hex | number };

const topic = (abi: readonly unknown[], eventName: string) => (encodeEventTopics({ abi: abi as never, eventName } as never) as Hex[])[0];
const TOPICS = {
  transferSettled: topic(settlementHubAbi, "TransferSettled"),
  batchSettled: topic(settlementHubAbi, "BatchSettled"),
  transferReturned: topic(settlementHubAbi, "TransferReturned"),
  issued: topic(settlementTokenAbi, "Issued"),
  redeemed: topic(settlementTokenAbi, "Redeemed"),
};
const STATUS = ["None", "Pending", "Active", "Suspended", "Exited"] as const;

const position = (log: RawLog): LogPosition => ({
  txHash: log.transactionHash,
  blockNumber: BigInt(log.blockNumber),
  logIndex: Number(log.logIndex),
});

function args<T>(abi: readonly unknown[], eventName: string, log: RawLog): T {
  return (decodeEventLog({ abi: abi as never, data: log.data, topics: log.topics as never, eventName } as never) as unknown as { args: T }).args;
}

/** Decodes a `TransferSettled` log. */
export function decodeSettled(log: RawLog): SettledTransfer {
  const a = args<Receipt>(settlementHubAbi, "TransferSettled", log);
  return {
    receipt: {
      transferId: a.transferId.toLowerCase() as Hex,
      fromWallet: a.fromWallet.toLowerCase() as Hex,
      toWallet: a.toWallet.toLowerCase() as Hex,
      seq: BigInt(a.seq),
      amount: BigInt(a.amount),
      payerRef: a.payerRef.toLowerCase() as Hex,
      payeeRef: a.payeeRef.toLowerCase() as Hex,
      memoHash: a.memoHash.toLowerCase() as Hex,
    },
    ...position(log),
  };
}

/** Decodes a `BatchSettled` log. */
export function decodeBatch(log: RawLog): SettledBatch {
  const a = args<{ fromWallet: Hex; batchNo: bigint; firstSeq: bigint; count: number; total: bigint; root: Hex; prevHead: Hex; head: Hex }>(
    settlementHubAbi,
    "BatchSettled",
    log,
  );
  return {
    fromWallet: a.fromWallet.toLowerCase() as Hex,
    batchNo: BigInt(a.batchNo),
    firstSeq: BigInt(a.firstSeq),
    count: Number(a.count),
    total: BigInt(a.total),
    root: a.root.toLowerCase() as Hex,
    prevHead: a.prevHead.toLowerCase() as Hex,
    head: a.head.toLowerCase() as Hex,
    ...position(log),
  };
}

function decodeReturned(log: RawLog): ReturnedTransfer {
  const a = args<{ originalTransferId: Hex; fromWallet: Hex; toWallet: Hex; amount: bigint; payerRef: Hex; reasonCode: number }>(
    settlementHubAbi,
    "TransferReturned",
    log,
  );
  return {
    originalTransferId: a.originalTransferId.toLowerCase() as Hex,
    fromWallet: a.fromWallet.toLowerCase() as Hex,
    toWallet: a.toWallet.toLowerCase() as Hex,
    amount: BigInt(a.amount),
    payerRef: a.payerRef.toLowerCase() as Hex,
    reasonCode: Number(a.reasonCode),
    ...position(log),
  };
}

export interface ChainReaderOptions {
  /** Largest block span of one `eth_getLogs` call (providers cap it). Default 50,000. */
  maxBlockRange?: bigint;
}

/**
 * The {@link AuditChainReader} over JSON-RPC, for a deployment manifest. Read only: it holds no key.
 * Logs are read with topic filters, in block spans of at most `maxBlockRange`.
 */
export function createChainReader(client: PublicClient, manifest: DeploymentManifest, options: ChainReaderOptions = {}): AuditChainReader {
  const contracts = {
    hub: manifest.contracts.settlementHub,
    token: manifest.contracts.settlementToken,
    attestation: manifest.contracts.reserveAttestation,
    registry: manifest.contracts.walletRegistry,
  };
  const startBlock = BigInt(manifest.deploymentBlock);
  const span = options.maxBlockRange ?? 50_000n;
  const blocks = new Map<bigint, Promise<{ number: bigint; hash: Hex; timestamp: bigint }>>();

  async function logs(address: Address, topics: (Hex | Hex[] | null)[], range?: BlockRange): Promise<RawLog[]> {
    const from = range?.from ?? startBlock;
    const to = range?.to ?? (await client.getBlockNumber({ cacheTime: 0 }));
    const out: RawLog[] = [];
    for (let lo = from; lo <= to; lo += span) {
      const hi = lo + span - 1n < to ? lo + span - 1n : to;
      const page = (await client.request({
        method: "eth_getLogs",
        params: [{ address, topics, fromBlock: numberToHex(lo), toBlock: numberToHex(hi) }],
      } as never)) as RawLog[];
      out.push(...page);
    }
    return out;
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
      const raw = await logs(contracts.hub, [TOPICS.transferSettled, filter.transferId ?? null, filter.fromWallet ?? null, filter.toWallet ?? null], range);
      return raw.map(decodeSettled);
    },
    async batches(filter, range) {
      const raw = await logs(contracts.hub, [TOPICS.batchSettled, filter.fromWallet, filter.batchNo === undefined ? null : uint64Topic(filter.batchNo)], range);
      return raw.map(decodeBatch);
    },
    async returns(filter, range) {
      const raw = await logs(
        contracts.hub,
        [TOPICS.transferReturned, filter.originalTransferId ?? null, filter.fromWallet ?? null, filter.toWallet ?? null],
        range,
      );
      return raw.map(decodeReturned);
    },
    async reserveMovements(account, range) {
      const raw = await logs(contracts.token, [[TOPICS.issued, TOPICS.redeemed], pad(account, { size: 32 })], range);
      return raw.map((log) => {
        const kind = log.topics[0] === TOPICS.issued ? "issued" : "redeemed";
        const a = args<{ amount: bigint; reserveRef: Hex }>(settlementTokenAbi, kind === "issued" ? "Issued" : "Redeemed", log);
        return { kind, account, amount: BigInt(a.amount), reserveRef: a.reserveRef, ...position(log) };
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
        transfers: hubLogs.filter((l) => l.topics[0] === TOPICS.transferSettled).map(decodeSettled),
        batches: hubLogs.filter((l) => l.topics[0] === TOPICS.batchSettled).map(decodeBatch),
        returns: hubLogs.filter((l) => l.topics[0] === TOPICS.transferReturned).map(decodeReturned),
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
