/**
 * The node API client the bridge, directory and end-to-end tests use: the same typed client the
 * demo drives (node/devnet/apiClient.ts), re-exported so tests have one place to import it from.
 */
export {
  ApiError,
  type ApiAccount,
  type ApiPayment,
  type ApiPaymentStatus,
  type ApiReconciliation,
  type Replayable,
  FINAL_PAYMENT_STATUSES,
  NodeApiClient,
  pollUntil,
  waitForFinalPayments,
} from "../../node/devnet/apiClient.ts";
