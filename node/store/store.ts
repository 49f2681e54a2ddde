import { Level } from "level";
import { Committer } from "./committer.ts";
import type { CommitterOptions } from "./committer.ts";
import type { StoreDb, Sublevel } from "./types.ts";

/**
 * Names of the sublevels, one per concern. Other modules stage their own
 * items into these (e.g. the bridge into `outbox` and `payments`).
 */
export const SUBLEVEL_NAMES = {
  /** account id → account record (JSON) */
  accounts: "accounts",
  /** normalised handle → account id (utf8) */
  handles: "handles",
  /** account id → balance in minor units (utf8 decimal string) */
  balances: "balances",
  /** seqKey(entry seq) → journal entry (JSON) */
  entries: "entries",
  /** accountId!seqKey(entry seq) → history item (JSON) */
  accountHistory: "account-history",
  /** scope!key → idempotency record (JSON) */
  idempotency: "idempotency",
  /** bridge: outbound payments waiting for a batch (JSON) */
  outbox: "outbox",
  /** bridge/api: payment records and their status (JSON) */
  payments: "payments",
  /** cursor name → position (utf8 decimal string) */
  cursors: "cursors",
  /** directory: customer reference (payee ref) → account id (utf8) */
  references: "references",
  /** bridge: inbound transfers seen (transferId → how it was handled), returns to send (JSON) */
  inbound: "inbound",
  /** miscellaneous singletons (JSON) */
  meta: "meta",
} as const;

/** Key of {@link SUBLEVEL_NAMES}. */
export type SublevelName = keyof typeof SUBLEVEL_NAMES;

/** The typed sublevels of a {@link Store}. */
export interface StoreSublevels {
  accounts: Sublevel<unknown>;
  handles: Sublevel<string>;
  balances: Sublevel<string>;
  entries: Sublevel<unknown>;
  accountHistory: Sublevel<unknown>;
  idempotency: Sublevel<unknown>;
  outbox: Sublevel<unknown>;
  payments: Sublevel<unknown>;
  cursors: Sublevel<string>;
  references: Sublevel<string>;
  inbound: Sublevel<unknown>;
  meta: Sublevel<unknown>;
}

/** An open store: the database, its sublevels and its group committer. */
export interface Store {
  /** Directory of the LevelDB database. */
  readonly location: string;
  /** The root database. Prefer the sublevels and the committer. */
  readonly db: StoreDb;
  /** One sublevel per concern. */
  readonly sub: StoreSublevels;
  /** The only writer: every state change goes through it. */
  readonly committer: Committer;
  /** Flushes pending writes and closes the database. */
  close(): Promise<void>;
}

const UTF8_SUBLEVELS = new Set<SublevelName>(["handles", "balances", "cursors", "references"]);

/**
 * Opens (creating if needed) the LevelDB database at `path`.
 *
 * @example
 * const store = await openStore("/var/lib/hulian/ALIPAY");
 * await store.committer.commit([{ type: "put", sublevel: store.sub.meta, key: "k", value: 1 }]);
 * await store.close();
 */
export async function openStore(path: string, options: CommitterOptions = {}): Promise<Store> {
  const db: StoreDb = new Level<string, unknown>(path, { keyEncoding: "utf8", valueEncoding: "json" });
  await db.open();
  const sub = {} as Record<SublevelName, Sublevel<unknown>>;
  for (const [name, prefix] of Object.entries(SUBLEVEL_NAMES) as [SublevelName, string][]) {
    sub[name] = db.sublevel<string, unknown>(prefix, {
      keyEncoding: "utf8",
      valueEncoding: UTF8_SUBLEVELS.has(name) ? "utf8" : "json",
    }) as Sublevel<unknown>;
  }
  const committer = new Committer(db, options);
  let closing: Promise<void> | undefined;
  return {
    location: path,
    db,
    sub: sub as unknown as StoreSublevels,
    committer,
    close() {
      closing ??= (async () => {
        await committer.close();
        await db.close();
      })();
      return closing;
    },
  };
}
