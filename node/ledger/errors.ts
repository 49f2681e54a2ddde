import { HulianError } from "../store/errors.ts";

/** An amount is not a positive `bigint` of minor units. */
export class InvalidAmountError extends HulianError {
  override name = "InvalidAmountError";
  constructor(amount: unknown) {
    super("invalid_amount", "Amount must be a positive integer number of minor units.", {
      details: { amount: typeof amount === "bigint" ? amount.toString() : String(amount) },
    });
  }
}

/** A journal entry is malformed (fewer than two postings, a zero amount, a repeated account…). */
export class InvalidEntryError extends HulianError {
  override name = "InvalidEntryError";
  constructor(reason: string, details: Record<string, unknown> = {}) {
    super("invalid_entry", `Invalid journal entry: ${reason}.`, { details: { reason, ...details } });
  }
}

/** The postings of a journal entry do not sum to zero. */
export class UnbalancedEntryError extends HulianError {
  override name = "UnbalancedEntryError";
  constructor(sum: bigint) {
    super("unbalanced_entry", "Postings must sum to zero.", { details: { sum: sum.toString() } });
  }
}

/** A customer account would go below zero. */
export class InsufficientFundsError extends HulianError {
  override name = "InsufficientFundsError";
  constructor(account: string, balance: bigint, needed: bigint) {
    super("insufficient_funds", "Insufficient funds.", {
      details: { account, balance: balance.toString(), needed: needed.toString() },
    });
  }
}

/** The operator float (`op:float`) would go below zero. */
export class InsufficientReserveError extends HulianError {
  override name = "InsufficientReserveError";
  constructor(balance: bigint, needed: bigint) {
    super("insufficient_reserve", "Insufficient operator reserve.", {
      details: { account: "op:float", balance: balance.toString(), needed: needed.toString() },
    });
  }
}

/** No account has this id or handle. */
export class AccountNotFoundError extends HulianError {
  override name = "AccountNotFoundError";
  constructor(details: { id?: string; handle?: string }) {
    super("account_not_found", "Account not found.", { details });
  }
}

/** The account is closed and cannot take part in this movement. */
export class AccountClosedError extends HulianError {
  override name = "AccountClosedError";
  constructor(id: string) {
    super("account_closed", "Account is closed.", { details: { id } });
  }
}

/** An account can only be closed with a zero balance. */
export class AccountNotEmptyError extends HulianError {
  override name = "AccountNotEmptyError";
  constructor(id: string, balance: bigint) {
    super("account_not_empty", "Account balance must be zero to close it.", {
      details: { id, balance: balance.toString() },
    });
  }
}

/** The handle is already used by another account of this wallet. */
export class HandleTakenError extends HulianError {
  override name = "HandleTakenError";
  constructor(handle: string) {
    super("handle_taken", "Handle is already taken.", { details: { handle } });
  }
}

/** The handle is not a phone number (E.164), an email address or a user name. */
export class InvalidHandleError extends HulianError {
  override name = "InvalidHandleError";
  constructor(handle: string) {
    super("invalid_handle", "Handle must be a phone number (+8613800000000), an email address or a user name.", {
      details: { handle },
    });
  }
}

/** The idempotency key was already used with a different request body. */
export class IdempotencyConflictError extends HulianError {
  override name = "IdempotencyConflictError";
  constructor(scope: string, key: string) {
    super("idempotency_conflict", "Idempotency key was already used with a different request.", {
      details: { scope, key },
    });
  }
}

/** A pagination cursor was not produced by this ledger. */
export class InvalidCursorError extends HulianError {
  override name = "InvalidCursorError";
  constructor(cursor: string) {
    super("invalid_cursor", "Invalid pagination cursor.", { details: { cursor } });
  }
}

/** A ledger transaction callback misbehaved (e.g. returned a promise). */
export class InvalidTransactionError extends HulianError {
  override name = "InvalidTransactionError";
  constructor(reason: string) {
    super("invalid_transaction", `Invalid ledger transaction: ${reason}.`, { details: { reason } });
  }
}
