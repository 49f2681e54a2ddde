import type { Hex } from "viem";
import {
  AuditFailure,
  AuditInputError,
  type AuditChainReader,
  type PayeeCredit,
  STATEMENT_FORMATS,
  type StatementFormat,
  assertBalanced,
  checkWalletChain,
  inclusionProofJson,
  jsonSafe,
  parseInclusionProof,
  parsePeriod,
  parseTransferRef,
  parseWallet,
  renderStatement,
  reservesReport,
  statementEntries,
  statementHeader,
  traceTransfer,
  verifyInclusionProof,
  verifyTransaction,
  verifyTransfer,
  currencyOfToken,
} from "../../audit/index.ts";
import type { Attester } from "../../bridge/attester.ts";
import { compoundKey } from "../../store/keys.ts";
import type { Store } from "../../store/store.ts";
import type { Scope } from "../apiKeys.ts";
import { ApiProblem } from "../problem.ts";
import type { RouteContext, RouteResult } from "../router.ts";
import { APP, ADMIN, idParam, type RouteRegistry } from "./common.ts";

/** Scopes of the read-only audit API: auditors are other parties, so `admin` does not imply it. */
export const AUDIT: readonly Scope[] = ["audit"];

/** What the audit routes need from the node. */
export interface AuditRoutesDeps {
  /** Reads the chain (no key). */
  reader: AuditChainReader;
  wallet: { code: string; walletId: Hex };
  /** The node's store: the inbound follower's marker of each transfer it received says how it was answered. */
  store: Store;
  /** The payee reference this node issued for one of its accounts. */
  payeeRefOf: (accountId: string) => Hex;
  /** True when the customer account exists (for the inclusion-proof route's 404). */
  hasAccount: (accountId: string) => boolean;
  /** The node's reserve attester; without it the attestation routes answer 503. */
  attester?: Attester;
  /** Age after which `GET /v1/audit/reserves` calls an attestation stale, seconds. Default 3600. */
  maxAttestationAgeSeconds?: number;
  /** Largest statement the API renders in one response, in blocks; the CLI streams any range. Default 100,000. */
  maxStatementBlocks?: bigint;
}

/** An audit finding as a problem: 422 with the finding's code, so clients branch on `amount_mismatch`, `proof_invalid`, … */
function asProblem(e: unknown): unknown {
  if (e instanceof AuditFailure) return new ApiProblem(e.code, 422, e.message, { details: jsonSafe(e.details) as Record<string, unknown> });
  if (e instanceof AuditInputError) return new ApiProblem("validation_failed", 400, e.message);
  return e;
}

async function audited(run: () => Promise<RouteResult>): Promise<RouteResult> {
  try {
    return await run();
  } catch (e) {
    throw asProblem(e);
  }
}

const ok = (body: unknown): RouteResult => ({ status: 200, body: jsonSafe(body) });

/** This node's record of an inbound transfer, as the trace of the payer's auditor asks for it. */
async function inboundCredit(deps: AuditRoutesDeps, transferId: Hex, payeeRef: Hex | undefined): Promise<PayeeCredit> {
  // The inbound follower's marker, written in the same atomic batch as the ledger credit.
  const marker = (await deps.store.sub.inbound.get(compoundKey("in", transferId.toLowerCase()))) as { status: string; accountId?: string } | undefined;
  if (!marker) return { status: "unknown", source: deps.wallet.code };
  const status = marker.status === "credited" ? "credited" : marker.status === "returning" ? "returning" : "returned";
  const credit: PayeeCredit = { status, source: deps.wallet.code };
  if (status === "credited" && marker.accountId && payeeRef) credit.payeeRefMatches = deps.payeeRefOf(marker.accountId).toLowerCase() === payeeRef.toLowerCase();
  return credit;
}

function transferParam(ctx: RouteContext): Hex {
  return parseTransferRef(idParam(ctx.params, "ref"));
}

/**
 * Registers the read-only audit API (`audit` keys): verify a transfer or a transaction, trace a
 * payment, this node's credit of an inbound transfer, a wallet's root chain, statements (CSV,
 * JSON, camt.053), every operator's reserves, and inclusion-proof checks. Also the customer's
 * inclusion proof (`app` keys) and on-demand attestation (`admin` keys).
 */
export function registerAuditRoutes(server: RouteRegistry, deps: AuditRoutesDeps): void {
  const { reader } = deps;
  const tags = ["audit"];
  const REF_DOC = { ref: { description: "Transfer id: bytes32 (`walletId | seq`) or its short form `CODE-seq` (e.g. `ALIPAY-42`).", schema: { type: "string" } } };

  server.route("GET", "/v1/audit/transfers/:ref", (ctx) => audited(async () => ok(await verifyTransfer(reader, transferParam(ctx)))), {
    auth: AUDIT,
    doc: {
      operationId: "auditVerifyTransfer",
      summary: "Prove a transfer from chain data: event, receipt leaf, Merkle proof against the stored batch root, root chain around it",
      tags,
      params: REF_DOC,
      responses: { "200": { description: "The certificate: every check that held.", schema: { $ref: "#/components/schemas/TransferCertificate" } } },
      problems: [400, 422],
    },
  });

  server.route(
    "GET",
    "/v1/audit/transactions/:hash",
    (ctx) =>
      audited(async () => {
        const hash = ctx.params.hash;
        if (!/^0x[0-9a-fA-F]{64}$/.test(hash ?? "")) throw new AuditInputError("the transaction hash must be 0x + 64 hex digits");
        return ok({ transfers: await verifyTransaction(reader, hash as Hex) });
      }),
    {
      auth: AUDIT,
      doc: {
        operationId: "auditVerifyTransaction",
        summary: "Prove every transfer a settlement transaction carried",
        tags,
        params: { hash: { description: "Transaction hash.", schema: { type: "string" } } },
        responses: { "200": { description: "One certificate per transfer.", schema: { $ref: "#/components/schemas/TransactionCertificates" } } },
        problems: [400, 422],
      },
    },
  );

  server.route(
    "GET",
    "/v1/audit/transfers/:ref/trace",
    (ctx) =>
      audited(async () => {
        const id = transferParam(ctx);
        const trace = await traceTransfer(reader, id, {
          credit: async (payee) => (payee.walletId.toLowerCase() === deps.wallet.walletId.toLowerCase() ? inboundCredit(deps, id, (await reader.transfers({ transferId: id }))[0]?.receipt.payeeRef) : undefined),
        });
        return ok(trace);
      }),
    {
      auth: AUDIT,
      doc: {
        operationId: "auditTraceTransfer",
        summary: "A payment end to end: payer operator, batch, transaction, block, and its credit or return",
        tags,
        params: REF_DOC,
        responses: { "200": { description: "The trace.", schema: { $ref: "#/components/schemas/TransferTrace" } } },
        problems: [400, 422],
      },
    },
  );

  server.route(
    "GET",
    "/v1/audit/transfers/:ref/credit",
    (ctx) =>
      audited(async () => {
        const id = transferParam(ctx);
        const [settled] = await reader.transfers({ transferId: id });
        if (settled && settled.receipt.toWallet.toLowerCase() !== deps.wallet.walletId.toLowerCase()) {
          throw new ApiProblem("not_payee", 404, `${ctx.params.ref} was not paid to ${deps.wallet.code}`);
        }
        return ok({ transferId: id, wallet: deps.wallet.code, settled: Boolean(settled), ...(await inboundCredit(deps, id, settled?.receipt.payeeRef)) });
      }),
    {
      auth: AUDIT,
      doc: {
        operationId: "auditTransferCredit",
        summary: "How this node answered an inbound transfer: credited (to the account its payee reference names), returning, returned or unknown",
        tags,
        params: REF_DOC,
        responses: { "200": { description: "The credit record.", schema: { $ref: "#/components/schemas/TransferCredit" } } },
        problems: [400, 404],
      },
    },
  );

  server.route(
    "GET",
    "/v1/audit/chain",
    (ctx) => audited(async () => ok(await checkWalletChain(reader, parseWallet(ctx.query.get("wallet") ?? deps.wallet.code)))),
    {
      auth: AUDIT,
      doc: {
        operationId: "auditChain",
        summary: "Verify a wallet's whole batch-root chain from its first batch: no gap, no rewrite; counts and totals",
        tags,
        query: { wallet: { description: "Wallet code (default: this node's).", schema: { type: "string" } } },
        responses: { "200": { description: "The chain report.", schema: { $ref: "#/components/schemas/ChainReport" } } },
        problems: [400, 422],
      },
    },
  );

  server.route(
    "GET",
    "/v1/audit/statements",
    (ctx) =>
      audited(async () => {
        const q = ctx.query;
        const format = (q.get("format") ?? "json") as StatementFormat;
        if (!STATEMENT_FORMATS.includes(format)) throw new AuditInputError(`format must be one of ${STATEMENT_FORMATS.join(", ")}`);
        const from = q.get("from");
        const to = q.get("to");
        if (!from || !to) throw new AuditInputError("from and to are required (YYYY-MM-DD or ISO 8601)");
        const walletId = parseWallet(q.get("wallet") ?? deps.wallet.code);
        const header = await statementHeader(reader, walletId, parsePeriod(from, to), currencyOfToken(reader.token.symbol));
        const max = deps.maxStatementBlocks ?? 100_000n;
        if (header.blocks && header.blocks.to - header.blocks.from + 1n > max) {
          throw new AuditInputError(`the period spans ${header.blocks.to - header.blocks.from + 1n} blocks, more than the ${max} this API renders at once; use hulian audit export, which streams`);
        }
        const entries = header.blocks ? statementEntries(reader, walletId, header.account, header.blocks) : (async function* () {})();
        const { text, summary } = await renderStatement(header, entries, format);
        assertBalanced(header, summary);
        const contentType = { csv: "text/csv; charset=utf-8", json: "application/json", camt053: "application/xml" }[format];
        return { status: 200, text, contentType };
      }),
    {
      auth: AUDIT,
      doc: {
        operationId: "auditStatement",
        summary: "Statement of a settlement account for a period: CSV, JSON or ISO 20022 camt.053.001.08",
        tags,
        query: {
          wallet: { description: "Wallet code (default: this node's).", schema: { type: "string" } },
          from: { description: "First day (YYYY-MM-DD, UTC) or ISO 8601 instant.", required: true, schema: { type: "string" } },
          to: { description: "Last day (YYYY-MM-DD, UTC, inclusive) or ISO 8601 instant.", required: true, schema: { type: "string" } },
          format: { description: "csv, json (default) or camt053.", schema: { type: "string", enum: [...STATEMENT_FORMATS] } },
        },
        responses: {
          "200": {
            description: "The statement in the format asked for. A period that has not ended is stated up to now with an interim last balance; one that starts in the future is refused (400).",
            content: {
              "application/json": { type: "object", required: ["statement", "entries", "summary"], properties: { statement: { type: "object" }, entries: { type: "array", items: { type: "object" } }, summary: { type: "object" } } },
              "text/csv": { type: "string" },
              "application/xml": { type: "string", description: "ISO 20022 camt.053.001.08." },
            },
          },
        },
        problems: [400, 422],
      },
    },
  );

  server.route(
    "GET",
    "/v1/audit/reserves",
    (ctx) =>
      audited(async () => {
        const maxAge = Number(ctx.query.get("maxAgeSeconds") ?? deps.maxAttestationAgeSeconds ?? 3_600);
        if (!Number.isInteger(maxAge) || maxAge <= 0) throw new AuditInputError("maxAgeSeconds must be a positive integer");
        return ok(await reservesReport(reader, { maxAgeSeconds: maxAge }));
      }),
    {
      auth: AUDIT,
      doc: {
        operationId: "auditReserves",
        summary: "Every operator's token balance, attested liabilities, backing ratio and attestation age; `ok` is false when any is under-backed or stale",
        tags,
        query: { maxAgeSeconds: { description: "Oldest acceptable attestation, seconds (default 3600).", schema: { type: "integer" } } },
        responses: { "200": { description: "The reserves report.", schema: { $ref: "#/components/schemas/ReservesReport" } } },
        problems: [400],
      },
    },
  );

  server.route(
    "POST",
    "/v1/audit/inclusion",
    (ctx) => audited(async () => ok(await verifyInclusionProof(reader, parseInclusionProof(ctx.body)))),
    {
      auth: AUDIT,
      idempotent: false,
      body: { type: "object", properties: {}, additionalProperties: true },
      doc: {
        operationId: "auditInclusion",
        summary: "Check a customer's inclusion proof against the operator's latest attestation on chain (read only)",
        tags,
        responses: { "200": { description: "The balance is included in the attested liabilities.", schema: { $ref: "#/components/schemas/InclusionReport" } } },
        problems: [400, 422],
      },
    },
  );

  server.route(
    "GET",
    "/v1/accounts/:id/reserve-proof",
    (ctx) => {
      const id = idParam(ctx.params, "id");
      if (!deps.hasAccount(id)) throw new ApiProblem("account_not_found", 404, `no account ${id}`);
      if (!deps.attester) throw new ApiProblem("attestation_unavailable", 503, "this node does not attest reserves");
      const proof = deps.attester.inclusionProof(id);
      if (!proof) throw new ApiProblem("not_yet_attested", 404, "the account is not in the latest attestation yet; it will be in the next one");
      return { status: 200, body: inclusionProofJson(proof) };
    },
    {
      auth: APP,
      doc: {
        operationId: "getReserveProof",
        summary: "The customer's proof that their balance is included in the operator's latest attested liabilities (check it with `hulian audit inclusion`)",
        tags: ["accounts"],
        params: { id: { description: "Account id.", schema: { type: "string" } } },
        responses: { "200": { description: "proof.json", schema: { $ref: "#/components/schemas/InclusionProof" } } },
        problems: [404, 503],
      },
    },
  );

  server.route(
    "POST",
    "/v1/admin/attestations",
    async () => {
      if (!deps.attester) throw new ApiProblem("attestation_unavailable", 503, "this node does not attest reserves");
      const posted = await deps.attester.attestNow();
      return { status: 201, body: jsonSafe({ wallet: deps.wallet.code, ...posted }) };
    },
    {
      auth: ADMIN,
      // Each call posts a fresh attestation of the ledger as it stands; repeating one is harmless.
      idempotent: false,
      doc: {
        operationId: "attestReserves",
        summary: "Snapshot customer balances and post a reserve attestation now (what `hulian attest` calls)",
        tags: ["operations"],
        responses: { "201": { description: "The posted attestation: root, total, as-of, account count, transaction.", schema: { $ref: "#/components/schemas/PostedAttestation" } } },
        problems: [503],
      },
    },
  );
}
