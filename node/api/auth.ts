import type { ApiKeyStore, Principal, Scope } from "./apiKeys.ts";
import { ApiProblem } from "./problem.ts";
import type { AuthRequirement } from "./router.ts";

const BEARER = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)[ ]*$/i;
const REALM = 'Bearer realm="hulian"';

/**
 * The key each keep-alive connection last authenticated with. A client sends the same
 * Authorization header on every request of a connection; comparing it with what the same
 * connection sent before (never with another client's) saves hashing it again. Revoking or adding
 * a key changes the store's generation, which voids every remembered answer.
 */
const verified = new WeakMap<object, { header: string; generation: number; principal: Principal }>();

/**
 * Checks the `Authorization: Bearer <key>` header against a route's requirement.
 *
 * Returns `null` for routes open to all, the verified principal otherwise. Throws a 401
 * `unauthorized` problem (with `WWW-Authenticate`) when the header is missing, malformed or names
 * no key, and a 403 `forbidden` problem when the key holds none of the required scopes.
 */
export function authenticate(header: string | undefined, keys: ApiKeyStore, required: AuthRequirement, connection?: object): Principal | null {
  if (required === "none") return null;
  const principal = identify(header, keys, connection);
  requireScope(principal, required);
  return principal;
}

/**
 * The key behind an `Authorization: Bearer <key>` header; 401 `unauthorized` (with
 * `WWW-Authenticate`) when the header is missing, malformed or names no key. The first half of
 * {@link authenticate}: the server rate-limits the key before it checks the scope, so a key
 * hammering routes it may not use is throttled like any other.
 */
export function identify(header: string | undefined, keys: ApiKeyStore, connection?: object): Principal {
  if (header === undefined || header === "") {
    throw new ApiProblem("unauthorized", 401, "Send an API key as `Authorization: Bearer <key>`.", {
      headers: { "www-authenticate": REALM },
    });
  }
  const known = connection && verified.get(connection);
  let principal: Principal | undefined;
  if (known && known.header === header && known.generation === keys.generation) principal = known.principal;
  else {
    const m = BEARER.exec(header);
    principal = m ? keys.verify(m[1]) : undefined;
    if (principal && connection) verified.set(connection, { header, generation: keys.generation, principal });
  }
  if (!principal) {
    throw new ApiProblem("unauthorized", 401, "The API key is not valid.", {
      headers: { "www-authenticate": `${REALM}, error="invalid_token"` },
    });
  }
  return principal;
}

/** 403 `forbidden` unless `principal` holds one of the `required` scopes. */
export function requireScope(principal: Principal, required: readonly Scope[]): void {
  if (!required.some((s) => principal.scopes.has(s))) {
    throw new ApiProblem("forbidden", 403, `This API key lacks the scope for this operation (needs one of: ${required.join(", ")}).`, {
      headers: { "www-authenticate": `${REALM}, error="insufficient_scope", scope="${required.join(" ")}"` },
      details: { requiredScopes: [...required] },
    });
  }
}
