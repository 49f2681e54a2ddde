// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @title NaivePayments
 * @notice The gas baseline that {SettlementHub} is measured against, not part of the network:
 * one transaction per payment to a minimal OpenZeppelin ERC-20 that moves the amount between
 * existing holders, stores the payment's receipt hash under its transfer id (so a payment cannot be
 * recorded twice) and emits an event.
 *
 * @dev Kept deliberately fair: a plain OpenZeppelin `_transfer` (no holder rules, no pausing, no
 * registry calls), one new storage slot per payment (what "storing the receipt" costs at minimum),
 * and an event with the same three indexed topics as {ISettlementHub-TransferSettled}.
 */
contract NaivePayments is ERC20 {
    /// @notice Emitted once per payment.
    event Paid(
        bytes32 indexed transferId, address indexed from, address indexed to, uint256 amount, bytes32 receiptHash
    );

    /// @notice The transfer id already has a receipt.
    error NaivePaymentsAlreadyPaid(bytes32 transferId);
    /// @notice A receipt hash of zero would be indistinguishable from "not paid".
    error NaivePaymentsZeroReceipt(bytes32 transferId);

    mapping(bytes32 transferId => bytes32 receiptHash) private _receipts;

    /// @param holders accounts that each receive `amount` at deployment.
    constructor(address[] memory holders, uint256 amount) ERC20("Naive CNY", "nCNY") {
        for (uint256 i = 0; i < holders.length; ++i) {
            _mint(holders[i], amount);
        }
    }

    /// @notice Token units are fen.
    function decimals() public pure override returns (uint8) {
        return 2;
    }

    /// @notice Pays `amount` to `to` and records the payment's receipt hash under `transferId`.
    function pay(bytes32 transferId, address to, uint256 amount, bytes32 receiptHash) external {
        if (receiptHash == bytes32(0)) revert NaivePaymentsZeroReceipt(transferId);
        if (_receipts[transferId] != bytes32(0)) revert NaivePaymentsAlreadyPaid(transferId);
        _receipts[transferId] = receiptHash;
        _transfer(msg.sender, to, amount);
        emit Paid(transferId, msg.sender, to, amount, receiptHash);
    }

    /// @notice The receipt hash recorded under `transferId`, zero when none.
    function receiptOf(bytes32 transferId) external view returns (bytes32) {
        return _receipts[transferId];
    }
}
