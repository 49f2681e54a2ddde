// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IWalletRegistry
 * @notice The members of the Hulian network: one entry per wallet operator.
 *
 * Lifecycle: `None → Pending` (the candidate applies from its settlement account),
 * `Pending → Active` (governance approves), `Pending → None` (governance rejects, or anyone clears
 * an application still pending {applicationTtl} seconds after it was made: the record is deleted
 * and its wallet code, account and validator are free again, so a code cannot be squatted),
 * `Active ⇄ Suspended` (governance, with a reason code), `Active | Suspended → Exited`
 * (governance, or the operator itself). Exited is final.
 *
 * Readers that list members should consider only Active (and, for balances owed, Suspended)
 * operators: {walletIds} also holds pending applications and exited members.
 *
 * A walletId is the bytes32 of a short upper-case code (`"ALIPAY"`, left aligned, zero padded).
 * Its low 8 bytes must be zero: the settlement hub packs the per-sender sequence number there to
 * form transfer ids (see {ISettlementHub-transferIdOf}).
 *
 * The registry is also the validator-selection contract of a Besu/GoQuorum QBFT network:
 * {getValidators} returns the validator address of every active operator.
 */
interface IWalletRegistry {
    enum OperatorStatus {
        None,
        Pending,
        Active,
        Suspended,
        Exited
    }

    struct Operator {
        bytes32 walletId;
        string name;
        address settlementAccount;
        address validator;
        string endpoint;
        OperatorStatus status;
        uint16 suspensionReason;
        uint64 appliedAt;
        uint64 updatedAt;
    }

    /// @notice Emitted when a candidate operator applies for membership.
    event OperatorApplied(
        bytes32 indexed walletId, address indexed settlementAccount, address validator, string name, string endpoint
    );
    /// @notice Emitted when governance admits a pending operator.
    event OperatorApproved(bytes32 indexed walletId, address indexed approver);
    /// @notice Emitted when governance rejects a pending application (its record is deleted).
    event OperatorRejected(bytes32 indexed walletId, uint16 reasonCode);
    /// @notice Emitted when an expired pending application is cleared (its record is deleted).
    event ApplicationExpired(bytes32 indexed walletId, address indexed by);
    /// @notice Emitted when governance sets how long an application may stay pending.
    event ApplicationTtlSet(uint64 ttlSeconds);
    /// @notice Emitted when governance suspends an active operator.
    event OperatorSuspended(bytes32 indexed walletId, uint16 reasonCode);
    /// @notice Emitted when governance lifts a suspension.
    event OperatorResumed(bytes32 indexed walletId);
    /// @notice Emitted when an operator leaves the network for good.
    event OperatorExited(bytes32 indexed walletId, address indexed by);
    /// @notice Emitted when an operator publishes a new API endpoint.
    event OperatorEndpointUpdated(bytes32 indexed walletId, string endpoint);

    /// @notice The walletId is zero, or its low 8 bytes (reserved for sequence numbers) are not zero.
    error RegistryInvalidWalletId(bytes32 walletId);
    /// @notice The walletId is already taken (by any status, including Exited).
    error RegistryWalletIdTaken(bytes32 walletId);
    /// @notice The account already belongs to another operator.
    error RegistryAccountTaken(address account);
    /// @notice The validator address already belongs to another operator.
    error RegistryValidatorTaken(address validator);
    /// @notice A required address is zero.
    error RegistryZeroAddress();
    /// @notice No operator has this walletId.
    error RegistryUnknownWallet(bytes32 walletId);
    /// @notice The operator is not in a status that allows this transition.
    error RegistryInvalidStatus(bytes32 walletId, OperatorStatus current);
    /// @notice The caller is neither the operator's settlement account nor allowed by governance.
    error RegistryUnauthorized(bytes32 walletId, address caller);
    /// @notice The pending application may not be cleared before `expiresAt` (unix seconds).
    error RegistryApplicationNotExpired(bytes32 walletId, uint64 expiresAt);
    /// @notice An application time-to-live of zero seconds.
    error RegistryInvalidApplicationTtl(uint64 ttlSeconds);

    /**
     * @notice Applies for membership. The caller becomes the operator's settlement account.
     * @param walletId bytes32 of the short wallet code, low 8 bytes zero.
     * @param name display name (e.g. "Alipay").
     * @param validator the address of the operator's QBFT validator node key.
     * @param endpoint the HTTPS base URL of the operator's Hulian node (node-to-node calls).
     */
    function applyForMembership(bytes32 walletId, string calldata name, address validator, string calldata endpoint)
        external;

    /// @notice Admits a pending operator. Only GOVERNOR_ROLE.
    function approve(bytes32 walletId) external;

    /**
     * @notice Rejects a pending application: its record is deleted, its wallet code, account and
     * validator are free again ({statusOf} is None). Only GOVERNOR_ROLE.
     */
    function reject(bytes32 walletId, uint16 reasonCode) external;

    /**
     * @notice Clears a pending application made {applicationTtl} seconds ago or more, like a
     * rejection. Anyone may call it. {RegistryInvalidStatus} unless Pending,
     * {RegistryApplicationNotExpired} before the deadline.
     */
    function clearExpiredApplication(bytes32 walletId) external;

    /// @notice Sets how long an application may stay pending (seconds, non-zero). Only GOVERNOR_ROLE.
    function setApplicationTtl(uint64 ttlSeconds) external;

    /// @notice How long an application may stay pending before anyone may clear it, in seconds.
    function applicationTtl() external view returns (uint64);

    /// @notice Suspends an active operator with a reason code. Only GOVERNOR_ROLE.
    function suspend(bytes32 walletId, uint16 reasonCode) external;

    /// @notice Lifts a suspension. Only GOVERNOR_ROLE.
    function resume(bytes32 walletId) external;

    /// @notice Ends an active or suspended membership. GOVERNOR_ROLE or the operator's own account.
    function exit(bytes32 walletId) external;

    /// @notice Publishes a new node endpoint. Only the operator's settlement account.
    function setEndpoint(bytes32 walletId, string calldata endpoint) external;

    /// @notice The operator record; reverts with {RegistryUnknownWallet} when none exists.
    function getOperator(bytes32 walletId) external view returns (Operator memory);

    /// @notice The status of a wallet (None for an unknown one).
    function statusOf(bytes32 walletId) external view returns (OperatorStatus);

    /// @notice The walletId whose settlement account is `account`, or zero.
    function walletIdOf(address account) external view returns (bytes32);

    /// @notice The settlement account of a wallet, or the zero address.
    function settlementAccountOf(bytes32 walletId) external view returns (address);

    /// @notice True when `walletId` is Active.
    function isActive(bytes32 walletId) external view returns (bool);

    /// @notice True when `account` is the settlement account of an Active operator.
    function isActiveAccount(address account) external view returns (bool);

    /**
     * @notice Every walletId that has a record: pending, active, suspended and exited operators
     * (rejected and expired applications leave the list). Order is not guaranteed.
     */
    function walletIds() external view returns (bytes32[] memory);

    /**
     * @notice The walletIds of the members that hold or owe customer money: Active and Suspended
     * operators, in admission order until one exits. What readers that list members should use:
     * however many applications are pending, this stays the size of the membership.
     */
    function memberIds() external view returns (bytes32[] memory);

    /**
     * @notice The validator addresses of all Active operators (QBFT contract validator selection).
     * @dev Bounded by the number of active members, which governance admits one by one.
     */
    function getValidators() external view returns (address[] memory);
}
