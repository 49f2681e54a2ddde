// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title MultiSettler
 * @notice TEST ONLY. A contract settlement account, the way a multisig is one: its owner makes it
 * call any contract, several calls in one transaction. Registered as a wallet's settlement account
 * it can settle two batches in one transaction, or settle and exit, as a contract member may.
 */
contract MultiSettler {
    /// @notice One call to make: `data` sent to `target`.
    struct Call {
        address target;
        bytes data;
    }

    /// @notice Only the deployer may make this contract call anything.
    error MultiSettlerNotOwner(address caller);

    address private immutable _owner;

    constructor() {
        _owner = msg.sender;
    }

    /// @notice Makes the calls in order, in this transaction; a failing call reverts all of them with its error.
    function execute(Call[] calldata calls) external {
        if (msg.sender != _owner) revert MultiSettlerNotOwner(msg.sender);
        for (uint256 i = 0; i < calls.length; ++i) {
            // solhint-disable-next-line avoid-low-level-calls
            (bool ok, bytes memory result) = calls[i].target.call(calls[i].data);
            if (!ok) {
                // solhint-disable-next-line no-inline-assembly
                assembly ("memory-safe") {
                    revert(add(result, 0x20), mload(result))
                }
            }
        }
    }
}
