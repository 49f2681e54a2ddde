/** Fixed ids of the operator's system accounts. */
export const SYSTEM_ACCOUNTS = {
  /** Operator reserve: settlement tokens held that no customer is owed. Never negative. */
  float: "op:float",
  /** Outbound cross-wallet payments accepted but not yet settled on chain. */
  outbound: "op:outbound",
  /** Inbound payments settled on chain that cannot be credited (yet). */
  suspense: "op:suspense",
  /** Mirror of the on-chain settlement-token holdings (negative = asset). */
  settlement: "op:settlement",
} as const;

/** One of the {@link SYSTEM_ACCOUNTS} ids. */
export type SystemAccountId = (typeof SYSTEM_ACCOUNTS)[keyof typeof SYSTEM_ACCOUNTS];

const SYSTEM_IDS: ReadonlySet<string> = new Set(Object.values(SYSTEM_ACCOUNTS));

const SYSTEM_NAMES: Record<SystemAccountId, string> = {
  "op:float": "Operator float",
  "op:outbound": "Outbound in flight",
  "op:suspense": "Inbound suspense",
  "op:settlement": "On-chain settlement holdings",
};

/** Lifecycle of an account. */
export type AccountStatus = "open" | "closed";

/** An account of the ledger: a customer's, or one of the operator's system accounts. */
export interface Account {
  id: string;
  kind: "customer" | "system";
  /** Normalised handle, unique within the wallet (customers only). */
  handle?: string;
  displayName: string;
  status: AccountStatus;
  /** ISO 8601 time of opening. */
  createdAt: string;
  /** ISO 8601 time of closing. */
  closedAt?: string;
}

/** Input for opening a customer account. */
export interface OpenAccountInput {
  /** Phone number, email address or user name; normalised before use. */
  handle: string;
  displayName: string;
}

/** Whether `id` is one of the operator's system accounts. */
export function isSystemAccount(id: string): id is SystemAccountId {
  return SYSTEM_IDS.has(id);
}

/** The synthetic record of a system account (system accounts are never stored). */
export function systemAccount(id: SystemAccountId): Account {
  return { id, kind: "system", displayName: SYSTEM_NAMES[id], status: "open", createdAt: "1970-01-01T00:00:00.000Z" };
}

/**
 * Whether the balance of `id` may go below zero. Customers never; the float
 * never (that would hand out money the operator does not hold); the other
 * system accounts are clearing accounts whose sign follows the flows.
 */
export function mayGoNegative(id: string): boolean {
  return isSystemAccount(id) && id !== SYSTEM_ACCOUNTS.float;
}
