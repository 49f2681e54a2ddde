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
 */
export function createChainClients(
  rpcUrl: string,
  chainId: number,
  account?: Account,
  options: { pollingIntervalMs?: number; timeoutMs?: number } = {},
): ChainClients {
  const chain = hulianChain(chainId, rpcUrl);
  const transport = http(rpcUrl, { timeout: options.timeoutMs ?? 30_000, retryCount: 0 });
  const publicClient = createPublicClient({
    chain,
    transport,
    pollingInterval: options.pollingIntervalMs ?? 100,
    cacheTime: 0,
  }) as PublicClient;
  const signer = account ? (createWalletClient({ account, chain, transport }) as Signer) : undefined;
  return { chain, publicClient, signer };
}
