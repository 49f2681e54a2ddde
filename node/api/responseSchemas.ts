/**
 * JSON Schemas of the audit, reconciliation and node-to-node responses, published as components
 * of the OpenAPI document (node/api/openapi.ts). They describe what the routes answer after
 * `jsonSafe` (node/audit/amounts.ts): big integers become decimal strings. Objects stay open
 * (more fields may be added); what is listed is required and typed. test/api/openapiCheck.ts
 * validates every response the API tests see against them.
 */
type Json = Record<string, unknown>;

const hex32: Json = { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" };
const address: Json = { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" };
const uint: Json = { type: "string", pattern: "^[0-9]+$", description: "A non-negative integer as a decimal string." };
const int: Json = { type: "string", pattern: "^-?[0-9]+$", description: "An integer as a decimal string." };
const time: Json = { type: "string", format: "date-time" };
const code: Json = { type: "string", pattern: "^[A-Za-z0-9_-]{1,24}$", description: "Wallet code." };
const object = (properties: Record<string, Json>, required: readonly string[], description?: string): Json => ({
  type: "object",
  ...(description ? { description } : {}),
  properties,
  required: [...required],
});
const party = object({ walletId: hex32, code, ref: hex32, name: { type: "string" } }, ["walletId", "code", "ref"]);
const check = object({ name: { type: "string" }, detail: { type: "string" } }, ["name", "detail"]);
const sumStep = object({ hash: hex32, sum: uint, siblingOnLeft: { type: "boolean" } }, ["hash", "sum", "siblingOnLeft"]);

/** The response components, by name. */
export const RESPONSE_COMPONENT_SCHEMAS: Record<string, Json> = {
  TransferCertificate: object(
    {
      status: { const: "verified" },
      transferId: hex32,
      shortId: { type: "string", examples: ["ALIPAY-42"] },
      payer: party,
      payee: party,
      seq: uint,
      amount: uint,
      memoHash: hex32,
      leaf: hex32,
      transaction: object({ hash: hex32, blockNumber: uint, blockHash: hex32, timestamp: time, logIndex: { type: "integer" }, record: { type: "integer" } }, ["hash", "blockNumber", "blockHash", "timestamp", "logIndex", "record"]),
      batch: object({ batchNo: uint, firstSeq: uint, count: { type: "integer" }, total: uint, index: { type: "integer" }, root: hex32, proof: { type: "array", items: hex32 } }, ["batchNo", "firstSeq", "count", "total", "index", "root", "proof"]),
      chain: object({ prevHead: hex32, head: hex32, nextPrevHead: hex32, currentHead: hex32, batchCount: uint }, ["prevHead", "head", "batchCount"]),
      checks: { type: "array", items: check },
    },
    ["status", "transferId", "shortId", "payer", "payee", "seq", "amount", "memoHash", "leaf", "transaction", "batch", "chain", "checks"],
    "A transfer proven from chain data: event, receipt leaf, Merkle proof against the stored batch root, and the root chain around it.",
  ),
  TransactionCertificates: object({ transfers: { type: "array", items: { $ref: "#/components/schemas/TransferCertificate" } } }, ["transfers"]),
  PayeeCredit: object(
    {
      status: { type: "string", enum: ["credited", "returning", "returned", "unknown"] },
      payeeRefMatches: { type: "boolean", description: "Whether the credited account is the one the payee reference names." },
      source: { type: "string", description: "Wallet code of the node that answered." },
    },
    ["status", "source"],
  ),
  TransferCredit: {
    allOf: [
      { $ref: "#/components/schemas/PayeeCredit" },
      object({ transferId: hex32, wallet: code, settled: { type: "boolean" } }, ["transferId", "wallet", "settled"]),
    ],
  },
  TransferTrace: object(
    {
      transferId: hex32,
      shortId: { type: "string" },
      amount: uint,
      payer: party,
      payee: party,
      settled: object(
        { txHash: hex32, blockNumber: uint, logIndex: { type: "integer" }, record: { type: "integer" }, timestamp: time, batchNo: uint, batchSize: { type: "integer" }, batchHead: hex32 },
        ["txHash", "blockNumber", "logIndex", "record", "timestamp"],
      ),
      returned: object({ txHash: hex32, blockNumber: uint, timestamp: time, reasonCode: { type: "integer" }, reason: { type: "string" } }, ["txHash", "blockNumber", "timestamp", "reasonCode", "reason"]),
      credit: { $ref: "#/components/schemas/PayeeCredit" },
      outcome: { type: "string", enum: ["settled", "credited", "returned"] },
    },
    ["transferId", "shortId", "amount", "payer", "payee", "settled", "outcome"],
  ),
  ChainReport: object(
    {
      status: { const: "verified" },
      walletId: hex32,
      code,
      batches: { type: "integer" },
      transfers: { type: "integer" },
      total: uint,
      byPayee: { type: "object", additionalProperties: uint, description: "Σ settled per payee wallet code." },
      firstSeq: uint,
      nextSeq: uint,
      head: hex32,
      firstBlock: uint,
      lastBlock: uint,
    },
    ["status", "walletId", "code", "batches", "transfers", "total", "byPayee", "firstSeq", "nextSeq", "head"],
  ),
  ReservesReport: object(
    {
      ok: { type: "boolean", description: "False when any operator is under-backed, stale or never attested." },
      checkedAt: time,
      maxAgeSeconds: { type: "integer" },
      operators: {
        type: "array",
        items: object(
          {
            walletId: hex32,
            code,
            name: { type: "string" },
            status: { type: "string" },
            settlementAccount: address,
            tokenBalance: uint,
            liabilities: uint,
            backingRatio: { type: "string", pattern: "^[0-9]+\\.[0-9]{4}$" },
            accountCount: { type: "integer" },
            asOf: time,
            postedAt: time,
            ageSeconds: { type: "integer" },
            problems: { type: "array", items: object({ code: { type: "string" }, message: { type: "string" } }, ["code", "message"]) },
          },
          ["walletId", "code", "name", "status", "settlementAccount", "tokenBalance", "problems"],
        ),
      },
    },
    ["ok", "checkedAt", "maxAgeSeconds", "operators"],
  ),
  InclusionProof: object(
    {
      version: { const: 2 },
      wallet: code,
      walletId: hex32,
      accountRef: hex32,
      balance: uint,
      pieces: {
        type: "array",
        minItems: 1,
        description: "The balance as random parts, each a leaf `(keccak256(accountRef ‖ salt), amount)` of the attested tree with its Merkle-sum proof.",
        items: object({ salt: hex32, amount: uint, proof: { type: "array", items: sumStep } }, ["salt", "amount", "proof"]),
      },
      root: hex32,
      total: uint,
      asOf: { type: "integer", description: "Seconds since the epoch." },
      accountCount: { type: "integer" },
    },
    ["version", "wallet", "walletId", "accountRef", "balance", "pieces", "root", "total", "asOf", "accountCount"],
    "proof.json: check it with `hulian audit inclusion` or `POST /v1/audit/inclusion`.",
  ),
  InclusionReport: object(
    {
      status: { const: "included" },
      wallet: code,
      walletId: hex32,
      accountRef: hex32,
      balance: uint,
      root: hex32,
      total: uint,
      asOf: time,
      accountCount: { type: "integer" },
      pieces: { type: "integer" },
      contractAgrees: { const: true },
    },
    ["status", "wallet", "walletId", "accountRef", "balance", "root", "total", "asOf", "accountCount", "pieces", "contractAgrees"],
  ),
  PostedAttestation: object(
    { wallet: code, root: hex32, total: uint, asOf: uint, accountCount: { type: "integer" }, txHash: hex32, blockNumber: uint },
    ["wallet", "root", "total", "asOf", "accountCount", "txHash", "blockNumber"],
  ),
  Reconciliation: object(
    {
      wallet: code,
      atBlock: uint,
      tokenBalance: int,
      liabilities: int,
      float: int,
      outboundInFlight: int,
      suspense: int,
      expected: int,
      difference: int,
      balanced: { type: "boolean" },
      batchInFlight: { type: "boolean" },
      outboxDepth: { type: "integer" },
      reconciled: { type: "boolean" },
    },
    ["wallet", "atBlock", "tokenBalance", "liabilities", "float", "outboundInFlight", "suspense", "expected", "difference", "balanced", "batchInFlight", "outboxDepth", "reconciled"],
    "The settlement account's token balance against the ledger at the last block the ledger applied.",
  ),
  NodeResolution: object({ payeeRef: hex32, maskedName: { type: "string" } }, ["payeeRef", "maskedName"], "A payee reference and the masked name of the account it names."),
};
