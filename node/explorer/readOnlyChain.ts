import { type PublicClient, createPublicClient, custom, http } from "viem";
import { hulianChain } from "../chain/clients.ts";
import { DEFAULT_RPC_CONCURRENCY, limitedFetch } from "../chain/concurrency.ts";

/**
 * The JSON-RPC methods the explorer may call: reads only. Anything else (a transaction, a
 * signature, an account or filter method) is refused before it leaves the process, so the explorer
 * cannot change the chain even through a bug.
 */
export const READ_ONLY_METHODS: ReadonlySet<string> = new Set([
  "eth_chainId",
  "net_version",
  "eth_blockNumber",
  "eth_getBlockByNumber",
  "eth_getBlockByHash",
  "eth_getLogs",
  "eth_call",
  "eth_getTransactionByHash",
  "eth_getTransactionReceipt",
  "eth_getBalance",
  "eth_getCode",
  "eth_gasPrice",
]);

/** A JSON-RPC method outside {@link READ_ONLY_METHODS} was attempted. Never retryable. */
export class ReadOnlyViolationError extends Error {
  override name = "ReadOnlyViolationError";
  readonly method: string;
  constructor(method: string) {
    super(`the explorer is read-only: JSON-RPC method ${method} is not allowed`);
    this.method = method;
  }
}

/**
 * A viem public client whose transport lets only {@link READ_ONLY_METHODS} through. Requests are
 * sent in JSON-RPC batches (up to 100), which keeps catch-up over many blocks cheap, with at most
 * `maxConcurrency` HTTP requests (default {@link DEFAULT_RPC_CONCURRENCY}) in flight over reused
 * keep-alive connections, so catching up never floods the node's connection limit.
 *
 * @example
 * const client = createReadOnlyClient("http://127.0.0.1:8545", 18508);
 * await client.getBlockNumber();
 */
export function createReadOnlyClient(rpcUrl: string, chainId: number, options: { timeoutMs?: number; maxConcurrency?: number } = {}): PublicClient {
  const chain = hulianChain(chainId, rpcUrl);
  const fetchFn = limitedFetch(options.maxConcurrency ?? DEFAULT_RPC_CONCURRENCY);
  const inner = http(rpcUrl, { timeout: options.timeoutMs ?? 30_000, retryCount: 2, batch: { batchSize: 100, wait: 0 }, fetchFn })({ chain });
  const guarded = custom(
    {
      async request({ method, params }: { method: string; params?: unknown }) {
        if (!READ_ONLY_METHODS.has(method)) throw new ReadOnlyViolationError(method);
        return inner.request({ method, params } as never);
      },
    },
    { retryCount: 0 },
  );
  return createPublicClient({ chain, transport: guarded, cacheTime: 0, pollingInterval: 250 }) as PublicClient;
}
