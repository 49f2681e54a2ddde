// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {ISettlementHub} from "./interfaces/ISettlementHub.sol";
import {ISettlementToken} from "./interfaces/ISettlementToken.sol";
import {IWalletRegistry} from "./interfaces/IWalletRegistry.sol";

/**
 * @title SettlementHub
 * @notice The only path for cross-wallet payments in Hulian. See {ISettlementHub}.
 *
 * @dev Gas is the point of this contract: {settleBatch} is the network's hot path. Its cost per
 * transfer is dominated by what cannot be avoided: the calldata of its 112-byte packed record and
 * the 8 gas per byte of that record in its group's {TransfersSettled} log. Everything else is paid
 * once per group or once per batch:
 *
 * - one LOG3 per payee group, not one LOG4 per transfer: the group's records go into the log as they
 *   came in calldata, one `calldatacopy` into a scratch buffer reused by every group, and the ids,
 *   wallets and sequence numbers that a per-transfer event would repeat are derived by the reader
 *   (`transferId = fromWallet | seq`, `seq = firstSeq + i`);
 * - one SLOAD and one SSTORE of the sender's {WalletState} (sequence, batch count and today's
 *   outflow packed in one slot), one SLOAD of its {Limits}, no storage write per transfer;
 * - the frozen-reference check reads a 1024-bit Bloom filter (4 slots) once per batch and tests two
 *   bits per reference; only a filter hit costs a lookup in the `_frozen` mapping;
 * - group totals are summed on the stack, the payer is debited once and each payee credited once;
 * - the receipt preimage is built in one 256-byte memory buffer: the refs and memo, adjacent in the
 *   packed record as in the receipt, are one `calldatacopy`, the rest three `mstore`s;
 * - the batch Merkle root is built in place over the leaves in memory.
 *
 * Measured (test/contracts/gas.test.ts, 500 transfers to 3 payees, random refs, half the memos set):
 * about 3,230 gas per transfer: calldata 1,435, log 910, the rest 890 (the loop, two hashes per
 * receipt, the root, the batch's fixed cost). One TransferSettled LOG4 and a 5-word ABI struct per
 * transfer cost about 5,800.
 *
 * Invariants (tested in test/contracts/SettlementHub.invariants.test.ts):
 * - conservation: a batch moves exactly its total out of the payer and into the payees, and the
 *   hub's own token balance is the same before and after every batch (Uniswap v4's
 *   `CurrencyNotSettled` idea, checked on measured balances: {HubBatchNotBalanced});
 * - no replay: `nextSeq` only grows, by the batch size, so a transfer id settles at most once;
 * - each transfer is returned at most once;
 * - the hub's token balance equals the sum of the held returns ({heldReturnsOf}) after every call.
 *
 * The return window needs the day each batch settled without a storage write per batch: a wallet's
 * first batch of each UTC day pushes one checkpoint `(batchNo, day)` (the wallet state already
 * knows when a day begins), and the day of any batch is the value of the last checkpoint at or
 * before its number (OpenZeppelin `Checkpoints`, a binary search over the wallet's active days).
 */
contract SettlementHub is ISettlementHub, AccessControl, Pausable {
    using SafeERC20 for IERC20;
    using Checkpoints for Checkpoints.Trace208;

    /// @notice Sets limits, freezes references, pauses.
    bytes32 public constant REGULATOR_ROLE = keccak256("REGULATOR_ROLE");

    /// @inheritdoc ISettlementHub
    uint256 public constant MAX_BATCH_TRANSFERS = 2048;
    /// @inheritdoc ISettlementHub
    uint256 public constant MAX_BATCH_PAYEES = 64;
    /// @notice The return window a new hub starts with, in UTC days.
    uint16 public constant DEFAULT_RETURN_WINDOW_DAYS = 30;

    /// @dev keccak256("TransfersSettled(bytes32,bytes32,uint64,bytes)"),
    /// spelled out because inline assembly only takes literal constants; the constructor checks it
    /// against `TransfersSettled.selector` so the two can never drift apart.
    bytes32 private constant _TRANSFERS_SETTLED_TOPIC =
        0xb68c08d8be0381fdf5dde20d8cbb19b34e75791c640a150a58a0899e1fb8807a;

    /// @dev Odd multiplier (the 256-bit golden ratio) of the filter's multiplicative hash: the top
    /// bits of `ref * _FILTER_MUL` depend on every bit of `ref`, so even references with zero low
    /// bytes (say, left-aligned strings) spread over the filter. One MUL instead of a KECCAK256.
    uint256 private constant _FILTER_MUL = 0x9e3779b97f4a7c15f39cc0605cedc8341082276bf3a27251f86c6a11d0c18e95;

    uint256 private constant _SEQ_MASK = 0xffffffffffffffff;

    /// @dev Bytes of one packed transfer record (see {PayeeGroup}).
    uint256 private constant _RECORD_SIZE = 112;

    /// @dev Memory map of the hot loop, offsets from its base pointer (see {_hotLoop}).
    uint256 private constant _M_FILTER = 0x100;
    uint256 private constant _M_TOTALS = 0x180;
    uint256 private constant _M_LEAVES = 0x9a0;

    /**
     * @dev Everything {settleBatch} reads and writes about the sending wallet, packed in one slot
     * (64 + 40 + 24 + 128 bits) so a batch costs one SLOAD and one SSTORE of it.
     * `batchCount` in 40 bits lasts for 10 batches a second for 3,000 years; `day` (days since
     * 1970) in 24 bits until the year 47,000. `dayOutflow` saturates at `type(uint128).max`, which
     * is exact for the limit check because a daily limit is itself a uint128.
     */
    struct WalletState {
        uint64 nextSeq;
        uint40 batchCount;
        uint24 day;
        uint128 dayOutflow;
    }

    IWalletRegistry private immutable _registry;
    IERC20 private immutable _token;

    mapping(bytes32 walletId => WalletState state) private _wallets;
    mapping(bytes32 walletId => Limits limits) private _limits;
    mapping(bytes32 walletId => bytes32 head) private _heads;
    mapping(bytes32 walletId => mapping(uint64 batchNo => bytes32 root)) private _roots;
    mapping(bytes32 ref => bool frozen) private _frozen;
    mapping(bytes32 transferId => bool returned) private _returned;
    /// @dev Per wallet, one checkpoint `(first batchNo of the day, UTC day)` per day it settled on.
    mapping(bytes32 walletId => Checkpoints.Trace208 settledDays) private _batchDays;
    mapping(bytes32 walletId => uint256 amount) private _held;
    mapping(bytes32 walletId => ReturnTotal total) private _returnsSent;
    mapping(bytes32 walletId => ReturnTotal total) private _returnsReceived;
    uint16 private _returnWindowDays;

    /**
     * @dev Bloom filter over every reference frozen since the filter was last empty: 1024 bits,
     * two per reference. It has no false negatives, so a reference whose bits are not both set is
     * not frozen and costs no mapping lookup. Bits stay set after an unfreeze (a Bloom filter cannot
     * remove): an unfrozen reference may still hit, which only costs the `_frozen` lookup. When the
     * last frozen reference is unfrozen the filter is cleared. With 50 references frozen about
     * 1% of random references hit the filter.
     */
    uint256[4] private _frozenFilter;
    /// @dev Number of currently frozen references; zero means the filter is empty and is skipped.
    uint256 private _frozenCount;

    /**
     * @param registry_ the WalletRegistry (membership and settlement accounts).
     * @param token_ the SettlementToken, whose hub this contract must become.
     * @param admin holder of DEFAULT_ADMIN_ROLE (grants and revokes the regulator).
     * @param regulator holder of REGULATOR_ROLE.
     */
    constructor(address registry_, address token_, address admin, address regulator) {
        if (registry_ == address(0) || token_ == address(0) || admin == address(0) || regulator == address(0)) {
            revert HubZeroAddress();
        }
        assert(_TRANSFERS_SETTLED_TOPIC == TransfersSettled.selector);
        _registry = IWalletRegistry(registry_);
        _token = IERC20(token_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REGULATOR_ROLE, regulator);
        _returnWindowDays = DEFAULT_RETURN_WINDOW_DAYS;
        emit ReturnWindowSet(DEFAULT_RETURN_WINDOW_DAYS);
    }

    // ---------------------------------------------------------------------------------------------
    // Settlement
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc ISettlementHub
    function settleBatch(uint64 firstSeq, PayeeGroup[] calldata groups, bytes calldata transfers)
        external
        whenNotPaused
        returns (uint64 batchNo, bytes32 root)
    {
        (bytes32 walletId, WalletState memory state) = _openBatch(firstSeq, groups, transfers.length);
        Limits memory limits = _limits[walletId];
        (uint256 total, uint256[] memory groupTotals, bytes32[] memory leaves) =
            _settleTransfers(walletId, firstSeq, limits.perTransfer, groups, transfers);
        root = _merkleRoot(leaves);
        _addOutflow(walletId, state, total, limits.daily);
        // {_openBatch} proved the batch has at most MAX_BATCH_TRANSFERS records, one leaf each.
        batchNo = _commitBatch(walletId, state, firstSeq, uint32(leaves.length), total, root);
        _moveFunds(total, groups, groupTotals);
    }

    /// @inheritdoc ISettlementHub
    /// @dev The event names the original transfer's wallets (`fromWallet` is the payer's, who gets
    /// the money back). The caller need not be Active: sending money back is always allowed, so
    /// nothing is stranded by a suspension. Nor need the payer be: what the token would refuse to
    /// credit to it is held in the hub for it instead, so no status of the payer blocks a return.
    function returnTransfer(Receipt calldata original, uint64 batchNo, bytes32[] calldata proof, uint16 reasonCode)
        external
        whenNotPaused
    {
        bytes32 callerWallet = _registry.walletIdOf(msg.sender);
        if (callerWallet == bytes32(0)) revert HubUnknownSender(msg.sender);
        if (callerWallet != original.toWallet) revert HubNotPayee(original.transferId, callerWallet);
        if (batchNo >= _wallets[original.fromWallet].batchCount) {
            revert HubUnknownBatch(original.fromWallet, batchNo);
        }
        // The root was built by this contract over leaves whose ids it derived itself, so a valid
        // proof also proves that transferId == fromWallet | seq, and that the amount fits in 128 bits.
        if (!MerkleProof.verifyCalldata(proof, _roots[original.fromWallet][batchNo], receiptLeaf(original))) {
            revert HubInvalidReceiptProof(original.transferId);
        }
        if (_returned[original.transferId]) revert HubAlreadyReturned(original.transferId);
        _checkReturnWindow(original.transferId, original.fromWallet, batchNo);
        _returned[original.transferId] = true;
        _countReturn(original.toWallet, original.fromWallet, original.amount);

        address payer = _registry.settlementAccountOf(original.fromWallet);
        bool held = !_registry.isActiveAccount(payer);
        ISettlementToken(address(_token)).hubTransfer(msg.sender, held ? address(this) : payer, original.amount);
        if (held) _held[original.fromWallet] += original.amount;
        emit TransferReturned(
            original.transferId, original.fromWallet, original.toWallet, original.amount, original.payerRef, reasonCode
        );
        if (held) emit ReturnHeld(original.transferId, original.fromWallet, original.amount);
    }

    /// @inheritdoc ISettlementHub
    function claimHeldReturns(bytes32 walletId) external whenNotPaused returns (uint256 amount) {
        if (!_registry.isActive(walletId)) revert HubOperatorNotActive(walletId);
        amount = _payOutHeld(walletId, _registry.settlementAccountOf(walletId));
    }

    /// @inheritdoc ISettlementHub
    function releaseHeldReturns(bytes32 walletId, address to)
        external
        onlyRole(REGULATOR_ROLE)
        whenNotPaused
        returns (uint256 amount)
    {
        IWalletRegistry.OperatorStatus status = _registry.statusOf(walletId);
        if (status != IWalletRegistry.OperatorStatus.Exited) revert HubWalletNotExited(walletId, uint8(status));
        if (!_registry.isActiveAccount(to)) revert HubRecipientNotActive(to);
        amount = _payOutHeld(walletId, to);
    }

    // ---------------------------------------------------------------------------------------------
    // Regulator
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc ISettlementHub
    function setReturnWindow(uint16 returnWindowDays_) external onlyRole(REGULATOR_ROLE) {
        if (_returnWindowDays == returnWindowDays_) return;
        _returnWindowDays = returnWindowDays_;
        emit ReturnWindowSet(returnWindowDays_);
    }

    /// @inheritdoc ISettlementHub
    function setLimits(bytes32 walletId, uint128 perTransfer, uint128 daily) external onlyRole(REGULATOR_ROLE) {
        Limits storage limits = _limits[walletId];
        if (limits.perTransfer == perTransfer && limits.daily == daily) return;
        (limits.perTransfer, limits.daily) = (perTransfer, daily);
        emit LimitsSet(walletId, perTransfer, daily);
    }

    /// @inheritdoc ISettlementHub
    function freezeReference(bytes32 ref) external onlyRole(REGULATOR_ROLE) {
        if (_frozen[ref]) return;
        _frozen[ref] = true;
        _frozenCount += 1;
        (uint256 word1, uint256 bit1, uint256 word2, uint256 bit2) = _filterBits(ref);
        _frozenFilter[word1] |= 1 << bit1;
        _frozenFilter[word2] |= 1 << bit2;
        emit ReferenceFrozen(ref);
    }

    /// @inheritdoc ISettlementHub
    function unfreezeReference(bytes32 ref) external onlyRole(REGULATOR_ROLE) {
        if (!_frozen[ref]) return;
        _frozen[ref] = false;
        // Cannot underflow: `ref` was frozen, so it was counted.
        uint256 remaining = --_frozenCount;
        // Nothing is frozen any more, so every bit is stale: start the filter afresh.
        if (remaining == 0) delete _frozenFilter;
        emit ReferenceUnfrozen(ref);
    }

    /// @inheritdoc ISettlementHub
    function pause() external onlyRole(REGULATOR_ROLE) {
        if (!paused()) _pause();
    }

    /// @inheritdoc ISettlementHub
    function unpause() external onlyRole(REGULATOR_ROLE) {
        if (paused()) _unpause();
    }

    // ---------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc ISettlementHub
    function nextSeq(bytes32 walletId) external view returns (uint64) {
        return _wallets[walletId].nextSeq;
    }

    /// @inheritdoc ISettlementHub
    function batchCount(bytes32 walletId) external view returns (uint64) {
        return _wallets[walletId].batchCount;
    }

    /// @inheritdoc ISettlementHub
    function batchRoot(bytes32 walletId, uint64 batchNo) external view returns (bytes32) {
        if (batchNo >= _wallets[walletId].batchCount) revert HubUnknownBatch(walletId, batchNo);
        return _roots[walletId][batchNo];
    }

    /// @inheritdoc ISettlementHub
    function headOf(bytes32 walletId) external view returns (bytes32) {
        return _heads[walletId];
    }

    /// @inheritdoc ISettlementHub
    function limitsOf(bytes32 walletId) external view returns (Limits memory) {
        return _limits[walletId];
    }

    /// @inheritdoc ISettlementHub
    function outflowToday(bytes32 walletId) external view returns (uint256) {
        WalletState memory state = _wallets[walletId];
        return state.day == _today() ? state.dayOutflow : 0;
    }

    /// @inheritdoc ISettlementHub
    function isFrozen(bytes32 ref) external view returns (bool) {
        return _frozen[ref];
    }

    /// @inheritdoc ISettlementHub
    function returnWindowDays() external view returns (uint16) {
        return _returnWindowDays;
    }

    /// @inheritdoc ISettlementHub
    function settledDayOf(bytes32 walletId, uint64 batchNo) external view returns (uint256) {
        if (batchNo >= _wallets[walletId].batchCount) revert HubUnknownBatch(walletId, batchNo);
        return _batchDays[walletId].upperLookupRecent(uint48(batchNo));
    }

    /// @inheritdoc ISettlementHub
    function heldReturnsOf(bytes32 walletId) external view returns (uint256) {
        return _held[walletId];
    }

    /// @inheritdoc ISettlementHub
    function returnTotalsOf(bytes32 walletId)
        external
        view
        returns (ReturnTotal memory sent, ReturnTotal memory received)
    {
        return (_returnsSent[walletId], _returnsReceived[walletId]);
    }

    /// @inheritdoc ISettlementHub
    function isReturned(bytes32 transferId) external view returns (bool) {
        return _returned[transferId];
    }

    /// @inheritdoc ISettlementHub
    function transferIdOf(bytes32 walletId, uint64 seq) external pure returns (bytes32) {
        return walletId | bytes32(uint256(seq));
    }

    /// @inheritdoc ISettlementHub
    function receiptLeaf(Receipt calldata r) public pure returns (bytes32) {
        return keccak256(
            bytes.concat(
                keccak256(
                    abi.encode(
                        r.transferId, r.fromWallet, r.toWallet, r.seq, r.amount, r.payerRef, r.payeeRef, r.memoHash
                    )
                )
            )
        );
    }

    /// @inheritdoc ISettlementHub
    /// @dev False (rather than a revert) for a batch that does not exist.
    function verifyReceipt(Receipt calldata receipt, uint64 batchNo, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        if (batchNo >= _wallets[receipt.fromWallet].batchCount) return false;
        return MerkleProof.verifyCalldata(proof, _roots[receipt.fromWallet][batchNo], receiptLeaf(receipt));
    }

    /// @inheritdoc ISettlementHub
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc ISettlementHub
    function token() external view returns (address) {
        return address(_token);
    }

    // ---------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------

    /// @dev The caller's walletId; reverts unless it is an Active operator's settlement account.
    function _activeWalletOf(address account) private view returns (bytes32 walletId) {
        walletId = _registry.walletIdOf(account);
        if (walletId == bytes32(0)) revert HubUnknownSender(account);
        if (!_registry.isActive(walletId)) revert HubOperatorNotActive(walletId);
    }

    /**
     * @dev Checks everything about the batch that does not depend on its records' contents and
     * returns the sender's wallet and its state with `nextSeq` already advanced past the batch.
     * Reading `groups[j].count` makes the ABI decoder reject a count word outside uint32, so the
     * hot loop may take every count as it finds it in calldata.
     */
    function _openBatch(uint64 firstSeq, PayeeGroup[] calldata groups, uint256 transfersLength)
        private
        view
        returns (bytes32 walletId, WalletState memory state)
    {
        walletId = _activeWalletOf(msg.sender);
        state = _wallets[walletId];
        if (firstSeq != state.nextSeq) {
            if (firstSeq < state.nextSeq) revert HubSequenceReplayed(walletId, state.nextSeq, firstSeq);
            revert HubSequenceGap(walletId, state.nextSeq, firstSeq);
        }
        // Summed in 256 bits, so no count wraps the total past the size check below.
        uint256 count = 0;
        for (uint256 j = 0; j < groups.length; ++j) {
            count += groups[j].count;
        }
        if (count == 0) revert HubEmptyBatch();
        if (count > MAX_BATCH_TRANSFERS || groups.length > MAX_BATCH_PAYEES) {
            revert HubBatchTooLarge(count, groups.length);
        }
        uint256 expected = count * _RECORD_SIZE;
        if (transfersLength != expected) revert HubMalformedTransfers(transfersLength, expected);
        _checkPayees(walletId, groups);
        // Checked arithmetic: reverts if the last sequence number would not fit in uint64, which
        // proves that every `walletId | seq` of the batch keeps seq in the low 8 bytes.
        state.nextSeq = firstSeq + uint64(count);
    }

    /// @dev Stores the batch (state, root, head: three SSTOREs per batch) and emits {BatchSettled}.
    function _commitBatch(
        bytes32 walletId,
        WalletState memory state,
        uint64 firstSeq,
        uint32 count,
        uint256 total,
        bytes32 root
    ) private returns (uint64 batchNo) {
        batchNo = state.batchCount;
        // Checked: a 41st bit of batches reverts rather than wrapping (see {WalletState}).
        state.batchCount += 1;
        _wallets[walletId] = state;
        _roots[walletId][batchNo] = root;
        bytes32 prevHead = _heads[walletId];
        bytes32 head = keccak256(abi.encode(prevHead, batchNo, firstSeq, count, root));
        _heads[walletId] = head;
        emit BatchSettled(walletId, batchNo, firstSeq, count, total, root, prevHead, head);
    }

    /// @dev Groups are few (at most 64), so the quadratic duplicate check is cheaper than any set.
    function _checkPayees(bytes32 walletId, PayeeGroup[] calldata groups) private view {
        for (uint256 j = 0; j < groups.length; ++j) {
            if (groups[j].count == 0) revert HubEmptyGroup(j);
            bytes32 payee = groups[j].payee;
            if (payee == walletId) revert HubSelfTransfer(payee);
            for (uint256 k = 0; k < j; ++k) {
                if (groups[k].payee == payee) revert HubDuplicatePayee(payee);
            }
            if (!_registry.isActive(payee)) revert HubOperatorNotActive(payee);
        }
    }

    /**
     * @dev Runs the hot loop and, if it stopped early, reverts with the reason. Returns the batch
     * total, the per-group totals and the receipt leaves (memory).
     */
    function _settleTransfers(
        bytes32 walletId,
        uint64 firstSeq,
        uint128 perTransfer,
        PayeeGroup[] calldata groups,
        bytes calldata transfers
    ) private returns (uint256 total, uint256[] memory groupTotals, bytes32[] memory leaves) {
        // A zero limit means none: compare against the uint128 range instead.
        uint256 maxAmount = perTransfer == 0 ? type(uint128).max : perTransfer;
        uint256 badIndex;
        (total, badIndex, groupTotals, leaves) = _hotLoop(walletId, firstSeq, maxAmount, groups, transfers);
        if (badIndex != type(uint256).max) _revertBadTransfer(walletId, perTransfer, badIndex, transfers);
    }

    /**
     * @dev The hot loop. For each group: emit its {TransfersSettled}; for each of its records:
     * validate it, add its amount to the group's total, and write its receipt leaf (memory). Group
     * totals go to `groupTotals`, their sum to `total`. `badIndex` is the index (in the batch) of
     * the first invalid record, `type(uint256).max` when all are valid.
     *
     * Memory, from the free pointer `m`, everything at a constant offset so that the loop keeps a
     * single base pointer on the stack (the legacy code generator reaches only 16 stack slots):
     * - `m`: 8 words `transferId, fromWallet, toWallet, seq, amount, payerRef, payeeRef, memoHash`,
     *   the ABI encoding of a {Receipt}, the leaf preimage. `fromWallet` is written once per batch,
     *   `toWallet` once per group; per record the refs and memo are one `calldatacopy` (they lie
     *   next to each other in the packed record, exactly as in the receipt) and the rest three
     *   `mstore`s.
     * - `m + _M_FILTER`: the 4 filter words, loaded once per batch when anything is frozen.
     * - `m + _M_TOTALS`: `uint256[] groupTotals` (room for {MAX_BATCH_PAYEES}).
     * - `m + _M_LEAVES`: `bytes32[] leaves`, one per record; the free pointer ends up past it.
     * - past the free pointer, scratch reused by every group (so memory grows only to the largest
     *   group, not to the batch): the data of its {TransfersSettled}, ABI-encoded as
     *   `(uint64 firstSeq, bytes transfers)`: `firstSeq`, the offset 0x40, the length, then the
     *   group's records copied from calldata as they are, zero-padded to a whole word (112 * count
     *   is a multiple of 16 only: an odd count needs 16 bytes of padding).
     *
     * The log is emitted before the group's records are checked: if one of them is bad the whole
     * call reverts, log included, so checking first would only cost a second pass.
     *
     * Validation is detect-then-explain: the loop only stops at the first bad record, and
     * {_revertBadTransfer} re-reads it in plain Solidity to revert with the precise error, which
     * keeps error encoding out of the loop. Calldata needs no bounds checks: the ABI decoder has
     * already checked that `transfers` and `groups` lie inside calldata, {_openBatch} that every
     * count fits in uint32 and that `transfers` holds exactly 112 bytes per counted record. A
     * packed amount is 16 bytes, so it is below 2^128 by construction; the loop checks
     * `0 < amount <= maxAmount`.
     */
    // One assembly block by design: splitting it would cost stack shuffles per transfer.
    // solhint-disable-next-line function-max-lines
    function _hotLoop(
        bytes32 walletId,
        uint64 firstSeq,
        uint256 maxAmount,
        PayeeGroup[] calldata groups,
        bytes calldata transfers
    ) private returns (uint256 total, uint256 badIndex, uint256[] memory groupTotals, bytes32[] memory leaves) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            // The variables only the per-group code needs come first, deepest in the stack, so the
            // per-record code reaches everything it uses.
            // `t` walks `groupTotals`, `g` the groups in calldata (a PayeeGroup is two words).
            let t := add(mload(0x40), add(_M_TOTALS, 0x20))
            let g := groups.offset
            let gEnd := add(g, shl(6, groups.length))

            let m := sub(t, add(_M_TOTALS, 0x20))
            groupTotals := add(m, _M_TOTALS)
            leaves := add(m, _M_LEAVES)
            {
                let n := div(transfers.length, _RECORD_SIZE)
                mstore(leaves, n)
                mstore(0x40, add(leaves, shl(5, add(n, 1))))
            }
            mstore(groupTotals, groups.length)
            mstore(add(m, 0x20), walletId)
            // The filter is empty exactly when nothing is frozen; then it is not even loaded.
            let checkFrozen := sload(_frozenCount.slot)
            if checkFrozen {
                let slot := _frozenFilter.slot
                mstore(add(m, _M_FILTER), sload(slot))
                mstore(add(m, add(_M_FILTER, 0x20)), sload(add(slot, 1)))
                mstore(add(m, add(_M_FILTER, 0x40)), sload(add(slot, 2)))
                mstore(add(m, add(_M_FILTER, 0x60)), sload(add(slot, 3)))
            }

            let maxAmt := maxAmount
            // `walletId | seq` of the first record; + 1 per record never carries into the wallet
            // bytes because {_openBatch} proved firstSeq + count fits in uint64. (walletId is read
            // back from the receipt buffer: the parameter is out of DUP reach by now.)
            let transferId := or(mload(add(m, 0x20)), firstSeq)
            let leaf := add(leaves, 0x20)
            let p := transfers.offset
            for {} lt(g, gEnd) { g := add(g, 0x40) } {
                let end := add(p, mul(calldataload(add(g, 0x20)), _RECORD_SIZE))
                {
                    let toWallet := calldataload(g)
                    mstore(add(m, 0x40), toWallet)
                    // TransfersSettled(fromWallet, toWallet; firstSeq, transfers) from the scratch
                    // past the free pointer.
                    let buf := mload(0x40)
                    let len := sub(end, p)
                    mstore(buf, and(transferId, _SEQ_MASK))
                    mstore(add(buf, 0x20), 0x40)
                    mstore(add(buf, 0x40), len)
                    calldatacopy(add(buf, 0x60), p, len)
                    // The padding: one zero word right after the records (earlier groups may have
                    // left bytes there), of which the log takes 16 bytes when the count is odd.
                    mstore(add(add(buf, 0x60), len), 0)
                    log3(
                        buf,
                        add(0x60, and(add(len, 0x1f), not(0x1f))),
                        _TRANSFERS_SETTLED_TOPIC,
                        mload(add(m, 0x20)),
                        toWallet
                    )
                }
                let gtot := 0
                for {} lt(p, end) { p := add(p, _RECORD_SIZE) } {
                    // The record's first 16 bytes, big-endian.
                    let amount := shr(128, calldataload(p))
                    // 0 < amount <= maxAmt in one comparison: amount - 1 wraps to 2^256 - 1 for 0.
                    if iszero(lt(sub(amount, 1), maxAmt)) { break }
                    // payerRef, payeeRef, memoHash straight into the receipt buffer
                    calldatacopy(add(m, 0xa0), add(p, 0x10), 0x60)
                    if checkFrozen {
                        // Bloom test of both refs, inlined (a Yul function call costs more than the
                        // test). Per ref: h = ref * _FILTER_MUL; bit 1 is bit byte(1, h) of word
                        // h >> 254, bit 2 is bit byte(2, h) of word (h >> 252) & 3 (see {_filterBits}).
                        let w := add(m, _M_FILTER)
                        let h := mul(mload(add(m, 0xa0)), _FILTER_MUL)
                        let hitPayer := and(
                            and(
                                shr(byte(1, h), mload(add(w, and(shr(249, h), 0x60)))),
                                shr(byte(2, h), mload(add(w, and(shr(247, h), 0x60))))
                            ),
                            1
                        )
                        h := mul(mload(add(m, 0xc0)), _FILTER_MUL)
                        let hitPayee := and(
                            and(
                                shr(byte(1, h), mload(add(w, and(shr(249, h), 0x60)))),
                                shr(byte(2, h), mload(add(w, and(shr(247, h), 0x60))))
                            ),
                            1
                        )
                        // Rare: only a filter hit pays for the `_frozen` lookup (one cold SLOAD).
                        if or(hitPayer, hitPayee) {
                            mstore(0x20, _frozen.slot)
                            if hitPayer {
                                mstore(0x00, mload(add(m, 0xa0)))
                                if sload(keccak256(0x00, 0x40)) { break }
                            }
                            if hitPayee {
                                mstore(0x00, mload(add(m, 0xc0)))
                                if sload(keccak256(0x00, 0x40)) { break }
                            }
                        }
                    }
                    // No overflow: at most 2048 amounts, each below 2^128.
                    gtot := add(gtot, amount)
                    mstore(m, transferId)
                    mstore(add(m, 0x60), and(transferId, _SEQ_MASK))
                    mstore(add(m, 0x80), amount)
                    // leaf = keccak256(bytes.concat(keccak256(abi.encode(receipt))))
                    mstore(0x00, keccak256(m, 0x100))
                    mstore(leaf, keccak256(0x00, 0x20))
                    leaf := add(leaf, 0x20)
                    transferId := add(transferId, 1)
                }
                // A record stopped the inner loop: stop here too.
                if lt(p, end) { break }
                mstore(t, gtot)
                t := add(t, 0x20)
                total := add(total, gtot)
            }
            badIndex := not(0)
            if lt(g, gEnd) { badIndex := shr(5, sub(leaf, add(leaves, 0x20))) }
        }
    }

    /// @dev Explains why the hot loop stopped at record `index`, in the order it checks.
    function _revertBadTransfer(bytes32 walletId, uint128 perTransfer, uint256 index, bytes calldata transfers)
        private
        view
    {
        uint256 at = index * _RECORD_SIZE;
        uint128 amount = uint128(bytes16(transfers[at:at + 16]));
        bytes32 payerRef = bytes32(transfers[at + 16:at + 48]);
        bytes32 payeeRef = bytes32(transfers[at + 48:at + 80]);
        if (amount == 0) revert HubZeroAmount(index);
        if (perTransfer != 0 && amount > perTransfer) revert HubTransferLimitExceeded(walletId, amount, perTransfer);
        if (_frozen[payerRef]) revert HubReferenceFrozen(payerRef);
        revert HubReferenceFrozen(payeeRef);
    }

    /**
     * @dev Root over `nodes` (leaves in batch order), built in place: level by level, each pair is
     * replaced by its sorted hash (OpenZeppelin `Hashes.commutativeKeccak256`), an odd last node
     * moves up unchanged. Writes go to index j <= 2j, behind the reads, so one array suffices.
     */
    function _merkleRoot(bytes32[] memory nodes) private pure returns (bytes32 root) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let n := mload(nodes)
            let base := add(nodes, 0x20)
            for {} gt(n, 1) {} {
                let out := base
                let pairsEnd := add(base, shl(6, shr(1, n)))
                for { let p := base } lt(p, pairsEnd) { p := add(p, 0x40) } {
                    let a := mload(p)
                    let b := mload(add(p, 0x20))
                    // Branchless sort: the smaller word goes to scratch 0x00, the larger to 0x20.
                    let s := shl(5, gt(a, b))
                    mstore(s, a)
                    mstore(xor(s, 0x20), b)
                    mstore(out, keccak256(0x00, 0x40))
                    out := add(out, 0x20)
                }
                if and(n, 1) { mstore(out, mload(pairsEnd)) }
                n := add(shr(1, n), and(n, 1))
            }
            root := mload(base)
        }
    }

    /**
     * @dev Adds the batch to today's outflow and checks the daily limit (0 = none) once per batch.
     * The wallet's first batch of a day (its state still names an earlier day) also records the day
     * for the return window: one checkpoint `(batchNo, today)`, batchNo being the batch count before
     * this batch (it fits in 48 bits: the count has 40).
     */
    function _addOutflow(bytes32 walletId, WalletState memory state, uint256 total, uint128 daily) private {
        uint24 today = _today();
        if (state.day != today) _batchDays[walletId].push(uint48(state.batchCount), today);
        uint256 outflow = (state.day == today ? uint256(state.dayOutflow) : 0) + total;
        if (daily != 0 && outflow > daily) revert HubDailyLimitExceeded(walletId, outflow, daily);
        state.day = today;
        // Saturating is exact for the check above: any later amount takes it past any uint128 limit.
        state.dayOutflow = outflow > type(uint128).max ? type(uint128).max : uint128(outflow);
    }

    /**
     * @dev Debits the payer (the caller's settlement account) once into the hub, credits each payee
     * once from the hub, and checks conservation on measured balances: the hub received exactly the
     * batch total and paid out exactly what it received, so its own balance is unchanged.
     */
    function _moveFunds(uint256 total, PayeeGroup[] calldata groups, uint256[] memory groupTotals) private {
        uint256 before = _token.balanceOf(address(this));
        ISettlementToken(address(_token)).hubTransfer(msg.sender, address(this), total);
        uint256 held = _token.balanceOf(address(this));
        for (uint256 j = 0; j < groups.length; ++j) {
            _token.safeTransfer(_registry.settlementAccountOf(groups[j].payee), groupTotals[j]);
        }
        uint256 remaining = _token.balanceOf(address(this));
        uint256 debited = held - before;
        uint256 credited = held - remaining;
        if (debited != total || credited != debited) revert HubBatchNotBalanced(debited, credited);
    }

    /// @dev Filter positions of `ref`, as the hot loop computes them: two (word, bit) pairs taken
    /// from the top bits of the multiplicative hash `ref * _FILTER_MUL`.
    function _filterBits(bytes32 ref) private pure returns (uint256 word1, uint256 bit1, uint256 word2, uint256 bit2) {
        unchecked {
            // Wrapping multiplication is the hash itself.
            uint256 h = uint256(ref) * _FILTER_MUL;
            (word1, bit1) = (h >> 254, (h >> 240) & 0xff);
            (word2, bit2) = ((h >> 252) & 3, (h >> 232) & 0xff);
        }
    }

    /// @dev Reverts with {HubReturnWindowClosed} when `batchNo` settled more than the window ago.
    function _checkReturnWindow(bytes32 transferId, bytes32 fromWallet, uint64 batchNo) private view {
        uint256 window = _returnWindowDays;
        if (window == 0) return;
        // {returnTransfer} checked that the batch exists, so its day has a checkpoint.
        uint256 settledDay = _batchDays[fromWallet].upperLookupRecent(uint48(batchNo));
        uint256 lastDay = settledDay + window;
        if (_today() > lastDay) revert HubReturnWindowClosed(transferId, settledDay, lastDay);
    }

    /// @dev Counts a return for the wallet that sent it back and the wallet it went back to.
    function _countReturn(bytes32 returner, bytes32 payer, uint256 amount) private {
        // A proven receipt's amount came from a 16-byte packed record, so it fits in uint192.
        uint192 value = uint192(amount);
        ReturnTotal storage sent = _returnsSent[returner];
        (sent.count, sent.amount) = (sent.count + 1, sent.amount + value);
        ReturnTotal storage received = _returnsReceived[payer];
        (received.count, received.amount) = (received.count + 1, received.amount + value);
    }

    /// @dev Pays out and zeroes a wallet's held returns ({HubNothingHeld} when there are none).
    function _payOutHeld(bytes32 walletId, address to) private returns (uint256 amount) {
        amount = _held[walletId];
        if (amount == 0) revert HubNothingHeld(walletId);
        _held[walletId] = 0;
        _token.safeTransfer(to, amount);
        emit HeldReturnsClaimed(walletId, to, amount, msg.sender);
    }

    function _today() private view returns (uint24) {
        return uint24(block.timestamp / 1 days);
    }
}
