import { randomBytes, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { type Address, type Hex, createPublicClient, createWalletClient, encodeFunctionData, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { reserveAttestationAbi, settlementHubAbi, walletRegistryAbi } from "../../node/chain/abi/generated.ts";
import { hulianChain } from "../../node/chain/clients.ts";
import { decryptKey } from "../../node/keys/keystore.ts";
import { buildMerkleSumTree, packTransfers, sumLeaf, walletIdOf } from "../../node/receipts/index.ts";
import { type TestNodes, startTestNodes } from "../helpers/testNode.ts";

/** A cross-wallet payment the demo made, as the payer's node reported it once settled. */
export interface DemoPayment {
  id: string;
  from: string;
  to: string;
  amount: bigint;
  transferId: string;
  txHash: string;
  /** Sent to a handle nobody has, so the payee's node returned it (`payee_account_unknown`). */
  returned?: boolean;
}

export interface DemoNetwork {
  network: TestNodes;
  payments: DemoPayment[];
  /** A customer reference the regulator froze. */
  frozenRef: Hex;
  /** Transaction hash of a settlement attempt that reverted on chain. */
  revertedTx: Hex;
  close(): Promise<void>;
}

async function api(base: string, key: string, method: string, path: string, body?: unknown): Promise<any> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (method === "POST") {
    headers["idempotency-key"] = randomUUID();
    headers["content-type"] = "application/json";
  }
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Sends a transaction as `from` on the embedded chain, which unlocks it (regulator and governor calls in tests only). */
async function asRole(network: TestNodes, from: Address, to: Address, data: Hex): Promise<void> {
  const provider = network.devnet.chain.provider;
  await provider.request({ method: "hardhat_impersonateAccount", params: [from] });
  const hash = (await provider.request({ method: "eth_sendTransaction", params: [{ from, to, data, gas: "0x100000" }] })) as Hex;
  await provider.request({ method: "hardhat_stopImpersonatingAccount", params: [from] });
  const receipt = (await provider.request({ method: "eth_getTransactionReceipt", params: [hash] })) as { status: Hex };
  if (receipt.status !== "0x1") throw new Error(`role transaction ${hash} reverted`);
}

/**
 * A candidate that applies for membership and is never approved (status Pending), from a fresh
 * account of its own, as anyone may.
 */
export async function applyForMembership(network: TestNodes, o: { code: string; name: string; endpoint?: string }): Promise<Address> {
  const provider = network.devnet.chain.provider;
  const from = privateKeyToAccount(`0x${randomBytes(32).toString("hex")}`).address;
  const validator = privateKeyToAccount(`0x${randomBytes(32).toString("hex")}`).address;
  await provider.request({ method: "hardhat_setBalance", params: [from, "0x56BC75E2D63100000"] });
  const data = encodeFunctionData({ abi: walletRegistryAbi, functionName: "applyForMembership", args: [walletIdOf(o.code), o.name, validator, o.endpoint ?? "https://applicant.invalid"] });
  await asRole(network, from, network.devnet.manifest.contracts.walletRegistry, data);
  return from;
}

/**
 * A devnet with the story a regulator should see: three operators, customers on each, `payments`
 * cross-wallet payments (one large), reserve attestations (YUNPAY's above its balance: a
 * shortfall), limits set, a frozen customer reference, a settlement attempt that reverted on chain,
 * and YUNPAY suspended at the end. With `returns`, that many more WECHAT → ALIPAY payments go
 * to handles ALIPAY does not know, and ALIPAY's node returns them. Everything goes through the nodes' HTTP APIs or signed
 * transactions, as in production.
 */
export async function startDemoNetwork(options: { payments?: number; returns?: number } = {}): Promise<DemoNetwork> {
  const count = options.payments ?? 50;
  const network = await startTestNodes(undefined, { batch: { maxTransfers: 8, maxDelayMs: 20 } });
  try {
    const { devnet } = network;
    const customers = new Map<string, { id: string; handle: string }[]>();
    for (const n of network.nodes) {
      const list: { id: string; handle: string }[] = [];
      for (let i = 1; i <= 3; i++) {
        const handle = `${n.code.toLowerCase()}-cust${i}`;
        const account = await api(n.url, n.keys.app, "POST", "/v1/accounts", { handle, displayName: `${n.code} Customer ${i}` });
        // The node credits its float from the reserve mint once its follower has seen it.
        for (let attempt = 0; ; attempt++) {
          try {
            await api(n.url, n.keys.admin, "POST", `/v1/accounts/${account.id}/top-ups`, { amount: "20000000", reference: `bank-${randomUUID()}` });
            break;
          } catch (e) {
            if (attempt > 200 || !String(e).includes("insufficient_reserve")) throw e;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
        list.push({ id: account.id, handle });
      }
      customers.set(n.code, list);
    }

    // WECHAT → ALIPAY most often, so the matrix has a clear busiest cell.
    const routes = [
      ["WECHAT", "ALIPAY"],
      ["ALIPAY", "WECHAT"],
      ["WECHAT", "ALIPAY"],
      ["ALIPAY", "YUNPAY"],
      ["YUNPAY", "WECHAT"],
      ["WECHAT", "YUNPAY"],
      ["YUNPAY", "ALIPAY"],
    ];
    const accepted: { node: (typeof network.nodes)[number]; id: string; from: string; to: string; amount: bigint; ghost?: boolean }[] = [];
    for (let i = 0; i < count; i++) {
      const [fromCode, toCode] = routes[i % routes.length];
      const node = network.byCode(fromCode);
      const payer = customers.get(fromCode)![i % 3];
      const payee = customers.get(toCode)![(i + 1) % 3];
      const amount = i === 7 ? 8_000_000n : BigInt(1_000 + ((i * 7_919) % 250_000));
      const p = await api(node.url, node.keys.app, "POST", "/v1/payments", { from: payer.id, to: `${payee.handle}@${toCode}`, amount: amount.toString(), memo: `demo ${i}` });
      accepted.push({ node, id: p.id, from: fromCode, to: toCode, amount });
    }
    for (let i = 0; i < (options.returns ?? 0); i++) {
      const node = network.byCode("WECHAT");
      const amount = BigInt(300 + i);
      const p = await api(node.url, node.keys.app, "POST", "/v1/payments", { from: customers.get("WECHAT")![0].id, to: `ghost-${i}@ALIPAY`, amount: amount.toString() });
      accepted.push({ node, id: p.id, from: "WECHAT", to: "ALIPAY", amount, ghost: true });
    }
    const payments: DemoPayment[] = [];
    const deadline = Date.now() + 60_000;
    for (const a of accepted) {
      for (;;) {
        const p = await api(a.node.url, a.node.keys.app, "GET", `/v1/payments/${a.id}`);
        // A payment to a ghost settles first and comes back a moment later.
        if (p.status === "returned" || (p.status === "settled" && !a.ghost)) {
          payments.push({ id: a.id, from: a.from, to: a.to, amount: a.amount, transferId: p.transferId, txHash: p.txHash, returned: p.status === "returned" || undefined });
          break;
        }
        if (p.status === "rejected") throw new Error(`demo payment ${a.id} was rejected: ${p.reason}`);
        if (Date.now() > deadline) throw new Error(`demo payment ${a.id} did not settle (status ${p.status})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    const m = devnet.manifest;
    const chain = hulianChain(m.chainId, devnet.chain.url);
    const client = createPublicClient({ chain, transport: http(devnet.chain.url) });
    const signers = new Map<string, ReturnType<typeof createWalletClient>>();
    for (const op of devnet.operators) {
      const { privateKey } = await decryptKey(await readFile(op.keystoreFile, "utf8"), devnet.keystorePassword);
      signers.set(op.code, createWalletClient({ account: privateKeyToAccount(privateKey), chain, transport: http(devnet.chain.url) }));
    }
    const head = await client.getBlock();
    for (const op of devnet.operators) {
      const leaves = [0, 1, 2].map((i) => sumLeaf(`0x${randomBytes(32).toString("hex")}`, op.code === "YUNPAY" ? 400_000_000n : 40_000_000n + BigInt(i)));
      const tree = buildMerkleSumTree(leaves);
      const signer = signers.get(op.code)!;
      const hash = await signer.writeContract({
        address: m.contracts.reserveAttestation,
        abi: reserveAttestationAbi,
        functionName: "attest",
        args: [tree.root.hash, tree.root.sum, head.timestamp, leaves.length],
        account: signer.account!,
        chain,
      });
      await client.waitForTransactionReceipt({ hash });
    }

    const wechat = devnet.operators.find((o) => o.code === "WECHAT")!;
    await asRole(network, m.roles.regulator, m.contracts.settlementHub, encodeFunctionData({ abi: settlementHubAbi, functionName: "setLimits", args: [wechat.walletId, 100_000_000n, 1_000_000_000n] }));
    const frozenRef = `0x${randomBytes(32).toString("hex")}` as Hex;
    await asRole(network, m.roles.regulator, m.contracts.settlementHub, encodeFunctionData({ abi: settlementHubAbi, functionName: "freezeReference", args: [frozenRef] }));

    // A settlement attempt that reverts on chain (a replayed sequence), sent with a fixed gas limit
    // so it is mined instead of being refused at estimation.
    const yunpay = signers.get("YUNPAY")!;
    const alipay = devnet.operators.find((o) => o.code === "ALIPAY")!;
    const before = await client.getBlockNumber();
    try {
      await yunpay.sendTransaction({
        account: yunpay.account!,
        chain,
        to: m.contracts.settlementHub,
        gas: 400_000n,
        data: encodeFunctionData({
          abi: settlementHubAbi,
          functionName: "settleBatch",
          args: [0n, [{ payee: alipay.walletId, count: 1 }], packTransfers([{ amount: 100n, payerRef: frozenRef, payeeRef: frozenRef, memoHash: `0x${"00".repeat(32)}` }])],
        }),
      });
    } catch {
      // The embedded chain mines the transaction and reports the revert as an error.
    }
    const mined = await client.getBlock({ blockNumber: before + 1n });
    const revertedTx = mined.transactions[0];
    if (!revertedTx) throw new Error("the reverting settlement attempt was not mined");

    const yunpayOp = devnet.operators.find((o) => o.code === "YUNPAY")!;
    await asRole(network, m.roles.governor, m.contracts.walletRegistry, encodeFunctionData({ abi: walletRegistryAbi, functionName: "suspend", args: [yunpayOp.walletId, 7] }));
    return { network, payments, frozenRef, revertedTx, close: () => network.close() };
  } catch (e) {
    await network.close();
    throw e;
  }
}
