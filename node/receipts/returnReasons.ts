/**
 * Reason codes of returns, as the payee's node sends them on chain (`returnTransfer(…, reasonCode)`)
 * and every reader shows them. Part of the protocol between nodes, so it lives with the receipts.
 */
export const RETURN_REASON = { unknownAccount: 1, closedAccount: 2 } as const;

/** What each reason code means: a stable name (API, CSV) and a sentence (UI). */
const REASONS: Readonly<Record<number, { name: string; text: string }>> = {
  [RETURN_REASON.unknownAccount]: { name: "payee_account_unknown", text: "the payee account does not exist at the receiving wallet" },
  [RETURN_REASON.closedAccount]: { name: "payee_account_closed", text: "the payee account is closed" },
};

/**
 * The meaning of a return reason code; a code no node sends today reads as `unknown_reason_<code>`.
 *
 * @example
 * returnReason(1) // { code: 1, name: "payee_account_unknown", text: "the payee account does not exist at the receiving wallet" }
 */
export function returnReason(code: number): { code: number; name: string; text: string } {
  const known = Object.hasOwn(REASONS, code) ? REASONS[code] : undefined;
  return { code, name: known?.name ?? `unknown_reason_${code}`, text: known?.text ?? `reason code ${code} (not one the nodes define)` };
}
