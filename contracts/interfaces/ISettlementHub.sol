// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title ISettlementHub
 * @notice The only path for cross-wallet payments in Hulian.
 *
 * An operator settles many customer payments in one {settleBatch} call. Sequence numbers are per
 * sending wallet: a batch must start exactly at {nextSeq}, so a replayed or skipped batch reverts
 * and nothing settles twice, with no per-transfer storage write.
 *
 * Transfer ids are derived, never supplied: `transferId = walletId | seq` (the wallet code in the
 * high 24 bytes, the sequence number in the low 8), see {transferIdOf}.
 *
 * A batch comes as payee groups and one `bytes` of packed transfer records (see {settleBatch}); each
 * group emits one {TransfersSettled} carrying its records as they came in calldata. Every record,
 * with the ids and wallets the hub derives for it, is a {Receipt}, whose leaf is
 * `keccak256(bytes.concat(keccak256(abi.encode(transferId, fromWallet, toWallet, seq, amount,
 * payerRef, payeeRef, memoHash))))` (see {receiptLeaf}). The batch root is the Merkle root over the
 * leaves in batch order, pairing sorted (OpenZeppelin `MerkleProof` compatible), level by level,
 * an odd last node moving up unchanged. The hub recomputes the root (it never trusts one from the
 * caller), stores it per batch and chains it:
 * `head = keccak256(abi.encode(prevHead, batchNo, firstSeq, count, root))`, starting from zero.
 *
 * Balances move net per batch: the payer's account is debited once (into the hub), each payee
 * operator is credited once (from the hub), and the hub checks that what left equals what arrived.
 *
 * A payee operator that cannot credit a transfer sends it back with {returnTransfer}, proving the
 * original receipt against its stored batch root; each transfer can be returned once, and only
 * within {returnWindowDays} UTC days of the day its batch settled (the regulator sets the window).
 *
 * Money owed back to a member that may not hold tokens (Suspended or Exited) is never stranded
 * and never blocks the returner: the hub keeps it in a claimable balance of the payer wallet
 * ({ReturnHeld}, {heldReturnsOf}). A Suspended member gets it with {claimHeldReturns} once it is
 * Active again (anyone may trigger the claim; the money only ever goes to the wallet's own
 * settlement account). An Exited member can never hold tokens again, so the regulator directs its
 * held balance to an Active member's settlement account ({releaseHeldReturns}), e.g. the operator
 * that takes over its customers. Invariant: the hub's token balance equals the sum of all held
 * balances after every call.
 *
 * Returns are exempt from the sender limits (they only send back what already passed the payer's
 * limits) but are counted per wallet on chain ({returnTotalsOf}).
 */
interface ISettlementHub {
    /**
     * @notice The transfers of a batch to one payee wallet: the next `count` records of `transfers`.
     * A packed record is 112 bytes, big-endian: amount uint128 (bytes 0-15, token minor units),
     * payerRef bytes32 (16-47), payeeRef bytes32 (48-79), memoHash bytes32 (80-111, zero when
     * there is no memo).
     */
    struct PayeeGroup {
        bytes32 payee;
        uint32 count;
    }

    /// @notice A settled transfer, one record of a {TransfersSettled} event with its derived ids: the preimage of a
    /// receipt leaf.
    struct Receipt {
        bytes32 transferId;
        bytes32 fromWallet;
        bytes32 toWallet;
        uint64 seq;
        uint256 amount;
        bytes32 payerRef;
        bytes32 payeeRef;
        bytes32 memoHash;
    }

    /// @notice Returns counted for a wallet: how many and how much.
    struct ReturnTotal {
        uint64 count;
        uint192 amount;
    }

    /// @notice Per-wallet compliance limits; zero means "no limit".
    struct Limits {
        uint128 perTransfer;
        uint128 daily;
    }

    /**
     * @notice Emitted once per payee group of a settled batch, before {BatchSettled}. `transfers` is the
     * group's packed records exactly as in calldata; `firstSeq` is the sequence number of its first record.
     */
    event TransfersSettled(bytes32 indexed fromWallet, bytes32 indexed toWallet, uint64 firstSeq, bytes transfers);

    /// @notice Emitted once per batch, after the {TransfersSettled} of its groups.
    event BatchSettled(
        bytes32 indexed fromWallet,
        uint64 indexed batchNo,
        uint64 firstSeq,
        uint32 count,
        uint256 total,
        bytes32 root,
        bytes32 prevHead,
        bytes32 head
    );

    /**
     * @notice Emitted when a payee operator returns a transfer it could not credit. `fromWallet` and
     * `toWallet` are those of the ORIGINAL transfer: the money goes back from `toWallet` (the
     * returning payee operator) to `fromWallet` (the original payer's operator), whose customer
     * `payerRef` is credited again.
     */
    event TransferReturned(
        bytes32 indexed originalTransferId,
        bytes32 indexed fromWallet,
        bytes32 indexed toWallet,
        uint256 amount,
        bytes32 payerRef,
        uint16 reasonCode
    );

    /**
     * @notice Emitted with {TransferReturned} when the payer wallet may not hold tokens (Suspended or
     * Exited): the amount stays in the hub, claimable for `fromWallet` (see {heldReturnsOf}).
     */
    event ReturnHeld(bytes32 indexed originalTransferId, bytes32 indexed fromWallet, uint256 amount);

    /// @notice Emitted when a wallet's held returns are paid out, to `to`, on `by`'s call.
    event HeldReturnsClaimed(bytes32 indexed walletId, address indexed to, uint256 amount, address by);

    /// @notice Emitted when the regulator sets the return window.
    event ReturnWindowSet(uint16 returnWindowDays);

    /// @notice Emitted when the regulator sets a wallet's limits.
    event LimitsSet(bytes32 indexed walletId, uint128 perTransfer, uint128 daily);
    /// @notice Emitted when the regulator freezes a customer reference.
    event ReferenceFrozen(bytes32 indexed ref);
    /// @notice Emitted when the regulator unfreezes a customer reference.
    event ReferenceUnfrozen(bytes32 indexed ref);

    /// @notice The caller is not the settlement account of any operator.
    error HubUnknownSender(address caller);
    /// @notice The wallet (sender, payee, or one claiming its held returns) is not Active.
    error HubOperatorNotActive(bytes32 walletId);
    /// @notice The batch starts below nextSeq: it (or part of it) already settled.
    error HubSequenceReplayed(bytes32 walletId, uint64 expected, uint64 provided);
    /// @notice The batch starts above nextSeq: earlier sequences are missing.
    error HubSequenceGap(bytes32 walletId, uint64 expected, uint64 provided);
    /// @notice The batch has no payee groups, or no transfer records.
    error HubEmptyBatch();
    /// @notice The batch has more transfer records or payee groups than allowed.
    error HubBatchTooLarge(uint256 transfers, uint256 payees);
    /// @notice `transfers` is not exactly 112 bytes per record the groups count (`expected` bytes).
    error HubMalformedTransfers(uint256 length, uint256 expected);
    /// @notice Group `groupIndex` has a count of zero.
    error HubEmptyGroup(uint256 groupIndex);
    /// @notice A payee wallet has two groups in the batch.
    error HubDuplicatePayee(bytes32 walletId);
    /// @notice A wallet cannot pay itself through the hub (same-wallet payments stay off chain).
    error HubSelfTransfer(bytes32 walletId);
    /// @notice A transfer of zero; `transferIndex` is the record's index in the batch (its seq is firstSeq + index).
    error HubZeroAmount(uint256 transferIndex);
    /// @notice A transfer above the wallet's per-transfer limit.
    error HubTransferLimitExceeded(bytes32 walletId, uint256 amount, uint256 limit);
    /// @notice The batch would take the wallet's outflow today above its daily limit.
    error HubDailyLimitExceeded(bytes32 walletId, uint256 outflow, uint256 limit);
    /// @notice A payer or payee reference is frozen by the regulator.
    error HubReferenceFrozen(bytes32 ref);
    /// @notice Conservation broke: what left the payer differs from what arrived at payees.
    error HubBatchNotBalanced(uint256 debited, uint256 credited);
    /// @notice No such batch for this wallet.
    error HubUnknownBatch(bytes32 walletId, uint64 batchNo);
    /// @notice The receipt does not prove against the stored batch root.
    error HubInvalidReceiptProof(bytes32 transferId);
    /// @notice Only the payee operator of a transfer may return it.
    error HubNotPayee(bytes32 transferId, bytes32 callerWallet);
    /// @notice The transfer was already returned.
    error HubAlreadyReturned(bytes32 transferId);
    /// @notice A constructor address is zero.
    error HubZeroAddress();
    /**
     * @notice The return comes too late: the batch settled on UTC day `settledDay` (days since
     * 1970), returns were allowed until the end of day `lastDay`.
     */
    error HubReturnWindowClosed(bytes32 transferId, uint256 settledDay, uint256 lastDay);
    /// @notice The wallet has no held returns.
    error HubNothingHeld(bytes32 walletId);
    /// @notice {releaseHeldReturns} is for Exited wallets only; this one is in `status`.
    error HubWalletNotExited(bytes32 walletId, uint8 status);
    /// @notice The recipient of released held returns is not an Active operator's settlement account.
    error HubRecipientNotActive(address to);

    /**
     * @notice Settles a batch of transfers from the caller's wallet.
     * @dev Checks, in this order (the first failing one reverts): {HubUnknownSender},
     * {HubOperatorNotActive} (sender), {HubSequenceReplayed} / {HubSequenceGap}, {HubEmptyBatch},
     * {HubBatchTooLarge}, {HubMalformedTransfers}; then per group in order {HubEmptyGroup},
     * {HubSelfTransfer}, {HubDuplicatePayee}, {HubOperatorNotActive} (payee); then per record in
     * order {HubZeroAmount}, {HubTransferLimitExceeded}, {HubReferenceFrozen} (payerRef, then
     * payeeRef); then {HubDailyLimitExceeded}; then the token's own checks.
     * @param firstSeq must equal {nextSeq} of the caller's wallet.
     * @param groups the payee groups, in record order: the first `groups[0].count` records go to
     * `groups[0].payee`, and so on. Payees distinct, each Active and not the caller's; counts non-zero.
     * @param transfers the packed records (112 bytes each, see {PayeeGroup}), in sequence order:
     * record i gets `firstSeq + i`.
     * @return batchNo the batch number within the caller's wallet (0, 1, …).
     * @return root the Merkle root over the batch's receipt leaves.
     */
    function settleBatch(uint64 firstSeq, PayeeGroup[] calldata groups, bytes calldata transfers)
        external
        returns (uint64 batchNo, bytes32 root);

    /**
     * @notice Sends a settled transfer back to its payer's operator. Only the original payee operator,
     * in any status (a Suspended or Exited payee can still send money back).
     * @dev Checks, in order: {HubUnknownSender}, {HubNotPayee}, {HubUnknownBatch},
     * {HubInvalidReceiptProof}, {HubAlreadyReturned}, {HubReturnWindowClosed}. When the payer's
     * wallet is Active its settlement account is credited; otherwise the amount is held for the
     * payer wallet ({ReturnHeld}), so a return never fails because of the payer's status.
     * Adds the return to {returnTotalsOf} of both wallets.
     * @param original the receipt of the transfer being returned.
     * @param batchNo the batch of the sender in which it settled.
     * @param proof Merkle proof of the receipt's leaf against that batch's root.
     * @param reasonCode why it could not be credited (e.g. 1 = unknown account, 2 = closed account).
     */
    function returnTransfer(Receipt calldata original, uint64 batchNo, bytes32[] calldata proof, uint16 reasonCode)
        external;

    /**
     * @notice Pays a wallet's held returns to its own settlement account, which must be Active
     * again ({HubOperatorNotActive} otherwise; {HubNothingHeld} when there is nothing). Anyone may
     * call it: the money can only go to the wallet itself.
     * @return amount what was paid out.
     */
    function claimHeldReturns(bytes32 walletId) external returns (uint256 amount);

    /**
     * @notice Pays the held returns of an Exited wallet to `to`, an Active operator's settlement
     * account chosen by the regulator (e.g. the member taking over its customers). Only
     * REGULATOR_ROLE; {HubWalletNotExited}, {HubRecipientNotActive}, {HubNothingHeld}.
     * @return amount what was paid out.
     */
    function releaseHeldReturns(bytes32 walletId, address to) external returns (uint256 amount);

    /**
     * @notice Sets the return window in UTC days (0 = returns are never too late). Only
     * REGULATOR_ROLE. Setting the current value again does nothing.
     */
    function setReturnWindow(uint16 returnWindowDays_) external;

    /// @notice Sets a wallet's per-transfer and daily outflow limits (0 = none). Only REGULATOR_ROLE.
    function setLimits(bytes32 walletId, uint128 perTransfer, uint128 daily) external;

    /// @notice Freezes a customer reference: no transfer from or to it settles. Only REGULATOR_ROLE.
    function freezeReference(bytes32 ref) external;

    /// @notice Lifts a freeze. Only REGULATOR_ROLE.
    function unfreezeReference(bytes32 ref) external;

    /// @notice Stops all settlement. Only REGULATOR_ROLE.
    function pause() external;

    /// @notice Resumes settlement. Only REGULATOR_ROLE.
    function unpause() external;

    /// @notice The sequence number the wallet's next batch must start at.
    function nextSeq(bytes32 walletId) external view returns (uint64);

    /// @notice How many batches the wallet has settled.
    function batchCount(bytes32 walletId) external view returns (uint64);

    /// @notice The Merkle root of one of the wallet's batches; reverts with {HubUnknownBatch} past the end.
    function batchRoot(bytes32 walletId, uint64 batchNo) external view returns (bytes32);

    /// @notice The wallet's current root-chain head (zero before its first batch).
    function headOf(bytes32 walletId) external view returns (bytes32);

    /// @notice The wallet's limits.
    function limitsOf(bytes32 walletId) external view returns (Limits memory);

    /// @notice What the wallet has sent today (UTC day of the block timestamp).
    function outflowToday(bytes32 walletId) external view returns (uint256);

    /// @notice True when the reference is frozen.
    function isFrozen(bytes32 ref) external view returns (bool);

    /// @notice How many UTC days after its batch's settlement day a transfer may still be returned (0 = no limit).
    function returnWindowDays() external view returns (uint16);

    /// @notice The UTC day (days since 1970) on which a batch settled; {HubUnknownBatch} past the end.
    function settledDayOf(bytes32 walletId, uint64 batchNo) external view returns (uint256);

    /// @notice The returns held for a wallet that could not hold tokens when they were made.
    function heldReturnsOf(bytes32 walletId) external view returns (uint256);

    /**
     * @notice The returns counted for a wallet: `sent`, the transfers it sent back as payee;
     * `received`, its own payments that came back to it (credited or held).
     */
    function returnTotalsOf(bytes32 walletId)
        external
        view
        returns (ReturnTotal memory sent, ReturnTotal memory received);

    /// @notice True when the transfer has been returned.
    function isReturned(bytes32 transferId) external view returns (bool);

    /// @notice `walletId | seq`: the id of the wallet's transfer with that sequence number.
    function transferIdOf(bytes32 walletId, uint64 seq) external pure returns (bytes32);

    /// @notice The Merkle leaf of a receipt.
    function receiptLeaf(Receipt calldata receipt) external pure returns (bytes32);

    /// @notice True when `receipt` proves against the stored root of `batchNo` of its sender.
    function verifyReceipt(Receipt calldata receipt, uint64 batchNo, bytes32[] calldata proof)
        external
        view
        returns (bool);

    /// @notice The WalletRegistry the hub reads membership from.
    function registry() external view returns (address);

    /// @notice The SettlementToken the hub moves.
    function token() external view returns (address);

    /// @notice Largest number of transfer records in one batch.
    function MAX_BATCH_TRANSFERS() external view returns (uint256);

    /// @notice Largest number of payee groups (distinct payees) in one batch.
    function MAX_BATCH_PAYEES() external view returns (uint256);
}
