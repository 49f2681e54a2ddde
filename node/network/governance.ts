import { type Address, type Hex, type PublicClient, keccak256, stringToHex } from "viem";
import { walletRegistryAbi } from "../chain/abi/generated.ts";
import type { Signer } from "../chain/clients.ts";
import { decodeRevert } from "../chain/errors.ts";
import { OPERATOR_STATUS, type OperatorRecord, readOperator } from "../chain/registryView.ts";
import { sendAndConfirm } from "../chain/signing.ts";
import { isWalletId, walletCodeOf, walletIdOf } from "../receipts/ids.ts";

/** Governance and membership actions on WalletRegistry, as `hulian operator` names them. */
export type MembershipAction = "apply" | "approve" | "reject" | "suspend" | "resume" | "exit" | "clear";

export type MembershipRequest =
  | { action: "apply"; wallet: string; name: string; validator: Address; endpoint: string }
  | { action: "approve" | "resume" | "exit" | "clear"; wallet: string }
  | { action: "reject" | "suspend"; wallet: string; reason: number };

/**
 * WalletRegistry refused a membership action. `errorName` is the contract's custom error
 * (`RegistryInvalidStatus`, `AccessControlUnauthorizedAccount`, …); the message spells its
 * arguments the way an operator reads them (wallet codes, status and role names). Not retryable.
 */
export class MembershipError extends Error {
  override name = "MembershipError";
  readonly errorName: string;
  readonly args: readonly unknown[];
  constructor(action: MembershipAction, wallet: string, errorName: string, args: readonly unknown[], cause?: unknown) {
    super(`WalletRegistry refused ${action} for ${wallet}: ${errorName}(${args.map(readable).join(", ")})`, { cause });
    this.errorName = errorName;
    this.args = args;
  }
}

const ROLE_NAMES = new Map<string, string>([
  [`0x${"00".repeat(32)}`, "DEFAULT_ADMIN_ROLE"],
  [keccak256(stringToHex("GOVERNOR_ROLE")), "GOVERNOR_ROLE"],
]);

function readable(value: unknown): string {
  if (typeof value === "string" && isWalletId(value)) return walletCodeOf(value as Hex);
  if (typeof value === "string" && ROLE_NAMES.has(value.toLowerCase())) return ROLE_NAMES.get(value.toLowerCase())!;
  if (typeof value === "number" && OPERATOR_STATUS[value]) return OPERATOR_STATUS[value]!;
  return String(value);
}

function callOf(request: MembershipRequest): { functionName: string; args: readonly unknown[] } {
  const walletId = walletIdOf(request.wallet);
  switch (request.action) {
    case "apply":
      return { functionName: "applyForMembership", args: [walletId, request.name, request.validator, request.endpoint] };
    case "reject":
    case "suspend":
      if (!Number.isInteger(request.reason) || request.reason < 0 || request.reason > 0xffff) {
        throw new RangeError("a reason code is an integer from 0 to 65535");
      }
      return { functionName: request.action, args: [walletId, request.reason] };
    case "clear":
      // Anyone may clear an application still pending past the registry's time-to-live.
      return { functionName: "clearExpiredApplication", args: [walletId] };
    default:
      return { functionName: request.action, args: [walletId] };
  }
}

/**
 * Sends one membership action to WalletRegistry and waits for it to be mined. A revert becomes a
 * {@link MembershipError} naming the contract's custom error.
 *
 * @example
 * await submitMembership(governor, client, registry, { action: "suspend", wallet: "YUNPAY", reason: 7 });
 */
export async function submitMembership(
  signer: Signer,
  client: PublicClient,
  registry: Address,
  request: MembershipRequest,
): Promise<{ hash: Hex; blockNumber: bigint }> {
  const call = callOf(request);
  try {
    return await sendAndConfirm(signer, client, { address: registry, abi: walletRegistryAbi, ...call });
  } catch (error) {
    const decoded = decodeRevert(error);
    if (decoded) throw new MembershipError(request.action, request.wallet, decoded.errorName, decoded.args, error);
    throw error;
  }
}

/** Every operator the registry holds a record of (pending, active, suspended, exited; a rejected or expired application is deleted), with its current status. */
export async function listOperators(client: PublicClient, registry: Address): Promise<Array<OperatorRecord & { code: string }>> {
  const ids = (await client.readContract({ address: registry, abi: walletRegistryAbi, functionName: "walletIds" })) as Hex[];
  return Promise.all(
    ids.map(async (walletId) => {
      const op = await readOperator(client, registry, walletId);
      return { code: walletCodeOf(op.walletId), ...op };
    }),
  );
}
