/**
 * Typed errors shared by the storage layer and the modules built on it.
 *
 * Every error carries a stable `code` (snake_case, safe to show to API
 * clients), a short message, structured `details` and an optional `cause`.
 * `retryable` says whether repeating the same request later can succeed
 * without anything else changing first (in the spirit of Ponder's
 * `RetryableError` / `NonRetryableError` split).
 */
export class HulianError extends Error {
  override name = "HulianError";
  /** Stable machine-readable code, e.g. `insufficient_funds`. */
  readonly code: string;
  /** Structured values that explain the error (amounts as decimal strings). */
  readonly details: Readonly<Record<string, unknown>>;
  /** Whether retrying the same request unchanged may succeed. */
  readonly retryable: boolean;

  constructor(
    code: string,
    message: string,
    options: { details?: Record<string, unknown>; cause?: unknown; retryable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
    this.retryable = options.retryable ?? false;
  }
}

/**
 * A group-commit batch write failed. Every caller whose operations were in
 * that batch receives this error. It is fatal: in-memory state built on the
 * assumption that the write would land (balance caches, sequence counters)
 * may now be ahead of disk, so the process must stop and recover from disk.
 */
export class CommitFailedError extends HulianError {
  override name = "CommitFailedError";
  constructor(details: { batchOps: number; callers: number }, cause: unknown) {
    super("commit_failed", "Batch write failed; the process must restart and recover from disk.", {
      details,
      cause,
    });
  }
}

/**
 * The committer is in its failed state after an earlier batch write failed
 * (or it was closed); it refuses every further write.
 */
export class StoreUnavailableError extends HulianError {
  override name = "StoreUnavailableError";
  constructor(reason: "failed" | "closed", cause?: unknown) {
    super(
      "store_unavailable",
      reason === "failed"
        ? "Store refused the write: an earlier batch write failed."
        : "Store refused the write: the committer is closed.",
      { details: { reason }, cause },
    );
  }
}

/** A forward-only cursor was asked to move backwards. */
export class CursorRegressionError extends HulianError {
  override name = "CursorRegressionError";
  constructor(details: { cursor: string; current: string; requested: string; expected?: string }) {
    super(
      "cursor_regression",
      details.expected === undefined ? "Cursor may only move forward." : "Cursor is not at the expected position.",
      { details },
    );
  }
}

/** A key part is empty or contains the key separator. */
export class InvalidKeyError extends HulianError {
  override name = "InvalidKeyError";
  constructor(details: Record<string, unknown>) {
    super("invalid_key", "Invalid storage key part.", { details });
  }
}
