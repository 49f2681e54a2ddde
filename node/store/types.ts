import type { Level } from "level";
import type { AbstractSublevel } from "abstract-level";

/** The root database: utf8 keys, JSON values unless a sublevel says otherwise. */
export type StoreDb = Level<string, unknown>;

/** A sublevel of the store holding values of type `V` under utf8 keys. */
export type Sublevel<V> = AbstractSublevel<StoreDb, string | Buffer | Uint8Array, string, V>;

/**
 * One write staged for a group-commit batch. The `sublevel` routes it (its
 * key prefix and value encoding apply), exactly like level's batch ops.
 */
export type StagedOp =
  | { type: "put"; sublevel: Sublevel<any>; key: string; value: unknown }
  | { type: "del"; sublevel: Sublevel<any>; key: string };
