import { NodeAuthError } from "../../directory/signedRequest.ts";
import { ApiProblem } from "../problem.ts";

/** A 429 problem with `Retry-After` in whole seconds (at least 1). */
export function rateLimited(retryAfterMs: number, what: string): ApiProblem {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new ApiProblem("rate_limited", 429, `Too many ${what}; retry in ${seconds} s.`, {
    headers: { "retry-after": String(seconds) },
    details: { retryAfterSeconds: seconds },
  });
}

/**
 * The problem a node-to-node route answers for a refused signed request: 403 for a caller that is
 * not an Active member, 503 while the nonce cache is full of live nonces, 401 otherwise. Anything
 * that is not a {@link NodeAuthError} is passed through unchanged.
 */
export function nodeAuthProblem(e: unknown): unknown {
  if (!(e instanceof NodeAuthError)) return e;
  const status = e.code === "wallet_not_active" ? 403 : e.code === "node_busy" ? 503 : 401;
  return new ApiProblem(e.code, status, e.message, status === 503 ? { headers: { "retry-after": "1" } } : undefined);
}
