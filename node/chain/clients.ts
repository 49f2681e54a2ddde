import {
  type Account,
  type Chain,
  type PublicClient,
  type Transport,
  type WalletClient,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
} from "viem";
import { DEFAULT_RPC_CONCURRENCY, limitedFetch } from "./concurrency.ts";

export type Signer = WalletClient<Transport, Chain, Account>;

/** A viem chain description for a Hulian network reached at `rpcUrl`. */
export function hulianChain(chainId: number, rpcUrl: string, name = "hulian"): Chain {
  return defineChain({
    id: chainId,
    name,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
}

export interface ChainClients {
  chain: Chain;
  publicClient: PublicClient;
  /** Present when an account was given: sends transactions signed locally. */
  signer?: Signer;
}

/**
 * Read and (optionally) signing clients over JSON-RPC. Transactions are signed in this process with
 * the operator's key and sent raw, so the same code runs against the embedded chain and Besu.
 * Read and signing clients share one HTTP limiter ({@link DEFAULT_RPC_CONCURRENCY} requests by default).
 */
export function createChainClients(
  rpcUrl: string,
  chainId: number,
  account?: Account,
  options: { pollingIntervalMs?: number; timeoutMs?: number; maxConcurrency?: number } = {},
): ChainClients {
  const chain = hulianChain(chainId, rpcUrl);
  // At most `maxConcurrency` requests in flight, over reused keep-alive sockets: the node's
  // connection limit is shared by every process of the operator.
  const fetchFn = limitedFetch(options.maxConcurrency ?? DEFAULT_RPC_CONCURRENCY);
  const transport = http(rpcUrl, { timeout: options.timeoutMs ?? 30_000, retryCount: 0, fetchFn });
  const publicClient = createPublicClient({
    chain,
    transport,
    pollingInterval: options.pollingIntervalMs ?? 100,
    cacheTime: 0,
  }) as PublicClient;
  const signer = account ? (createWalletClient({ account, chain, transport }) as Signer) : undefined;
  return { chain, publicClient, signer };
}
