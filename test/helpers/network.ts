import { afterEach, beforeEach } from "vitest";
import type { Address, Hex } from "viem";
import { settlementTokenAbi } from "../../node/chain/abi/generated.ts";
import { deployHulian } from "../../node/chain/deploy.ts";
import type { DeploymentManifest } from "../../node/chain/manifest.ts";
import { submitMembership } from "../../node/network/governance.ts";
import { walletIdOf } from "../../node/receipts/index.ts";
import { type TestChain, startTestChain } from "./chain.ts";

export interface TestOperator {
  code: string;
  walletId: Hex;
  account: Address;
  validator: Address;
}

export interface TestNetwork extends TestChain {
  manifest: DeploymentManifest;
  deployer: Address;
  governor: Address;
  issuer: Address;
  regulator: Address;
  operators: TestOperator[];
  /** Accounts not used by any role or operator, for "stranger" tests. */
  strangers: Address[];
}

/**
 * A fresh in-process chain with Hulian deployed and `codes` admitted as Active operators, each
 * minted `mint` token units. Accounts: 0 deployer/admin, 1 governor, 2 issuer, 3 regulator,
 * 4.. operators' settlement accounts, then their validators, the rest strangers.
 */
export async function startTestNetwork(
  codes: string[] = ["ALIPAY", "WECHAT", "YUNPAY"],
  mint = 1_000_000_00n,
): Promise<TestNetwork> {
  const chain = await startTestChain();
  const [deployer, governor, issuer, regulator] = chain.accounts;
  const manifest = await deployHulian(chain.wallet(deployer), chain.publicClient, {
    governor,
    issuer,
    regulator,
    network: "embedded-test",
  });
  const operators: TestOperator[] = codes.map((code, i) => ({
    code,
    walletId: walletIdOf(code),
    account: chain.accounts[4 + i],
    validator: chain.accounts[4 + codes.length + i],
  }));
  for (const op of operators) {
    const registry = manifest.contracts.walletRegistry;
    await submitMembership(chain.wallet(op.account), chain.publicClient, registry, {
      action: "apply",
      wallet: op.code,
      name: op.code,
      validator: op.validator,
      endpoint: `http://127.0.0.1/${op.code.toLowerCase()}`,
    });
    await submitMembership(chain.wallet(governor), chain.publicClient, registry, { action: "approve", wallet: op.code });
    if (mint > 0n) {
      const hash = await chain.wallet(issuer).writeContract({
        address: manifest.contracts.settlementToken,
        abi: settlementTokenAbi,
        functionName: "mint",
        args: [op.account, mint, ("0x" + "11".repeat(32)) as Hex],
      } as never);
      await chain.publicClient.waitForTransactionReceipt({ hash });
    }
  }
  return {
    ...chain,
    manifest,
    deployer,
    governor,
    issuer,
    regulator,
    operators,
    strangers: chain.accounts.slice(4 + 2 * codes.length),
  };
}

/**
 * Takes an EVM snapshot before each test of the file and reverts to it after, so every test starts
 * from the state `beforeAll` built (deployed, operators admitted and funded).
 */
export function useEvmSnapshots(network: () => { publicClient: { request: (args: never) => Promise<unknown> } }): void {
  let snapshot: Hex;
  beforeEach(async () => {
    snapshot = (await network().publicClient.request({ method: "evm_snapshot", params: [] } as never)) as Hex;
  });
  afterEach(async () => {
    await network().publicClient.request({ method: "evm_revert", params: [snapshot] } as never);
  });
}
