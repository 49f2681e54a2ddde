import type { Address, Hex } from "viem";
import type { AuditChainReader, OperatorInfo } from "./chainReader.ts";
import { AuditFailure, type AuditFailureCode } from "./errors.ts";
import { codeOf } from "./transferRef.ts";

/** One operator's backing, as `hulian audit reserves` reports it. */
export interface ReserveRow {
  walletId: Hex;
  code: string;
  name: string;
  status: OperatorInfo["status"];
  settlementAccount: Address;
  tokenBalance: bigint;
  liabilities?: bigint;
  /** tokenBalance / liabilities with 4 decimals; undefined without liabilities. */
  backingRatio?: string;
  accountCount?: number;
  asOf?: string;
  postedAt?: string;
  ageSeconds?: number;
  problems: { code: AuditFailureCode; message: string }[];
}

export interface ReservesReport {
  ok: boolean;
  checkedAt: string;
  maxAgeSeconds: number;
  operators: ReserveRow[];
}

/** `balance / liabilities` to 4 decimals, computed in integers. */
export function backingRatio(balance: bigint, liabilities: bigint): string | undefined {
  if (liabilities === 0n) return undefined;
  const scaled = (balance * 10_000n) / liabilities;
  return `${scaled / 10_000n}.${(scaled % 10_000n).toString().padStart(4, "0")}`;
}

/**
 * Judges one operator's backing: under-backed when its token balance is below its attested
 * liabilities, stale when the attestation's as-of is older than `maxAgeSeconds`, and a finding
 * of its own when it never attested.
 */
export function judgeReserves(
  op: OperatorInfo,
  tokenBalance: bigint,
  attestation: { totalLiabilities: bigint; asOf: bigint; postedAt: bigint; accountCount: number } | undefined,
  nowSeconds: number,
  maxAgeSeconds: number,
): ReserveRow {
  const code = codeOf(op.walletId);
  const row: ReserveRow = {
    walletId: op.walletId,
    code,
    name: op.name,
    status: op.status,
    settlementAccount: op.settlementAccount,
    tokenBalance,
    problems: [],
  };
  if (!attestation) {
    row.problems.push({ code: "never_attested", message: `${code} has never posted a reserve attestation` });
    return row;
  }
  row.liabilities = attestation.totalLiabilities;
  row.backingRatio = backingRatio(tokenBalance, attestation.totalLiabilities);
  row.accountCount = attestation.accountCount;
  row.asOf = new Date(Number(attestation.asOf) * 1000).toISOString();
  row.postedAt = new Date(Number(attestation.postedAt) * 1000).toISOString();
  row.ageSeconds = Math.max(0, nowSeconds - Number(attestation.asOf));
  if (tokenBalance < attestation.totalLiabilities) {
    row.problems.push({
      code: "under_backed",
      message: `${code} is under-backed: token balance ${tokenBalance} < attested liabilities ${attestation.totalLiabilities} (short by ${attestation.totalLiabilities - tokenBalance})`,
    });
  }
  if (row.ageSeconds > maxAgeSeconds) {
    row.problems.push({ code: "stale_attestation", message: `${code}'s attestation is ${row.ageSeconds} s old (as of ${row.asOf}), more than the ${maxAgeSeconds} s allowed` });
  }
  return row;
}

/**
 * The backing of every operator that holds customer money (Active or Suspended): token balance,
 * attested liabilities, backing ratio and the attestation's age.
 */
export async function reservesReport(
  reader: AuditChainReader,
  options: { maxAgeSeconds?: number; nowSeconds?: number } = {},
): Promise<ReservesReport> {
  const maxAgeSeconds = options.maxAgeSeconds ?? 3_600;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  // Members only: pending applications (anyone may apply, as often as they like) cost no reads.
  const operators = await reader.members();
  const rows = await Promise.all(
    operators.map(async (op) => {
      const [balance, attestation] = await Promise.all([reader.tokenBalance(op.settlementAccount), reader.latestAttestation(op.walletId)]);
      return judgeReserves(op, balance, attestation, now, maxAgeSeconds);
    }),
  );
  return { ok: rows.every((r) => r.problems.length === 0), checkedAt: new Date(now * 1000).toISOString(), maxAgeSeconds, operators: rows };
}

/** Throws the report's first finding (under-backed before stale before never attested), listing all of them. */
export function assertReserves(report: ReservesReport): void {
  const problems = report.operators.flatMap((r) => r.problems);
  if (problems.length === 0) return;
  const rank: AuditFailureCode[] = ["under_backed", "stale_attestation", "never_attested"];
  const first = [...problems].sort((a, b) => rank.indexOf(a.code) - rank.indexOf(b.code))[0];
  throw new AuditFailure(first.code, problems.map((p) => p.message).join("; "), { problems });
}
