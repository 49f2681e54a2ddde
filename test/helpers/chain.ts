import { network } from "hardhat";
import {
  type Account,
  type Address,
  type Chain,
  type PublicClient,
  type Transport,
  type WalletClient,
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
} from "viem";

export type TestWallet = WalletClient<Transport, Chain, Account>;

export interface TestChain {
  chain: Chain;
  publicClient: PublicClient;
  /** The simulator's funded accounts (keys live inside the simulator, never in this repo). */
  accounts: Address[];
  /** A wallet client that sends as `account` (signed by the simulator). */
  wallet(account: Address): TestWallet;
  /** The in-process EIP-1193 provider (for a loopback proxy in front of the chain). */
  provider: { request(args: { method: string; params?: unknown[] }): Promise<unknown> };
  /** Moves the chain's clock forward and mines a block. */
  increaseTime(seconds: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts an in-process EDR chain (Hardhat's simulator) for one test file. */
export async function startTestChain(): Promise<TestChain> {
  const connection = await network.create("embedded");
  const transport = custom(connection.provider, { retryCount: 0 });
  const chainId = Number(await connection.provider.request({ method: "eth_chainId" }));
  const chain = defineChain({
    id: chainId,
    name: "embedded",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: ["http://127.0.0.1"] } },
  });
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 50 }) as PublicClient;
  const accounts = (await connection.provider.request({ method: "eth_accounts" })) as Address[];
  return {
    chain,
    publicClient,
    accounts,
    provider: connection.provider as TestChain["provider"],
    wallet: (account) => createWalletClient({ account, chain, transport }) as TestWallet,
    increaseTime: async (seconds) => {
      await connection.provider.request({ method: "evm_increaseTime", params: [seconds] });
      await connection.provider.request({ method: "evm_mine", params: [] });
    },
    close: () => connection.close(),
  };
}
