/**
 * What nodes answer when asked for state they no longer keep: Besu "World state unavailable"
 * (Bonsai keeps `bonsai-historical-block-limit` blocks, 512 by default), geth and Nethermind
 * "missing trie node" / "header not found" style messages. Matched on the whole cause chain.
 */
const STATE_GONE = /world state (is )?(not )?(un)?available|missing trie node|state (is )?not available|state histor(y|ic(al)?) (is )?(unavailable|not available|pruned)|required historical state unavailable/i;

/**
 * True when `error` (or any error in its `cause` chain) says the node has no state for the block
 * asked: the read cannot succeed on this node, only on an archive node.
 *
 * @example
 * if (isStateUnavailable(e)) throw new AuditFailure("state_unavailable", …);
 */
export function isStateUnavailable(error: unknown): boolean {
  let e = error as { message?: unknown; details?: unknown; shortMessage?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 8; depth++) {
    for (const text of [e.message, e.details, e.shortMessage]) if (typeof text === "string" && STATE_GONE.test(text)) return true;
    e = e.cause as typeof e;
  }
  return false;
}
