import { SYSTEM_ACCOUNTS } from "./accounts.ts";
import { ENTRY_KINDS, assertPositiveAmount } from "./entries.ts";
import type { EntryDraft, JsonValue } from "./entries.ts";

/*
 * The standard movements, as pure draft builders. Stage one with
 * `ledger.stage(draft)` / `tx.stage(draft)` (returns the entry and its batch
 * operations) or record it with `ledger.post(draft, { idempotency })`.
 * Every amount is a positive bigint of minor units; the sign lives in the
 * postings.
 */

const { float, outbound, suspense, settlement } = SYSTEM_ACCOUNTS;

function move(kind: string, from: string, to: string, amount: bigint, ref?: string, meta?: { [k: string]: JsonValue }): EntryDraft {
  assertPositiveAmount(amount);
  const d: EntryDraft = { kind, postings: [{ account: from, amount: -amount }, { account: to, amount }] };
  if (ref !== undefined) d.ref = ref;
  if (meta !== undefined) d.meta = meta;
  return d;
}

/** Customer deposits money with the operator: `op:float → customer`. */
export function topUp(customer: string, amount: bigint, ref?: string): EntryDraft {
  return move(ENTRY_KINDS.topUp, float, customer, amount, ref);
}

/** Customer takes money out: `customer → op:float`. */
export function withdraw(customer: string, amount: bigint, ref?: string): EntryDraft {
  // A closed account can still be emptied: refunds and returns may reach it after it closed.
  return { ...move(ENTRY_KINDS.withdrawal, customer, float, amount, ref), allowClosedDebit: true };
}

/** The issuer minted settlement tokens to the operator: `op:settlement → op:float`. */
export function fundReserve(amount: bigint, ref?: string): EntryDraft {
  return move(ENTRY_KINDS.reserveFunded, settlement, float, amount, ref);
}

/** Same-wallet payment, entirely off chain: `customer → customer`. */
export function transferInternal(from: string, to: string, amount: bigint, memo?: string, ref?: string): EntryDraft {
  return move(ENTRY_KINDS.internalTransfer, from, to, amount, ref, memo === undefined ? undefined : { memo });
}

/** A cross-wallet payment was accepted: `customer → op:outbound`. */
export function reserveOutbound(customer: string, amount: bigint, ref?: string): EntryDraft {
  return move(ENTRY_KINDS.outboundReserved, customer, outbound, amount, ref);
}

/** Outbound payments settled on chain: `op:outbound → op:settlement`. */
export function settleOutbound(amount: bigint, ref?: string): EntryDraft {
  return move(ENTRY_KINDS.outboundSettled, outbound, settlement, amount, ref);
}

/** An outbound payment was rejected before settling: `op:outbound → customer`. */
export function refundOutbound(customer: string, amount: bigint, ref?: string): EntryDraft {
  return { ...move(ENTRY_KINDS.outboundRefunded, outbound, customer, amount, ref), allowClosedCredit: true };
}

/** An inbound payment settled on chain, credited to its payee: `op:settlement → customer`. */
export function creditInbound(customer: string, amount: bigint, ref?: string): EntryDraft {
  return move(ENTRY_KINDS.inboundCredited, settlement, customer, amount, ref);
}

/** An inbound payment settled on chain that cannot be credited: `op:settlement → op:suspense`. */
export function holdInbound(amount: bigint, ref?: string): EntryDraft {
  return move(ENTRY_KINDS.inboundHeld, settlement, suspense, amount, ref);
}

/** A held inbound payment was resolved to its payee after all: `op:suspense → customer`. */
export function creditFromSuspense(customer: string, amount: bigint, ref?: string): EntryDraft {
  return move(ENTRY_KINDS.suspenseCredited, suspense, customer, amount, ref);
}

/** The return of a held inbound payment settled on chain: `op:suspense → op:settlement`. */
export function releaseSuspenseOnReturn(amount: bigint, ref?: string): EntryDraft {
  return move(ENTRY_KINDS.suspenseReturned, suspense, settlement, amount, ref);
}

/** One of our outbound payments came back (returned by the payee's wallet): `op:settlement → customer`. */
export function creditReturn(customer: string, amount: bigint, ref?: string): EntryDraft {
  return { ...move(ENTRY_KINDS.returnCredited, settlement, customer, amount, ref), allowClosedCredit: true };
}
