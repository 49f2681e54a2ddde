/** Counters and gauges the bridge keeps for /metrics and /healthz. */
export class BridgeMetrics {
  paymentsAccepted = 0;
  paymentsSettled = 0;
  paymentsReturned = 0;
  paymentsRejected = 0;
  inboundCredited = 0;
  inboundHeld = 0;
  returnsSent = 0;
  /** Failed attempts to send a return (each is retried with backoff). */
  returnsFailed = 0;
  /** Returns waiting to be tried again after a failure, as of the returner's last pass. */
  returnsBlocked = 0;
  batchesSubmitted = 0;
  /** Signatures of node-to-node requests recovered (each costs ~1–4 ms of CPU). */
  nodeAuthSignatureChecks = 0;
  /** Sizes of the most recent batches (bounded). */
  readonly batchSizes: number[] = [];
  chainHead = 0n;
  cursor = 0n;
  lastError?: string;

  recordBatch(size: number): void {
    this.batchesSubmitted++;
    this.batchSizes.push(size);
    if (this.batchSizes.length > 1000) this.batchSizes.shift();
  }
}
