import type { AccountView, HistoryPage, MovementView, PaymentView } from "../bridge/walletService.ts";
import { formatMinor } from "./amounts.ts";

/**
 * JSON shapes of the service's views. Money fields are decimal strings of minor units; each
 * resource names its `currency` once and adds `display`, its main amount formatted for people
 * (`"123.45"`); other money fields get a `<name>Display` twin. Nothing is serialised implicitly:
 * a field the service adds appears in the API only once it is added here (and to the OpenAPI).
 */
export interface Currency {
  currency: string;
  decimals: number;
}

/** An account as JSON. */
export function accountJson(a: AccountView, c: Currency): Record<string, unknown> {
  return {
    id: a.id,
    handle: a.handle,
    address: a.address,
    displayName: a.displayName,
    status: a.status,
    balance: a.balance.toString(),
    currency: c.currency,
    display: formatMinor(a.balance, c.decimals),
    createdAt: a.createdAt,
  };
}

/** A top-up or withdrawal as JSON. */
export function movementJson(m: MovementView, c: Currency): Record<string, unknown> {
  return {
    entryId: m.entryId,
    accountId: m.accountId,
    kind: m.kind,
    amount: m.amount.toString(),
    currency: c.currency,
    display: formatMinor(m.amount, c.decimals),
    balance: m.balance.toString(),
    balanceDisplay: formatMinor(m.balance, c.decimals),
    createdAt: m.createdAt,
  };
}

/** A payment as JSON. Chain fields appear once the payment has them. */
export function paymentJson(p: PaymentView, c: Currency): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: p.id,
    kind: p.kind,
    status: p.status,
    from: p.fromAccountId,
    to: p.to,
    toWallet: p.toWallet,
    amount: p.amount.toString(),
    currency: c.currency,
    display: formatMinor(p.amount, c.decimals),
  };
  if (p.memo !== undefined) out.memo = p.memo;
  if (p.transferId !== undefined) out.transferId = p.transferId;
  if (p.seq !== undefined) out.seq = p.seq.toString();
  if (p.txHash !== undefined) out.txHash = p.txHash;
  if (p.blockNumber !== undefined) out.blockNumber = p.blockNumber.toString();
  if (p.reason !== undefined) out.reason = p.reason;
  out.createdAt = p.createdAt;
  out.updatedAt = p.updatedAt;
  return out;
}

/** A page of account history as JSON; `nextCursor` is absent on the last page. */
export function historyJson(page: HistoryPage, c: Currency): Record<string, unknown> {
  const items = page.items.map((i) => {
    const out: Record<string, unknown> = {
      entryId: i.entryId,
      kind: i.kind,
      amount: i.amount.toString(),
      display: formatMinor(i.amount, c.decimals),
    };
    if (i.balanceAfter !== undefined) {
      out.balanceAfter = i.balanceAfter.toString();
      out.balanceAfterDisplay = formatMinor(i.balanceAfter, c.decimals);
    }
    if (i.paymentId !== undefined) out.paymentId = i.paymentId;
    if (i.counterparty !== undefined) out.counterparty = i.counterparty;
    if (i.transferId !== undefined) out.transferId = i.transferId;
    if (i.payerWallet !== undefined) out.payerWallet = i.payerWallet;
    if (i.memo !== undefined) out.memo = i.memo;
    out.createdAt = i.createdAt;
    return out;
  });
  const out: Record<string, unknown> = { currency: c.currency, items };
  if (page.nextCursor !== undefined) out.nextCursor = page.nextCursor;
  return out;
}
