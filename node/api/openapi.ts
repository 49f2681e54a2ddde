import { AMOUNT_PATTERN } from "./amounts.ts";
import { SCOPES } from "./apiKeys.ts";
import { IDEMPOTENCY_KEY_PATTERN } from "./idempotency.ts";
import { PROBLEM_CONTENT_TYPE } from "./problem.ts";
import { RESPONSE_COMPONENT_SCHEMAS } from "./responseSchemas.ts";
import type { Route } from "./router.ts";
import { STRING_FORMATS } from "./validate.ts";

type Json = Record<string, unknown>;

const minor = (description: string): Json => ({ type: "string", pattern: "^-?[0-9]+$", description: `${description} Minor units as a decimal string.` });
const display = (description: string): Json => ({ type: "string", description: `${description} formatted for people, e.g. "123.45".` });
const timestamp: Json = { type: "string", format: "date-time" };

/** Reusable schemas of the responses. */
export const COMPONENT_SCHEMAS: Record<string, Json> = {
  Problem: {
    type: "object",
    description: "RFC 9457 problem details. `code` is stable: branch on it.",
    properties: {
      type: { type: "string", format: "uri", examples: ["https://hulian.dev/problems/insufficient_funds"] },
      title: { type: "string" },
      status: { type: "integer" },
      detail: { type: "string" },
      code: { type: "string", examples: ["validation_failed", "insufficient_funds"] },
      instance: { type: "string", description: "The request path." },
      requestId: { type: "string", description: "Echo of X-Request-Id; quote it to the operator." },
      errors: { type: "array", items: { $ref: "#/components/schemas/FieldError" } },
      details: { type: "object", additionalProperties: true },
    },
    required: ["type", "title", "status", "detail", "code"],
  },
  FieldError: {
    type: "object",
    properties: { field: { type: "string", examples: ["amount"] }, message: { type: "string", examples: ["amounts are decimal strings of minor units"] } },
    required: ["field", "message"],
  },
  Account: {
    type: "object",
    properties: {
      id: { type: "string" },
      handle: { type: "string", description: "Normalised handle." },
      address: { type: "string", description: "`handle@WALLET`, what other wallets pay." },
      displayName: { type: "string" },
      status: { type: "string", enum: ["open", "closed"] },
      balance: minor("Balance."),
      currency: { type: "string", examples: ["CNY"] },
      display: display("Balance"),
      createdAt: timestamp,
    },
    required: ["id", "handle", "address", "displayName", "status", "balance", "currency", "display", "createdAt"],
  },
  Movement: {
    type: "object",
    properties: {
      entryId: { type: "string" },
      accountId: { type: "string" },
      kind: { type: "string", enum: ["top_up", "withdrawal"] },
      amount: minor("Amount moved."),
      currency: { type: "string" },
      display: display("Amount"),
      balance: minor("Balance after the movement."),
      balanceDisplay: display("Balance"),
      createdAt: timestamp,
    },
    required: ["entryId", "accountId", "kind", "amount", "currency", "display", "balance", "balanceDisplay", "createdAt"],
  },
  Payment: {
    type: "object",
    properties: {
      id: { type: "string" },
      kind: { type: "string", enum: ["same_wallet", "cross_wallet"] },
      status: { type: "string", enum: ["accepted", "settling", "settled", "returned", "rejected"] },
      from: { type: "string", description: "Payer's account id." },
      to: { type: "string" },
      toWallet: { type: "string" },
      amount: minor("Amount."),
      currency: { type: "string" },
      display: display("Amount"),
      memo: { type: "string" },
      transferId: { type: "string", pattern: "^0x[0-9a-f]{64}$" },
      seq: { type: "string", pattern: "^[0-9]+$", description: "Settlement sequence number of the payer's wallet." },
      txHash: { type: "string", pattern: "^0x[0-9a-f]{64}$" },
      blockNumber: { type: "string", pattern: "^[0-9]+$" },
      reason: { type: "string", description: "Why a payment was returned or rejected." },
      createdAt: timestamp,
      updatedAt: timestamp,
    },
    required: ["id", "kind", "status", "from", "to", "toWallet", "amount", "currency", "display", "createdAt", "updatedAt"],
  },
  BulkPaymentResult: {
    type: "object",
    description: "The outcome of one payment of a bulk request: `accepted` with the payment (as `POST /v1/payments` returns it), or `refused` with the problem `POST /v1/payments` would have answered for it alone.",
    oneOf: [
      {
        type: "object",
        properties: { status: { const: "accepted" }, payment: { $ref: "#/components/schemas/Payment" } },
        required: ["status", "payment"],
      },
      {
        type: "object",
        properties: { status: { const: "refused" }, problem: { $ref: "#/components/schemas/Problem" } },
        required: ["status", "problem"],
      },
    ],
  },
  BulkPaymentResults: {
    type: "object",
    properties: {
      accepted: { type: "integer", description: "How many payments were accepted." },
      refused: { type: "integer", description: "How many payments were refused." },
      results: { type: "array", description: "One result per payment, in the order of the request.", items: { $ref: "#/components/schemas/BulkPaymentResult" } },
    },
    required: ["accepted", "refused", "results"],
  },
  HistoryItem: {
    type: "object",
    properties: {
      entryId: { type: "string" },
      kind: { type: "string" },
      amount: minor("Signed amount: negative for debits."),
      display: display("Amount"),
      balanceAfter: minor("Balance after the entry."),
      balanceAfterDisplay: display("Balance after"),
      paymentId: { type: "string" },
      counterparty: { type: "string" },
      transferId: { type: "string", pattern: "^0x[0-9a-f]{64}$", description: "On-chain transfer id of a cross-wallet credit (`inbound_credited`) or of a payment that came back (`return_credited`)." },
      payerWallet: { type: "string", examples: ["ALIPAY"], description: "Paying wallet of a cross-wallet credit." },
      memo: { type: "string", description: "The payer's memo: of a same-wallet payment, or of a cross-wallet credit once the payer's node delivered it (off chain, checked against the settled memo hash)." },
      createdAt: timestamp,
    },
    required: ["entryId", "kind", "amount", "display", "createdAt"],
  },
  HistoryPage: {
    type: "object",
    properties: {
      currency: { type: "string" },
      items: { type: "array", items: { $ref: "#/components/schemas/HistoryItem" } },
      nextCursor: { type: "string", description: "Absent on the last page." },
    },
    required: ["currency", "items"],
  },
  DirectoryEntry: {
    type: "object",
    properties: { address: { type: "string" }, wallet: { type: "string" }, maskedName: { type: "string", examples: ["张*"] } },
    required: ["address", "wallet", "maskedName"],
  },
  Health: {
    type: "object",
    properties: { ok: { type: "boolean" }, wallet: { type: "string" } },
    required: ["ok", "wallet"],
  },
  MinorUnits: { type: "string", pattern: AMOUNT_PATTERN, description: "A positive amount: minor units as a decimal string, never a JSON number." },
};

/**
 * The shared problem responses: component name and what the status means, with the stable codes
 * it carries. A route's document lists the statuses it can answer ({@link problemRefs}); the
 * test helper test/api/openapiCheck.ts refuses any other status the API tests see.
 */
const PROBLEM_RESPONSES: Record<number, [string, string]> = {
  400: [
    "BadRequest",
    "Invalid request: `validation_failed` (with `errors`: fields that are missing, unknown, of the wrong type or format, or strings that are not well-formed Unicode), `malformed_json`, `idempotency_key_missing`, `idempotency_key_invalid`, `invalid_amount`, `invalid_handle`.",
  ],
  401: ["Unauthorized", "No or unknown API key (`unauthorized`); on node-to-node routes a bad or missing signature."],
  403: ["Forbidden", "The API key lacks the scope (`forbidden`); on node-to-node routes the calling wallet is not active (`wallet_not_active`)."],
  404: ["NotFound", "No such resource (`account_not_found`, `payment_not_found`, `payee_not_found`, `not_payee`, `not_yet_attested`) or route (`not_found`)."],
  405: ["MethodNotAllowed", "Method not allowed on this path (`method_not_allowed`); see `Allow`."],
  408: ["RequestTimeout", "The body did not arrive in time (`request_timeout`)."],
  409: [
    "Conflict",
    "The request conflicts with the state: `handle_taken`, `account_closed`, `account_not_empty`, `insufficient_reserve`, `idempotency_key_in_use` (a request with this key is still running).",
  ],
  413: ["PayloadTooLarge", "Body too large (`payload_too_large`)."],
  415: ["UnsupportedMediaType", "Body is not application/json (`unsupported_media_type`)."],
  422: [
    "Unprocessable",
    "Well-formed but refused: `insufficient_funds`, `self_payment`, `payee_wallet_unknown`, `payee_wallet_not_active`, `invalid_cursor` (a history cursor this node did not issue), " +
      "`idempotency_key_reused` (the Idempotency-Key was used with another request); on audit routes the finding (`amount_mismatch`, `proof_invalid`, `inclusion_invalid`, `attestation_superseded`, `never_attested`, …).",
  ],
  429: ["TooManyRequests", "Rate limited (`rate_limited`): per API key, or per client address on open routes; retry after `Retry-After` seconds."],
  500: ["InternalError", "Unexpected failure (`internal_error`); details are logged, never returned."],
  502: ["BadGateway", "The payee's node answered badly (`directory_refused`)."],
  503: [
    "Unavailable",
    "Not available now; retry after `Retry-After` (with the same Idempotency-Key on POST): `service_timeout`, `directory_unavailable`, `store_unavailable`, `commit_failed`, `attestation_unavailable`, `catching_up`, `chain_unavailable`.",
  ],
};

const HEADERS: Record<string, Json> = {
  Location: { description: "Path of the created resource.", schema: { type: "string" } },
  "Idempotent-Replayed": { description: "`true` when this response is the stored outcome of an earlier request with the same Idempotency-Key.", schema: { type: "string", enum: ["true"] } },
  "X-Request-Id": { description: "The request id (echoed or generated).", schema: { type: "string" } },
  Allow: { description: "Methods this path supports.", schema: { type: "string" } },
  "WWW-Authenticate": { description: "Bearer challenge.", schema: { type: "string" } },
  "Retry-After": { description: "Seconds to wait before retrying.", schema: { type: "string", pattern: "^[0-9]+$" } },
};

/** The OpenAPI path of a route pattern: `/v1/accounts/:id` → `/v1/accounts/{id}`. */
export function openApiPath(pattern: string): string {
  return pattern.replace(/:([A-Za-z][A-Za-z0-9_]*)/g, "{$1}");
}

/**
 * The problem statuses a route can answer: its own (`doc.problems`) and what the server's steps
 * add for every route of its kind — auth (401, 403), parameters or a body (400), reading the body
 * of any write (408, 413, 415), idempotency (400, 409, 422), and for every route the rate limiter (429), the
 * handler time-out (503) and an unexpected failure (500).
 */
export function problemRefs(route: Route): number[] {
  const o = route.options;
  const isWrite = route.method !== "GET" && route.method !== "DELETE";
  const codes = new Set<number>(o.doc?.problems ?? []);
  if (o.auth !== "none") codes.add(401).add(403);
  if (isWrite || route.segments.some((s) => s.startsWith(":")) || o.doc?.query) codes.add(400);
  // The server reads (and bounds) the body of every write, with a schema or without one.
  if (isWrite) codes.add(400).add(408).add(413).add(415);
  if (isIdempotent(route)) codes.add(400).add(409).add(422);
  codes.add(429).add(500).add(503);
  return [...codes].sort((a, b) => a - b);
}

function isIdempotent(route: Route): boolean {
  return route.options.idempotent ?? route.method === "POST";
}

function operation(route: Route): Json {
  const doc = route.options.doc;
  const params: Json[] = [];
  for (const seg of route.segments.filter((s) => s.startsWith(":"))) {
    const name = seg.slice(1);
    const p = doc?.params?.[name];
    params.push({ name, in: "path", required: true, description: p?.description ?? name, schema: p?.schema ?? { type: "string" } });
  }
  for (const [name, q] of Object.entries(doc?.query ?? {})) {
    params.push({ name, in: "query", required: q.required ?? false, description: q.description, schema: q.schema });
  }
  if (isIdempotent(route)) {
    params.push({
      name: "Idempotency-Key",
      in: "header",
      required: true,
      description: "Unique per intended operation and API key; retry with the same key and body to get the same outcome exactly once.",
      schema: { type: "string", pattern: IDEMPOTENCY_KEY_PATTERN },
    });
  }
  params.push({ name: "X-Request-Id", in: "header", required: false, description: "Correlation id, echoed back (generated when absent).", schema: { type: "string", pattern: "^[A-Za-z0-9._:-]{1,128}$" } });

  const responses: Json = {};
  for (const [status, r] of Object.entries(doc?.responses ?? { "200": { description: "OK" } })) {
    const out: Json = { description: r.description };
    if (r.content) out.content = Object.fromEntries(Object.entries(r.content).map(([type, schema]) => [type, { schema }]));
    else if (r.schema) out.content = { [r.contentType ?? "application/json"]: { schema: r.schema } };
    out.headers = Object.fromEntries(["X-Request-Id", ...(r.headers ?? [])].map((h) => [h, HEADERS[h]]));
    responses[status] = out;
  }
  for (const code of problemRefs(route)) {
    const name = PROBLEM_RESPONSES[code]?.[0];
    if (name && responses[String(code)] === undefined) responses[String(code)] = { $ref: `#/components/responses/${name}` };
  }

  const op: Json = {
    operationId: doc?.operationId ?? `${route.method.toLowerCase()}${route.pattern.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase())}`,
    summary: doc?.summary ?? `${route.method} ${route.pattern}`,
  };
  if (doc?.description) op.description = doc.description;
  if (doc?.tags) op.tags = doc.tags;
  op.security = route.options.auth === "none" ? [] : [{ apiKey: [...route.options.auth] }];
  if (route.options.auth !== "none") op["x-required-scopes"] = [...route.options.auth];
  op.parameters = params;
  if (route.options.body) {
    op.requestBody = { required: route.options.bodyOptional !== true, content: { "application/json": { schema: route.options.body } } };
  }
  op.responses = responses;
  return op;
}

/** Facts for the document's `info` and `servers`. */
export interface OpenApiInfo {
  title?: string;
  version?: string;
  wallet?: string;
  /** The node's public base URL; without it the server is `/`: the node that serves the document. */
  serverUrl?: string;
}

/**
 * The OpenAPI 3.1 document of every registered route: operations with their parameters, request
 * body schemas (the very schemas requests are validated against), responses, problem responses
 * and the bearer API-key security scheme with its scopes.
 */
export function buildOpenApi(routes: readonly Route[], info: OpenApiInfo = {}): Json {
  const paths: Record<string, Json> = {};
  const ordered = [...routes].sort((a, b) => a.pattern.localeCompare(b.pattern));
  for (const route of ordered) {
    const path = openApiPath(route.pattern);
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operation(route);
  }
  const responses: Json = {};
  for (const [, [name, description]] of Object.entries(PROBLEM_RESPONSES)) {
    const r: Json = { description, content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: "#/components/schemas/Problem" } } } };
    if (name === "MethodNotAllowed") r.headers = { Allow: HEADERS.Allow };
    if (name === "Unauthorized") r.headers = { "WWW-Authenticate": HEADERS["WWW-Authenticate"] };
    if (name === "TooManyRequests" || name === "Unavailable") r.headers = { "Retry-After": HEADERS["Retry-After"] };
    responses[name] = r;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: info.title ?? "Hulian node API",
      version: info.version ?? "1.0.0",
      description:
        `HTTP API of a Hulian operator node${info.wallet ? ` (wallet ${info.wallet})` : ""} for the operator's own wallet apps. ` +
        "Amounts are decimal strings of minor units (`\"12345\"` = 123.45 CNY), never JSON numbers. " +
        "Every POST needs an Idempotency-Key. Errors are application/problem+json (RFC 9457). " +
        "Strings must be well-formed Unicode (no lone UTF-16 surrogates). Custom string formats (`amount`, `handle`, `address`, `wallet-address`, `text`, `name`) are defined in `x-formats`.",
    },
    servers: [info.serverUrl ? { url: info.serverUrl } : { url: "/", description: "The node that serves this document." }],
    "x-formats": STRING_FORMATS,
    tags: [
      { name: "accounts", description: "Customer accounts, balances, history, top-ups and withdrawals." },
      { name: "payments", description: "Same-wallet and cross-wallet payments." },
      { name: "directory", description: "Resolving handle@WALLET before paying." },
      { name: "audit", description: "Read-only audit API over chain data (`audit` keys)." },
      { name: "operations", description: "The operator's reconciliation and reserve attestations." },
      { name: "node-to-node", description: "Called by other operators' nodes, signed with their operator key." },
      { name: "system", description: "Health, metrics and this document." },
    ],
    paths,
    components: {
      schemas: { ...COMPONENT_SCHEMAS, ...RESPONSE_COMPONENT_SCHEMAS },
      responses,
      securitySchemes: {
        apiKey: {
          type: "http",
          scheme: "bearer",
          description:
            `API key as \`Authorization: Bearer hk_live_…\`. Scopes: ${SCOPES.map((s) => `\`${s}\``).join(", ")}; ` +
            "`admin` implies `app` and `metrics`. Each operation lists the scopes it accepts (any one suffices) in its security requirement.",
        },
      },
    },
  };
}
