import { type Hex, createPublicClient, custom, decodeEventLog, encodeAbiParameters, encodeEventTopics, keccak256, toHex, zeroHash } from "viem";
import { reserveAttestationAbi, settlementHubAbi } from "../../node/chain/abi/generated.ts";
import { type AuditChainReader, createChainReader, gatherTransferEvidence } from "../../node/audit/index.ts";
import {
  TRANSFERS_SETTLED_TOPIC,
  type TransferRecord,
  groupTransfers,
  packTransfers,
  transfersSettledEvent,
  unpackTransfers,
} from "../../node/receipts/index.ts";
import { type TestNetwork, type TestOperator, startTestNetwork } from "../helpers/network.ts";

export interface AuditNetwork {
  net: TestNetwork;
  reader: AuditChainReader;
  op(code: string): TestOperator;
  /**
   * Settles one batch from `from`; returns its transaction hash. The hub takes transfers grouped by
   * payee, so they are grouped (payees in order of first appearance) and numbered in that order.
   */
  settle(from: string, transfers: { to: string; amount: bigint; ref?: string }[]): Promise<Hex>;
  /** The payee operator sends a settled transfer back (reason 1: unknown account). */
  returnTransfer(transferId: Hex, reasonCode?: number): Promise<Hex>;
  /** Posts an attestation as operator `code`. */
  attest(code: string, root: Hex, total: bigint, asOf: bigint, count: number): Promise<void>;
  close(): Promise<void>;
}

const ref = (s: string) => keccak256(toHex(s));

/** The contracts on an in-process chain with ALIPAY, WECHAT and YUNPAY admitted and funded, and an audit reader over it. */
export async function startAuditNetwork(): Promise<AuditNetwork> {
  const net = await startTestNetwork(["ALIPAY", "WECHAT", "YUNPAY"], 1_000_000_00n);
  const reader = createChainReader(net.publicClient, net.manifest);
  const op = (code: string) => net.operators.find((o) => o.code === code)!;
  const mined = async (hash: Hex) => {
    const receipt = await net.publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`${hash} reverted`);
    return hash;
  };
  return {
    net,
    reader,
    op,
    async settle(from, transfers) {
      const payer = op(from);
      const { groups, packed } = groupTransfers(
        transfers.map((t, i) => ({
          toWallet: op(t.to).walletId,
          amount: t.amount,
          payerRef: ref(`payer:${from}:${t.ref ?? i}`),
          payeeRef: ref(`payee:${t.to}:${t.ref ?? i}`),
          memoHash: i % 2 ? ref(`memo ${i}`) : zeroHash,
        })),
      );
      const firstSeq = (await net.publicClient.readContract({ address: net.manifest.contracts.settlementHub, abi: settlementHubAbi, functionName: "nextSeq", args: [payer.walletId] })) as bigint;
      const hash = await net.wallet(payer.account).writeContract({
        address: net.manifest.contracts.settlementHub,
        abi: settlementHubAbi,
        functionName: "settleBatch",
        args: [firstSeq, groups, packed],
      } as never);
      return mined(hash);
    },
    async returnTransfer(transferId, reasonCode = 1) {
      const ev = await gatherTransferEvidence(reader, transferId);
      const payee = net.operators.find((o) => o.walletId.toLowerCase() === ev.receipt.toWallet.toLowerCase())!;
      const hash = await net.wallet(payee.account).writeContract({
        address: net.manifest.contracts.settlementHub,
        abi: settlementHubAbi,
        functionName: "returnTransfer",
        args: [ev.receipt, ev.batch.batchNo, ev.proof, reasonCode],
      } as never);
      return mined(hash);
    },
    async attest(code, root, total, asOf, count) {
      const hash = await net.wallet(op(code).account).writeContract({
        address: net.manifest.contracts.reserveAttestation,
        abi: reserveAttestationAbi,
        functionName: "attest",
        args: [root, total, asOf, count],
      } as never);
      await mined(hash);
    },
    close: () => net.close(),
  };
}

/** A reader that answers like `inner` except where `overrides` says otherwise (a tampered or incomplete chain view). */
export function overrideReader(inner: AuditChainReader, overrides: Partial<AuditChainReader>): AuditChainReader {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop in overrides) return (overrides as Record<string | symbol, unknown>)[prop];
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

/** One payee group as a `TransfersSettled` log carries it, for {@link readerWithForgedGroups}. */
export interface GroupLog {
  txHash: Hex;
  fromWallet: Hex;
  toWallet: Hex;
  firstSeq: bigint;
  records: TransferRecord[];
}

/**
 * An audit reader over a forged view of the chain: every `TransfersSettled` log it reads (from
 * `eth_getLogs` and from transaction receipts alike) passes through `forge`, which may change the
 * payee wallet or any packed record. Contract state (`batchRoot`, `headOf`…) is the real chain's,
 * as an auditor reading logs from a dishonest node but state from its own would see it.
 */
export function readerWithForgedGroups(a: AuditNetwork, forge: (group: GroupLog) => GroupLog): AuditChainReader {
  const forgeLog = (log: { topics: Hex[]; data: Hex; transactionHash: Hex }) => {
    if (log.topics[0] !== TRANSFERS_SETTLED_TOPIC) return log;
    const { args } = decodeEventLog({ abi: [transfersSettledEvent], data: log.data, topics: log.topics as [Hex, ...Hex[]] });
    const group = forge({ txHash: log.transactionHash, fromWallet: args.fromWallet, toWallet: args.toWallet, firstSeq: args.firstSeq, records: unpackTransfers(args.transfers) });
    return {
      ...log,
      topics: encodeEventTopics({ abi: [transfersSettledEvent], eventName: "TransfersSettled", args: { fromWallet: group.fromWallet, toWallet: group.toWallet } }),
      data: encodeAbiParameters([{ type: "uint64" }, { type: "bytes" }], [group.firstSeq, packTransfers(group.records)]),
    };
  };
  const real = a.net.publicClient;
  const client = createPublicClient({
    chain: real.chain,
    transport: custom({
      async request({ method, params }) {
        const result = (await real.request({ method, params } as never)) as any;
        if (method === "eth_getLogs") return result.map(forgeLog);
        if (method === "eth_getTransactionReceipt" && result) return { ...result, logs: result.logs.map(forgeLog) };
        return result;
      },
    }),
  });
  return createChainReader(client, a.net.manifest);
}
