import { BaseError, ContractFunctionRevertedError, type Hex } from "viem";

/**
 * A contract refused a call with one of its custom errors: `name` is the Solidity error's name
 * (e.g. `HubSequenceGap`), `args` its decoded arguments. Not retryable: the same call fails again.
 */
export class ContractRevertError extends Error {
  override name = "ContractRevertError";
  readonly errorName: string;
  readonly args: readonly unknown[];
  constructor(errorName: string, args: readonly unknown[], cause?: unknown) {
    super(`contract reverted with ${errorName}(${args.map((a) => String(a)).join(", ")})`, { cause });
    this.errorName = errorName;
    this.args = args;
  }
}

/** The chain could not be reached or answered badly: a retry later can help. */
export class ChainUnavailableError extends Error {
  override name = "ChainUnavailableError";
  readonly retryable = true;
}

/** The decoded custom error of a failed viem contract call, if it was a revert with one. */
export function decodeRevert(error: unknown): { errorName: string; args: readonly unknown[]; data?: Hex } | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (revert instanceof ContractFunctionRevertedError && revert.data?.errorName) {
    return { errorName: revert.data.errorName, args: revert.data.args ?? [] };
  }
  return undefined;
}

/** True for transport failures (connection refused, timeouts, 5xx): the call may succeed later. */
export function isTransportError(error: unknown): boolean {
  if (!(error instanceof BaseError)) {
    const code = (error as { code?: string })?.code;
    return code === "ECONNREFUSED" || code === "ECONNRESET" || code === "UND_ERR_SOCKET";
  }
  return Boolean(
    error.walk(
      (e) =>
        (e as { name?: string }).name === "HttpRequestError" ||
        (e as { name?: string }).name === "TimeoutError" ||
        (e as { name?: string }).name === "SocketClosedError",
    ),
  );
}

/** Turns a failure into a {@link ContractRevertError} when it carries a custom error; else returns it. */
export function asContractError(error: unknown): unknown {
  const decoded = decodeRevert(error);
  return decoded ? new ContractRevertError(decoded.errorName, decoded.args, error) : error;
}
