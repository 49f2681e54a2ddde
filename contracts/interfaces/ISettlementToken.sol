// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";

/**
 * @title ISettlementToken
 * @notice The tokenized settlement asset (e.g. sCNY, 2 decimals: 1 unit = 1 fen held in reserve).
 *
 * Only the settlement accounts of Active operators (and the settlement hub, transiently) may hold it.
 * It moves between operators only through the settlement hub: plain `transfer`/`transferFrom`
 * between holders are refused. The issuer mints against fiat reserves and burns on redemption;
 * the regulator can pause every movement.
 */
interface ISettlementToken is IERC20Metadata {
    /// @notice Emitted when the issuer mints against a fiat reserve deposit.
    event Issued(address indexed to, uint256 amount, bytes32 indexed reserveRef);
    /// @notice Emitted when the issuer burns on a fiat redemption.
    event Redeemed(address indexed from, uint256 amount, bytes32 indexed reserveRef);
    /// @notice Emitted once, when the settlement hub is wired in.
    event HubSet(address indexed hub);

    /// @notice The recipient is not an Active operator's settlement account nor the hub.
    error SettlementTokenHolderNotAllowed(address holder);
    /// @notice Tokens move between holders only through the settlement hub.
    error SettlementTokenDirectTransferDisabled(address caller);
    /// @notice Only the settlement hub may call this function.
    error SettlementTokenNotHub(address caller);
    /// @notice The hub is already set (it can be set once).
    error SettlementTokenHubAlreadySet(address hub);
    /// @notice A required address is zero.
    error SettlementTokenZeroAddress();
    /// @notice Minting or burning zero is refused.
    error SettlementTokenZeroAmount();

    /// @notice Wires the settlement hub in. Only DEFAULT_ADMIN_ROLE, once.
    function setHub(address hub) external;

    /// @notice The settlement hub (zero until set).
    function hub() external view returns (address);

    /// @notice The wallet registry that decides who may hold the token.
    function registry() external view returns (address);

    /// @notice Mints `amount` to an Active operator's account against reserve deposit `reserveRef`. Only ISSUER_ROLE.
    function mint(address to, uint256 amount, bytes32 reserveRef) external;

    /// @notice Burns `amount` from `from` on redemption `reserveRef`. Only ISSUER_ROLE.
    function burn(address from, uint256 amount, bytes32 reserveRef) external;

    /// @notice Moves `amount` from `from` to `to` for the settlement hub. Only the hub.
    function hubTransfer(address from, address to, uint256 amount) external;

    /// @notice Stops every mint, burn and transfer. Only REGULATOR_ROLE.
    function pause() external;

    /// @notice Resumes movements. Only REGULATOR_ROLE.
    function unpause() external;
}
