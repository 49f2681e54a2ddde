import type { Hex, LocalAccount } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { walletRegistryAbi } from "../../node/chain/abi/generated.ts";
import { createChainClients } from "../../node/chain/clients.ts";
import { sendAndConfirm } from "../../node/chain/signing.ts";
import { RESOLVE_PATH } from "../../node/directory/directoryClient.ts";
import { HEADER_SIGNATURE, HEADER_TIMESTAMP, MAX_CLOCK_SKEW_MS, signRequest } from "../../node/directory/signedRequest.ts";
import { openKeystoreFile } from "../../node/keys/keystore.ts";
import { canonicalJson } from "../../node/ledger/idempotency.ts";
import { walletIdOf } from "../../node/receipts/ids.ts";
import { call, expectProblem } from "../api/client.ts";
import { pollUntil } from "../helpers/http.ts";
import { type OperatorNetwork, type TestOperator, startOperatorNetwork } from "../bridge/operatorNetwork.ts";

/*
 * The node-to-node endpoint (`POST /node/v1/resolve`) answers only requests signed by the
 * settlement key WalletRegistry lists for the calling wallet, fresh, unaltered, from an Active
 * member. ALIPAY's node is asked; WECHAT and YUNPAY call it.
 */

let net: OperatorNetwork;
let alipay: TestOperator;
const keys = new Map<string, LocalAccount>();

beforeAll(async () => {
  net = await startOperatorNetwork(
    [
      { code: "ALIPAY", name: "Alipay", reserve: 0n },
      { code: "WECHAT", name: "WeChat Pay", reserve: 0n },
      { code: "YUNPAY", name: "Yunnan Pay", reserve: 0n },
    ],
    { exposeGovernance: true },
  );
  alipay = net.byCode("ALIPAY");
  for (const op of net.devnet.operators) {
    const { privateKey } = await openKeystoreFile(op.keystoreFile, net.devnet.keystorePassword);
    keys.set(op.code, privateKeyToAccount(privateKey));
  }
  await alipay.api.openAccount("zhangwei", "Zhang Wei");
});

afterAll(async () => {
  await net?.close();
});

/** Sends `body` to ALIPAY's resolve endpoint with these headers, exactly as given. */
function send(body: string, headers: Record<string, string>) {
  return call(alipay.api.url, "POST", RESOLVE_PATH, { raw: body, headers });
}

/** A request signed by `signer` on behalf of `wallet`. */
async function signed(wallet: string, signer: LocalAccount, payload: unknown = { handle: "zhangwei" }, now = Date.now()) {
  const body = canonicalJson(payload as never);
  return { body, headers: await signRequest(signer, walletIdOf(wallet), "POST", RESOLVE_PATH, body, now) };
}

describe("node-to-node resolve", () => {
  test("default: a request signed by the caller's settlement key gets a 32-byte payee reference and a masked name", async () => {
    const { body, headers } = await signed("WECHAT", keys.get("WECHAT")!);
    const r = await send(body, headers);
    expect(r.status, r.text).toBe(200);
    expect(r.json.maskedName).toBe("Z**** W**");
    expect(r.json.payeeRef).toMatch(/^0x[0-9a-f]{64}$/);
    expect(r.text).not.toMatch(/Zhang|Wei|zhangwei/);

    // The same handle always maps to the same reference, whoever asks.
    const again = await signed("YUNPAY", keys.get("YUNPAY")!);
    expect((await send(again.body, again.headers)).json.payeeRef).toBe(r.json.payeeRef);
  });

  test("behavior: an unknown handle answers like a known one (a reference no account owns), so handles cannot be enumerated", async () => {
    const { body, headers } = await signed("WECHAT", keys.get("WECHAT")!, { handle: "nobody-at-all" });
    const r = await send(body, headers);
    expect(r.status).toBe(200);
    expect(r.json.maskedName).toBe("***");
    expect(r.json.payeeRef).toMatch(/^0x[0-9a-f]{64}$/);
  });

  test("behavior: the wallet API resolves another wallet's handle through the signed endpoint", async () => {
    const wechat = net.byCode("WECHAT");
    const r = await call(wechat.api.url, "GET", "/v1/directory/zhangwei@ALIPAY", { key: wechat.keys.app });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({ address: "zhangwei@ALIPAY", wallet: "ALIPAY", maskedName: "Z**** W**" });
  });

  test("error: an unsigned request is refused (401 unsigned_request)", async () => {
    const body = canonicalJson({ handle: "zhangwei" });
    expectProblem(await send(body, {}), 401, "unsigned_request");
    const { headers } = await signed("WECHAT", keys.get("WECHAT")!);
    const { [HEADER_SIGNATURE]: _signature, ...withoutSignature } = headers;
    expectProblem(await send(body, withoutSignature), 401, "unsigned_request");
  });

  test("error: a signature by a key that is not the claimed wallet's settlement account is refused (401 bad_signature)", async () => {
    const stranger = privateKeyToAccount(generatePrivateKey());
    const a = await signed("WECHAT", stranger);
    expectProblem(await send(a.body, a.headers), 401, "bad_signature");
    // Another member's real key does not speak for WECHAT either.
    const b = await signed("WECHAT", keys.get("YUNPAY")!);
    expectProblem(await send(b.body, b.headers), 401, "bad_signature");
  });

  test("error: a body changed after signing is refused (401 bad_signature)", async () => {
    const { headers } = await signed("WECHAT", keys.get("WECHAT")!, { handle: "zhangwei" });
    expectProblem(await send(canonicalJson({ handle: "someone-else" }), headers), 401, "bad_signature");
  });

  test("error: a changed timestamp or a stale or future one is refused", async () => {
    const { body, headers } = await signed("WECHAT", keys.get("WECHAT")!);
    expectProblem(await send(body, { ...headers, [HEADER_TIMESTAMP]: String(Number(headers[HEADER_TIMESTAMP]) + 1) }), 401, "bad_signature");
    const stale = await signed("WECHAT", keys.get("WECHAT")!, { handle: "zhangwei" }, Date.now() - MAX_CLOCK_SKEW_MS - 5_000);
    expectProblem(await send(stale.body, stale.headers), 401, "stale_request");
    const future = await signed("WECHAT", keys.get("WECHAT")!, { handle: "zhangwei" }, Date.now() + MAX_CLOCK_SKEW_MS + 5_000);
    expectProblem(await send(future.body, future.headers), 401, "stale_request");
  });

  test("error: a wallet that is not a member is refused (401 unknown_wallet)", async () => {
    const { body, headers } = await signed("NOSUCH", privateKeyToAccount(generatePrivateKey()));
    expectProblem(await send(body, headers), 401, "unknown_wallet");
  });

  test("error: a caller wallet suspended by the governor is refused (403 wallet_not_active)", async () => {
    const governance = net.devnet.governance!;
    const governor = createChainClients(net.devnet.chain.url, net.devnet.chain.chainId, governance.governor);
    await sendAndConfirm(governor.signer!, governor.publicClient, {
      address: net.devnet.manifest.contracts.walletRegistry,
      abi: walletRegistryAbi,
      functionName: "suspend",
      args: [walletIdOf("YUNPAY") as Hex, 7],
    });
    // The receiving node caches registry reads briefly; the suspension must show within that time.
    const problem = await pollUntil(
      "YUNPAY to be refused",
      async () => {
        const { body, headers } = await signed("YUNPAY", keys.get("YUNPAY")!);
        const r = await send(body, headers);
        return r.status === 200 ? undefined : r;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    expectProblem(problem, 403, "wallet_not_active");
    // An Active member is still served.
    const ok = await signed("WECHAT", keys.get("WECHAT")!);
    expect((await send(ok.body, ok.headers)).status).toBe(200);
  });
});
