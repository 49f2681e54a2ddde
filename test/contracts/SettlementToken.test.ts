import {
  type Address,
  type Hex,
  type TransactionReceipt,
  getAddress,
  getContract,
  keccak256,
  parseEventLogs,
  toHex,
  zeroAddress,
} from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  settlementTokenAbi,
  settlementTokenBytecode,
  walletRegistryAbi,
} from "../../node/chain/abi/generated.ts";
import { walletIdOf } from "../../node/receipts/ids.ts";
import { expectRevert } from "../helpers/expectRevert.ts";
import { type TestNetwork, type TestOperator, startTestNetwork, useEvmSnapshots } from "../helpers/network.ts";

const ISSUER_ROLE = keccak256(toHex("ISSUER_ROLE"));
const REGULATOR_ROLE = keccak256(toHex("REGULATOR_ROLE"));
const DEFAULT_ADMIN_ROLE = `0x${"00".repeat(32)}` as Hex;
const MINTED = 1_000_000_00n;
const REF = `0x${"ab".repeat(32)}` as Hex;

let net: TestNetwork;
let tokenAddress: Address;
let hub: Address;
let ops: TestOperator[];
let stranger: Address;

beforeAll(async () => {
  net = await startTestNetwork();
  tokenAddress = net.manifest.contracts.settlementToken;
  hub = getAddress(net.manifest.contracts.settlementHub);
  ops = net.operators.map((op) => ({ ...op, account: getAddress(op.account), validator: getAddress(op.validator) }));
  stranger = getAddress(net.strangers[0]);
  // The hub is a contract: let the tests send as it to exercise the hub-only paths.
  await rpc("hardhat_impersonateAccount", [hub]);
  await rpc("hardhat_setBalance", [hub, toHex(10n ** 20n)]);
});

afterAll(async () => {
  await net.close();
});

useEvmSnapshots(() => net);

function rpc(method: string, params: unknown[]): Promise<unknown> {
  return net.publicClient.request({ method, params } as never);
}

function tokenAs(account: Address, address: Address = tokenAddress) {
  return getContract({
    address,
    abi: settlementTokenAbi,
    client: { public: net.publicClient, wallet: net.wallet(account) },
  });
}

function registryAs(account: Address) {
  return getContract({
    address: net.manifest.contracts.walletRegistry,
    abi: walletRegistryAbi,
    client: { public: net.publicClient, wallet: net.wallet(account) },
  });
}

const read = () => tokenAs(stranger).read;
const balanceOf = (account: Address) => read().balanceOf([account]);

async function mined(hash: Promise<Hex>): Promise<TransactionReceipt> {
  const receipt = await net.publicClient.waitForTransactionReceipt({ hash: await hash });
  expect(receipt.status).toBe("success");
  return receipt;
}

function eventsOf(receipt: TransactionReceipt) {
  return parseEventLogs({ abi: settlementTokenAbi, logs: receipt.logs });
}

async function deployToken(args: {
  registry?: Address;
  admin?: Address;
  issuer?: Address;
  regulator?: Address;
}): Promise<Address> {
  const hash = await net.wallet(net.deployer).deployContract({
    abi: settlementTokenAbi,
    bytecode: settlementTokenBytecode,
    args: [
      "Settlement CNY",
      "sCNY",
      args.registry ?? net.manifest.contracts.walletRegistry,
      args.admin ?? net.deployer,
      args.issuer ?? net.issuer,
      args.regulator ?? net.regulator,
    ],
  });
  const receipt = await net.publicClient.waitForTransactionReceipt({ hash });
  if (!receipt.contractAddress) throw new Error("token deployment failed");
  return receipt.contractAddress;
}

describe("SettlementToken: deployment", () => {
  it("default: metadata, roles, registry and hub are wired", async () => {
    expect(await read().name()).toBe("Settlement CNY");
    expect(await read().symbol()).toBe("sCNY");
    expect(await read().decimals()).toBe(2);
    expect(await read().ISSUER_ROLE()).toBe(ISSUER_ROLE);
    expect(await read().REGULATOR_ROLE()).toBe(REGULATOR_ROLE);
    expect(await read().hasRole([DEFAULT_ADMIN_ROLE, net.deployer])).toBe(true);
    expect(await read().hasRole([ISSUER_ROLE, net.issuer])).toBe(true);
    expect(await read().hasRole([REGULATOR_ROLE, net.regulator])).toBe(true);
    expect(await read().registry()).toBe(getAddress(net.manifest.contracts.walletRegistry));
    expect(await read().hub()).toBe(hub);
    expect(await read().totalSupply()).toBe(MINTED * BigInt(ops.length));
    for (const op of ops) expect(await balanceOf(op.account)).toBe(MINTED);
  });

  it("error: a zero registry, admin, issuer or regulator is refused with SettlementTokenZeroAddress", async () => {
    for (const key of ["registry", "admin", "issuer", "regulator"] as const) {
      await expectRevert(deployToken({ [key]: zeroAddress }), "SettlementTokenZeroAddress", []);
    }
  });
});

describe("SettlementToken: setHub", () => {
  it("behavior: the admin wires the hub once, emitting HubSet", async () => {
    const fresh = await deployToken({});
    expect(await tokenAs(stranger, fresh).read.hub()).toBe(zeroAddress);
    const receipt = await mined(tokenAs(net.deployer, fresh).write.setHub([hub]));
    const [event] = eventsOf(receipt);
    expect(event.eventName).toBe("HubSet");
    expect(event.args).toEqual({ hub });
    expect(await tokenAs(stranger, fresh).read.hub()).toBe(hub);
  });

  it("error: a second setHub reverts with SettlementTokenHubAlreadySet, even with the same hub", async () => {
    await expectRevert(tokenAs(net.deployer).write.setHub([stranger]), "SettlementTokenHubAlreadySet", [hub]);
    await expectRevert(tokenAs(net.deployer).write.setHub([hub]), "SettlementTokenHubAlreadySet", [hub]);
  });

  it("error: a zero hub is refused with SettlementTokenZeroAddress", async () => {
    const fresh = await deployToken({});
    await expectRevert(tokenAs(net.deployer, fresh).write.setHub([zeroAddress]), "SettlementTokenZeroAddress", []);
  });

  it("error: a stranger gets AccessControlUnauthorizedAccount", async () => {
    const fresh = await deployToken({});
    await expectRevert(tokenAs(stranger, fresh).write.setHub([hub]), "AccessControlUnauthorizedAccount", [
      stranger,
      DEFAULT_ADMIN_ROLE,
    ]);
  });
});

describe("SettlementToken: mint and burn", () => {
  it("behavior: the issuer mints to an Active operator, emitting Transfer and Issued", async () => {
    const receipt = await mined(tokenAs(net.issuer).write.mint([ops[0].account, 250n, REF]));
    const events = eventsOf(receipt);
    expect(events.map((e) => e.eventName)).toEqual(["Transfer", "Issued"]);
    expect(events[1].args).toEqual({ to: ops[0].account, amount: 250n, reserveRef: REF });
    expect(await balanceOf(ops[0].account)).toBe(MINTED + 250n);
    expect(await read().totalSupply()).toBe(MINTED * 3n + 250n);
  });

  it("behavior: the issuer burns on redemption, emitting Transfer and Redeemed", async () => {
    const receipt = await mined(tokenAs(net.issuer).write.burn([ops[1].account, 100n, REF]));
    const events = eventsOf(receipt);
    expect(events.map((e) => e.eventName)).toEqual(["Transfer", "Redeemed"]);
    expect(events[1].args).toEqual({ from: ops[1].account, amount: 100n, reserveRef: REF });
    expect(await balanceOf(ops[1].account)).toBe(MINTED - 100n);
    expect(await read().totalSupply()).toBe(MINTED * 3n - 100n);
  });

  it("behavior: a suspended or exited operator's balance can still be redeemed", async () => {
    await mined(registryAs(net.governor).write.suspend([ops[0].walletId, 1]));
    await mined(tokenAs(net.issuer).write.burn([ops[0].account, 1n, REF]));
    await mined(registryAs(net.governor).write.exit([ops[0].walletId]));
    await mined(tokenAs(net.issuer).write.burn([ops[0].account, MINTED - 1n, REF]));
    expect(await balanceOf(ops[0].account)).toBe(0n);
  });

  it("error: minting to a non-member, a Pending, Suspended or Exited operator, or the hub reverts with SettlementTokenHolderNotAllowed", async () => {
    const issuer = tokenAs(net.issuer).write;
    await expectRevert(issuer.mint([stranger, 1n, REF]), "SettlementTokenHolderNotAllowed", [stranger]);
    await expectRevert(issuer.mint([hub, 1n, REF]), "SettlementTokenHolderNotAllowed", [hub]);
    await expectRevert(issuer.mint([zeroAddress, 1n, REF]), "SettlementTokenHolderNotAllowed", [zeroAddress]);

    const candidate = getAddress(net.strangers[1]);
    await mined(
      registryAs(candidate).write.applyForMembership([walletIdOf("NEWPAY"), "NewPay", getAddress(net.strangers[2]), ""]),
    );
    await expectRevert(issuer.mint([candidate, 1n, REF]), "SettlementTokenHolderNotAllowed", [candidate]);

    await mined(registryAs(net.governor).write.suspend([ops[0].walletId, 1]));
    await expectRevert(issuer.mint([ops[0].account, 1n, REF]), "SettlementTokenHolderNotAllowed", [ops[0].account]);
    await mined(registryAs(net.governor).write.exit([ops[0].walletId]));
    await expectRevert(issuer.mint([ops[0].account, 1n, REF]), "SettlementTokenHolderNotAllowed", [ops[0].account]);
  });

  it("error: minting or burning zero reverts with SettlementTokenZeroAmount", async () => {
    await expectRevert(tokenAs(net.issuer).write.mint([ops[0].account, 0n, REF]), "SettlementTokenZeroAmount", []);
    await expectRevert(tokenAs(net.issuer).write.burn([ops[0].account, 0n, REF]), "SettlementTokenZeroAmount", []);
  });

  it("error: burning more than the balance reverts with ERC20InsufficientBalance", async () => {
    await expectRevert(tokenAs(net.issuer).write.burn([ops[0].account, MINTED + 1n, REF]), "ERC20InsufficientBalance", [
      ops[0].account,
      MINTED,
      MINTED + 1n,
    ]);
  });

  it("error: burning from the hub (batches in flight) reverts with SettlementTokenHolderNotAllowed", async () => {
    await expectRevert(tokenAs(net.issuer).write.burn([hub, 1n, REF]), "SettlementTokenHolderNotAllowed", [hub]);
  });

  it("error: anyone but the issuer gets AccessControlUnauthorizedAccount for mint and burn", async () => {
    for (const caller of [stranger, ops[0].account, net.regulator, net.deployer]) {
      const expected = [caller, ISSUER_ROLE] as const;
      await expectRevert(tokenAs(caller).write.mint([ops[0].account, 1n, REF]), "AccessControlUnauthorizedAccount", expected);
      await expectRevert(tokenAs(caller).write.burn([ops[0].account, 1n, REF]), "AccessControlUnauthorizedAccount", expected);
    }
  });
});

describe("SettlementToken: movements only through the hub", () => {
  it("error: transfer between holders reverts with SettlementTokenDirectTransferDisabled", async () => {
    await expectRevert(
      tokenAs(ops[0].account).write.transfer([ops[1].account, 1n]),
      "SettlementTokenDirectTransferDisabled",
      [ops[0].account],
    );
    await expectRevert(tokenAs(stranger).write.transfer([ops[1].account, 0n]), "SettlementTokenDirectTransferDisabled", [
      stranger,
    ]);
  });

  it("error: transferFrom by anyone but the hub reverts with SettlementTokenDirectTransferDisabled, even with an allowance", async () => {
    await mined(tokenAs(ops[0].account).write.approve([ops[1].account, 10n]));
    expect(await read().allowance([ops[0].account, ops[1].account])).toBe(10n);
    await expectRevert(
      tokenAs(ops[1].account).write.transferFrom([ops[0].account, ops[1].account, 10n]),
      "SettlementTokenDirectTransferDisabled",
      [ops[1].account],
    );
  });

  it("behavior: hubTransfer moves between operators without an allowance", async () => {
    const receipt = await mined(tokenAs(hub).write.hubTransfer([ops[0].account, ops[1].account, 300n]));
    const [event] = eventsOf(receipt);
    expect(event.eventName).toBe("Transfer");
    expect(event.args).toEqual({ from: ops[0].account, to: ops[1].account, value: 300n });
    expect(await balanceOf(ops[0].account)).toBe(MINTED - 300n);
    expect(await balanceOf(ops[1].account)).toBe(MINTED + 300n);
  });

  it("behavior: the hub may hold tokens and pay them out with transfer and transferFrom", async () => {
    await mined(tokenAs(hub).write.hubTransfer([ops[0].account, hub, 500n]));
    expect(await balanceOf(hub)).toBe(500n);
    await mined(tokenAs(hub).write.transfer([ops[1].account, 200n]));
    await mined(tokenAs(ops[2].account).write.approve([hub, 50n]));
    await mined(tokenAs(hub).write.transferFrom([ops[2].account, ops[1].account, 50n]));
    expect(await balanceOf(hub)).toBe(300n);
    expect(await balanceOf(ops[1].account)).toBe(MINTED + 250n);
    expect(await balanceOf(ops[2].account)).toBe(MINTED - 50n);
  });

  it("error: after suspension the hub cannot credit the operator (SettlementTokenHolderNotAllowed)", async () => {
    await mined(registryAs(net.governor).write.suspend([ops[1].walletId, 5]));
    await expectRevert(
      tokenAs(hub).write.hubTransfer([ops[0].account, ops[1].account, 1n]),
      "SettlementTokenHolderNotAllowed",
      [ops[1].account],
    );
    await mined(tokenAs(hub).write.hubTransfer([ops[0].account, hub, 1n]));
    await expectRevert(tokenAs(hub).write.transfer([ops[1].account, 1n]), "SettlementTokenHolderNotAllowed", [
      ops[1].account,
    ]);
    await mined(registryAs(net.governor).write.resume([ops[1].walletId]));
    await mined(tokenAs(hub).write.transfer([ops[1].account, 1n]));
  });

  it("behavior: a suspended operator can still be debited by the hub (returns are owed to others)", async () => {
    await mined(registryAs(net.governor).write.suspend([ops[0].walletId, 5]));
    await mined(tokenAs(hub).write.hubTransfer([ops[0].account, ops[1].account, 7n]));
    expect(await balanceOf(ops[1].account)).toBe(MINTED + 7n);
  });

  it("error: the hub cannot credit a non-member (SettlementTokenHolderNotAllowed)", async () => {
    await expectRevert(tokenAs(hub).write.hubTransfer([ops[0].account, stranger, 1n]), "SettlementTokenHolderNotAllowed", [
      stranger,
    ]);
  });

  it("error: hubTransfer beyond the balance reverts with ERC20InsufficientBalance", async () => {
    await expectRevert(
      tokenAs(hub).write.hubTransfer([ops[0].account, ops[1].account, MINTED + 1n]),
      "ERC20InsufficientBalance",
      [ops[0].account, MINTED, MINTED + 1n],
    );
  });

  it("error: hubTransfer from the zero address cannot mint (ERC20InvalidSender)", async () => {
    await expectRevert(tokenAs(hub).write.hubTransfer([zeroAddress, ops[1].account, 1n]), "ERC20InvalidSender", [
      zeroAddress,
    ]);
  });

  it("error: hubTransfer by anyone but the hub reverts with SettlementTokenNotHub", async () => {
    for (const caller of [stranger, ops[0].account, net.issuer, net.deployer]) {
      await expectRevert(
        tokenAs(caller).write.hubTransfer([ops[0].account, ops[1].account, 1n]),
        "SettlementTokenNotHub",
        [caller],
      );
    }
  });
});

describe("SettlementToken: pause", () => {
  it("behavior: the regulator's pause stops mint, burn and every hub movement until unpause", async () => {
    const paused = await mined(tokenAs(net.regulator).write.pause());
    expect(eventsOf(paused).map((e) => e.eventName)).toEqual(["Paused"]);
    expect(await read().paused()).toBe(true);

    await expectRevert(tokenAs(net.issuer).write.mint([ops[0].account, 1n, REF]), "EnforcedPause", []);
    await expectRevert(tokenAs(net.issuer).write.burn([ops[0].account, 1n, REF]), "EnforcedPause", []);
    await expectRevert(tokenAs(hub).write.hubTransfer([ops[0].account, ops[1].account, 1n]), "EnforcedPause", []);
    await expectRevert(tokenAs(hub).write.transfer([ops[1].account, 0n]), "EnforcedPause", []);

    const unpaused = await mined(tokenAs(net.regulator).write.unpause());
    expect(eventsOf(unpaused).map((e) => e.eventName)).toEqual(["Unpaused"]);
    expect(await read().paused()).toBe(false);
    await mined(tokenAs(hub).write.hubTransfer([ops[0].account, ops[1].account, 1n]));
  });

  it("behavior: pausing or unpausing twice does nothing the second time", async () => {
    await mined(tokenAs(net.regulator).write.pause());
    expect(eventsOf(await mined(tokenAs(net.regulator).write.pause()))).toEqual([]);
    expect(await read().paused()).toBe(true);
    await mined(tokenAs(net.regulator).write.unpause());
    expect(eventsOf(await mined(tokenAs(net.regulator).write.unpause()))).toEqual([]);
    expect(await read().paused()).toBe(false);
  });

  it("error: anyone but the regulator gets AccessControlUnauthorizedAccount", async () => {
    for (const caller of [stranger, net.issuer, net.deployer, ops[0].account]) {
      const expected = [caller, REGULATOR_ROLE] as const;
      await expectRevert(tokenAs(caller).write.pause(), "AccessControlUnauthorizedAccount", expected);
      await expectRevert(tokenAs(caller).write.unpause(), "AccessControlUnauthorizedAccount", expected);
    }
  });
});
