import type { Ledger } from "../ledger/ledger.ts";
import { SYSTEM_ACCOUNTS } from "../ledger/accounts.ts";

/** One look at whether the ledger and the chain agree, for an operator. */
export interface Reconciliation {
  /** Settlement tokens the operator holds on chain. */
  tokenBalance: bigint;
  /** Returns of its payments the hub holds for it, made while it could not hold tokens (claimable once Active). */
  heldAtHub: bigint;
  /** Σ customer balances: what the operator owes its customers. */
  liabilities: bigint;
  /** Tokens held that no customer is owed (the operator's own reserve). */
  float: bigint;
  /** Outbound payments accepted, not yet settled (still held on chain). */
  outboundInFlight: bigint;
  /** Inbound payments settled on chain that could not be credited and wait to be returned. */
  suspense: bigint;
  /** What the chain should hold according to the ledger: liabilities + float + in flight + suspense. */
  expected: bigint;
  /** tokenBalance + heldAtHub − expected. */
  difference: bigint;
  /** Σ of every ledger account is zero (double entry holds). */
  balanced: boolean;
  reconciled: boolean;
}

/**
 * Compares the on-chain token balance with the ledger. The ledger's mirror of the chain is
 * `−op:settlement`, which double entry makes equal to liabilities + float + outbound in flight +
 * suspense. The two agree whenever the inbound follower has applied every block up to the one the
 * balance was read at and no batch is between landing and being recorded; a lasting difference is
 * an alert. Returns the hub holds for the operator (see `heldReturnsOf`) count as held: the ledger
 * credited them back to the payers when they came back, the tokens follow with the claim.
 */
export function reconcile(ledger: Ledger, tokenBalance: bigint, heldAtHub = 0n): Reconciliation {
  const trial = ledger.trialBalance();
  const float = ledger.balance(SYSTEM_ACCOUNTS.float);
  const outboundInFlight = ledger.balance(SYSTEM_ACCOUNTS.outbound);
  const suspense = ledger.balance(SYSTEM_ACCOUNTS.suspense);
  const expected = -ledger.balance(SYSTEM_ACCOUNTS.settlement);
  const difference = tokenBalance + heldAtHub - expected;
  return {
    tokenBalance,
    heldAtHub,
    liabilities: trial.liabilities,
    float,
    outboundInFlight,
    suspense,
    expected,
    difference,
    balanced: trial.balanced,
    reconciled: trial.balanced && difference === 0n,
  };
}
