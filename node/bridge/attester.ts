import { type Address, type Hex, type PublicClient, encodeFunctionData } from "viem";
import { type InclusionProof, type LiabilityTree, buildLiabilityTreeInSteps, inclusionProofOf } from "../audit/inclusion.ts";
import { reserveAttestationAbi } from "../chain/abi/generated.ts";
import { asContractError } from "../chain/errors.ts";
import type { TransactionSender } from "../chain/transactionSender.ts";
import { attestationReference } from "../directory/references.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { Logger } from "../observability/logger.ts";
import { sleep } from "../timing/sleep.ts";

export interface AttesterDeps {
  ledger: Ledger;
  /** The operator's reference secret: leaves are keyed by `attestationReference(secret, accountId)`. */
  secret: Buffer;
  /** The node's one sender, shared with the batcher so nonces never collide. */
  sender: TransactionSender;
  client: PublicClient;
  attestation: Address;
  wallet: { code: string; walletId: Hex };
  log: Logger;
  /** Clock in epoch milliseconds (tests pin it). */
  now?: () => number;
}

/** An attestation this node posted, with the tree that proves customers' inclusion in it. */
export interface PostedAttestation {
  root: Hex;
  total: bigint;
  asOf: bigint;
  accountCount: number;
  txHash: Hex;
  blockNumber: bigint;
}

/** Seconds an attestation waits for the chain's clock to pass the previous as-of before it gives up (QBFT block periods are a few seconds). */
const MAX_AS_OF_WAITS = 60;

/**
 * Proof of liabilities for one operator: takes a consistent snapshot of every customer balance,
 * builds the Merkle-sum tree keyed by hashed account references (never handles), each balance
 * split into random salted pieces so a proof shows no neighbour's balance, and posts root,
 * total, as-of and count with `ReserveAttestation.attest`, on an interval and on demand. It keeps
 * the tree of the last posted attestation so any customer can get their inclusion proof.
 *
 * Invariant: {@link Attester.posted} and the kept tree always describe the attestation that is on
 * chain (they change only after its transaction succeeded).
 */
export class Attester {
  readonly #deps: AttesterDeps;
  #posted: { attestation: PostedAttestation; tree: LiabilityTree } | undefined;
  #lastAsOf = 0n;
  #queue: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(deps: AttesterDeps) {
    this.#deps = deps;
  }

  /** The attestation last posted by this process. */
  get posted(): PostedAttestation | undefined {
    return this.#posted?.attestation;
  }

  /** Attests now, then every `intervalMs`; failures are logged and retried at the next tick. */
  start(intervalMs: number): void {
    this.#stopped = false;
    const tick = async () => {
      if (this.#stopped) return;
      await this.attestNow().catch((e) => this.#deps.log.warn("reserve attestation failed; retrying at the next interval", { error: (e as Error).message }));
      if (!this.#stopped) this.#timer = setTimeout(tick, intervalMs);
    };
    void tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#queue.catch(() => undefined);
  }

  /** Snapshots the ledger and posts an attestation; concurrent calls run one after another. */
  attestNow(): Promise<PostedAttestation> {
    const run = this.#queue.then(() => this.#attest(), () => this.#attest());
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** The inclusion proof of a customer account in the last posted attestation; undefined when it is not a leaf of it. */
  inclusionProof(accountId: string): InclusionProof | undefined {
    if (!this.#posted) return undefined;
    const { attestation, tree } = this.#posted;
    return inclusionProofOf(tree, attestationReference(this.#deps.secret, accountId), {
      wallet: this.#deps.wallet.code,
      walletId: this.#deps.wallet.walletId,
      asOf: attestation.asOf,
    });
  }

  /**
   * The latest whole second that has passed on the wall clock and that the chain's next block has
   * reached: the contract refuses an as-of after its block's time, and a chain whose clock follows
   * real time (QBFT, the embedded devnet) can trail the wall clock by up to a block period.
   */
  async #asOfNow(now: () => number): Promise<bigint> {
    const wall = BigInt(Math.floor(now() / 1000));
    const { timestamp: chain } = await this.#deps.client.getBlock({ blockTag: "pending" });
    return wall < chain ? wall : chain;
  }

  async #attest(): Promise<PostedAttestation> {
    const { ledger, secret, sender, client, attestation, log } = this.#deps;
    const now = this.#deps.now ?? Date.now;
    if (this.#lastAsOf === 0n) this.#lastAsOf = await this.#chainAsOf();
    // as-of must grow with every attestation (whole seconds): wait out the second we posted in.
    let asOf = await this.#asOfNow(now);
    for (let waited = 0; asOf <= this.#lastAsOf; waited++) {
      if (waited >= MAX_AS_OF_WAITS) throw new Error(`the chain's clock (${asOf}) has not passed the last attestation's as-of (${this.#lastAsOf}) in ${MAX_AS_OF_WAITS} s`);
      // Not cut short by stop(): each wait is under a second, and an attestation asked for must finish.
      await sleep(1_000 - (now() % 1000) + 5);
      asOf = await this.#asOfNow(now);
    }
    // customerBalances() is synchronous: one consistent moment of the ledger.
    const balances = ledger.customerBalances();
    // Hashing yields to the event loop; the snapshot above is already fixed.
    const tree = await buildLiabilityTreeInSteps(balances.map((b) => ({ ref: attestationReference(secret, b.accountId), balance: b.balance })));
    const args = [tree.root, tree.total, asOf, tree.accountCount] as const;
    try {
      // Checked against the pending block, where the transaction will land (the latest can be older than `asOf`).
      await client.simulateContract({ address: attestation, abi: reserveAttestationAbi, functionName: "attest", args, account: sender.address, blockTag: "pending" });
      const data = encodeFunctionData({ abi: reserveAttestationAbi, functionName: "attest", args });
      const gas = await client.estimateGas({ account: sender.address, to: attestation, data, blockTag: "pending" });
      let signed = await sender.sign(attestation, data, (gas * 13n) / 10n);
      if ((await sender.broadcast(signed)) === "stale") {
        // Another of our transactions took the nonce: sign again with a fresh one.
        signed = await sender.sign(attestation, data, (gas * 13n) / 10n);
        await sender.broadcast(signed);
      }
      const receipt = await sender.waitForReceipt(signed.hash);
      if (!receipt) throw new Error(`attestation ${signed.hash} did not land in time`);
      if (receipt.status !== "success") throw new Error(`attestation ${signed.hash} reverted`);
      const posted: PostedAttestation = { root: tree.root, total: tree.total, asOf, accountCount: tree.accountCount, txHash: signed.hash, blockNumber: receipt.blockNumber };
      this.#posted = { attestation: posted, tree };
      this.#lastAsOf = asOf;
      log.info("reserves attested", { root: tree.root, total: tree.total.toString(), accounts: tree.accountCount, leaves: tree.leaves.length, asOf: Number(asOf), tx: signed.hash });
      return posted;
    } catch (e) {
      throw asContractError(e);
    }
  }

  async #chainAsOf(): Promise<bigint> {
    const { client, attestation, wallet } = this.#deps;
    try {
      const latest = (await client.readContract({ address: attestation, abi: reserveAttestationAbi, functionName: "latest", args: [wallet.walletId] })) as { asOf: bigint };
      return BigInt(latest.asOf);
    } catch {
      return 0n;
    }
  }
}
