import type { ApiKeyStore, Principal } from "./apiKeys.ts";
import { ApiProblem } from "./problem.ts";
import type { AuthRequirement } from "./router.ts";

const BEARER = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)[ ]*$/i;
const REALM = 'Bearer realm="hulian"';

/**
 * Checks the `Authorization: Bearer <key>` header against a route's requirement.
 *
 * Returns `null` for routes open to all, the verified principal otherwise. Throws a 401
 * `unauthorized` problem (with `WWW-Authenticate`) when the header is missing, malformed or names
 * no key, and a 403 `forbidden` problem when the key holds none of the required scopes.
 */
export function authenticate(header: string | undefined, keys: ApiKeyStore, required: AuthRequirement): Principal | null {
  if (required === "none") return null;
  if (header === undefined || header === "") {
    throw new ApiProblem("unauthorized", 401, "Send an API key as `Authorization: Bearer <key>`.", {
      headers: { "www-authenticate": REALM },
    });
  }
  const m = BEARER.exec(header);
  const principal = m ? keys.verify(m[1]) : undefined;
  if (!principal) {
    throw new ApiProblem("unauthorized", 401, "The API key is not valid.", {
      headers: { "www-authenticate": `${REALM}, error="invalid_token"` },
    });
  }
  if (!required.some((s) => principal.scopes.has(s))) {
    throw new ApiProblem("forbidden", 403, `This API key lacks the scope for this operation (needs one of: ${required.join(", ")}).`, {
      headers: { "www-authenticate": `${REALM}, error="insufficient_scope", scope="${required.join(" ")}"` },
      details: { requiredScopes: [...required] },
    });
  }
  return principal;
}
