import { type Hex, createPublicClient, createWalletClient, http, parseEther } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hulianChain } from "../../node/chain/clients.ts";
import { type EmbeddedChain, fundAccount, startEmbeddedChain } from "../../node/chain/embeddedChain.ts";

/*
 * The embedded chain's served JSON-RPC endpoint, over real HTTP on 127.0.0.1: only the standard
 * methods answer (no simulator cheat, no signing with an account the node holds), signed raw
 * transactions still go through, and block time follows the wall clock under load.
 */

let chain: EmbeddedChain;

beforeAll(async () => {
  chain = await startEmbeddedChain({ port: 0 });
});
afterAll(async () => {
  await chain?.close();
});

async function post(body: unknown): Promise<any> {
  const res = await fetch(chain.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return res.json();
}

const rpc = (method: string, params: unknown[] = []) => post({ jsonrpc: "2.0", id: 1, method, params });

const someone = privateKeyToAccount(generatePrivateKey()).address;

const CHEATS: [string, unknown[]][] = [
  ["hardhat_impersonateAccount", [someone]],
  ["hardhat_setBalance", [someone, "0xde0b6b3a7640000"]],
  ["hardhat_setCode", [someone, "0x00"]],
  ["hardhat_setStorageAt", [someone, "0x0", `0x${"11".repeat(32)}`]],
  ["hardhat_setNonce", [someone, "0x10"]],
  ["hardhat_mine", ["0x2"]],
  ["hardhat_dropTransaction", [`0x${"22".repeat(32)}`]],
  ["evm_mine", []],
  ["evm_increaseTime", [3600]],
  ["evm_setNextBlockTimestamp", ["0xffffffff"]],
  ["evm_setAutomine", [false]],
  ["evm_snapshot", []],
  ["evm_revert", ["0x1"]],
  ["debug_traceTransaction", [`0x${"22".repeat(32)}`]],
  ["eth_sendTransaction", [{ from: someone, to: someone, value: "0x1" }]],
  ["eth_sign", [someone, "0x00"]],
  ["eth_signTransaction", [{ from: someone, to: someone }]],
  ["eth_signTypedData_v4", [someone, "{}"]],
  ["eth_accounts", []],
  ["personal_sign", ["0x00", someone]],
];

describe("served JSON-RPC methods", () => {
  it.each(CHEATS)("error: %s over HTTP answers 'method not allowed'", async (method, params) => {
    const reply = await rpc(method, params);
    expect(reply.result).toBeUndefined();
    expect(reply.error).toEqual({ code: -32601, message: `method not allowed: ${method}` });
  });

  it("error: a refused cheat changes nothing (balance, block number)", async () => {
    const before = await Promise.all([rpc("eth_getBalance", [someone, "latest"]), rpc("eth_blockNumber")]);
    await rpc("hardhat_setBalance", [someone, "0xde0b6b3a7640000"]);
    await rpc("evm_mine");
    const after = await Promise.all([rpc("eth_getBalance", [someone, "latest"]), rpc("eth_blockNumber")]);
    expect(after.map((r) => r.result)).toEqual(before.map((r) => r.result));
    expect(before[0].result).toBe("0x0");
  });

  it("error: a cheat inside a batch is refused, the standard requests beside it are answered", async () => {
    const reply = await post([
      { jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] },
      { jsonrpc: "2.0", id: 2, method: "hardhat_setBalance", params: [someone, "0x1"] },
    ]);
    expect(reply[0]).toEqual({ jsonrpc: "2.0", id: 1, result: `0x${chain.chainId.toString(16)}` });
    expect(reply[1].error.message).toBe("method not allowed: hardhat_setBalance");
  });

  it("error: a batch of more than 1,000 requests is refused whole", async () => {
    const reply = await post(Array.from({ length: 1_001 }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "eth_chainId", params: [] })));
    expect(reply.error).toEqual({ code: -32600, message: "a batch holds at most 1000 requests" });
  });

  it("behavior: a signed transaction still goes through eth_sendRawTransaction", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    // Cheats stay available in process: the devnet funds its accounts this way.
    await fundAccount(chain, account.address);
    const viemChain = hulianChain(chain.chainId, chain.url);
    const wallet = createWalletClient({ account, chain: viemChain, transport: http(chain.url) });
    const client = createPublicClient({ chain: viemChain, transport: http(chain.url) });
    const to = privateKeyToAccount(generatePrivateKey()).address;
    const hash = await wallet.sendTransaction({ to, value: parseEther("1.5") });
    expect((await client.waitForTransactionReceipt({ hash })).status).toBe("success");
    expect(await client.getBalance({ address: to })).toBe(parseEther("1.5"));
  });
});

describe("block time", () => {
  it("behavior: after 200 quick transactions (a block each) the head's timestamp is within 2 s of the wall clock", async () => {
    const account = privateKeyToAccount(generatePrivateKey());
    await fundAccount(chain, account.address);
    const viemChain = hulianChain(chain.chainId, chain.url);
    const wallet = createWalletClient({ account, chain: viemChain, transport: http(chain.url) });
    const client = createPublicClient({ chain: viemChain, transport: http(chain.url) });
    const first = await client.getBlockNumber({ cacheTime: 0 });
    const nonce = await client.getTransactionCount({ address: account.address });
    const signed: Hex[] = [];
    for (let i = 0; i < 200; i++) {
      const request = await wallet.prepareTransactionRequest({ to: account.address, value: 1n, nonce: nonce + i, gas: 21_000n });
      signed.push(await wallet.signTransaction(request as never));
    }
    for (const tx of signed) {
      const reply = await rpc("eth_sendRawTransaction", [tx]);
      expect(reply.error).toBeUndefined();
    }
    const head = await client.getBlock({ blockTag: "latest" });
    expect(head.number - first).toBe(200n);
    // The simulator's default adds a second per block: 200 blocks would put the head ~200 s ahead.
    expect(Number(head.timestamp) - Date.now() / 1000).toBeLessThanOrEqual(2);
    const stamps = new Set<bigint>();
    for (let n = first + 1n; n <= head.number; n++) stamps.add((await client.getBlock({ blockNumber: n })).timestamp);
    expect(stamps.size).toBeLessThan(200);
  });
});
