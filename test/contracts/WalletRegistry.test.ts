import {
  type Address,
  type Hex,
  type TransactionReceipt,
  getAddress,
  getContract, keccak256, padHex, parseEventLogs, stringToHex, toHex, zeroAddress } from "viem";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { walletRegistryAbi, walletRegistryBytecode } from "../../node/chain/abi/generated.ts";
import { isWalletId, walletIdOf } from "../../node/receipts/ids.ts";
import { type TestChain, startTestChain } from "../helpers/chain.ts";
import { expectRevert } from "../helpers/expectRevert.ts";

// Mirrors IWalletRegistry.OperatorStatus.
const Status = { None: 0, Pending: 1, Active: 2, Suspended: 3, Exited: 4 } as const;
type StatusName = keyof typeof Status;

const GOVERNOR_ROLE = keccak256(toHex("GOVERNOR_ROLE"));
const DEFAULT_ADMIN_ROLE = `0x${"00".repeat(32)}` as Hex;

let chain: TestChain;
let admin: Address;
let governor: Address;
/** Candidate settlement accounts; validators come from `validators`. */
let candidates: Address[];
let validators: Address[];
let stranger: Address;
let registryAddress: Address;

beforeAll(async () => {
  chain = await startTestChain();
  // Checksummed, as viem returns addresses from the chain.
  const accounts = chain.accounts.map((account) => getAddress(account));
  [admin, governor] = accounts;
  candidates = accounts.slice(2, 8);
  validators = accounts.slice(8, 14);
  stranger = accounts[14];
});

afterAll(async () => {
  await chain.close();
});

beforeEach(async () => {
  registryAddress = await deployRegistry(admin, governor);
});

async function deployRegistry(adminAccount: Address, governorAccount: Address): Promise<Address> {
  const hash = await chain.wallet(admin).deployContract({
    abi: walletRegistryAbi,
    bytecode: walletRegistryBytecode,
    args: [adminAccount, governorAccount],
  });
  const receipt = await chain.publicClient.waitForTransactionReceipt({ hash });
  if (!receipt.contractAddress) throw new Error("registry deployment failed");
  return receipt.contractAddress;
}

/** The registry as seen by `account`. */
function registryAs(account: Address) {
  return getContract({
    address: registryAddress,
    abi: walletRegistryAbi,
    client: { public: chain.publicClient, wallet: chain.wallet(account) },
  });
}

const read = () => registryAs(stranger).read;

async function mined(hash: Promise<Hex>): Promise<TransactionReceipt> {
  const receipt = await chain.publicClient.waitForTransactionReceipt({ hash: await hash });
  expect(receipt.status).toBe("success");
  return receipt;
}

function eventsOf(receipt: TransactionReceipt) {
  return parseEventLogs({ abi: walletRegistryAbi, logs: receipt.logs });
}

interface Candidate {
  walletId: Hex;
  account: Address;
  validator: Address;
}

function candidate(i: number, code = `W${i}`): Candidate {
  return { walletId: walletIdOf(code), account: candidates[i], validator: validators[i] };
}

async function apply(c: Candidate, name = "Wallet", endpoint = "https://node.example/"): Promise<TransactionReceipt> {
  return mined(registryAs(c.account).write.applyForMembership([c.walletId, name, c.validator, endpoint]));
}

/** Applies and walks the candidate to `status` through the allowed transitions. */
async function bringTo(c: Candidate, status: Exclude<StatusName, "None">): Promise<void> {
  await apply(c);
  if (status === "Pending") return;
  const gov = registryAs(governor).write;
  await mined(gov.approve([c.walletId]));
  if (status === "Active") return;
  if (status === "Suspended") {
    await mined(gov.suspend([c.walletId, 7]));
    return;
  }
  await mined(gov.exit([c.walletId]));
}

const lower = (addresses: readonly Address[]) => addresses.map((a) => a.toLowerCase()).sort();

describe("WalletRegistry: deployment", () => {
  it("default: grants DEFAULT_ADMIN_ROLE to the admin and GOVERNOR_ROLE to the governor", async () => {
    expect(await read().GOVERNOR_ROLE()).toBe(GOVERNOR_ROLE);
    expect(await read().hasRole([DEFAULT_ADMIN_ROLE, admin])).toBe(true);
    expect(await read().hasRole([GOVERNOR_ROLE, governor])).toBe(true);
    expect(await read().hasRole([GOVERNOR_ROLE, admin])).toBe(false);
    expect(await read().walletIds()).toEqual([]);
    expect(await read().getValidators()).toEqual([]);
  });

  it("error: a zero admin or governor is refused with RegistryZeroAddress", async () => {
    await expectRevert(deployRegistry(zeroAddress, governor), "RegistryZeroAddress", []);
    await expectRevert(deployRegistry(admin, zeroAddress), "RegistryZeroAddress", []);
  });
});

describe("WalletRegistry: applyForMembership", () => {
  it("behavior: records a Pending operator whose settlement account is the caller", async () => {
    const c = candidate(0, "ALIPAY");
    const receipt = await apply(c, "Alipay", "https://alipay.example/hulian");
    const block = await chain.publicClient.getBlock({ blockNumber: receipt.blockNumber });

    const [event] = eventsOf(receipt);
    expect(event.eventName).toBe("OperatorApplied");
    expect(event.args).toEqual({
      walletId: c.walletId,
      settlementAccount: c.account,
      validator: c.validator,
      name: "Alipay",
      endpoint: "https://alipay.example/hulian",
    });

    expect(await read().getOperator([c.walletId])).toEqual({
      walletId: c.walletId,
      name: "Alipay",
      settlementAccount: c.account,
      validator: c.validator,
      endpoint: "https://alipay.example/hulian",
      status: Status.Pending,
      suspensionReason: 0,
      appliedAt: block.timestamp,
      updatedAt: block.timestamp,
    });
    expect(await read().statusOf([c.walletId])).toBe(Status.Pending);
    expect(await read().walletIdOf([c.account])).toBe(c.walletId);
    expect(await read().settlementAccountOf([c.walletId])).toBe(c.account);
    expect(await read().isActive([c.walletId])).toBe(false);
    expect(await read().isActiveAccount([c.account])).toBe(false);
    expect(await read().walletIds()).toEqual([c.walletId]);
    expect(await read().getValidators()).toEqual([]);
  });

  it("behavior: walletIds lists every operator with a record (pending, active, exited), a rejected application no more", async () => {
    const [a, b, c, d] = [candidate(0), candidate(1), candidate(2), candidate(3)];
    await bringTo(a, "Exited");
    await bringTo(b, "Pending");
    await bringTo(c, "Active");
    await bringTo(d, "Pending");
    await mined(registryAs(governor).write.reject([d.walletId, 1]));
    expect([...(await read().walletIds())].sort()).toEqual([a.walletId, b.walletId, c.walletId].sort());
  });

  it("behavior: memberIds lists Active and Suspended operators only, never a pending application or an exited member", async () => {
    const [a, b, c, d] = [candidate(0), candidate(1), candidate(2), candidate(3)];
    await bringTo(a, "Exited");
    await bringTo(b, "Pending");
    await bringTo(c, "Active");
    await bringTo(d, "Suspended");
    expect(await read().memberIds()).toEqual([c.walletId, d.walletId]);
    await mined(registryAs(governor).write.exit([c.walletId]));
    expect(await read().memberIds()).toEqual([d.walletId]);
  });

  it("behavior: the longest code (24 characters) and every allowed character are accepted", async () => {
    for (const [i, code] of ["ABCDEFGHIJKLMNOPQRSTUVWX", "Z0_9-", "7"].entries()) {
      const c = candidate(i, code);
      await apply(c);
      expect(await read().statusOf([c.walletId])).toBe(Status.Pending);
    }
  });

  it("error: a walletId that node/receipts/ids.ts rejects is refused with RegistryInvalidWalletId", async () => {
    const valid = walletIdOf("ALIPAY");
    const bad: Hex[] = [
      `0x${"00".repeat(32)}`, // zero
      `0x${valid.slice(2, 50)}${"00".repeat(7)}01`, // sequence bits set
      `0x${"41".repeat(24)}${"00".repeat(7)}01`, // 24 chars plus a sequence bit
      padHex(stringToHex("alipay"), { size: 32, dir: "right" }), // lower case
      `0x00${valid.slice(2, 64)}`, // not left aligned
      `0x410042${"00".repeat(29)}`, // zero byte inside the code
      `0x4120${"00".repeat(30)}`, // space
      `0x41ff${"00".repeat(30)}`, // non-ASCII
    ];
    for (const walletId of bad) {
      expect(isWalletId(walletId), walletId).toBe(false);
      await expectRevert(
        registryAs(candidates[0]).write.applyForMembership([walletId, "X", validators[0], ""]),
        "RegistryInvalidWalletId",
        [walletId],
      );
    }
    expect(isWalletId(valid)).toBe(true);
  });

  it("error: a zero validator is refused with RegistryZeroAddress", async () => {
    await expectRevert(
      registryAs(candidates[0]).write.applyForMembership([walletIdOf("A"), "A", zeroAddress, ""]),
      "RegistryZeroAddress",
      [],
    );
  });

  it("error: a walletId that was admitted is taken for good (RegistryWalletIdTaken), even after exit", async () => {
    const first = candidate(0, "ALIPAY");
    await bringTo(first, "Pending");
    const again = { ...candidate(1), walletId: first.walletId };
    await expectRevert(
      registryAs(again.account).write.applyForMembership([again.walletId, "A", again.validator, ""]),
      "RegistryWalletIdTaken",
      [first.walletId],
    );
    await mined(registryAs(governor).write.approve([first.walletId]));
    await mined(registryAs(first.account).write.exit([first.walletId]));
    await expectRevert(
      registryAs(again.account).write.applyForMembership([again.walletId, "A", again.validator, ""]),
      "RegistryWalletIdTaken",
      [first.walletId],
    );
  });

  it("error: an account already bound to an operator is refused with RegistryAccountTaken, even after exit", async () => {
    const first = candidate(0);
    await bringTo(first, "Active");
    const second = { ...candidate(1), account: first.account };
    await expectRevert(
      registryAs(second.account).write.applyForMembership([second.walletId, "B", second.validator, ""]),
      "RegistryAccountTaken",
      [first.account],
    );
    await mined(registryAs(first.account).write.exit([first.walletId]));
    await expectRevert(
      registryAs(second.account).write.applyForMembership([second.walletId, "B", second.validator, ""]),
      "RegistryAccountTaken",
      [first.account],
    );
    expect(await read().walletIdOf([first.account])).toBe(first.walletId);
  });

  it("error: a validator already in use is refused with RegistryValidatorTaken", async () => {
    const first = candidate(0);
    await bringTo(first, "Pending");
    const second = { ...candidate(1), validator: first.validator };
    await expectRevert(
      registryAs(second.account).write.applyForMembership([second.walletId, "B", second.validator, ""]),
      "RegistryValidatorTaken",
      [first.validator],
    );
  });

  it("behavior: a validator is freed when its operator exits or is rejected", async () => {
    const exited = candidate(0);
    await bringTo(exited, "Exited");
    await apply({ ...candidate(1), validator: exited.validator });
    expect((await read().getOperator([candidate(1).walletId])).validator).toBe(exited.validator);

    const rejected = candidate(2);
    await bringTo(rejected, "Pending");
    await mined(registryAs(governor).write.reject([rejected.walletId, 3]));
    await apply({ ...candidate(3), validator: rejected.validator });
    expect((await read().getOperator([candidate(3).walletId])).validator).toBe(rejected.validator);
  });
});

describe("WalletRegistry: application expiry", () => {
  const rpc = (method: string, params: unknown[]) => chain.publicClient.request({ method, params } as never);
  /** Mines the next block at `timestamp` (unix seconds). */
  async function mineAt(timestamp: bigint) {
    await rpc("evm_setNextBlockTimestamp", [toHex(timestamp)]);
    await rpc("evm_mine", []);
  }

  it("default: an application may stay pending 7 days (DEFAULT_APPLICATION_TTL)", async () => {
    expect(await read().applicationTtl()).toBe(7n * 86_400n);
    expect(await read().DEFAULT_APPLICATION_TTL()).toBe(7n * 86_400n);
  });

  it("behavior: anyone clears an application still pending at its deadline, which frees the wallet code, account and validator", async () => {
    const squatter = candidate(0, "ALIPAY");
    await apply(squatter);
    const { appliedAt } = await read().getOperator([squatter.walletId]);
    const deadline = appliedAt + 7n * 86_400n;
    await mineAt(deadline - 2n);
    await expectRevert(registryAs(stranger).write.clearExpiredApplication([squatter.walletId]), "RegistryApplicationNotExpired", [squatter.walletId, deadline]);
    await rpc("evm_setNextBlockTimestamp", [toHex(deadline)]);
    const [event] = eventsOf(await mined(registryAs(stranger).write.clearExpiredApplication([squatter.walletId])));
    expect(event.eventName).toBe("ApplicationExpired");
    expect(event.args).toEqual({ walletId: squatter.walletId, by: stranger });
    expect(await read().statusOf([squatter.walletId])).toBe(Status.None);
    expect(await read().walletIds()).toEqual([]);
    // The real owner of the code applies with the same validator; the squatter's account is free too.
    const owner = { ...candidate(1), walletId: squatter.walletId, validator: squatter.validator };
    await apply(owner);
    expect((await read().getOperator([owner.walletId])).settlementAccount).toBe(owner.account);
    await apply({ ...candidate(2, "OTHER"), account: squatter.account });
    expect(await read().walletIdOf([squatter.account])).toBe(walletIdOf("OTHER"));
  });

  it("error: only a Pending application can be cleared (RegistryInvalidStatus), an unknown one not at all (RegistryUnknownWallet)", async () => {
    const c = candidate(0);
    await bringTo(c, "Active");
    const { appliedAt } = await read().getOperator([c.walletId]);
    await mineAt(appliedAt + 30n * 86_400n);
    await expectRevert(registryAs(stranger).write.clearExpiredApplication([c.walletId]), "RegistryInvalidStatus", [c.walletId, Status.Active]);
    await expectRevert(registryAs(stranger).write.clearExpiredApplication([walletIdOf("NOPE")]), "RegistryUnknownWallet", [walletIdOf("NOPE")]);
  });

  it("behavior: governance sets the time-to-live (GOVERNOR_ROLE only, non-zero; the same value again emits nothing)", async () => {
    const c = candidate(0);
    await apply(c);
    await expectRevert(registryAs(stranger).write.setApplicationTtl([3_600n]), "AccessControlUnauthorizedAccount", [stranger, GOVERNOR_ROLE]);
    await expectRevert(registryAs(governor).write.setApplicationTtl([0n]), "RegistryInvalidApplicationTtl", [0n]);
    const [event] = eventsOf(await mined(registryAs(governor).write.setApplicationTtl([3_600n])));
    expect(event.eventName).toBe("ApplicationTtlSet");
    expect(event.args).toEqual({ ttlSeconds: 3_600n });
    expect(eventsOf(await mined(registryAs(governor).write.setApplicationTtl([3_600n])))).toEqual([]);
    const { appliedAt } = await read().getOperator([c.walletId]);
    await mineAt(appliedAt + 3_600n);
    await mined(registryAs(stranger).write.clearExpiredApplication([c.walletId]));
    expect(await read().statusOf([c.walletId])).toBe(Status.None);
  });
});

describe("WalletRegistry: governance transitions", () => {
  it("behavior: approve makes a Pending operator Active and its validator a QBFT validator", async () => {
    const c = candidate(0);
    await apply(c);
    const receipt = await mined(registryAs(governor).write.approve([c.walletId]));
    const [event] = eventsOf(receipt);
    expect(event.eventName).toBe("OperatorApproved");
    expect(event.args).toEqual({ walletId: c.walletId, approver: governor });
    expect(await read().statusOf([c.walletId])).toBe(Status.Active);
    expect(await read().isActive([c.walletId])).toBe(true);
    expect(await read().isActiveAccount([c.account])).toBe(true);
    expect(await read().getValidators()).toEqual([c.validator]);
    const block = await chain.publicClient.getBlock({ blockNumber: receipt.blockNumber });
    expect((await read().getOperator([c.walletId])).updatedAt).toBe(block.timestamp);
  });

  it("behavior: reject deletes a Pending application with its reason code in the event, and frees its code and account", async () => {
    const c = candidate(0);
    await apply(c);
    const [event] = eventsOf(await mined(registryAs(governor).write.reject([c.walletId, 42])));
    expect(event.eventName).toBe("OperatorRejected");
    expect(event.args).toEqual({ walletId: c.walletId, reasonCode: 42 });
    expect(await read().statusOf([c.walletId])).toBe(Status.None);
    await expectRevert(read().getOperator([c.walletId]), "RegistryUnknownWallet", [c.walletId]);
    expect(await read().walletIdOf([c.account])).toBe(`0x${"00".repeat(32)}`);
    expect(await read().getValidators()).toEqual([]);
    // The same code, account and validator may apply again.
    await apply(c);
    expect(await read().statusOf([c.walletId])).toBe(Status.Pending);
  });

  it("behavior: suspend and resume flip the status, the reason code and the validator set", async () => {
    const c = candidate(0);
    await bringTo(c, "Active");
    const [suspended] = eventsOf(await mined(registryAs(governor).write.suspend([c.walletId, 9])));
    expect(suspended.eventName).toBe("OperatorSuspended");
    expect(suspended.args).toEqual({ walletId: c.walletId, reasonCode: 9 });
    expect(await read().statusOf([c.walletId])).toBe(Status.Suspended);
    expect((await read().getOperator([c.walletId])).suspensionReason).toBe(9);
    expect(await read().isActive([c.walletId])).toBe(false);
    expect(await read().isActiveAccount([c.account])).toBe(false);
    expect(await read().getValidators()).toEqual([]);

    const [resumed] = eventsOf(await mined(registryAs(governor).write.resume([c.walletId])));
    expect(resumed.eventName).toBe("OperatorResumed");
    expect(resumed.args).toEqual({ walletId: c.walletId });
    expect(await read().statusOf([c.walletId])).toBe(Status.Active);
    expect((await read().getOperator([c.walletId])).suspensionReason).toBe(0);
    expect(await read().isActiveAccount([c.account])).toBe(true);
    expect(await read().getValidators()).toEqual([c.validator]);
  });

  it("behavior: exit by the governor removes the operator for good", async () => {
    const c = candidate(0);
    await bringTo(c, "Suspended");
    const [event] = eventsOf(await mined(registryAs(governor).write.exit([c.walletId])));
    expect(event.eventName).toBe("OperatorExited");
    expect(event.args).toEqual({ walletId: c.walletId, by: governor });
    expect(await read().statusOf([c.walletId])).toBe(Status.Exited);
    expect(await read().isActiveAccount([c.account])).toBe(false);
  });

  it("behavior: exit by the operator's own settlement account", async () => {
    const c = candidate(0);
    await bringTo(c, "Active");
    const [event] = eventsOf(await mined(registryAs(c.account).write.exit([c.walletId])));
    expect(event.args).toEqual({ walletId: c.walletId, by: c.account });
    expect(await read().statusOf([c.walletId])).toBe(Status.Exited);
    expect(await read().getValidators()).toEqual([]);
  });

  it("error: exit by anyone else is refused with RegistryUnauthorized", async () => {
    const [c, other] = [candidate(0), candidate(1)];
    await bringTo(c, "Active");
    await bringTo(other, "Active");
    for (const caller of [stranger, other.account, admin, c.validator]) {
      await expectRevert(registryAs(caller).write.exit([c.walletId]), "RegistryUnauthorized", [c.walletId, caller]);
    }
  });

  it("error: a stranger calling a governor function gets AccessControlUnauthorizedAccount", async () => {
    const c = candidate(0);
    await bringTo(c, "Pending");
    const asStranger = registryAs(stranger).write;
    const asOperator = registryAs(c.account).write;
    for (const write of [asStranger, asOperator]) {
      const caller = write === asStranger ? stranger : c.account;
      const expected = [caller, GOVERNOR_ROLE] as const;
      await expectRevert(write.approve([c.walletId]), "AccessControlUnauthorizedAccount", expected);
      await expectRevert(write.reject([c.walletId, 1]), "AccessControlUnauthorizedAccount", expected);
      await expectRevert(write.suspend([c.walletId, 1]), "AccessControlUnauthorizedAccount", expected);
      await expectRevert(write.resume([c.walletId]), "AccessControlUnauthorizedAccount", expected);
    }
  });

  it("error: every function on an unknown walletId reverts with RegistryUnknownWallet", async () => {
    const unknown = walletIdOf("NOBODY");
    const gov = registryAs(governor).write;
    await expectRevert(gov.approve([unknown]), "RegistryUnknownWallet", [unknown]);
    await expectRevert(gov.reject([unknown, 1]), "RegistryUnknownWallet", [unknown]);
    await expectRevert(gov.suspend([unknown, 1]), "RegistryUnknownWallet", [unknown]);
    await expectRevert(gov.resume([unknown]), "RegistryUnknownWallet", [unknown]);
    await expectRevert(gov.exit([unknown]), "RegistryUnknownWallet", [unknown]);
    await expectRevert(gov.setEndpoint([unknown, "x"]), "RegistryUnknownWallet", [unknown]);
    await expectRevert(read().getOperator([unknown]), "RegistryUnknownWallet", [unknown]);
    expect(await read().statusOf([unknown])).toBe(Status.None);
    expect(await read().settlementAccountOf([unknown])).toBe(zeroAddress);
    expect(await read().isActive([unknown])).toBe(false);
    expect(await read().walletIdOf([stranger])).toBe(`0x${"00".repeat(32)}`);
    expect(await read().isActiveAccount([stranger])).toBe(false);
  });

  describe("status-transition table", () => {
    type Action = "approve" | "reject" | "suspend" | "resume" | "exit";
    const allowed: Record<Exclude<StatusName, "None">, Partial<Record<Action, StatusName>>> = {
      Pending: { approve: "Active", reject: "None" },
      Active: { suspend: "Suspended", exit: "Exited" },
      Suspended: { resume: "Active", exit: "Exited" },
      Exited: {},
    };
    const actions: Action[] = ["approve", "reject", "suspend", "resume", "exit"];

    for (const [from, targets] of Object.entries(allowed) as [Exclude<StatusName, "None">, Partial<Record<Action, StatusName>>][]) {
      for (const action of actions) {
        const to = targets[action];
        const name = to ? `behavior: ${from} --${action}--> ${to}` : `error: ${action} from ${from} reverts with RegistryInvalidStatus`;
        it(name, async () => {
          const c = candidate(0);
          await bringTo(c, from);
          const gov = registryAs(governor).write;
          const call = () => {
            switch (action) {
              case "approve":
                return gov.approve([c.walletId]);
              case "reject":
                return gov.reject([c.walletId, 1]);
              case "suspend":
                return gov.suspend([c.walletId, 1]);
              case "resume":
                return gov.resume([c.walletId]);
              case "exit":
                return gov.exit([c.walletId]);
            }
          };
          if (to) {
            await mined(call());
            expect(await read().statusOf([c.walletId])).toBe(Status[to]);
          } else {
            await expectRevert(call(), "RegistryInvalidStatus", [c.walletId, Status[from]]);
            expect(await read().statusOf([c.walletId])).toBe(Status[from]);
          }
        });
      }
    }

    it("error: the operator itself cannot exit while Pending (RegistryInvalidStatus)", async () => {
      const c = candidate(0);
      await bringTo(c, "Pending");
      await expectRevert(registryAs(c.account).write.exit([c.walletId]), "RegistryInvalidStatus", [
        c.walletId,
        Status.Pending,
      ]);
    });
  });
});

describe("WalletRegistry: setEndpoint", () => {
  it("behavior: the operator publishes a new endpoint; the same one again changes nothing", async () => {
    const c = candidate(0);
    await bringTo(c, "Active");
    const receipt = await mined(registryAs(c.account).write.setEndpoint([c.walletId, "https://new.example/"]));
    const [event] = eventsOf(receipt);
    expect(event.eventName).toBe("OperatorEndpointUpdated");
    expect(event.args).toEqual({ walletId: c.walletId, endpoint: "https://new.example/" });
    expect((await read().getOperator([c.walletId])).endpoint).toBe("https://new.example/");

    const again = await mined(registryAs(c.account).write.setEndpoint([c.walletId, "https://new.example/"]));
    expect(eventsOf(again)).toEqual([]);
  });

  it("behavior: allowed while Pending and Suspended", async () => {
    const [pending, suspended] = [candidate(0), candidate(1)];
    await bringTo(pending, "Pending");
    await bringTo(suspended, "Suspended");
    await mined(registryAs(pending.account).write.setEndpoint([pending.walletId, "https://p.example/"]));
    await mined(registryAs(suspended.account).write.setEndpoint([suspended.walletId, "https://s.example/"]));
    expect((await read().getOperator([pending.walletId])).endpoint).toBe("https://p.example/");
    expect((await read().getOperator([suspended.walletId])).endpoint).toBe("https://s.example/");
  });

  it("error: anyone but the settlement account (even the governor) gets RegistryUnauthorized", async () => {
    const c = candidate(0);
    await bringTo(c, "Active");
    for (const caller of [stranger, governor]) {
      await expectRevert(registryAs(caller).write.setEndpoint([c.walletId, "https://evil.example/"]), "RegistryUnauthorized", [
        c.walletId,
        caller,
      ]);
    }
  });

  it("error: an Exited operator cannot publish (RegistryInvalidStatus)", async () => {
    const c = candidate(0);
    await bringTo(c, "Exited");
    await expectRevert(registryAs(c.account).write.setEndpoint([c.walletId, "https://x.example/"]), "RegistryInvalidStatus", [
      c.walletId,
      Status.Exited,
    ]);
  });
});

describe("WalletRegistry: getValidators", () => {
  it("behavior: follows approve, suspend, resume and exit", async () => {
    const [a, b, c] = [candidate(0), candidate(1), candidate(2)];
    const gov = registryAs(governor).write;
    for (const x of [a, b, c]) await apply(x);
    expect(await read().getValidators()).toEqual([]);

    for (const x of [a, b, c]) await mined(gov.approve([x.walletId]));
    expect(lower(await read().getValidators())).toEqual(lower([a.validator, b.validator, c.validator]));

    await mined(gov.suspend([b.walletId, 1]));
    expect(lower(await read().getValidators())).toEqual(lower([a.validator, c.validator]));

    await mined(gov.resume([b.walletId]));
    expect(lower(await read().getValidators())).toEqual(lower([a.validator, b.validator, c.validator]));

    await mined(registryAs(a.account).write.exit([a.walletId]));
    expect(lower(await read().getValidators())).toEqual(lower([b.validator, c.validator]));

    await mined(gov.suspend([c.walletId, 2]));
    await mined(gov.exit([c.walletId]));
    expect(await read().getValidators()).toEqual([b.validator]);
  });
});

describe("expectRevert helper", () => {
  it("error: fails when the call succeeds, the error differs or the args differ", async () => {
    const c = candidate(0);
    await expect(expectRevert(read().walletIds(), "RegistryUnknownWallet")).rejects.toThrow(/succeeded/);
    await expect(expectRevert(read().getOperator([c.walletId]), "RegistryZeroAddress")).rejects.toThrow(
      /got RegistryUnknownWallet/,
    );
    await expect(expectRevert(read().getOperator([c.walletId]), "RegistryUnknownWallet", [walletIdOf("B")])).rejects.toThrow(
      /expected RegistryUnknownWallet/,
    );
    await expectRevert(read().getOperator([c.walletId]), "RegistryUnknownWallet", [(id: unknown) => id === c.walletId]);
  });
});
