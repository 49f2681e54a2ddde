import type { Hex } from "viem";
import { ServiceError } from "../../bridge/walletService.ts";
import type { OperatorRecord } from "../../chain/registryView.ts";
import { RESOLVE_PATH } from "../../directory/directoryClient.ts";
import type { LocalDirectory } from "../../directory/localDirectory.ts";
import { LookupLimiter } from "../../directory/lookupLimiter.ts";
import { NonceCache } from "../../directory/nonceCache.ts";
import { verifyRequest } from "../../directory/signedRequest.ts";
import { canonicalJson } from "../../ledger/idempotency.ts";
import { ApiProblem } from "../problem.ts";
import { RateLimiter } from "../rateLimit.ts";
import { splitWalletAddress } from "../validate.ts";
import { nodeAuthProblem, rateLimited } from "./nodeAuth.ts";
import { APP, type RouteRegistry, type WalletRoutesDeps, idParam } from "./common.ts";

/** Largest body of a node-to-node resolve request, bytes (a real one is under 200). */
const RESOLVE_MAX_BODY_BYTES = 1_024;
/**
 * Resolve requests per client address, checked before any signature: the per-operator lookup rate
 * (200/s), with a burst of 1,000. A peer's repeated payees are cached on its side, so this is far
 * above what one peer node sends.
 */
const RESOLVE_PER_ADDRESS = { ratePerSecond: 200, burst: 1_000 };


/**
 * Registers `GET /v1/directory/:address`: resolves `handle@WALLET` to the wallet and the payee's
 * masked name, for a confirmation screen before paying. Nothing moves. `?from=<accountId>` names
 * the paying customer, whose pseudonymous payer reference then goes with the lookup (the payee's
 * node rate-limits lookups per payer).
 */
export function registerDirectoryRoutes(server: RouteRegistry, { service }: WalletRoutesDeps): void {
  server.route(
    "GET",
    "/v1/directory/:address",
    async (ctx) => {
      const address = ctx.params.address;
      if (address.length > 280 || !splitWalletAddress(address)) {
        throw new ApiProblem("validation_failed", 400, "The request has invalid fields.", {
          errors: [{ field: "address", message: "must be handle@WALLET" }],
        });
      }
      const from = ctx.query.get("from");
      const fromAccountId = from === null ? undefined : idParam({ from }, "from");
      try {
        const r = await service.resolve(address, { fromAccountId });
        return { status: 200, body: { address: r.address, wallet: r.wallet, maskedName: r.maskedName } };
      } catch (e) {
        if (e instanceof ServiceError && e.code === "rate_limited") {
          throw rateLimited(Number(e.details?.retryAfterSeconds ?? 1) * 1000, "directory lookups");
        }
        throw e;
      }
    },
    {
      auth: APP,
      doc: {
        operationId: "resolveAddress",
        summary: "Resolve handle@WALLET to the payee's wallet and masked name",
        tags: ["directory"],
        params: { address: { description: "`handle@WALLET`, percent-encoded.", schema: { type: "string" } } },
        query: {
          from: {
            description: "The paying customer's account id: its pseudonymous payer reference goes with the lookup, so the payee's node can rate-limit per payer.",
            schema: { type: "string" },
          },
        },
        responses: { "200": { description: "The payee.", schema: { $ref: "#/components/schemas/DirectoryEntry" } } },
        problems: [404, 422, 429, 502, 503],
      },
    },
  );
}

/** What the node-to-node resolve endpoint needs. */
export interface NodeDirectoryDeps {
  /** This node's walletId: requests must be addressed to it. */
  walletId: Hex;
  /** The calling operator, from a bounded cache (RegistryView.member). */
  member: (walletId: Hex) => Promise<OperatorRecord | undefined>;
  local: LocalDirectory;
  /** Per operator and per payer lookup limits; default {@link LookupLimiter}'s. */
  lookups?: LookupLimiter;
  /** Nonces seen within the freshness window; default a {@link NonceCache} of its default size. */
  nonces?: NonceCache;
  /** Requests per client address before any signature check; default 200/s, burst 1,000. */
  perAddress?: RateLimiter;
  /** Counts signature recoveries (the metric `hulian_node_auth_signature_checks_total`). */
  onSignatureCheck?: () => void;
}

/**
 * Registers `POST /node/v1/resolve`, the node-to-node resolution endpoint: signed by the calling
 * operator, addressed to this wallet, checked against the registry. Cheapest refusals first: the
 * client address's rate limit and the body size (1 KiB) before the signature headers are read,
 * then the checks of {@link verifyRequest}; a known member's lookups are then limited per operator
 * and per payer, an unknown handle costing more. Every handle — known or not — gets the same two
 * fields of the same shape.
 */
export function registerNodeDirectoryRoutes(server: RouteRegistry, deps: NodeDirectoryDeps): void {
  const lookups = deps.lookups ?? new LookupLimiter();
  const nonces = deps.nonces ?? new NonceCache();
  const perAddress = deps.perAddress ?? new RateLimiter(RESOLVE_PER_ADDRESS);
  server.route(
    "POST",
    RESOLVE_PATH,
    async (ctx) => {
      const wait = perAddress.tryTake(`ip:${ctx.req.socket.remoteAddress}`);
      if (wait > 0) throw rateLimited(wait, "requests from this address");
      const body = canonicalJson(ctx.body ?? {});
      let caller: Hex;
      try {
        caller = await verifyRequest(ctx.req.headers, "POST", RESOLVE_PATH, body, deps.member, Date.now(), {
          audience: deps.walletId,
          nonces,
          onSignatureCheck: deps.onSignatureCheck,
        });
      } catch (e) {
        throw nodeAuthProblem(e);
      }
      const { handle, payer } = ctx.body as { handle: string; payer?: string };
      const admission = lookups.admit(caller, payer);
      if (!admission.ok) throw rateLimited(admission.retryAfterMs, "directory lookups");
      let found: ReturnType<LocalDirectory["lookup"]>;
      try {
        found = deps.local.lookup(handle);
      } catch {
        lookups.charge(admission, false);
        throw new ApiProblem("invalid_handle", 400, "not a valid handle");
      }
      lookups.charge(admission, found.known);
      return { status: 200, body: { payeeRef: found.resolution.payeeRef, maskedName: found.resolution.maskedName } };
    },
    {
      auth: "none",
      idempotent: false,
      maxBodyBytes: RESOLVE_MAX_BODY_BYTES,
      body: {
        type: "object",
        properties: {
          handle: { type: "string", minLength: 1, maxLength: 128 },
          payer: { type: "string", pattern: "^0x[0-9a-f]{64}$" },
        },
        required: ["handle"],
      } as never,
      doc: {
        operationId: "resolveForNode",
        summary: "Node-to-node: resolve a local handle to a payee reference (signed by the calling operator)",
        tags: ["node-to-node"],
        responses: { "200": { description: "payee reference and masked name, of the same shape for every handle", schema: { $ref: "#/components/schemas/NodeResolution" } } },
        problems: [400, 401, 403, 429, 503],
      },
    },
  );
}
