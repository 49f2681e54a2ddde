// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {ERC20Pausable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Pausable.sol";
import {ISettlementToken} from "./interfaces/ISettlementToken.sol";
import {IWalletRegistry} from "./interfaces/IWalletRegistry.sol";

/**
 * @title SettlementToken
 * @notice The tokenized settlement asset of Hulian (e.g. sCNY, 2 decimals).
 * @dev Holder rule, enforced for every credit in {_update}: the receiving address must be the hub or
 * an Active operator's settlement account. Debits are not restricted, so a suspended or exited
 * operator's balance can still be burned on redemption. Movements between holders go through the hub
 * only; the issuer may burn from any holder except the hub, whose balance belongs to batches in flight.
 */
contract SettlementToken is ISettlementToken, ERC20Pausable, AccessControl {
    /// @notice Mints and burns against fiat reserves.
    bytes32 public constant ISSUER_ROLE = keccak256("ISSUER_ROLE");
    /// @notice Pauses and unpauses every movement.
    bytes32 public constant REGULATOR_ROLE = keccak256("REGULATOR_ROLE");

    IWalletRegistry private immutable _registry;
    address private _hub;

    constructor(
        string memory name_,
        string memory symbol_,
        address registry_,
        address admin,
        address issuer,
        address regulator
    ) ERC20(name_, symbol_) {
        if (registry_ == address(0) || admin == address(0) || issuer == address(0) || regulator == address(0)) {
            revert SettlementTokenZeroAddress();
        }
        _registry = IWalletRegistry(registry_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ISSUER_ROLE, issuer);
        _grantRole(REGULATOR_ROLE, regulator);
    }

    /// @inheritdoc ISettlementToken
    function setHub(address hub_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (hub_ == address(0)) revert SettlementTokenZeroAddress();
        if (_hub != address(0)) revert SettlementTokenHubAlreadySet(_hub);
        _hub = hub_;
        emit HubSet(hub_);
    }

    /// @inheritdoc ISettlementToken
    function mint(address to, uint256 amount, bytes32 reserveRef) external onlyRole(ISSUER_ROLE) {
        if (amount == 0) revert SettlementTokenZeroAmount();
        // Reserves are issued to operators only, never into the hub.
        if (!_registry.isActiveAccount(to)) revert SettlementTokenHolderNotAllowed(to);
        _mint(to, amount);
        emit Issued(to, amount, reserveRef);
    }

    /// @inheritdoc ISettlementToken
    function burn(address from, uint256 amount, bytes32 reserveRef) external onlyRole(ISSUER_ROLE) {
        if (amount == 0) revert SettlementTokenZeroAmount();
        if (from == _hub && _hub != address(0)) revert SettlementTokenHolderNotAllowed(from);
        _burn(from, amount);
        emit Redeemed(from, amount, reserveRef);
    }

    /// @inheritdoc ISettlementToken
    function hubTransfer(address from, address to, uint256 amount) external {
        if (msg.sender != _hub) revert SettlementTokenNotHub(msg.sender);
        _transfer(from, to, amount);
    }

    /// @inheritdoc ISettlementToken
    function pause() external onlyRole(REGULATOR_ROLE) {
        if (!paused()) _pause();
    }

    /// @inheritdoc ISettlementToken
    function unpause() external onlyRole(REGULATOR_ROLE) {
        if (paused()) _unpause();
    }

    /// @notice Only the hub may move tokens with `transfer` (from its own balance).
    /// @inheritdoc IERC20
    function transfer(address to, uint256 value) public override(ERC20, IERC20) returns (bool) {
        _onlyHubMoves();
        return super.transfer(to, value);
    }

    /// @notice Only the hub may move tokens with `transferFrom` (within its allowance).
    /// @inheritdoc IERC20
    function transferFrom(address from, address to, uint256 value) public override(ERC20, IERC20) returns (bool) {
        _onlyHubMoves();
        return super.transferFrom(from, to, value);
    }

    /// @inheritdoc ISettlementToken
    function hub() external view returns (address) {
        return _hub;
    }

    /// @inheritdoc ISettlementToken
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @notice Two decimals: one token unit is one minor unit (fen) of reserve.
    /// @inheritdoc ERC20
    function decimals() public pure override(ERC20, IERC20Metadata) returns (uint8) {
        return 2;
    }

    /// @dev Every credit (mint or transfer) must land on the hub or an Active operator's account.
    function _update(address from, address to, uint256 value) internal override {
        if (to != address(0) && to != _hub && !_registry.isActiveAccount(to)) {
            revert SettlementTokenHolderNotAllowed(to);
        }
        super._update(from, to, value);
    }

    function _onlyHubMoves() private view {
        if (msg.sender != _hub) revert SettlementTokenDirectTransferDisabled(msg.sender);
    }
}
