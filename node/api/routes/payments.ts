import type { PaymentInput } from "../../bridge/walletService.ts";
import { AMOUNT_PATTERN, parseAmount } from "../amounts.ts";
import { problem, toProblem, type Problem } from "../problem.ts";
import { type ObjectSchema, validate } from "../validate.ts";
import { paymentJson } from "../views.ts";
import { APP, idParam, mutationResult, type RouteRegistry, type WalletRoutesDeps } from "./common.ts";

/** Body of `POST /v1/payments`. */
export const paymentSchema: ObjectSchema = {
  type: "object",
  properties: {
    from: { type: "string", minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9_.:-]+$", description: "Payer's account id in this wallet." },
    to: { type: "string", format: "address", minLength: 1, maxLength: 280, description: "Payee: a handle of this wallet, or `handle@WALLET` for another wallet.", examples: ["bob", "+8613800000000@WECHAT"] },
    amount: { type: "string", format: "amount", pattern: AMOUNT_PATTERN, description: "Minor units (fen) as a decimal string.", examples: ["12345"] },
    memo: { type: "string", format: "text", minLength: 1, maxLength: 140, description: "Note for the payee; kept off chain (only its hash is settled)." },
  },
  required: ["from", "to", "amount"],
  additionalProperties: false,
};

/** Most payments in one bulk request. */
export const BULK_MAX_PAYMENTS = 1_000;
/** Largest body of a bulk request, bytes: 1,000 payments with long memos and handles fit. */
export const BULK_MAX_BODY_BYTES = 1024 * 1024;

/**
 * Body of `POST /v1/payments/bulk`. The array is checked here; each element is checked by the
 * route against {@link paymentSchema}, so a bad payment is refused alone.
 */
export const bulkPaymentSchema: ObjectSchema = {
  type: "object",
  properties: {
    payments: {
      type: "array",
      minItems: 1,
      maxItems: BULK_MAX_PAYMENTS,
      items: paymentSchema,
      "x-items-checked-by-handler": true,
      description: `1–${BULK_MAX_PAYMENTS} payments, each a JSON object with the fields of \`POST /v1/payments\`. A payment whose fields fail validation is refused alone (\`validation_failed\` in its result); an element that is not an object makes the whole request 400.`,
    },
  },
  required: ["payments"],
  additionalProperties: false,
};

type PaymentBody = { from: string; to: string; amount: string; memo?: string };

function paymentInput(body: PaymentBody): PaymentInput {
  const input: PaymentInput = { fromAccountId: body.from, to: body.to, amount: parseAmount(body.amount) };
  if (body.memo !== undefined) input.memo = body.memo;
  return input;
}

/** The problem of one refused payment: what `POST /v1/payments` would answer for it alone (less the request's instance and id). */
function itemProblem(err: unknown): Problem {
  const { problem: p } = toProblem(err);
  return p;
}

/**
 * Registers the payment routes. A same-wallet payment settles in the ledger at once and answers
 * 201; a cross-wallet payment is accepted for settlement on chain and answers 202 (poll
 * `GET /v1/payments/:id`). The status code follows the payment's kind, which never changes, so a
 * replayed request gets the same code as the first one.
 */
export function registerPaymentRoutes(server: RouteRegistry, { service }: WalletRoutesDeps): void {
  const currency = () => ({ currency: service.wallet.currency, decimals: service.wallet.decimals });

  server.route(
    "POST",
    "/v1/payments",
    async (ctx) => {
      const payment = await service.pay(paymentInput(ctx.body as PaymentBody), ctx.idempotency!);
      const status = payment.kind === "same_wallet" ? 201 : 202;
      return mutationResult(payment, status, paymentJson(payment, currency()), `/v1/payments/${encodeURIComponent(payment.id)}`);
    },
    {
      auth: APP,
      body: paymentSchema,
      doc: {
        operationId: "createPayment",
        summary: "Pay a handle of this wallet or handle@WALLET of another",
        tags: ["payments"],
        responses: {
          "201": { description: "Same-wallet payment, settled.", schema: { $ref: "#/components/schemas/Payment" }, headers: ["Location", "Idempotent-Replayed"] },
          "202": { description: "Cross-wallet payment, accepted for settlement on chain.", schema: { $ref: "#/components/schemas/Payment" }, headers: ["Location", "Idempotent-Replayed"] },
        },
        problems: [404, 409, 422, 502, 503],
      },
    },
  );

  server.route(
    "POST",
    "/v1/payments/bulk",
    async (ctx) => {
      const items = (ctx.body as { payments: unknown[] }).payments;
      // Validation is deterministic, so a replay splits the same body the same way again.
      const results: ({ status: "accepted"; payment: Record<string, unknown> } | { status: "refused"; problem: Problem } | undefined)[] = new Array(items.length);
      const inputs: PaymentInput[] = [];
      const at: number[] = [];
      for (let i = 0; i < items.length; i++) {
        const errors = validate(paymentSchema, items[i]);
        if (errors.length > 0) {
          results[i] = { status: "refused", problem: problem("validation_failed", 400, "The request has invalid fields.", { errors }) };
          continue;
        }
        inputs.push(paymentInput(items[i] as PaymentBody));
        at.push(i);
      }
      const outcome = await service.payBulk(inputs, ctx.idempotency!);
      const c = currency();
      outcome.items.forEach((item, k) => {
        results[at[k]] = item.ok ? { status: "accepted", payment: paymentJson(item.payment, c) } : { status: "refused", problem: itemProblem(item.error) };
      });
      const accepted = outcome.items.reduce((n, item) => (item.ok ? n + 1 : n), 0);
      return mutationResult(outcome, 200, { accepted, refused: items.length - accepted, results });
    },
    {
      auth: APP,
      body: bulkPaymentSchema,
      maxBodyBytes: BULK_MAX_BODY_BYTES,
      doc: {
        operationId: "createPaymentsBulk",
        summary: "Submit up to 1,000 payments at once; each is accepted or refused on its own",
        description:
          "A wallet back end's bulk submission (like an ISO 20022 pain.001 bulk credit transfer). Each payment is checked and " +
          "made exactly as `POST /v1/payments` would make it alone: an accepted same-wallet payment is settled, an accepted " +
          "cross-wallet payment waits for settlement on chain; a refused payment changes nothing and does not hold the others " +
          "back. Payments are made in item order (a later one sees the balance the earlier ones left), and all accepted ones " +
          "are written in one atomic ledger write with the outcome of the request. The answer is 200 with one result per " +
          "payment, in item order; a replay (same Idempotency-Key and body) returns it again with `Idempotent-Replayed: true`. " +
          `The request as a whole is refused (problem+json) without \`payments\`, with 0 or more than ${BULK_MAX_PAYMENTS} of them, ` +
          `or above ${BULK_MAX_BODY_BYTES} bytes.`,
        tags: ["payments"],
        responses: {
          "200": {
            description: "Every payment was accepted or refused; see `results`, in item order.",
            schema: { $ref: "#/components/schemas/BulkPaymentResults" },
            headers: ["Idempotent-Replayed"],
          },
        },
        problems: [409, 422],
      },
    },
  );

  server.route(
    "GET",
    "/v1/payments/:id",
    async (ctx) => ({ status: 200, body: paymentJson(await service.getPayment(idParam(ctx.params, "id")), currency()) }),
    {
      auth: APP,
      doc: {
        operationId: "getPayment",
        summary: "Read a payment and its settlement status",
        tags: ["payments"],
        params: { id: { description: "Payment id.", schema: { type: "string" } } },
        responses: { "200": { description: "The payment.", schema: { $ref: "#/components/schemas/Payment" } } },
        problems: [404],
      },
    },
  );
}
