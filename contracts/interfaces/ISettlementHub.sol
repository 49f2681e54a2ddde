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
 * Every transfer emits {TransferSettled}. Its receipt leaf is
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
 * original receipt against its stored batch root; each transfer can be returned once.
 */
interface ISettlementHub {
    /// @notice One transfer inside a batch, as packed in calldata.
    struct Transfer {
        /// index of the payee wallet in the batch's `payees` array
        uint8 payee;
        /// amount in token minor units (fen)
        uint128 amount;
        /// pseudonymous payer reference issued by the paying operator
        bytes32 payerRef;
        /// pseudonymous payee reference issued by the payee operator
        bytes32 payeeRef;
        /// hash of the off-chain memo, zero when there is none
        bytes32 memoHash;
    }

    /// @notice A settled transfer as recorded in its {TransferSettled} event: the preimage of a receipt leaf.
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

    /// @notice Per-wallet compliance limits; zero means "no limit".
    struct Limits {
        uint128 perTransfer;
        uint128 daily;
    }

    /// @notice Emitted once per settled transfer.
    event TransferSettled(
        bytes32 indexed transferId,
        bytes32 indexed fromWallet,
        bytes32 indexed toWallet,
        uint64 seq,
        uint256 amount,
        bytes32 payerRef,
        bytes32 payeeRef,
        bytes32 memoHash
    );

    /// @notice Emitted once per batch, after its transfers.
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

    /// @notice Emitted when the regulator sets a wallet's limits.
    event LimitsSet(bytes32 indexed walletId, uint128 perTransfer, uint128 daily);
    /// @notice Emitted when the regulator freezes a customer reference.
    event ReferenceFrozen(bytes32 indexed ref);
    /// @notice Emitted when the regulator unfreezes a customer reference.
    event ReferenceUnfrozen(bytes32 indexed ref);

    /// @notice The caller is not the settlement account of any operator.
    error HubUnknownSender(address caller);
    /// @notice The wallet (sender or payee) is not Active.
    error HubOperatorNotActive(bytes32 walletId);
    /// @notice The batch starts below nextSeq: it (or part of it) already settled.
    error HubSequenceReplayed(bytes32 walletId, uint64 expected, uint64 provided);
    /// @notice The batch starts above nextSeq: earlier sequences are missing.
    error HubSequenceGap(bytes32 walletId, uint64 expected, uint64 provided);
    /// @notice The batch has no transfers.
    error HubEmptyBatch();
    /// @notice The batch has more transfers or payees than allowed.
    error HubBatchTooLarge(uint256 transfers, uint256 payees);
    /// @notice A transfer points past the payees array.
    error HubInvalidPayeeIndex(uint256 transferIndex, uint8 payee);
    /// @notice A payee wallet appears twice in the payees array.
    error HubDuplicatePayee(bytes32 walletId);
    /// @notice A wallet cannot pay itself through the hub (same-wallet payments stay off chain).
    error HubSelfTransfer(bytes32 walletId);
    /// @notice A transfer of zero.
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
     * @notice Settles a batch of transfers from the caller's wallet.
     * @param firstSeq must equal {nextSeq} of the caller's wallet.
     * @param payees distinct payee walletIds, each Active and not the caller's.
     * @param transfers the transfers, in sequence order (transfer i gets `firstSeq + i`).
     * @return batchNo the batch number within the caller's wallet (0, 1, …).
     * @return root the Merkle root over the batch's receipt leaves.
     */
    function settleBatch(uint64 firstSeq, bytes32[] calldata payees, Transfer[] calldata transfers)
        external
        returns (uint64 batchNo, bytes32 root);

    /**
     * @notice Sends a settled transfer back to its payer's operator. Only the original payee operator.
     * @param original the receipt of the transfer being returned.
     * @param batchNo the batch of the sender in which it settled.
     * @param proof Merkle proof of the receipt's leaf against that batch's root.
     * @param reasonCode why it could not be credited (e.g. 1 = unknown account, 2 = closed account).
     */
    function returnTransfer(Receipt calldata original, uint64 batchNo, bytes32[] calldata proof, uint16 reasonCode)
        external;

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

    /// @notice Largest number of transfers in one batch.
    function MAX_BATCH_TRANSFERS() external view returns (uint256);

    /// @notice Largest number of distinct payees in one batch.
    function MAX_BATCH_PAYEES() external view returns (uint256);
}
