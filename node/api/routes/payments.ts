import { AMOUNT_PATTERN, parseAmount } from "../amounts.ts";
import type { ObjectSchema } from "../validate.ts";
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
      const body = ctx.body as { from: string; to: string; amount: string; memo?: string };
      const input: { fromAccountId: string; to: string; amount: bigint; memo?: string } = { fromAccountId: body.from, to: body.to, amount: parseAmount(body.amount) };
      if (body.memo !== undefined) input.memo = body.memo;
      const payment = await service.pay(input, ctx.idempotency!);
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
        problems: [404, 409, 422],
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
