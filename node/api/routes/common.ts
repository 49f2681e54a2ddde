import type { Replayable, WalletService } from "../../bridge/walletService.ts";
import type { Scope } from "../apiKeys.ts";
import { ApiProblem } from "../problem.ts";
import type { RouteHandler, RouteOptions, RouteResult, HttpMethod } from "../router.ts";

/** Where route modules register their routes: the API server, or anything with the same `route`. */
export interface RouteRegistry {
  route(method: HttpMethod, pattern: string, handler: RouteHandler, options: RouteOptions): void;
}

/** What the wallet route modules need. */
export interface WalletRoutesDeps {
  service: WalletService;
}

/** Scopes of the wallet app routes. */
export const APP: readonly Scope[] = ["app"];
/** Scopes of the routes that move money into or out of the wallet. */
export const ADMIN: readonly Scope[] = ["admin"];

/** Pattern of ids in paths (accounts, payments): what the service issues, and nothing wild. */
const ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Returns path parameter `name` when it looks like an id; 400 `validation_failed` otherwise. */
export function idParam(params: Record<string, string>, name: string): string {
  const v = params[name];
  if (v === undefined || !ID.test(v)) {
    throw new ApiProblem("validation_failed", 400, "The request has invalid fields.", {
      errors: [{ field: name, message: "must be 1-128 characters of A-Z a-z 0-9 _ . : -" }],
    });
  }
  return v;
}

/**
 * The response to a mutating call. A result the service replayed from its idempotency store
 * carries `Idempotent-Replayed: true`; status and body are the same as the first time, so the
 * status must come from stable facts of the result (never from a status that moves on).
 */
export function mutationResult(result: Replayable, status: number, body: unknown, location?: string): RouteResult {
  const headers: Record<string, string> = {};
  if (location !== undefined) headers.location = location;
  if (result.replayed === true) headers["idempotent-replayed"] = "true";
  return { status, body, headers };
}

/** Common OpenAPI path parameter docs. */
export const ID_PARAM_DOC = { description: "Account id, as returned when the account was opened (e.g. `c_01J9Z4Q8W5N3V6XK2T7RBMDFHC`).", schema: { type: "string", pattern: ID.source } };
