// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ISettlementHub} from "./interfaces/ISettlementHub.sol";
import {ISettlementToken} from "./interfaces/ISettlementToken.sol";
import {IWalletRegistry} from "./interfaces/IWalletRegistry.sol";

/**
 * @title SettlementHub
 * @notice The only path for cross-wallet payments in Hulian. See {ISettlementHub}.
 *
 * @dev Gas is the point of this contract: {settleBatch} is the network's hot path. Its cost per
 * transfer is dominated by what cannot be avoided (the calldata of the transfer and the LOG of its
 * {TransferSettled} event); everything else is paid once per batch:
 *
 * - one SLOAD and one SSTORE of the sender's {WalletState} (sequence, batch count and today's
 *   outflow packed in one slot), one SLOAD of its {Limits}, no storage write per transfer;
 * - the frozen-reference check reads a 1024-bit Bloom filter (4 slots) once per batch and tests two
 *   bits per reference; only a filter hit costs a lookup in the `_frozen` mapping;
 * - per-payee totals are summed in memory, the payer is debited once and each payee credited once;
 * - the receipt preimage is built in one 256-byte memory buffer whose last five words are exactly
 *   the event's data, so the same bytes feed `log4` and `keccak256`;
 * - the batch Merkle root is built in place over the leaves in memory.
 *
 * Invariants (tested in test/contracts/SettlementHub.invariants.test.ts):
 * - conservation: a batch moves exactly its total out of the payer and into the payees, and the
 *   hub's own token balance is the same before and after every call (Uniswap v4's
 *   `CurrencyNotSettled` idea, checked on measured balances: {HubBatchNotBalanced});
 * - no replay: `nextSeq` only grows, by the batch size, so a transfer id settles at most once;
 * - each transfer is returned at most once.
 */
contract SettlementHub is ISettlementHub, AccessControl, Pausable {
    using SafeERC20 for IERC20;

    /// @notice Sets limits, freezes references, pauses.
    bytes32 public constant REGULATOR_ROLE = keccak256("REGULATOR_ROLE");

    /// @inheritdoc ISettlementHub
    uint256 public constant MAX_BATCH_TRANSFERS = 2048;
    /// @inheritdoc ISettlementHub
    uint256 public constant MAX_BATCH_PAYEES = 64;

    /// @dev keccak256("TransferSettled(bytes32,bytes32,bytes32,uint64,uint256,bytes32,bytes32,bytes32)"),
    /// spelled out because inline assembly only takes literal constants; the constructor checks it
    /// against `TransferSettled.selector` so the two can never drift apart.
    bytes32 private constant _TRANSFER_SETTLED_TOPIC =
        0xfa4cd323e24286e9516f0b0f5a447d3952e654a22b1706ad724e0d5e427c525d;

    /// @dev Odd multiplier (the 256-bit golden ratio) of the filter's multiplicative hash: the top
    /// bits of `ref * _FILTER_MUL` depend on every bit of `ref`, so even references with zero low
    /// bytes (say, left-aligned strings) spread over the filter. One MUL instead of a KECCAK256.
    uint256 private constant _FILTER_MUL = 0x9e3779b97f4a7c15f39cc0605cedc8341082276bf3a27251f86c6a11d0c18e95;

    uint256 private constant _SEQ_MASK = 0xffffffffffffffff;

    /// @dev Memory map of the hot loop, offsets from its base pointer (see {_hotLoop}).
    uint256 private constant _M_FILTER = 0x100;
    uint256 private constant _M_PAYEES = 0x180;
    uint256 private constant _M_TOTALS = 0x980;
    uint256 private constant _M_LEAVES = 0x11a0;

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
        assert(_TRANSFER_SETTLED_TOPIC == TransferSettled.selector);
        _registry = IWalletRegistry(registry_);
        _token = IERC20(token_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REGULATOR_ROLE, regulator);
    }

    // ---------------------------------------------------------------------------------------------
    // Settlement
    // ---------------------------------------------------------------------------------------------

    /// @inheritdoc ISettlementHub
    function settleBatch(uint64 firstSeq, bytes32[] calldata payees, Transfer[] calldata transfers)
        external
        whenNotPaused
        returns (uint64 batchNo, bytes32 root)
    {
        (bytes32 walletId, WalletState memory state) = _openBatch(firstSeq, payees, transfers.length);
        Limits memory limits = _limits[walletId];
        (uint256 total, uint256[] memory payeeTotals, bytes32[] memory leaves) =
            _settleTransfers(walletId, firstSeq, limits.perTransfer, payees, transfers);
        root = _merkleRoot(leaves);
        _addOutflow(walletId, state, total, limits.daily);
        batchNo = _commitBatch(walletId, state, firstSeq, uint32(transfers.length), total, root);
        _moveFunds(total, payees, payeeTotals);
    }

    /// @inheritdoc ISettlementHub
    /// @dev The event names the original transfer's wallets (`fromWallet` is the payer's, who gets
    /// the money back). The caller need not be Active: sending money back is always allowed, so
    /// nothing is stranded by a suspension; the token still refuses to credit a non-Active payer.
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
        // proof also proves that transferId == fromWallet | seq.
        if (!MerkleProof.verifyCalldata(proof, _roots[original.fromWallet][batchNo], receiptLeaf(original))) {
            revert HubInvalidReceiptProof(original.transferId);
        }
        if (_returned[original.transferId]) revert HubAlreadyReturned(original.transferId);
        _returned[original.transferId] = true;

        ISettlementToken(address(_token)).hubTransfer(
            msg.sender, _registry.settlementAccountOf(original.fromWallet), original.amount
        );
        emit TransferReturned(
            original.transferId, original.fromWallet, original.toWallet, original.amount, original.payerRef, reasonCode
        );
    }

    // ---------------------------------------------------------------------------------------------
    // Regulator
    // ---------------------------------------------------------------------------------------------

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
     * @dev Checks everything about the batch that does not depend on its transfers and returns the
     * sender's wallet and its state with `nextSeq` already advanced past the batch.
     */
    function _openBatch(uint64 firstSeq, bytes32[] calldata payees, uint256 count)
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
        if (count == 0) revert HubEmptyBatch();
        if (count > MAX_BATCH_TRANSFERS || payees.length > MAX_BATCH_PAYEES) {
            revert HubBatchTooLarge(count, payees.length);
        }
        _checkPayees(walletId, payees);
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

    /// @dev Payees are few (at most 64), so the quadratic duplicate check is cheaper than any set.
    function _checkPayees(bytes32 walletId, bytes32[] calldata payees) private view {
        for (uint256 j = 0; j < payees.length; ++j) {
            bytes32 payee = payees[j];
            if (payee == walletId) revert HubSelfTransfer(payee);
            for (uint256 k = 0; k < j; ++k) {
                if (payees[k] == payee) revert HubDuplicatePayee(payee);
            }
            if (!_registry.isActive(payee)) revert HubOperatorNotActive(payee);
        }
    }

    /**
     * @dev Runs the hot loop and, if it stopped early, reverts with the reason. Returns the batch
     * total, the per-payee totals and the receipt leaves (memory).
     */
    function _settleTransfers(
        bytes32 walletId,
        uint64 firstSeq,
        uint128 perTransfer,
        bytes32[] calldata payees,
        Transfer[] calldata transfers
    ) private returns (uint256 total, uint256[] memory payeeTotals, bytes32[] memory leaves) {
        // A zero limit means none: compare against the uint128 range instead, which also rejects
        // out-of-range calldata words.
        uint256 maxAmount = perTransfer == 0 ? type(uint128).max : perTransfer;
        uint256 badIndex;
        (total, badIndex, payeeTotals, leaves) = _hotLoop(walletId, firstSeq, maxAmount, payees, transfers);
        if (badIndex != type(uint256).max) {
            _revertBadTransfer(walletId, payees.length, perTransfer, badIndex, transfers[badIndex]);
        }
    }

    /**
     * @dev The hot loop. For each transfer: validate it, add its amount to the batch total and to
     * its payee's total (memory), emit {TransferSettled} and write its receipt leaf (memory).
     * `badIndex` is the index of the first invalid transfer, `type(uint256).max` when all are valid.
     *
     * Memory, from the free pointer `m`, everything at a constant offset so that the loop keeps a
     * single base pointer on the stack (the legacy code generator reaches only 16 stack slots):
     * - `m`: 8 words `transferId, fromWallet, toWallet, seq, amount, payerRef, payeeRef, memoHash`,
     *   the ABI encoding of a {Receipt}. All of it is the leaf preimage and its last five words are
     *   exactly the data of {TransferSettled}, so one buffer feeds both `keccak256` and `log4` and
     *   nothing is encoded twice.
     * - `m + _M_FILTER`: the 4 filter words, loaded once per batch when anything is frozen.
     * - `m + _M_PAYEES`: the payee walletIds (room for {MAX_BATCH_PAYEES}).
     * - `m + _M_TOTALS`: `uint256[] payeeTotals` (room for {MAX_BATCH_PAYEES}).
     * - `m + _M_LEAVES`: `bytes32[] leaves`, one per transfer.
     *
     * Validation is detect-then-explain: the loop only stops at the first bad transfer, and
     * {_revertBadTransfer} re-reads it in plain Solidity to revert with the precise error, which
     * keeps error encoding out of the loop. Calldata needs no bounds checks: the ABI decoder has
     * already checked that `transfers` and `payees` lie inside calldata. It has not range-checked
     * each element's `uint8`/`uint128`, so the loop does: `payee < payees.length <= 64` and
     * `0 < amount <= maxAmount <= type(uint128).max`.
     */
    // One assembly block by design: splitting it would cost stack shuffles per transfer.
    // solhint-disable-next-line function-max-lines
    function _hotLoop(
        bytes32 walletId,
        uint64 firstSeq,
        uint256 maxAmount,
        bytes32[] calldata payees,
        Transfer[] calldata transfers
    ) private returns (uint256 total, uint256 badIndex, uint256[] memory payeeTotals, bytes32[] memory leaves) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let m := mload(0x40)
            payeeTotals := add(m, _M_TOTALS)
            leaves := add(m, _M_LEAVES)
            mstore(0x40, add(leaves, shl(5, add(transfers.length, 1))))
            mstore(payeeTotals, payees.length)
            // calldatacopy from past the end of calldata is the cheapest way to zero memory.
            calldatacopy(add(payeeTotals, 0x20), calldatasize(), shl(5, payees.length))
            mstore(leaves, transfers.length)
            calldatacopy(add(m, _M_PAYEES), payees.offset, shl(5, payees.length))
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
            let np := payees.length
            // `walletId | seq` of the first transfer; + 1 per transfer never carries into the
            // wallet bytes because {_openBatch} proved firstSeq + count fits in uint64.
            let transferId := or(walletId, firstSeq)
            let leaf := add(leaves, 0x20)
            let tot := 0
            let p := transfers.offset
            let end := add(p, mul(transfers.length, 0xa0))
            for {} lt(p, end) { p := add(p, 0xa0) } {
                let payee := calldataload(p)
                if iszero(lt(payee, np)) { break }
                let amount := calldataload(add(p, 0x20))
                if or(iszero(amount), gt(amount, maxAmt)) { break }
                // payerRef, payeeRef, memoHash straight into the receipt buffer
                calldatacopy(add(m, 0xa0), add(p, 0x40), 0x60)
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
                tot := add(tot, amount)
                let slot := add(add(m, add(_M_TOTALS, 0x20)), shl(5, payee))
                mstore(slot, add(mload(slot), amount))

                let toWallet := mload(add(add(m, _M_PAYEES), shl(5, payee)))
                mstore(m, transferId)
                mstore(add(m, 0x40), toWallet)
                mstore(add(m, 0x60), and(transferId, _SEQ_MASK))
                mstore(add(m, 0x80), amount)
                // TransferSettled(transferId, fromWallet, toWallet; seq, amount, payerRef, payeeRef, memoHash)
                log4(add(m, 0x60), 0xa0, _TRANSFER_SETTLED_TOPIC, transferId, mload(add(m, 0x20)), toWallet)
                // leaf = keccak256(bytes.concat(keccak256(abi.encode(receipt))))
                mstore(0x00, keccak256(m, 0x100))
                mstore(leaf, keccak256(0x00, 0x20))
                leaf := add(leaf, 0x20)
                transferId := add(transferId, 1)
            }
            total := tot
            badIndex := not(0)
            if lt(p, end) { badIndex := shr(5, sub(leaf, add(m, add(_M_LEAVES, 0x20)))) }
        }
    }

    /// @dev Explains why the hot loop stopped at transfer `index`, in the order it checks.
    function _revertBadTransfer(
        bytes32 walletId,
        uint256 payeeCount,
        uint128 perTransfer,
        uint256 index,
        Transfer calldata t
    ) private view {
        // Reading the members makes the ABI decoder reject out-of-range uint8/uint128 words.
        uint8 payee = t.payee;
        uint128 amount = t.amount;
        if (payee >= payeeCount) revert HubInvalidPayeeIndex(index, payee);
        if (amount == 0) revert HubZeroAmount(index);
        if (perTransfer != 0 && amount > perTransfer) revert HubTransferLimitExceeded(walletId, amount, perTransfer);
        if (_frozen[t.payerRef]) revert HubReferenceFrozen(t.payerRef);
        revert HubReferenceFrozen(t.payeeRef);
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

    /// @dev Adds the batch to today's outflow and checks the daily limit (0 = none) once per batch.
    function _addOutflow(bytes32 walletId, WalletState memory state, uint256 total, uint128 daily) private view {
        uint24 today = _today();
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
    function _moveFunds(uint256 total, bytes32[] calldata payees, uint256[] memory payeeTotals) private {
        uint256 before = _token.balanceOf(address(this));
        ISettlementToken(address(_token)).hubTransfer(msg.sender, address(this), total);
        uint256 held = _token.balanceOf(address(this));
        for (uint256 j = 0; j < payees.length; ++j) {
            uint256 amount = payeeTotals[j];
            if (amount != 0) _token.safeTransfer(_registry.settlementAccountOf(payees[j]), amount);
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

    function _today() private view returns (uint24) {
        return uint24(block.timestamp / 1 days);
    }
}
