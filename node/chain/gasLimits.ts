/**
 * The per-transaction gas cap of EIP-7825 (Osaka): 2^24. A transaction whose gas limit exceeds it
 * is refused by the pool and invalid in a block on every chain that runs Osaka rules (Besu's QBFT
 * networks may set their own cap, `qbft.pertxgaslimit`, from 26.7.0); staying under it keeps a
 * Hulian batch valid on every chain it may run on.
 */
export const EIP7825_MAX_TRANSACTION_GAS = 16_777_216n;

/** The hub's `MAX_BATCH_TRANSFERS`: the most transfers one `settleBatch` carries. */
export const HUB_MAX_BATCH_TRANSFERS = 2_048;
