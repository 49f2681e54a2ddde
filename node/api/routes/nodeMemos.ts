import type { Hex } from "viem";
import { MemoDeliveryError, type MemoInbox } from "../../bridge/memoInbox.ts";
import { MAX_MEMOS_PER_DELIVERY, MAX_TRANSACTIONS_PER_DELIVERY, MEMOS_PATH, type MemoItem, verifyMemoDelivery } from "../../bridge/memoWire.ts";
import { isTransportError } from "../../chain/errors.ts";
import { NonceCache } from "../../directory/nonceCache.ts";
import type { CallerLookup } from "../../directory/signedRequest.ts";
import { canonicalJson } from "../../ledger/idempotency.ts";
import { ApiProblem } from "../problem.ts";
import { RateLimiter } from "../rateLimit.ts";
import { nodeAuthProblem, rateLimited } from "./nodeAuth.ts";
import type { ObjectSchema } from "../validate.ts";
import type { RouteRegistry } from "./common.ts";
import { paymentSchema } from "./payments.ts";

const BYTES32 = "^0x[0-9a-fA-F]{64}$";

/** Largest delivery, bytes: the most memos of the longest text (4-byte characters) fit. */
const MAX_DELIVERY_BYTES = 128 * 1024;

/** Body of `POST /node/v1/memos`. A memo is what `POST /v1/payments` takes as one. */
export const memoDeliverySchema: ObjectSchema = {
  type: "object",
  properties: {
    memos: {
      type: "array",
      minItems: 1,
      maxItems: MAX_MEMOS_PER_DELIVERY,
      description: `1–${MAX_MEMOS_PER_DELIVERY} memos of transfers settled to this wallet, naming at most ${MAX_TRANSACTIONS_PER_DELIVERY} settlement transactions.`,
      items: {
        type: "object",
        properties: {
          transferId: { type: "string", pattern: BYTES32, description: "The settled transfer (its payer's walletId | sequence number)." },
          txHash: { type: "string", pattern: BYTES32, description: "The transaction that settled it." },
          memo: paymentSchema.properties.memo,
        },
        required: ["transferId", "txHash", "memo"],
        additionalProperties: false,
      },
    },
  },
  required: ["memos"],
  additionalProperties: false,
};

export interface NodeMemoRoutesDeps {
  inbox: MemoInbox;
  /** This node's walletId: deliveries must be addressed to it. */
  walletId: Hex;
  /** The calling operator, from a bounded cache (RegistryView.member). */
  lookup: CallerLookup;
  /** Nonces seen within the freshness window; default a {@link NonceCache} of its default size. */
  nonces?: NonceCache;
  /** Deliveries per client address before any signature check; default 50/s, burst 200. */
  perAddress?: RateLimiter;
  /** Counts signature recoveries (the metric `hulian_node_auth_signature_checks_total`). */
  onSignatureCheck?: () => void;
}

/** Deliveries per client address, checked before the signature (a payer sends one per 100 memos). */
const MEMOS_PER_ADDRESS = { ratePerSecond: 50, burst: 200 };

/**
 * Registers `POST /node/v1/memos`, where payers' nodes deliver the memos of transfers settled to
 * this wallet. Checked in order of cost: the schema (size, count), the signature against
 * WalletRegistry, then each memo against the chain (see MemoInbox). Memo texts are never logged.
 */
export function registerNodeMemoRoutes(server: RouteRegistry, deps: NodeMemoRoutesDeps): void {
  const { inbox, lookup } = deps;
  const nonces = deps.nonces ?? new NonceCache();
  const perAddress = deps.perAddress ?? new RateLimiter(MEMOS_PER_ADDRESS);
  server.route(
    "POST",
    MEMOS_PATH,
    async (ctx) => {
      const wait = perAddress.tryTake(`ip:${ctx.req.socket.remoteAddress}`);
      if (wait > 0) throw rateLimited(wait, "memo deliveries from this address");
      const body = canonicalJson((ctx.body ?? {}) as never);
      let caller: Hex;
      try {
        caller = await verifyMemoDelivery(ctx.req.headers, body, lookup, { audience: deps.walletId, nonces, onSignatureCheck: deps.onSignatureCheck });
      } catch (e) {
        throw nodeAuthProblem(e);
      }
      try {
        const results = await inbox.accept(caller, (ctx.body as { memos: MemoItem[] }).memos);
        return { status: 200, body: { results } };
      } catch (e) {
        if (e instanceof MemoDeliveryError) throw new ApiProblem(e.code, 400, e.message);
        if (!isTransportError(e)) throw e;
        throw new ApiProblem("chain_unavailable", 503, "the chain did not answer; deliver again later", { headers: { "retry-after": "1" } });
      }
    },
    {
      auth: "none",
      idempotent: false,
      body: memoDeliverySchema,
      maxBodyBytes: MAX_DELIVERY_BYTES,
      doc: {
        operationId: "deliverMemos",
        summary: "Node-to-node: the payer's node delivers the memos of settled transfers (signed by the calling operator)",
        description:
          "Each memo is taken only for a transfer settled to this wallet by the calling wallet whose on-chain `memoHash` is keccak-256 of the memo's UTF-8 bytes. " +
          "`results` has one outcome per memo, in order: `stored`, `duplicate` (delivered before), `refused` with a `code` (final: " +
          "`not_payer`, `not_payee`, `memo_hash_mismatch`, `transfer_not_in_settlement`, `transfer_not_credited`, `settlement_reverted`, `memo_invalid`) " +
          "or `retry` with a `code` (the settlement is not yet readable here: deliver again later).",
        tags: ["node-to-node"],
        responses: {
          "200": {
            description: "One outcome per memo.",
            schema: {
              type: "object",
              properties: {
                results: {
                  type: "array",
                  items: {
                    type: "object",
                    properties: {
                      transferId: { type: "string" },
                      status: { type: "string", enum: ["stored", "duplicate", "refused", "retry"] },
                      code: { type: "string" },
                    },
                    required: ["transferId", "status"],
                  },
                },
              },
              required: ["results"],
            },
          },
        },
        problems: [401, 403, 503],
      },
    },
  );
}
