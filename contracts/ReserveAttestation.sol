// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IReserveAttestation} from "./interfaces/IReserveAttestation.sol";
import {IWalletRegistry} from "./interfaces/IWalletRegistry.sol";

/**
 * @title ReserveAttestation
 * @notice Proof of liabilities for Hulian operators: the latest Merkle-sum root per wallet, checked
 * against the wallet's settlement-token balance. Earlier attestations live in the
 * {ReservesAttested} events.
 */
contract ReserveAttestation is IReserveAttestation {
    IWalletRegistry private immutable _registry;
    IERC20 private immutable _token;

    mapping(bytes32 walletId => Attestation latest) private _latest;

    constructor(address registry_, address token_) {
        if (registry_ == address(0) || token_ == address(0)) revert AttestationZeroAddress();
        _registry = IWalletRegistry(registry_);
        _token = IERC20(token_);
    }

    /// @inheritdoc IReserveAttestation
    function attest(bytes32 root, uint256 totalLiabilities, uint64 asOf, uint32 accountCount) external {
        bytes32 walletId = _registry.walletIdOf(msg.sender);
        if (walletId == bytes32(0) || !_registry.isActive(walletId)) revert AttestationNotActiveOperator(msg.sender);
        if (asOf > block.timestamp) revert AttestationAsOfInFuture(asOf, uint64(block.timestamp));
        uint64 last = _latest[walletId].asOf;
        if (asOf <= last) revert AttestationAsOfNotIncreasing(walletId, last, asOf);

        _latest[walletId] = Attestation({
            root: root,
            totalLiabilities: totalLiabilities,
            asOf: asOf,
            postedAt: uint64(block.timestamp),
            accountCount: accountCount
        });
        emit ReservesAttested(walletId, root, totalLiabilities, asOf, accountCount);
    }

    /// @inheritdoc IReserveAttestation
    function latest(bytes32 walletId) external view returns (Attestation memory) {
        return _attested(walletId);
    }

    /// @inheritdoc IReserveAttestation
    function backing(bytes32 walletId)
        external
        view
        returns (uint256 balance, uint256 liabilities, bool backed, uint64 asOf)
    {
        Attestation storage attestation = _attested(walletId);
        balance = _token.balanceOf(_registry.settlementAccountOf(walletId));
        liabilities = attestation.totalLiabilities;
        backed = balance >= liabilities;
        asOf = attestation.asOf;
    }

    /// @inheritdoc IReserveAttestation
    function sumLeaf(bytes32 accountRef, uint256 balance) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(accountRef, balance))));
    }

    /// @inheritdoc IReserveAttestation
    function verifyInclusion(bytes32 walletId, bytes32 accountRef, uint256 balance, SumProofStep[] calldata proof)
        external
        view
        returns (bool)
    {
        Attestation storage attestation = _attested(walletId);
        bytes32 hash = sumLeaf(accountRef, balance);
        uint256 sum = balance;
        for (uint256 i = 0; i < proof.length; ++i) {
            SumProofStep calldata step = proof[i];
            // A sum that would overflow cannot belong to an honest tree: refuse it instead of reverting.
            if (step.sum > type(uint256).max - sum) return false;
            hash = step.siblingOnLeft
                ? keccak256(abi.encode(step.hash, step.sum, hash, sum))
                : keccak256(abi.encode(hash, sum, step.hash, step.sum));
            sum += step.sum;
        }
        return hash == attestation.root && sum == attestation.totalLiabilities;
    }

    /// @inheritdoc IReserveAttestation
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc IReserveAttestation
    function token() external view returns (address) {
        return address(_token);
    }

    /// @dev The wallet's latest attestation, reverting with {AttestationNone} when it has none.
    function _attested(bytes32 walletId) private view returns (Attestation storage attestation) {
        attestation = _latest[walletId];
        // Every posted attestation has asOf > 0 (it must exceed the initial zero).
        if (attestation.asOf == 0) revert AttestationNone(walletId);
    }
}
