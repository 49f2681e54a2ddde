import { Level } from "level";
import { Committer } from "./committer.ts";
import type { CommitterOptions } from "./committer.ts";
import type { StoreDb, Sublevel } from "./types.ts";
import { entryEncoding } from "../ledger/entries.ts";
import { historyEncoding } from "../ledger/history.ts";
import { idempotencyEncoding } from "../ledger/idempotency.ts";

/**
 * Names of the sublevels, one per concern. Other modules stage their own
 * items into these (e.g. the bridge into `outbox` and `payments`).
 */
export const SUBLEVEL_NAMES = {
  /** account id → account record (JSON) */
  accounts: "accounts",
  /** normalised handle → account id (utf8) */
  handles: "handles",
  /**
   * account id → balance in minor units (utf8 decimal string) as of the balance checkpoint;
   * `~checkpoint` → sequence number of the last journal entry it includes (see ledger/ledger.ts)
   */
  balances: "balances",
  /** seqKey(entry seq) → journal entry (compact JSON array, read as an EntryRecord; see ledger/entries.ts) */
  entries: "entries",
  /** accountId!seqKey(entry seq) → history item: the balance after the entry (utf8 decimal; see ledger/history.ts) */
  accountHistory: "account-history",
  /** scope!key → idempotency record (compact JSON array, read as an IdempotencyRecord; see ledger/idempotency.ts) */
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

/** Sublevels with a value encoding of their own (everything else: utf8 or JSON). */
const CUSTOM_ENCODINGS: Partial<Record<SublevelName, object>> = {
  entries: entryEncoding,
  accountHistory: historyEncoding,
  idempotency: idempotencyEncoding,
};

/** Options of {@link openStore}: the group committer's, and LevelDB's memtable size. */
export interface StoreOptions extends CommitterOptions {
  /**
   * LevelDB write buffer (memtable) size in bytes. Default 16 MiB: compared
   * with LevelDB's 4 MiB it flushes a quarter as many level-0 tables, so far
   * less compaction work per write (each flush is merged with all of level 1),
   * for at most two buffers of memory.
   */
  writeBufferSize?: number;
}

/** Default {@link StoreOptions.writeBufferSize}. */
const WRITE_BUFFER_SIZE = 16 * 1024 * 1024;

/**
 * Opens (creating if needed) the LevelDB database at `path`.
 *
 * @example
 * const store = await openStore("/var/lib/hulian/ALIPAY");
 * await store.committer.commit([{ type: "put", sublevel: store.sub.meta, key: "k", value: 1 }]);
 * await store.close();
 */
export async function openStore(path: string, options: StoreOptions = {}): Promise<Store> {
  const db: StoreDb = new Level<string, unknown>(path, {
    keyEncoding: "utf8",
    valueEncoding: "json",
    writeBufferSize: options.writeBufferSize ?? WRITE_BUFFER_SIZE,
  });
  await db.open();
  const sub = {} as Record<SublevelName, Sublevel<unknown>>;
  for (const [name, prefix] of Object.entries(SUBLEVEL_NAMES) as [SublevelName, string][]) {
    sub[name] = db.sublevel<string, unknown>(prefix, {
      keyEncoding: "utf8",
      valueEncoding: (CUSTOM_ENCODINGS[name] ?? (UTF8_SUBLEVELS.has(name) ? "utf8" : "json")) as "json",
    }) as Sublevel<unknown>;
  }
  // Journal entries, history items and idempotency records are each written once.
  const writeOnce = [sub.entries, sub.accountHistory, sub.idempotency, ...(options.writeOnce ?? [])];
  const { writeBufferSize: _, ...committerOptions } = options;
  const committer = new Committer(db, { ...committerOptions, writeOnce });
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
