export { openStore, SUBLEVEL_NAMES } from "./store.ts";
export type { Store, StoreOptions, StoreSublevels, SublevelName } from "./store.ts";
export { Committer } from "./committer.ts";
export type { CommitterOptions, CommitterStats } from "./committer.ts";
export { Cursors } from "./cursor.ts";
export { seqKey, parseSeqKey, compoundKey, prefixRange, KEY_SEP, KEY_SEP_END, SEQ_KEY_WIDTH } from "./keys.ts";
export { HulianError, CommitFailedError, StoreUnavailableError, CursorRegressionError, InvalidKeyError } from "./errors.ts";
export type { StagedOp, StoreDb, Sublevel } from "./types.ts";
