import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { once } from "node:events";
import type { Hex } from "viem";
import {
  AuditFailure,
  AuditInputError,
  type AuditChainReader,
  type MoneyFormat,
  STATEMENT_FORMATS,
  type StatementFormat,
  assertBalanced,
  assertReserves,
  checkWalletChain,
  createChainReader,
  exportStatement,
  formatMinor,
  httpCreditLookup,
  jsonSafe,
  parseInclusionProof,
  parsePeriod,
  parseTransferRef,
  parseWallet,
  renderCertificate,
  renderChainReport,
  renderInclusion,
  renderReserves,
  renderTrace,
  reservesReport,
  traceTransfer,
  verifyInclusionProof,
  verifyTransaction,
  verifyTransfer,
} from "../../audit/index.ts";
import { createChainClients } from "../../chain/clients.ts";
import { LOG_SPAN_OPTION, logSpan } from "../logSpan.ts";
import { readManifest } from "../../chain/manifest.ts";
import { isWalletId } from "../../receipts/ids.ts";
import { type CommandSpec, HelpRequested, type OptionSpec, UsageError, parseCommand, requireString } from "../args.ts";
import { progress } from "../progress.ts";

const CHAIN_OPTIONS: Record<string, OptionSpec> = {
  rpc: { type: "string", default: "http://127.0.0.1:8545", description: "JSON-RPC endpoint of the chain", placeholder: "url" },
  deployment: { type: "string", default: ".hulian/devnet/deployment.json", description: "deployment manifest (hulian deploy / devnet)", placeholder: "file" },
  json: { type: "boolean", description: "print JSON instead of text" },
  "log-span": LOG_SPAN_OPTION,
};

const SUBCOMMANDS: Record<string, CommandSpec> = {
  verify: {
    name: "audit verify",
    maxPositionals: 1,
    summary: "Prove a transfer (or every transfer of a transaction) from chain data alone: event, receipt leaf, Merkle proof against the batch root stored on chain, root chain around it.",
    usage: "hulian audit verify <transferId|CODE-seq|txHash> [--rpc URL] [--deployment FILE] [--json]",
    options: CHAIN_OPTIONS,
    examples: ["hulian audit verify ALIPAY-42", "hulian audit verify 0x414c4950415900000000000000000000000000000000000000000000000000002a --json"],
  },
  trace: {
    name: "audit trace",
    maxPositionals: 1,
    summary: "Follow a payment end to end: payer operator, batch, transaction, block, and the payee operator's credit or the return that answered it.",
    usage: "hulian audit trace <transferId|CODE-seq> [--payee-node URL] [--audit-key KEY] [--rpc URL] [--deployment FILE] [--json]",
    options: {
      ...CHAIN_OPTIONS,
      "payee-node": { type: "string", description: "payee node's API (default: its endpoint in WalletRegistry)", placeholder: "url" },
      "audit-key": { type: "string", description: "audit-scoped API key of the payee node (or HULIAN_AUDIT_KEY)", placeholder: "key" },
    },
    examples: ["hulian audit trace ALIPAY-42 --payee-node http://127.0.0.1:8602 --audit-key hk_live_…"],
  },
  export: {
    name: "audit export",
    summary: "Statement of an operator's settlement account for a period (CSV, JSON or ISO 20022 camt.053.001.08); streams, with progress on stderr.",
    usage: "hulian audit export --wallet W --from DATE --to DATE [--format csv|json|camt053] [--out FILE] [--rpc URL] [--deployment FILE]",
    options: {
      rpc: CHAIN_OPTIONS.rpc,
      deployment: CHAIN_OPTIONS.deployment,
      "log-span": LOG_SPAN_OPTION,
      wallet: { type: "string", description: "wallet code, e.g. ALIPAY", placeholder: "code" },
      from: { type: "string", description: "first day (YYYY-MM-DD, UTC) or ISO 8601 instant", placeholder: "date" },
      to: { type: "string", description: "last day, inclusive (YYYY-MM-DD, UTC) or ISO 8601 instant", placeholder: "date" },
      format: { type: "string", default: "csv", description: "csv, json or camt053", placeholder: "format" },
      out: { type: "string", description: "write to this file instead of stdout", placeholder: "file" },
      currency: { type: "string", description: "ISO 4217 code for the statement (default: from the token symbol, sCNY → CNY)", placeholder: "code" },
    },
    examples: ["hulian audit export --wallet ALIPAY --from 2025-03-01 --to 2025-03-31 --format camt053 --out alipay-2025-03.xml"],
  },
  chain: {
    name: "audit chain",
    summary: "Verify a wallet's whole batch-root chain from its first batch: no gap, no rewrite; batch count, transfer count, totals.",
    usage: "hulian audit chain --wallet W [--rpc URL] [--deployment FILE] [--json]",
    options: { ...CHAIN_OPTIONS, wallet: { type: "string", description: "wallet code, e.g. ALIPAY", placeholder: "code" } },
    examples: ["hulian audit chain --wallet ALIPAY"],
  },
  reserves: {
    name: "audit reserves",
    summary: "Every operator's token balance, attested liabilities, backing ratio and attestation age; fails when any is under-backed or stale.",
    usage: "hulian audit reserves [--max-age SECONDS] [--rpc URL] [--deployment FILE] [--json]",
    options: { ...CHAIN_OPTIONS, "max-age": { type: "string", default: "3600", description: "oldest acceptable attestation, seconds", placeholder: "seconds" } },
    examples: ["hulian audit reserves", "hulian audit reserves --max-age 900 --json"],
  },
  inclusion: {
    name: "audit inclusion",
    maxPositionals: 1,
    summary: "Check a customer's inclusion proof (from GET /v1/accounts/:id/reserve-proof) against the operator's attested root on chain.",
    usage: "hulian audit inclusion <proof.json> [--rpc URL] [--deployment FILE] [--json]",
    options: CHAIN_OPTIONS,
    examples: ["hulian audit inclusion proof.json"],
  },
};

const SUMMARY = "Audit the network from chain data: verify, trace, export, chain, reserves, inclusion.";

function usage(): string {
  return [
    SUMMARY,
    "",
    "Usage: hulian audit <verify|trace|export|chain|reserves|inclusion> [options]   (hulian audit <sub> --help)",
    "",
    "Subcommands:",
    ...Object.entries(SUBCOMMANDS).map(([name, s]) => `  ${name.padEnd(10)} ${s.summary}`),
    "",
    "Options (every subcommand):",
    "      --rpc <url>                JSON-RPC endpoint of the chain",
    "      --deployment <file>        deployment manifest",
    "      --json                     machine-readable output",
    "  -h, --help                     show this help",
  ].join("\n");
}

async function connect(values: Record<string, unknown>): Promise<{ reader: AuditChainReader; money: MoneyFormat }> {
  const manifest = await readManifest(String(values.deployment)).catch((e) => {
    throw new UsageError(`--deployment ${values.deployment}: ${(e as Error).message.split("\n")[0]}`);
  });
  const { publicClient } = createChainClients(String(values.rpc), manifest.chainId);
  const chainId = await publicClient.getChainId();
  if (chainId !== manifest.chainId) throw new Error(`${values.rpc} serves chain ${chainId}, the manifest is for chain ${manifest.chainId}`);
  const reader = createChainReader(publicClient, manifest, { maxBlockRange: BigInt(logSpan(values)) });
  return { reader, money: { decimals: manifest.token.decimals, symbol: manifest.token.symbol } };
}

function print(values: Record<string, unknown>, value: unknown, text: string): void {
  console.log(values.json ? JSON.stringify(jsonSafe(value), null, 2) : text);
}

function one(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected exactly one ${what}`);
  return positionals[0];
}

/** Input mistakes are usage errors (exit 2); findings stay AuditFailure (exit 1). */
function input<T>(run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof AuditInputError) throw new UsageError(e.message);
    throw e;
  }
}

/** A bytes32 that names a wallet in its high bytes is a transfer id; anything else is a transaction hash. */
function looksLikeTransferId(s: string): boolean {
  if (!/^0x[0-9a-fA-F]{64}$/.test(s)) return true;
  const walletPart = `0x${s.slice(2, 50)}${"0".repeat(16)}`;
  return isWalletId(walletPart);
}

const handlers: Record<string, (values: Record<string, unknown>, positionals: string[]) => Promise<void>> = {
  async verify(values, positionals) {
    const target = one(positionals, "transfer id or transaction hash");
    const { reader, money } = await connect(values);
    if (looksLikeTransferId(target)) {
      const id = input(() => parseTransferRef(target));
      const certificate = await verifyTransfer(reader, id);
      print(values, certificate, renderCertificate(certificate, money));
      return;
    }
    const certificates = await verifyTransaction(reader, target.toLowerCase() as Hex);
    print(values, { transaction: target, transfers: certificates }, certificates.map((c) => renderCertificate(c, money)).join("\n\n"));
  },

  async trace(values, positionals) {
    const id = input(() => parseTransferRef(one(positionals, "transfer id")));
    const { reader, money } = await connect(values);
    const key = (values["audit-key"] as string | undefined) ?? process.env.HULIAN_AUDIT_KEY;
    const payeeNode = values["payee-node"] as string | undefined;
    if (payeeNode && !key) throw new UsageError("--payee-node needs --audit-key (or HULIAN_AUDIT_KEY)");
    const trace = await traceTransfer(reader, id, { credit: key ? httpCreditLookup(key, payeeNode) : undefined });
    print(values, trace, renderTrace(trace, money));
  },

  async export(values) {
    const walletId = input(() => parseWallet(requireString(values, "wallet")));
    const period = input(() => parsePeriod(requireString(values, "from"), requireString(values, "to")));
    const format = String(values.format) as StatementFormat;
    if (!STATEMENT_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${STATEMENT_FORMATS.join(", ")}`);
    const { reader, money } = await connect(values);
    const file = values.out as string | undefined;
    const stream = file ? createWriteStream(file) : process.stdout;
    const sink = async (chunk: string) => {
      if (!stream.write(chunk)) await once(stream, "drain");
    };
    let lastReport = 0;
    const { header, summary } = await exportStatement(reader, walletId, period, format, sink, {
      currency: values.currency as string | undefined,
      onProgress: (p) => {
        if (Date.now() - lastReport < 500 && p.block < p.to) return;
        lastReport = Date.now();
        progress(`block ${p.block} of ${p.to}: ${p.entries} entries`);
      },
    });
    if (file) await new Promise<void>((resolve, reject) => (stream as ReturnType<typeof createWriteStream>).end((e?: Error | null) => (e ? reject(e) : resolve())));
    progress(
      `${header.code} ${period.from.toISOString()} → ${header.to.toISOString()}${header.interim ? " (the period has not ended: interim)" : ""}: ${summary.entries} entries, opening ${formatMinor(header.opening, money.decimals)}, ` +
        `+${formatMinor(summary.credits.sum, money.decimals)} −${formatMinor(summary.debits.sum, money.decimals)}, ${header.interim ? "interim" : "closing"} ${formatMinor(header.closing, money.decimals)} ${header.currency}` +
        (file ? `, written to ${file}` : ""),
    );
    assertBalanced(header, summary);
  },

  async chain(values) {
    const walletId = input(() => parseWallet(requireString(values, "wallet")));
    const { reader, money } = await connect(values);
    let lastReport = 0;
    const report = await checkWalletChain(reader, walletId, {
      onProgress: (p) => {
        if (Date.now() - lastReport < 500) return;
        lastReport = Date.now();
        progress(`block ${p.block} of ${p.latest}: ${p.batches} batches, ${p.transfers} transfers`);
      },
    });
    print(values, report, renderChainReport(report, money));
  },

  async reserves(values) {
    const maxAge = Number(values["max-age"]);
    if (!Number.isInteger(maxAge) || maxAge <= 0) throw new UsageError("--max-age must be a positive number of seconds");
    const { reader, money } = await connect(values);
    const report = await reservesReport(reader, { maxAgeSeconds: maxAge });
    print(values, report, renderReserves(report, money));
    assertReserves(report);
  },

  async inclusion(values, positionals) {
    const file = one(positionals, "proof file");
    const raw = await readFile(file, "utf8").catch((e) => {
      throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
    });
    const proof = input(() => {
      try {
        return parseInclusionProof(JSON.parse(raw));
      } catch (e) {
        if (e instanceof SyntaxError) throw new AuditInputError(`${file} is not JSON: ${e.message}`);
        throw e;
      }
    });
    const { reader, money } = await connect(values);
    const report = await verifyInclusionProof(reader, proof);
    print(values, report, renderInclusion(report, money));
  },
};

/** `hulian audit <sub>`: parses flags, runs the check from node/audit, prints; a finding exits 1 with its reason. */
export async function auditCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === "--help" || sub === "-h") throw new HelpRequested(usage());
  if (!sub) throw new UsageError("which audit? verify, trace, export, chain, reserves or inclusion");
  const spec = SUBCOMMANDS[sub];
  if (!spec) throw new UsageError(`unknown audit "${sub}" (verify, trace, export, chain, reserves, inclusion)`);
  const { values, positionals } = parseCommand(spec, rest);
  try {
    await handlers[sub](values, positionals);
  } catch (e) {
    if (e instanceof AuditFailure) {
      if (values.json) console.log(JSON.stringify(jsonSafe({ status: "failed", code: e.code, reason: e.message, details: e.details }), null, 2));
      else console.log(`✗ ${sub.toUpperCase()} FAILED [${e.code}]\n  ${e.message}`);
      throw new Error(`${e.code}: ${e.message}`);
    }
    throw e;
  }
}
