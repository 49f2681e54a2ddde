/**
 * Why an audit check failed. Each tampering an auditor can meet has its own code, so a script can
 * branch on it and a person reads the exact reason in the message.
 */
export type AuditFailureCode =
  | "unknown_wallet"
  | "transfer_not_found"
  | "transfer_id_mismatch"
  | "amount_mismatch"
  | "payee_mismatch"
  | "payer_mismatch"
  | "receipt_mismatch"
  | "proof_invalid"
  | "batch_missing"
  | "batch_root_mismatch"
  | "sequence_gap"
  | "chain_link_broken"
  | "head_mismatch"
  | "batch_total_mismatch"
  | "never_attested"
  | "under_backed"
  | "stale_attestation"
  | "attestation_superseded"
  | "inclusion_invalid"
  | "statement_unbalanced"
  /** The node no longer keeps the state of a past block (a pruning node): ask an archive node. */
  | "state_unavailable";

/**
 * A check that did not hold. Not retryable: the data contradicts the chain (or itself), and asking
 * again gives the same answer.
 *
 * @example
 * throw new AuditFailure("amount_mismatch", "amount: the receipt says 1000, the chain recorded 999", { field: "amount" });
 */
export class AuditFailure extends Error {
  override name = "AuditFailure";
  readonly code: AuditFailureCode;
  readonly details: Record<string, unknown>;
  constructor(code: AuditFailureCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }
}

/** The auditor asked for something that is not there or not well formed (a usage problem, not a finding). */
export class AuditInputError extends Error {
  override name = "AuditInputError";
}
