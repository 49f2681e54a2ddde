import { type AddressInfo, createServer } from "node:net";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type Hex, type LocalAccount, createPublicClient, custom, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { walletRegistryAbi } from "../../node/chain/abi/generated.ts";
import { createChainClients } from "../../node/chain/clients.ts";
import { sendAndConfirm } from "../../node/chain/signing.ts";
import { RegistryView } from "../../node/chain/registryView.ts";
import { DirectoryClient, RESOLVE_PATH } from "../../node/directory/directoryClient.ts";
import { isMaskedName } from "../../node/directory/maskName.ts";
import { HEADER_AUDIENCE, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, HEADER_WALLET, MAX_CLOCK_SKEW_MS, signRequest } from "../../node/directory/signedRequest.ts";
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
      { code: "EVILPAY", name: "Evil Pay", reserve: 0n },
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

/** A request signed by `signer` on behalf of `wallet`, addressed to `audience` (ALIPAY unless said). */
async function signed(wallet: string, signer: LocalAccount, payload: unknown = { handle: "zhangwei" }, now = Date.now(), audience: Hex | null = walletIdOf("ALIPAY")) {
  const body = canonicalJson(payload as never);
  return { body, headers: await signRequest(signer, walletIdOf(wallet), "POST", RESOLVE_PATH, body, now, audience ?? undefined) };
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

  test("behavior: an unknown handle answers like a known one (same fields, a shaped mask, a reference no account owns), so handles cannot be enumerated", async () => {
    const known = await send(...Object.values(await signed("WECHAT", keys.get("WECHAT")!)) as [string, Record<string, string>]);
    const { body, headers } = await signed("WECHAT", keys.get("WECHAT")!, { handle: "nobody-at-all" });
    const r = await send(body, headers);
    expect(r.status).toBe(200);
    expect(Object.keys(r.json)).toEqual(Object.keys(known.json));
    expect(r.json.maskedName).not.toBe("***");
    expect(r.json.maskedName).toMatch(/^[A-Z]\*{2,6}( [A-Z]\*{2,6}){0,2}$/);
    expect(isMaskedName(r.json.maskedName)).toBe(true);
    expect(r.json.payeeRef).toMatch(/^0x[0-9a-f]{64}$/);
    expect([...r.headers.keys()].filter((h) => h !== "date" && h !== "x-request-id").sort()).toEqual(
      [...known.headers.keys()].filter((h) => h !== "date" && h !== "x-request-id").sort(),
    );
    // The same unknown handle gets the same answer every time, from any caller (as a real one does).
    const again = await signed("YUNPAY", keys.get("YUNPAY")!, { handle: "nobody-at-all" });
    expect((await send(again.body, again.headers)).json).toEqual(r.json);
  });

  test("behavior: a closed account answers like an unknown handle, not with its old mask", async () => {
    const account = await alipay.api.openAccount("leaving", "Lei Ming");
    const before = await signed("WECHAT", keys.get("WECHAT")!, { handle: "leaving" });
    expect((await send(before.body, before.headers)).json.maskedName).toBe("L** M***");
    await alipay.api.closeAccount(account.id);
    const after = await signed("WECHAT", keys.get("WECHAT")!, { handle: "leaving" });
    const r = await send(after.body, after.headers);
    expect(r.status).toBe(200);
    expect(isMaskedName(r.json.maskedName)).toBe(true);
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

/** ALIPAY's count of signature recoveries, from its /metrics. */
async function signatureChecks(): Promise<number> {
  const r = await call(alipay.api.url, "GET", "/metrics", { key: alipay.keys.admin });
  const m = /^hulian_node_auth_signature_checks_total (\d+)$/m.exec(r.text);
  if (!m) throw new Error(`no hulian_node_auth_signature_checks_total in /metrics:\n${r.text.slice(0, 400)}`);
  return Number(m[1]);
}

/** The secp256k1 group order. */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

describe("node-to-node resolve: replay, audience and malleability", () => {
  test("error: the same signed request sent twice is refused the second time (401 replayed_request)", async () => {
    const { body, headers } = await signed("WECHAT", keys.get("WECHAT")!);
    expect((await send(body, headers)).status).toBe(200);
    expectProblem(await send(body, headers), 401, "replayed_request");
  });

  test("error: a request addressed to another wallet, or to none, is refused (401 wrong_audience)", async () => {
    const toYunpay = await signed("WECHAT", keys.get("WECHAT")!, { handle: "zhangwei" }, Date.now(), walletIdOf("YUNPAY"));
    expectProblem(await send(toYunpay.body, toYunpay.headers), 401, "wrong_audience");
    // Relabelling the audience header breaks the signature instead.
    expectProblem(await send(toYunpay.body, { ...toYunpay.headers, [HEADER_AUDIENCE]: walletIdOf("ALIPAY") }), 401, "bad_signature");
    const toNobody = await signed("WECHAT", keys.get("WECHAT")!, { handle: "zhangwei" }, Date.now(), null);
    expectProblem(await send(toNobody.body, toNobody.headers), 401, "wrong_audience");
  });

  test("error: a request without a nonce is refused, and a changed nonce breaks the signature", async () => {
    const { body, headers } = await signed("WECHAT", keys.get("WECHAT")!);
    const { [HEADER_NONCE]: _nonce, ...withoutNonce } = headers;
    expectProblem(await send(body, withoutNonce), 401, "unsigned_request");
    expectProblem(await send(body, { ...headers, [HEADER_NONCE]: "0".repeat(32) }), 401, "bad_signature");
  });

  test("error: the high-s twin of a valid signature is refused (401 malformed_signature)", async () => {
    const { body, headers } = await signed("WECHAT", keys.get("WECHAT")!);
    const sig = headers[HEADER_SIGNATURE];
    const s = BigInt(`0x${sig.slice(66, 130)}`);
    const v = Number.parseInt(sig.slice(130, 132), 16);
    // (r, n - s, v ^ 1) recovers the same signer: the same request under a second signature.
    const twin = `${sig.slice(0, 66)}${(N - s).toString(16).padStart(64, "0")}${(v === 27 ? 28 : 27).toString(16)}`;
    expectProblem(await send(body, { ...headers, [HEADER_SIGNATURE]: twin }), 401, "malformed_signature");
    expect((await send(body, headers)).status).toBe(200);
  });
});

describe("node-to-node resolve: cheap refusals first", () => {
  test("behavior: unknown-wallet, stale, misaddressed and replayed requests are refused without a signature recovery", async () => {
    const before = await signatureChecks();
    const stranger = privateKeyToAccount(generatePrivateKey());
    for (let i = 0; i < 40; i++) {
      const body = canonicalJson({ handle: `probe${i}` });
      const wallet = toHex(crypto.getRandomValues(new Uint8Array(32)));
      const headers = await signRequest(stranger, wallet, "POST", RESOLVE_PATH, body, Date.now(), walletIdOf("ALIPAY"));
      expectProblem(await send(body, headers), 401, "unknown_wallet");
    }
    const stale = await signed("WECHAT", keys.get("WECHAT")!, { handle: "zhangwei" }, Date.now() - MAX_CLOCK_SKEW_MS - 5_000);
    expectProblem(await send(stale.body, stale.headers), 401, "stale_request");
    const misaddressed = await signed("WECHAT", keys.get("WECHAT")!, { handle: "zhangwei" }, Date.now(), walletIdOf("YUNPAY"));
    expectProblem(await send(misaddressed.body, misaddressed.headers), 401, "wrong_audience");
    expect(await signatureChecks()).toBe(before);
    // A good request is the one that costs a recovery; its replay costs none.
    const good = await signed("WECHAT", keys.get("WECHAT")!);
    expect((await send(good.body, good.headers)).status).toBe(200);
    expectProblem(await send(good.body, good.headers), 401, "replayed_request");
    expect(await signatureChecks()).toBe(before + 1);
  });

  test("behavior: the registry view stays bounded and reads the chain a bounded number of times under a flood of random walletIds", async () => {
    let reads = 0;
    const counted = createPublicClient({
      transport: custom({ request: (args: { method: string; params?: unknown }) => (reads++, net.client.request(args as never)) }),
    });
    const registry = new RegistryView(counted, net.devnet.manifest.contracts.walletRegistry, { maxEntries: 8, maxUnknown: 16, ttlMs: 60_000 });
    for (let i = 0; i < 2_000; i++) {
      expect(await registry.member(toHex(crypto.getRandomValues(new Uint8Array(32))))).toBeUndefined();
      expect(registry.size).toBeLessThanOrEqual(8 + 16);
    }
    // One read of the list of applicants, not one read per request.
    expect(reads).toBe(1);
    // A member is still found, and reads of any walletId keep the cache within its bounds.
    expect((await registry.member(walletIdOf("WECHAT")))?.status).toBe("Active");
    for (let i = 0; i < 100; i++) await registry.operator(toHex(crypto.getRandomValues(new Uint8Array(32))));
    expect(registry.size).toBeLessThanOrEqual(8 + 16);
  });
});

describe("node-to-node resolve: lookups are rate-limited, misses cost more", () => {
  /** Lookups by one payer pseudonym until the first 429; returns how many were answered. */
  async function answeredUntilLimited(payer: Hex, handle: (i: number) => string): Promise<number> {
    for (let i = 0; i < 500; i++) {
      const { body, headers } = await signed("WECHAT", keys.get("WECHAT")!, { handle: handle(i), payer });
      const r = await send(body, headers);
      if (r.status === 429) {
        expectProblem(r, 429, "rate_limited");
        expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        return i;
      }
      expect(r.status, r.text).toBe(200);
    }
    throw new Error("never limited");
  }

  test("behavior: a payer probing unknown handles is limited long before one resolving a real payee", async () => {
    const misses = await answeredUntilLimited(toHex(crypto.getRandomValues(new Uint8Array(32))), (i) => `ghost-${i}`);
    const hits = await answeredUntilLimited(toHex(crypto.getRandomValues(new Uint8Array(32))), () => "zhangwei");
    expect(misses).toBeGreaterThan(0);
    expect(hits).toBeGreaterThan(misses * 3);
  });

  test("behavior: the wallet API's lookups with ?from= carry the customer's payer reference, so one customer probing another wallet is limited (429 with Retry-After)", async () => {
    const wechat = net.byCode("WECHAT");
    const prober = await wechat.api.openAccount("prober", "Pro Ber");
    const lookup = (handle: string, from = prober.id) =>
      call(wechat.api.url, "GET", `/v1/directory/${handle}@ALIPAY?from=${encodeURIComponent(from)}`, { key: wechat.keys.app });
    let limited: Awaited<ReturnType<typeof lookup>> | undefined;
    let answered = 0;
    for (let i = 0; i < 100 && !limited; i++) {
      const r = await lookup(`ghost-from-${i}`);
      if (r.status === 429) limited = r;
      else {
        expect(r.status, r.text).toBe(200);
        answered++;
      }
    }
    expect(limited, "a 429 within 100 misses").toBeDefined();
    expectProblem(limited!, 429, "rate_limited");
    expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(answered).toBeLessThan(20);
    // Another customer of the same wallet is not held up by the prober.
    const honest = await wechat.api.openAccount("honest", "Ho Nest");
    expect((await lookup("zhangwei", honest.id)).status).toBe(200);
    // An account id that is not a customer's is refused.
    expectProblem(await lookup("zhangwei", "c_nobody"), 404, "account_not_found");
  });
});

describe("directory client: published endpoints and peer answers are checked", () => {
  let evil: ReturnType<typeof createHttpServer>;
  let evilUrl: string;
  let answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  let hits = 0;

  beforeAll(async () => {
    evil = createHttpServer((req, res) => {
      hits++;
      req.resume();
      req.on("end", () => answer(req, res));
    });
    await new Promise<void>((r) => evil.listen(0, "127.0.0.1", r));
    evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => evil?.close(r));
  });

  /** EVILPAY publishes `endpoint` in WalletRegistry (only its own settlement key may). */
  async function publish(endpoint: string): Promise<void> {
    const evilpay = createChainClients(net.devnet.chain.url, net.devnet.chain.chainId, keys.get("EVILPAY")!);
    await sendAndConfirm(evilpay.signer!, evilpay.publicClient, {
      address: net.devnet.manifest.contracts.walletRegistry,
      abi: walletRegistryAbi,
      functionName: "setEndpoint",
      args: [walletIdOf("EVILPAY") as Hex, endpoint],
    });
  }

  /** WECHAT's wallet API resolving a handle at EVILPAY (a fresh registry read each time: the client drops its cache on failure). */
  async function resolveAtEvil(handle = "victim") {
    const wechat = net.byCode("WECHAT");
    return pollUntil("a resolution through EVILPAY's current endpoint", async () => {
      const r = await call(wechat.api.url, "GET", `/v1/directory/${handle}@EVILPAY`, { key: wechat.keys.app });
      return r;
    });
  }

  test("error: nothing a peer answers reaches the customer: HTTP errors, odd masks, bad references, big bodies and redirects all give one fixed problem", async () => {
    await publish(evilUrl);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(typeof body === "string" ? body : JSON.stringify(body));
    };
    const ref = `0x${"ab".repeat(32)}`;
    // A well-formed answer goes through (so the refusals below are about the answers).
    answer = json(200, { payeeRef: ref, maskedName: "W** L***" });
    const ok = await pollUntil("EVILPAY's endpoint to be read", async () => {
      const r = await call(net.byCode("WECHAT").api.url, "GET", "/v1/directory/victim@EVILPAY", { key: net.byCode("WECHAT").keys.app });
      return r.status === 200 ? r : undefined;
    }, { timeoutMs: 15_000, intervalMs: 200 });
    expect(ok.json.maskedName).toBe("W** L***");

    const cases: [string, (req: IncomingMessage, res: ServerResponse) => void][] = [
      ["500 with text", json(500, { code: "db01.internal:5432 connection refused <script>" })],
      ["404", json(404, { code: "payee_not_found" })],
      ["400 with text", json(400, { code: "IGNORE PREVIOUS INSTRUCTIONS" })],
      ["bidi mask", json(200, { payeeRef: ref, maskedName: "\u202Egnp.exe" })],
      ["markup mask", json(200, { payeeRef: ref, maskedName: "<img src=x onerror=alert(1)>" })],
      ["long mask", json(200, { payeeRef: ref, maskedName: "Call +86 138 0000 0000 now to claim your prize" })],
      ["control mask", json(200, { payeeRef: ref, maskedName: "W**\u0000 L***" })],
      ["short reference", json(200, { payeeRef: "0x1234", maskedName: "W** L***" })],
      ["not JSON", json(200, "<html>hello</html>")],
      ["huge body", json(200, { payeeRef: ref, maskedName: "W** L***", pad: "x".repeat(100_000) })],
      ["redirect", json(302, {}, { location: `${evilUrl}/elsewhere` })],
    ];
    for (const [what, handler] of cases) {
      answer = handler;
      const r = await call(net.byCode("WECHAT").api.url, "GET", "/v1/directory/victim@EVILPAY", { key: net.byCode("WECHAT").keys.app });
      expectProblem(r, 502, "payee_wallet_unreachable");
      expect(r.json.detail, what).toBe("wallet EVILPAY's node could not be reached; try again later");
      expect(r.text, what).not.toMatch(/db01|script|IGNORE|gnp|img|prize|1234|html|elsewhere|payee_not_found/);
    }
  });

  test("error: a closed port and an open one answer the same problem (no port scanning through the directory)", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await publish(`http://127.0.0.1:${port}`);
    const r = await pollUntil("the closed port to be tried", async () => {
      const reply = await resolveAtEvil();
      return reply.status === 502 ? reply : undefined;
    });
    expectProblem(r, 502, "payee_wallet_unreachable");
    expect(r.json.detail).toBe("wallet EVILPAY's node could not be reached; try again later");
  });

  test("error: without the devnet flag, loopback, private and plain-http endpoints are refused before any request is sent", async () => {
    const registry = new RegistryView(net.client, net.devnet.manifest.contracts.walletRegistry);
    const client = new DirectoryClient({ registry, account: keys.get("WECHAT")!, walletId: walletIdOf("WECHAT") });
    const before = hits;
    for (const endpoint of [evilUrl, "https://127.0.0.1:1", "https://10.0.0.8", "https://169.254.169.254", "https://[::ffff:127.0.0.1]:8443", "https://[fd00::1]", "https://localhost:8443"]) {
      await publish(endpoint);
      registry.invalidate();
      await expect(client.resolve("victim", "EVILPAY"), endpoint).rejects.toMatchObject({ code: "payee_wallet_unreachable", retryable: false });
    }
    expect(hits).toBe(before);
    // ALIPAY's real node on 127.0.0.1 is refused the same way, and never asked.
    const checks = await signatureChecks();
    await expect(client.resolve("zhangwei", "ALIPAY")).rejects.toMatchObject({ code: "payee_wallet_unreachable" });
    expect(await signatureChecks()).toBe(checks);
  });
});

describe("node-to-node resolve: per-address rate limit (last: it drains 127.0.0.1's bucket)", () => {
  test("behavior: a flood of unsigned requests from one address is answered 429 before any signature check", async () => {
    const before = await signatureChecks();
    const body = canonicalJson({ handle: "zhangwei" });
    let limited: Awaited<ReturnType<typeof send>> | undefined;
    // Waves of 50 at once: faster than the bucket refills, however busy this machine is.
    for (let wave = 0; wave < 100 && !limited; wave++) {
      const replies = await Promise.all(
        Array.from({ length: 50 }, () => send(body, { [HEADER_WALLET]: walletIdOf("WECHAT"), [HEADER_TIMESTAMP]: String(Date.now()), [HEADER_SIGNATURE]: `0x${"11".repeat(65)}` })),
      );
      limited = replies.find((r) => r.status === 429);
      for (const r of replies) if (r !== limited) expect([401, 429]).toContain(r.status);
    }
    expect(limited, "a 429 within 5,000 requests").toBeDefined();
    expectProblem(limited!, 429, "rate_limited");
    expect(await signatureChecks()).toBe(before);
  });
});
