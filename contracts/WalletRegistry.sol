// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {IWalletRegistry} from "./interfaces/IWalletRegistry.sol";

/**
 * @title WalletRegistry
 * @notice The members of the Hulian network and the QBFT validator set derived from them.
 * @dev Reservation rules, chosen so that history stays attributable:
 * - a walletId is reserved forever once it has been admitted, whatever happens to it later; an
 *   application that is rejected or expires before admission never settled anything, so it is
 *   deleted and its code, account and validator are free again;
 * - an admitted settlement account stays bound to its walletId forever, even after exit, so `walletIdOf`
 *   keeps naming the wallet of old receipts and attestations, and a leftover token balance can never
 *   be inherited by a newcomer that reuses the key;
 * - a validator address is freed when its operator exits (or is rejected): a node key holds no
 *   funds and may serve a later membership.
 */
contract WalletRegistry is IWalletRegistry, AccessControl {
    using EnumerableSet for EnumerableSet.AddressSet;
    using EnumerableSet for EnumerableSet.Bytes32Set;

    /// @notice Admits, rejects, suspends, resumes and removes operators.
    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");

    /// @dev Bytes 24..31 of a walletId carry the hub's sequence numbers.
    uint256 private constant _SEQ_MASK = type(uint64).max;
    /// @dev A wallet code is at most 24 characters: the bytes not reserved for sequence numbers.
    uint256 private constant _MAX_CODE_LENGTH = 24;
    /// @notice How long an application may stay pending on a new registry.
    uint64 public constant DEFAULT_APPLICATION_TTL = 7 days;

    mapping(bytes32 walletId => Operator operator) private _operators;
    mapping(address account => bytes32 walletId) private _walletIdOfAccount;
    mapping(address validator => bytes32 walletId) private _walletIdOfValidator;
    EnumerableSet.Bytes32Set private _walletIds;
    /// @dev Active and Suspended operators: added on approve, removed on exit.
    EnumerableSet.Bytes32Set private _members;
    uint64 private _applicationTtl;
    /// @dev Validators of Active operators only: added on approve/resume, removed on suspend/exit.
    EnumerableSet.AddressSet private _activeValidators;

    constructor(address admin, address governor) {
        if (admin == address(0) || governor == address(0)) revert RegistryZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GOVERNOR_ROLE, governor);
        _applicationTtl = DEFAULT_APPLICATION_TTL;
        emit ApplicationTtlSet(DEFAULT_APPLICATION_TTL);
    }

    /// @inheritdoc IWalletRegistry
    function applyForMembership(bytes32 walletId, string calldata name, address validator, string calldata endpoint)
        external
    {
        if (!_isWalletId(walletId)) revert RegistryInvalidWalletId(walletId);
        if (validator == address(0)) revert RegistryZeroAddress();
        if (_operators[walletId].status != OperatorStatus.None) revert RegistryWalletIdTaken(walletId);
        if (_walletIdOfAccount[msg.sender] != bytes32(0)) revert RegistryAccountTaken(msg.sender);
        if (_walletIdOfValidator[validator] != bytes32(0)) revert RegistryValidatorTaken(validator);

        uint64 now_ = uint64(block.timestamp);
        _operators[walletId] = Operator({
            walletId: walletId,
            name: name,
            settlementAccount: msg.sender,
            validator: validator,
            endpoint: endpoint,
            status: OperatorStatus.Pending,
            suspensionReason: 0,
            appliedAt: now_,
            updatedAt: now_
        });
        _walletIdOfAccount[msg.sender] = walletId;
        _walletIdOfValidator[validator] = walletId;
        _walletIds.add(walletId);
        emit OperatorApplied(walletId, msg.sender, validator, name, endpoint);
    }

    /// @inheritdoc IWalletRegistry
    function approve(bytes32 walletId) external onlyRole(GOVERNOR_ROLE) {
        Operator storage operator = _transition(walletId, OperatorStatus.Pending, OperatorStatus.Active);
        _activeValidators.add(operator.validator);
        _members.add(walletId);
        emit OperatorApproved(walletId, msg.sender);
    }

    /// @inheritdoc IWalletRegistry
    /// @dev The reason code is kept in `suspensionReason`, which records the last governance reason.
    function reject(bytes32 walletId, uint16 reasonCode) external onlyRole(GOVERNOR_ROLE) {
        _deletePending(walletId);
        emit OperatorRejected(walletId, reasonCode);
    }

    /// @inheritdoc IWalletRegistry
    /// @dev The deadline uses the time-to-live in force now, so a shorter one applies to every pending application.
    function clearExpiredApplication(bytes32 walletId) external {
        Operator storage operator = _existing(walletId);
        if (operator.status != OperatorStatus.Pending) revert RegistryInvalidStatus(walletId, operator.status);
        uint64 expiresAt = operator.appliedAt + _applicationTtl;
        if (block.timestamp < expiresAt) revert RegistryApplicationNotExpired(walletId, expiresAt);
        _deletePending(walletId);
        emit ApplicationExpired(walletId, msg.sender);
    }

    /// @inheritdoc IWalletRegistry
    function setApplicationTtl(uint64 ttlSeconds) external onlyRole(GOVERNOR_ROLE) {
        if (ttlSeconds == 0) revert RegistryInvalidApplicationTtl(ttlSeconds);
        if (_applicationTtl == ttlSeconds) return;
        _applicationTtl = ttlSeconds;
        emit ApplicationTtlSet(ttlSeconds);
    }

    /// @inheritdoc IWalletRegistry
    function applicationTtl() external view returns (uint64) {
        return _applicationTtl;
    }

    /// @inheritdoc IWalletRegistry
    function suspend(bytes32 walletId, uint16 reasonCode) external onlyRole(GOVERNOR_ROLE) {
        Operator storage operator = _transition(walletId, OperatorStatus.Active, OperatorStatus.Suspended);
        operator.suspensionReason = reasonCode;
        _activeValidators.remove(operator.validator);
        emit OperatorSuspended(walletId, reasonCode);
    }

    /// @inheritdoc IWalletRegistry
    function resume(bytes32 walletId) external onlyRole(GOVERNOR_ROLE) {
        Operator storage operator = _transition(walletId, OperatorStatus.Suspended, OperatorStatus.Active);
        operator.suspensionReason = 0;
        _activeValidators.add(operator.validator);
        emit OperatorResumed(walletId);
    }

    /// @inheritdoc IWalletRegistry
    function exit(bytes32 walletId) external {
        Operator storage operator = _existing(walletId);
        if (msg.sender != operator.settlementAccount && !hasRole(GOVERNOR_ROLE, msg.sender)) {
            revert RegistryUnauthorized(walletId, msg.sender);
        }
        OperatorStatus current = operator.status;
        if (current != OperatorStatus.Active && current != OperatorStatus.Suspended) {
            revert RegistryInvalidStatus(walletId, current);
        }
        operator.status = OperatorStatus.Exited;
        operator.updatedAt = uint64(block.timestamp);
        _activeValidators.remove(operator.validator);
        delete _walletIdOfValidator[operator.validator];
        _members.remove(walletId);
        emit OperatorExited(walletId, msg.sender);
    }

    /// @inheritdoc IWalletRegistry
    /// @dev Allowed while Pending, Active or Suspended; publishing the current endpoint again does nothing.
    function setEndpoint(bytes32 walletId, string calldata endpoint) external {
        Operator storage operator = _existing(walletId);
        if (msg.sender != operator.settlementAccount) revert RegistryUnauthorized(walletId, msg.sender);
        if (operator.status == OperatorStatus.Exited) revert RegistryInvalidStatus(walletId, OperatorStatus.Exited);
        if (keccak256(bytes(endpoint)) == keccak256(bytes(operator.endpoint))) return;
        operator.endpoint = endpoint;
        operator.updatedAt = uint64(block.timestamp);
        emit OperatorEndpointUpdated(walletId, endpoint);
    }

    /// @inheritdoc IWalletRegistry
    function getOperator(bytes32 walletId) external view returns (Operator memory) {
        return _existing(walletId);
    }

    /// @inheritdoc IWalletRegistry
    function statusOf(bytes32 walletId) external view returns (OperatorStatus) {
        return _operators[walletId].status;
    }

    /// @inheritdoc IWalletRegistry
    function walletIdOf(address account) external view returns (bytes32) {
        return _walletIdOfAccount[account];
    }

    /// @inheritdoc IWalletRegistry
    function settlementAccountOf(bytes32 walletId) external view returns (address) {
        return _operators[walletId].settlementAccount;
    }

    /// @inheritdoc IWalletRegistry
    function isActive(bytes32 walletId) external view returns (bool) {
        return _operators[walletId].status == OperatorStatus.Active;
    }

    /// @inheritdoc IWalletRegistry
    function isActiveAccount(address account) external view returns (bool) {
        bytes32 walletId = _walletIdOfAccount[account];
        return walletId != bytes32(0) && _operators[walletId].status == OperatorStatus.Active;
    }

    /// @inheritdoc IWalletRegistry
    function walletIds() external view returns (bytes32[] memory) {
        return _walletIds.values();
    }

    /// @inheritdoc IWalletRegistry
    function memberIds() external view returns (bytes32[] memory) {
        return _members.values();
    }

    /// @inheritdoc IWalletRegistry
    function getValidators() external view returns (address[] memory) {
        return _activeValidators.values();
    }

    /// @dev The operator record, reverting with {RegistryUnknownWallet} when there is none.
    function _existing(bytes32 walletId) private view returns (Operator storage operator) {
        operator = _operators[walletId];
        if (operator.status == OperatorStatus.None) revert RegistryUnknownWallet(walletId);
    }

    /// @dev Deletes a Pending application and frees its walletId, account and validator.
    function _deletePending(bytes32 walletId) private {
        Operator storage operator = _existing(walletId);
        if (operator.status != OperatorStatus.Pending) revert RegistryInvalidStatus(walletId, operator.status);
        delete _walletIdOfAccount[operator.settlementAccount];
        delete _walletIdOfValidator[operator.validator];
        _walletIds.remove(walletId);
        delete _operators[walletId];
    }

    /// @dev Moves `walletId` from exactly `from` to `to`, stamping `updatedAt`.
    function _transition(bytes32 walletId, OperatorStatus from, OperatorStatus to)
        private
        returns (Operator storage operator)
    {
        operator = _existing(walletId);
        if (operator.status != from) revert RegistryInvalidStatus(walletId, operator.status);
        operator.status = to;
        operator.updatedAt = uint64(block.timestamp);
    }

    /**
     * @dev Same rule as `isWalletId` in node/receipts/ids.ts: the low 8 bytes are zero and the high 24
     * bytes hold 1 to 24 characters of [A-Z0-9_-], left aligned, followed only by zero bytes.
     */
    function _isWalletId(bytes32 walletId) private pure returns (bool) {
        if (uint256(walletId) & _SEQ_MASK != 0) return false;
        bool ended = false;
        for (uint256 i = 0; i < _MAX_CODE_LENGTH; ++i) {
            bytes1 char = walletId[i];
            if (char == 0) {
                if (i == 0) return false;
                ended = true;
            } else if (ended || !_isCodeChar(char)) {
                return false;
            }
        }
        return true;
    }

    function _isCodeChar(bytes1 char) private pure returns (bool) {
        return (char >= "A" && char <= "Z") || (char >= "0" && char <= "9") || char == "_" || char == "-";
    }
}
