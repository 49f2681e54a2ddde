import type { Address, Hex, PublicClient } from "viem";
import { walletRegistryAbi } from "./abi/generated.ts";

/** Status codes as in `IWalletRegistry.OperatorStatus`. */
export const OPERATOR_STATUS = ["None", "Pending", "Active", "Suspended", "Exited"] as const;
export type OperatorStatusName = (typeof OPERATOR_STATUS)[number];

export interface OperatorRecord {
  walletId: Hex;
  name: string;
  settlementAccount: Address;
  validator: Address;
  endpoint: string;
  status: OperatorStatusName;
  suspensionReason: number;
}

/**
 * Reads operators from WalletRegistry with a short cache: node-to-node calls look up the caller
 * and the payee's endpoint on every request, and membership changes are rare.
 */
export class RegistryView {
  readonly #client: PublicClient;
  readonly #address: Address;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { at: number; value: Promise<OperatorRecord | undefined> }>();

  constructor(client: PublicClient, address: Address, ttlMs = 5_000) {
    this.#client = client;
    this.#address = address;
    this.#ttlMs = ttlMs;
  }

  /** The operator with this walletId, or undefined when none applied. */
  operator(walletId: Hex): Promise<OperatorRecord | undefined> {
    const key = walletId.toLowerCase();
    const hit = this.#cache.get(key);
    if (hit && Date.now() - hit.at < this.#ttlMs) return hit.value;
    const value = this.#load(walletId);
    this.#cache.set(key, { at: Date.now(), value });
    value.catch(() => this.#cache.delete(key));
    return value;
  }

  /** Forgets cached entries (after a governance change). */
  invalidate(): void {
    this.#cache.clear();
  }

  async #load(walletId: Hex): Promise<OperatorRecord | undefined> {
    const status = Number(
      await this.#client.readContract({ address: this.#address, abi: walletRegistryAbi, functionName: "statusOf", args: [walletId] }),
    );
    if (status === 0) return undefined;
    return readOperator(this.#client, this.#address, walletId);
  }
}

/** One operator as WalletRegistry stores it (reverts for a walletId that never applied). */
export async function readOperator(client: PublicClient, registry: Address, walletId: Hex): Promise<OperatorRecord> {
  const op = (await client.readContract({ address: registry, abi: walletRegistryAbi, functionName: "getOperator", args: [walletId] })) as {
    walletId: Hex;
    name: string;
    settlementAccount: Address;
    validator: Address;
    endpoint: string;
    status: number;
    suspensionReason: number;
  };
  return {
    walletId: op.walletId,
    name: op.name,
    settlementAccount: op.settlementAccount,
    validator: op.validator,
    endpoint: op.endpoint,
    status: OPERATOR_STATUS[op.status] ?? "None",
    suspensionReason: Number(op.suspensionReason),
  };
}
