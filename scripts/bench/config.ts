/** How big each part of the benchmark is. */
export interface BenchConfig {
  mode: "full" | "quick";
  ledger: { payments: number; naivePayments: number; concurrency: number };
  /** Accounts opened in each wallet (each payer and payee). */
  customers: number;
  e2e: { payments: number; connections: number; naivePayments: number };
  /** The same end-to-end run through `POST /v1/payments/bulk`: `perRequest` payments a request, `connections` requests in flight per node. */
  e2eBulk: { payments: number; perRequest: number; connections: number };
  api: { sameWalletSec: number; connections: number; latencyRate: number; latencySec: number };
  naiveGasPayments: number;
}

/** The full run: the sizes the targets are stated for (3–6 minutes here, depending on load). */
export const FULL: BenchConfig = {
  mode: "full",
  ledger: { payments: 100_000, naivePayments: 2_000, concurrency: 2_000 },
  customers: 100,
  e2e: { payments: 21_000, connections: 32, naivePayments: 3_000 },
  e2eBulk: { payments: 21_000, perRequest: 500, connections: 2 },
  api: { sameWalletSec: 10, connections: 32, latencyRate: 1_000, latencySec: 20 },
  naiveGasPayments: 20,
};

/** `--quick`: every figure, smaller, in under a minute (smoke runs and CI). */
export const QUICK: BenchConfig = {
  mode: "quick",
  ledger: { payments: 10_000, naivePayments: 200, concurrency: 2_000 },
  customers: 10,
  e2e: { payments: 1_500, connections: 16, naivePayments: 200 },
  e2eBulk: { payments: 1_500, perRequest: 250, connections: 1 },
  api: { sameWalletSec: 2, connections: 32, latencyRate: 1_000, latencySec: 5 },
  naiveGasPayments: 5,
};
