/**
 * The JSON-RPC methods the embedded chain serves over HTTP: the standard Ethereum execution API
 * (reads, filters, fee estimates) and `eth_sendRawTransaction`, the only way in for a transaction.
 * Everything else the simulator knows is refused, in particular its cheats (`hardhat_*` such as
 * `hardhat_impersonateAccount` and `hardhat_setBalance`, `evm_*`, `debug_*`) and every method that
 * signs with an account the node holds (`eth_sendTransaction`, `eth_sign*`, `eth_accounts`,
 * `personal_*`): with those, any local process could act as the governor or the issuer. Tests and
 * the devnet's own set-up use the cheats through the in-process provider instead.
 *
 * An allow-list (not a deny-list) on purpose: a simulator upgrade that adds a method adds nothing here.
 */
const PUBLIC_RPC_METHODS: ReadonlySet<string> = new Set([
  "web3_clientVersion",
  "web3_sha3",
  "net_version",
  "net_listening",
  "net_peerCount",
  "eth_protocolVersion",
  "eth_syncing",
  "eth_chainId",
  "eth_mining",
  "eth_hashrate",
  "eth_gasPrice",
  "eth_maxPriorityFeePerGas",
  "eth_feeHistory",
  "eth_blobBaseFee",
  "eth_blockNumber",
  "eth_getBalance",
  "eth_getStorageAt",
  "eth_getTransactionCount",
  "eth_getCode",
  "eth_getProof",
  "eth_call",
  "eth_estimateGas",
  "eth_createAccessList",
  "eth_sendRawTransaction",
  "eth_getBlockByHash",
  "eth_getBlockByNumber",
  "eth_getBlockReceipts",
  "eth_getBlockTransactionCountByHash",
  "eth_getBlockTransactionCountByNumber",
  "eth_getUncleCountByBlockHash",
  "eth_getUncleCountByBlockNumber",
  "eth_getUncleByBlockHashAndIndex",
  "eth_getUncleByBlockNumberAndIndex",
  "eth_getTransactionByHash",
  "eth_getTransactionByBlockHashAndIndex",
  "eth_getTransactionByBlockNumberAndIndex",
  "eth_getTransactionReceipt",
  "eth_getLogs",
  "eth_newFilter",
  "eth_newBlockFilter",
  "eth_newPendingTransactionFilter",
  "eth_getFilterChanges",
  "eth_getFilterLogs",
  "eth_uninstallFilter",
]);

/** JSON-RPC's "method not found" code: to a client, a refused method is one this endpoint does not have. */
export const METHOD_NOT_ALLOWED_CODE = -32601;

/** Whether the embedded chain's HTTP endpoint answers `method`. */
export function isPublicRpcMethod(method: string): boolean {
  return PUBLIC_RPC_METHODS.has(method);
}
