import { AMOUNT_PATTERN, parseAmount } from "../amounts.ts";
import { ApiProblem, type FieldError } from "../problem.ts";
import { isHandle, type ObjectSchema } from "../validate.ts";
import { accountJson, historyJson, movementJson } from "../views.ts";
import { ADMIN, APP, ID_PARAM_DOC, idParam, mutationResult, type RouteRegistry, type WalletRoutesDeps } from "./common.ts";

/** Body of `POST /v1/accounts`. */
export const createAccountSchema: ObjectSchema = {
  type: "object",
  properties: {
    handle: { type: "string", format: "handle", minLength: 1, maxLength: 254, description: "Phone number (E.164), email address or user name; unique in this wallet.", examples: ["+8613800000000", "alice"] },
    displayName: { type: "string", format: "name", minLength: 1, maxLength: 64, description: "The customer's name as shown (masked) to payers." },
  },
  required: ["handle", "displayName"],
  additionalProperties: false,
};

/** Body of top-ups and withdrawals. */
export const movementSchema: ObjectSchema = {
  type: "object",
  properties: {
    amount: { type: "string", format: "amount", pattern: AMOUNT_PATTERN, description: "Minor units (fen) as a decimal string.", examples: ["12345"] },
    reference: { type: "string", format: "text", minLength: 1, maxLength: 128, description: "The operator's reference of the external movement (bank transfer, card payment…)." },
  },
  required: ["amount", "reference"],
  additionalProperties: false,
};

/** Body of `POST /v1/accounts/:id/close` (optional; `{}` if sent). */
export const closeAccountSchema: ObjectSchema = { type: "object", properties: {}, additionalProperties: false };

/** Default and largest page size of account history. */
export const HISTORY_LIMITS = { default: 50, max: 200 } as const;

const LIMIT = /^[1-9][0-9]{0,3}$/;

function historyQuery(query: URLSearchParams): { limit: number; cursor?: string } {
  const errors: FieldError[] = [];
  for (const name of new Set(query.keys())) {
    if (name !== "limit" && name !== "cursor") errors.push({ field: name, message: "is not allowed" });
    else if (query.getAll(name).length > 1) errors.push({ field: name, message: "must be given once" });
  }
  let limit: number = HISTORY_LIMITS.default;
  const rawLimit = query.get("limit");
  if (rawLimit !== null) {
    if (!LIMIT.test(rawLimit) || Number(rawLimit) > HISTORY_LIMITS.max) {
      errors.push({ field: "limit", message: `must be a whole number from 1 to ${HISTORY_LIMITS.max}` });
    } else limit = Number(rawLimit);
  }
  const cursor = query.get("cursor") ?? undefined;
  if (cursor !== undefined && (cursor.length === 0 || cursor.length > 512)) errors.push({ field: "cursor", message: "must be 1-512 characters" });
  if (errors.length > 0) throw new ApiProblem("validation_failed", 400, "The request has invalid fields.", { errors });
  return cursor === undefined ? { limit } : { limit, cursor };
}

/**
 * Registers the account routes: open, read (by id and by handle), history, close, and the admin
 * money movements top-up and withdrawal.
 */
export function registerAccountRoutes(server: RouteRegistry, { service }: WalletRoutesDeps): void {
  const currency = () => ({ currency: service.wallet.currency, decimals: service.wallet.decimals });

  server.route(
    "POST",
    "/v1/accounts",
    async (ctx) => {
      const body = ctx.body as { handle: string; displayName: string };
      const account = await service.createAccount({ handle: body.handle, displayName: body.displayName }, ctx.idempotency!);
      return mutationResult(account, 201, accountJson(account, currency()), `/v1/accounts/${encodeURIComponent(account.id)}`);
    },
    {
      auth: APP,
      body: createAccountSchema,
      doc: {
        operationId: "createAccount",
        summary: "Open a customer account",
        tags: ["accounts"],
        responses: { "201": { description: "Account opened.", schema: { $ref: "#/components/schemas/Account" }, headers: ["Location", "Idempotent-Replayed"] } },
        problems: [409, 422],
      },
    },
  );

  server.route(
    "GET",
    "/v1/accounts/by-handle/:handle",
    async (ctx) => {
      const handle = ctx.params.handle;
      if (!isHandle(handle)) {
        throw new ApiProblem("validation_failed", 400, "The request has invalid fields.", {
          errors: [{ field: "handle", message: "must be a phone number (+8613800000000), an email address or a user name" }],
        });
      }
      return { status: 200, body: accountJson(await service.getAccountByHandle(handle), currency()) };
    },
    {
      auth: APP,
      doc: {
        operationId: "getAccountByHandle",
        summary: "Find an account of this wallet by handle",
        tags: ["accounts"],
        params: { handle: { description: "Customer handle, percent-encoded (`+` may be sent as is).", schema: { type: "string" } } },
        responses: { "200": { description: "The account.", schema: { $ref: "#/components/schemas/Account" } } },
        problems: [404],
      },
    },
  );

  server.route(
    "GET",
    "/v1/accounts/:id",
    async (ctx) => ({ status: 200, body: accountJson(await service.getAccount(idParam(ctx.params, "id")), currency()) }),
    {
      auth: APP,
      doc: {
        operationId: "getAccount",
        summary: "Read an account and its balance",
        tags: ["accounts"],
        params: { id: ID_PARAM_DOC },
        responses: { "200": { description: "The account.", schema: { $ref: "#/components/schemas/Account" } } },
        problems: [404],
      },
    },
  );

  server.route(
    "GET",
    "/v1/accounts/:id/history",
    async (ctx) => {
      const id = idParam(ctx.params, "id");
      const page = await service.history(id, historyQuery(ctx.query));
      return { status: 200, body: historyJson(page, currency()) };
    },
    {
      auth: APP,
      doc: {
        operationId: "getAccountHistory",
        summary: "List an account's movements, newest first",
        tags: ["accounts"],
        params: { id: ID_PARAM_DOC },
        query: {
          limit: { description: `Page size, 1-${HISTORY_LIMITS.max} (default ${HISTORY_LIMITS.default}).`, schema: { type: "integer", minimum: 1, maximum: HISTORY_LIMITS.max, default: HISTORY_LIMITS.default } },
          cursor: { description: "`nextCursor` of the previous page.", schema: { type: "string", minLength: 1, maxLength: 512 } },
        },
        responses: { "200": { description: "One page of history.", schema: { $ref: "#/components/schemas/HistoryPage" } } },
        problems: [404, 422],
      },
    },
  );

  server.route(
    "POST",
    "/v1/accounts/:id/close",
    async (ctx) => {
      const account = await service.closeAccount(idParam(ctx.params, "id"), ctx.idempotency!);
      return mutationResult(account, 200, accountJson(account, currency()));
    },
    {
      auth: APP,
      body: closeAccountSchema,
      bodyOptional: true,
      doc: {
        operationId: "closeAccount",
        summary: "Close an account (its balance must be zero)",
        tags: ["accounts"],
        params: { id: ID_PARAM_DOC },
        responses: { "200": { description: "The closed account.", schema: { $ref: "#/components/schemas/Account" }, headers: ["Idempotent-Replayed"] } },
        problems: [404, 409, 422],
      },
    },
  );

  for (const [path, kind, method, summary] of [
    ["top-ups", "topUp", "createTopUp", "Credit an account with money received by the operator"],
    ["withdrawals", "withdraw", "createWithdrawal", "Debit an account for money paid out by the operator"],
  ] as const) {
    server.route(
      "POST",
      `/v1/accounts/:id/${path}`,
      async (ctx) => {
        const body = ctx.body as { amount: string; reference: string };
        const input = { accountId: idParam(ctx.params, "id"), amount: parseAmount(body.amount), reference: body.reference };
        const movement = kind === "topUp" ? await service.topUp(input, ctx.idempotency!) : await service.withdraw(input, ctx.idempotency!);
        return mutationResult(movement, 201, movementJson(movement, currency()));
      },
      {
        auth: ADMIN,
        body: movementSchema,
        doc: {
          operationId: method,
          summary,
          tags: ["accounts"],
          params: { id: ID_PARAM_DOC },
          responses: { "201": { description: "The movement and the new balance.", schema: { $ref: "#/components/schemas/Movement" }, headers: ["Idempotent-Replayed"] } },
          problems: [404, 409, 422],
        },
      },
    );
  }
}
