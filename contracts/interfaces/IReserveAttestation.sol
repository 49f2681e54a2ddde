// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IReserveAttestation
 * @notice Proof of liabilities: each operator posts, at intervals, the root of a Merkle-sum tree over
 * its customer balances together with the total. Anyone can then check that the operator's
 * settlement-token balance covers the total, and any customer can check that their balance is
 * included.
 *
 * Merkle-sum tree: a leaf is `(keccak256(bytes.concat(keccak256(abi.encode(accountRef, balance)))), balance)`;
 * a parent of `(lh, ls)` and `(rh, rs)` is `(keccak256(abi.encode(lh, ls, rh, rs)), ls + rs)`;
 * leaves in the operator's order, level by level, an odd last node moving up unchanged. The posted
 * root is the top hash and the posted total its sum.
 */
interface IReserveAttestation {
    struct Attestation {
        bytes32 root;
        uint256 totalLiabilities;
        uint64 asOf;
        uint64 postedAt;
        uint32 accountCount;
    }

    /// @notice One step of an inclusion proof: the sibling node and which side it sits on.
    struct SumProofStep {
        bytes32 hash;
        uint256 sum;
        bool siblingOnLeft;
    }

    /// @notice Emitted for every posted attestation.
    event ReservesAttested(
        bytes32 indexed walletId, bytes32 root, uint256 totalLiabilities, uint64 asOf, uint32 accountCount
    );

    /// @notice The caller is not the settlement account of an Active operator.
    error AttestationNotActiveOperator(address caller);
    /// @notice `asOf` must grow with every attestation of a wallet.
    error AttestationAsOfNotIncreasing(bytes32 walletId, uint64 last, uint64 provided);
    /// @notice `asOf` lies in the future of the block.
    error AttestationAsOfInFuture(uint64 asOf, uint64 blockTime);
    /// @notice The wallet has never attested.
    error AttestationNone(bytes32 walletId);
    /// @notice A required address is zero.
    error AttestationZeroAddress();

    /**
     * @notice Posts the caller's wallet's liabilities.
     * @param root top hash of the Merkle-sum tree over customer balances.
     * @param totalLiabilities its sum: what the operator owes its customers, in token minor units.
     * @param asOf unix time of the ledger snapshot the tree was built from.
     * @param accountCount number of leaves.
     */
    function attest(bytes32 root, uint256 totalLiabilities, uint64 asOf, uint32 accountCount) external;

    /// @notice The wallet's latest attestation; reverts with {AttestationNone} when it has none.
    function latest(bytes32 walletId) external view returns (Attestation memory);

    /**
     * @notice The wallet's backing: its token balance, its attested liabilities and whether the first covers
     * the second. Reverts with {AttestationNone} when it has never attested.
     */
    function backing(bytes32 walletId)
        external
        view
        returns (uint256 balance, uint256 liabilities, bool backed, uint64 asOf);

    /// @notice The leaf hash of a customer balance.
    function sumLeaf(bytes32 accountRef, uint256 balance) external pure returns (bytes32);

    /**
     * @notice True when `(accountRef, balance)` is included in the wallet's latest attested tree with its total.
     * Reverts with {AttestationNone} when the wallet has never attested.
     */
    function verifyInclusion(bytes32 walletId, bytes32 accountRef, uint256 balance, SumProofStep[] calldata proof)
        external
        view
        returns (bool);

    /// @notice The wallet registry that says who may attest.
    function registry() external view returns (address);

    /// @notice The settlement token whose balances back the attested liabilities.
    function token() external view returns (address);
}
