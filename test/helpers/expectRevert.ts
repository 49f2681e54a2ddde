import { type Abi, type AbiItem, BaseError, ContractFunctionRevertedError, type Hex, decodeErrorResult } from "viem";
import * as generated from "../../node/chain/abi/generated.ts";

/** Every custom error the compiled contracts declare, so raw revert data can be decoded by name. */
const KNOWN_ERRORS: Abi = (() => {
  const seen = new Set<string>();
  const items: AbiItem[] = [];
  for (const value of Object.values(generated as Record<string, unknown>)) {
    if (!Array.isArray(value)) continue;
    for (const item of value as AbiItem[]) {
      if (item.type !== "error") continue;
      const key = `${item.name}(${item.inputs.map((input) => input.type).join(",")})`;
      if (seen.has(key)) continue;
      seen.add(key);
      items.push(item);
    }
  }
  return items as Abi;
})();

interface DecodedRevert {
  errorName: string;
  args: readonly unknown[];
}

const isHexData = (value: unknown): value is Hex => typeof value === "string" && /^0x([0-9a-fA-F]{2})*$/.test(value);

/** Raw revert data somewhere in the error chain (`data`, `data.data`, or a `raw` field). */
function findRevertData(error: unknown): Hex | undefined {
  const stack: unknown[] = [error];
  const visited = new Set<unknown>();
  while (stack.length > 0) {
    const current = stack.pop();
    if (current === null || typeof current !== "object" || visited.has(current)) continue;
    visited.add(current);
    const record = current as Record<string, unknown>;
    for (const candidate of [record.raw, record.data, (record.data as Record<string, unknown> | undefined)?.data]) {
      if (isHexData(candidate) && candidate.length >= 10) return candidate;
    }
    stack.push(record.cause, record.error, record.data);
  }
  return undefined;
}

/** The custom error a failed call reverted with, decoded by viem or, failing that, from raw data. */
function decodeRevert(error: unknown): DecodedRevert | undefined {
  if (error instanceof BaseError) {
    const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError && reverted.data?.errorName) {
      return { errorName: reverted.data.errorName, args: reverted.data.args ?? [] };
    }
  }
  const data = findRevertData(error);
  if (!data) return undefined;
  try {
    const decoded = decodeErrorResult({ abi: KNOWN_ERRORS, data });
    return { errorName: decoded.errorName, args: (decoded.args ?? []) as readonly unknown[] };
  } catch {
    return { errorName: `<undecodable ${data.slice(0, 10)}>`, args: [] };
  }
}

/** Makes values comparable: addresses and hex case-insensitive, numbers as bigint, structs by field. */
function normalize(value: unknown): unknown {
  if (typeof value === "string") return value.startsWith("0x") ? value.toLowerCase() : value;
  if (typeof value === "number") return BigInt(value);
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, entry]) => [key, normalize(entry)]),
    );
  }
  return value;
}

/** Compares expected args with actual ones; an expected function is a predicate on its actual arg. */
function argsMatch(expected: readonly unknown[], actual: readonly unknown[]): boolean {
  if (expected.length !== actual.length) return false;
  return expected.every((want, i) =>
    typeof want === "function" ? Boolean(want(actual[i])) : show(normalize(want)) === show(normalize(actual[i])),
  );
}

const show = (value: unknown): string =>
  JSON.stringify(value, (_key, entry) => (typeof entry === "bigint" ? `${entry}n` : entry));

/**
 * Awaits `promise` (a contract write, simulation, read or deployment) and asserts that it reverted
 * with the custom error `errorName` and, when given, exactly `args` (addresses and hex compared
 * case-insensitively, numbers and bigints alike; an arg given as a function is a predicate on the
 * actual value, for values such as a block time that the test cannot know in advance).
 *
 * @example
 * await expectRevert(
 *   registry.write.approve([walletId], { account: stranger }),
 *   "AccessControlUnauthorizedAccount",
 *   [stranger, GOVERNOR_ROLE],
 * );
 */
export async function expectRevert(
  promise: Promise<unknown>,
  errorName: string,
  args?: readonly unknown[],
): Promise<void> {
  let failure: unknown;
  try {
    await promise;
  } catch (error) {
    failure = error;
  }
  if (failure === undefined) throw new Error(`expected a revert with ${errorName}, but the call succeeded`);
  const decoded = decodeRevert(failure);
  if (!decoded) {
    const message = failure instanceof Error ? failure.message : String(failure);
    throw new Error(`expected a revert with ${errorName}, but the call failed without revert data: ${message}`, {
      cause: failure,
    });
  }
  if (decoded.errorName !== errorName) {
    throw new Error(`expected a revert with ${errorName}, got ${decoded.errorName}(${show(decoded.args)})`, {
      cause: failure,
    });
  }
  if (args !== undefined && !argsMatch(args, decoded.args)) {
    throw new Error(`expected ${errorName}(${show(args)}), got ${errorName}(${show(decoded.args)})`, {
      cause: failure,
    });
  }
}
