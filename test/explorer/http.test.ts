import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { backingRatio } from "../../node/explorer/backingRatio.ts";
import { openIndexStore } from "../../node/explorer/indexStore.ts";
import { IndexMismatchError } from "../../node/explorer/indexer.ts";
import { attachment } from "../../node/explorer/server.ts";
import { ReadOnlyViolationError, createReadOnlyClient } from "../../node/explorer/readOnlyChain.ts";
import { type RunningExplorer, startExplorer } from "../../node/explorer/startExplorer.ts";
import { type DemoNetwork, applyForMembership, startDemoNetwork } from "./demoNetwork.ts";

/** Never approved, and named to look like ALIPAY when shown right to left. */
const APPLICANT = { code: "YAPILA", name: "\u202eYAPILA\u202c" };

// The explorer's HTTP surface against a real devnet: read-only (405), keyed (401), every search
// criterion, proofs, CSV, and catching up after a restart without counting anything twice.

let demo: DemoNetwork;
let explorer: RunningExplorer;
let dir: string;
let key: string;
/** How far the sessions' clock runs ahead of the wall clock (moved by the session tests). */
let clockShift = 0;

const options = () => ({
  rpcUrl: demo.network.devnet.chain.url,
  deployment: demo.network.devnet.manifest,
  dataDir: path.join(dir, "index"),
  keysFile: path.join(dir, "keys.json"),
  port: 0,
  pollIntervalMs: 50,
  rules: { largeAmount: 5_000_000n },
  sessionClock: () => Date.now() + clockShift,
});

async function get(p: string, auth: string | null = key, init: RequestInit = {}) {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
  if (auth !== null) headers.authorization = `Bearer ${auth}`;
  const res = await fetch(explorer.url + p, { ...init, headers });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "hulian-explorer-http-"));
  demo = await startDemoNetwork({ payments: 21, returns: 3 });
  await applyForMembership(demo.network, APPLICANT);
  explorer = await startExplorer(options());
  key = explorer.createdKey!;
  await explorer.waitForIndex();
}, 120_000);

afterAll(async () => {
  await explorer?.close();
  await demo?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("read-only by construction", () => {
  test("error: POST, PUT, DELETE, PATCH and OPTIONS are 405 with Allow: GET, HEAD, with or without a key", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      for (const p of ["/", "/api/overview", "/api/transfers", "/api/session", "/api/nothing-here"]) {
        for (const auth of [key, null]) {
          const r = await get(p, auth, { method, body: method === "POST" ? "{}" : undefined });
          expect({ method, p, status: r.status }).toEqual({ method, p, status: 405 });
          expect(r.headers.get("allow")).toBe("GET, HEAD");
          expect(r.headers.get("content-type")).toBe("application/problem+json");
          expect(r.json).toMatchObject({ status: 405, code: "method_not_allowed" });
        }
      }
    }
  });

  test("error: a missing, wrong or malformed key is 401 on every data route and on the page itself", async () => {
    const routes = ["/api/meta", "/api/overview", "/api/operators", "/api/operators/ALIPAY", "/api/transfers", `/api/transfers/${demo.payments[0].transferId}`, "/api/batches", "/api/blocks", "/api/blocks/1", "/api/alerts", "/api/flows", "/api/volume", "/api/session", "/api/transfers?format=csv"];
    for (const p of routes) {
      for (const auth of [null, "hx_live_not-a-key", "", "Basic abc"]) {
        const r = auth === "Basic abc" ? await get(p, null, { headers: { authorization: auth } }) : await get(p, auth);
        expect({ p, auth, status: r.status }).toEqual({ p, auth, status: 401 });
        expect(r.json).toMatchObject({ code: "unauthorized" });
        expect(Object.keys(r.json).sort()).toEqual(["code", "detail", "instance", "requestId", "status", "title", "type"]);
        expect(r.text).not.toContain(demo.payments[0].txHash.slice(2));
      }
    }
    const page = await get("/", null);
    expect(page.status).toBe(401);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect((await get("/api/overview", null, { headers: { cookie: "hx_session=xk_1.99999999999999.forged" } })).status).toBe(401);
  });

  test("behavior: a Bearer sign-in sets an HttpOnly SameSite cookie that then works alone; logout clears it", async () => {
    const r = await get("/api/session");
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ expiresInSeconds: 43_200, idleTimeoutSeconds: 1_800 });
    const cookie = r.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^hx_session=hs_[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    expect(cookie).not.toContain(key);
    const session = cookie.split(";")[0];
    expect((await get("/api/overview", null, { headers: { cookie: session } })).status).toBe(200);
    expect((await get("/", null, { headers: { cookie: session } })).status).toBe(200);
    const tampered = session.slice(0, -2) + (session.endsWith("A") ? "BB" : "AA");
    expect((await get("/api/overview", null, { headers: { cookie: tampered } })).status).toBe(401);
    const out = await get("/api/logout", null, { method: "POST", headers: { cookie: session } });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
  });
});

describe("sessions", () => {
  async function signIn(): Promise<string> {
    const r = await get("/api/session");
    expect(r.status).toBe(200);
    return r.headers.get("set-cookie")!.split(";")[0];
  }
  const withCookie = (session: string, extra: Record<string, string> = {}) => ({ headers: { cookie: session, ...extra } });

  test("behavior: sign-out ends the session on the server: the same cookie, replayed, is refused", async () => {
    const session = await signIn();
    expect((await get("/api/overview", null, withCookie(session))).status).toBe(200);
    expect((await get("/api/logout", null, { method: "POST", ...withCookie(session, { origin: explorer.url, "sec-fetch-site": "same-origin" }) })).status).toBe(204);
    for (const p of ["/api/overview", "/api/session", "/"]) expect({ p, status: (await get(p, null, withCookie(session))).status }).toEqual({ p, status: 401 });
    expect((await get("/api/logout", null, { method: "POST", ...withCookie(session) })).status).toBe(401);
  });

  test("error: GET /api/logout needs a session (401) and, with one, is 405 (sign out with POST); cross-site POSTs are 403", async () => {
    const session = await signIn();
    const anonymous = await get("/api/logout", null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("set-cookie")).toBeNull();
    expect((await get("/api/logout", null, { method: "POST" })).status).toBe(401);
    const viaGet = await get("/api/logout", null, withCookie(session));
    expect(viaGet.status).toBe(405);
    expect(viaGet.headers.get("allow")).toBe("POST");
    const crossSite: Record<string, string>[] = [{ origin: "http://evil.example" }, { "sec-fetch-site": "cross-site" }, { "sec-fetch-site": "same-site" }, { origin: "null" }];
    for (const extra of crossSite) {
      const r = await get("/api/logout", null, { method: "POST", ...withCookie(session, extra) });
      expect({ extra, status: r.status, code: r.json?.code }).toEqual({ extra, status: 403, code: "cross_origin" });
    }
    expect((await get("/api/overview", null, withCookie(session))).status).toBe(200);
    // Behind a proxy that rewrites Host, the browser's own Sec-Fetch-Site still says same-origin.
    const proxied = await get("/api/logout", null, { method: "POST", ...withCookie(session, { origin: "https://explorer.example", "sec-fetch-site": "same-origin" }) });
    expect(proxied.status).toBe(204);
  });

  test("behavior: a session ends after 30 idle minutes; the UI's background refresh does not keep it alive", async () => {
    try {
      const session = await signIn();
      clockShift += 29 * 60_000;
      expect((await get("/api/overview", null, withCookie(session))).status).toBe(200);
      clockShift += 29 * 60_000;
      expect((await get("/api/alerts/summary", null, withCookie(session, { "x-hulian-background": "1" }))).status).toBe(200);
      clockShift += 2 * 60_000;
      expect((await get("/api/overview", null, withCookie(session))).status).toBe(401);
    } finally {
      clockShift = 0;
    }
  });

  test("behavior: a session ends 12 h after sign-in, however busy", async () => {
    try {
      const session = await signIn();
      for (clockShift = 25 * 60_000; clockShift < 11.5 * 3600_000; clockShift += 25 * 60_000) {
        expect({ clockShift, status: (await get("/api/meta", null, withCookie(session))).status }).toEqual({ clockShift, status: 200 });
      }
      clockShift = 12 * 3600_000 + 1_000;
      expect((await get("/api/meta", null, withCookie(session))).status).toBe(401);
    } finally {
      clockShift = 0;
    }
  });

  test("behavior: signing in again with a cookie ends the old session", async () => {
    const first = await signIn();
    const again = await get("/api/session", key, withCookie(first));
    const second = again.headers.get("set-cookie")!.split(";")[0];
    expect(second).not.toBe(first);
    expect((await get("/api/meta", null, withCookie(first))).status).toBe(401);
    expect((await get("/api/meta", null, withCookie(second))).status).toBe(200);
  });

  test("error: the data directory is 0700 and holds no session secret; a cookie forged with an old explorer's secret is refused", async () => {
    const old = path.join(dir, "old-index");
    await mkdir(old, { mode: 0o755 });
    await chmod(old, 0o755);
    // What an older explorer left in its index: the HMAC secret sessions were signed with.
    const secret = randomBytes(32);
    const legacy = await openIndexStore(old);
    await legacy.meta.put("sessionSecret", secret.toString("base64"));
    await legacy.close();
    const second = await startExplorer({ ...options(), dataDir: old, port: 0 });
    try {
      expect((await stat(old)).mode & 0o777).toBe(0o700);
      expect((await stat(path.join(dir, "index"))).mode & 0o777).toBe(0o700);
      const keyId = JSON.parse(await readFile(path.join(dir, "keys.json"), "utf8"))[0].id;
      const body = `${keyId}.${Date.now() + 10 * 365 * 86_400_000}`;
      const forged = `hx_session=${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
      const r = await fetch(`${second.url}/api/overview`, { headers: { cookie: forged } });
      expect(r.status).toBe(401);
    } finally {
      await second.close();
    }
    const reopened = await openIndexStore(old);
    expect(await reopened.meta.get("sessionSecret")).toBeUndefined();
    await reopened.close();
  });
});

describe("read-only, continued", () => {
  test("behavior: HEAD answers like GET without a body; pages carry a strict CSP", async () => {
    const r = await get("/api/overview", key, { method: "HEAD" });
    expect(r.status).toBe(200);
    expect(r.text).toBe("");
    expect(Number(r.headers.get("content-length"))).toBeGreaterThan(100);
    const page = await get("/");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect((await get("/assets/app.js", null)).status).toBe(200);
  });

  test("behavior: the explorer's chain client refuses every method that could change the chain", async () => {
    const client = createReadOnlyClient(demo.network.devnet.chain.url, demo.network.devnet.manifest.chainId);
    for (const method of ["eth_sendRawTransaction", "eth_sendTransaction", "eth_sign", "personal_sign", "eth_signTypedData_v4", "hardhat_setBalance", "evm_mine"]) {
      const err = await client.request({ method, params: [] } as never).then(
        () => undefined,
        (e: unknown) => e,
      );
      let cause = err as { cause?: unknown } | undefined;
      while (cause && !(cause instanceof ReadOnlyViolationError)) cause = cause.cause as typeof cause;
      expect({ method, refused: cause instanceof ReadOnlyViolationError }).toEqual({ method, refused: true });
    }
    expect(await client.getBlockNumber()).toBeGreaterThan(0n);
  });
});

describe("hostile input", () => {
  test("error: /assets/__proto__ and other inherited names are 404 problems, not 500", async () => {
    for (const name of ["__proto__", "constructor", "hasOwnProperty", "toString", "..%2Fserver.ts", "%E0%A4%A"]) {
      const r = await get(`/assets/${name}`, null);
      expect({ name, status: r.status, type: r.headers.get("content-type") }).toEqual({ name, status: 404, type: "application/problem+json" });
      expect(r.json).toMatchObject({ code: "not_found" });
    }
  });

  test("error: malformed percent-encoding in a path parameter is a 400 problem, not 500", async () => {
    for (const p of ["/api/operators/%E0%A4%A", "/api/operators/%E0%A4%A/events", "/api/batches/%E0%A4%A/0", "/api/transfers/%E0%A4%A", "/api/blocks/%ZZ"]) {
      const r = await get(p);
      expect({ p, status: r.status, code: r.json?.code }).toEqual({ p, status: 400, code: "validation_failed" });
    }
  });

  test("error: a wallet code that is not one (quotes, header breaks, spaces) is refused before it reaches a file name", async () => {
    for (const code of ['WECHAT"; filename="evil.exe', "WECHAT%0D%0AX-Injected: 1", "WE CHAT", "x".repeat(25)]) {
      for (const p of [`/api/operators/${encodeURIComponent(code)}/events?format=csv`, `/api/operators/${encodeURIComponent(code)}`, `/api/batches/${encodeURIComponent(code)}/0?format=csv`]) {
        const r = await get(p);
        expect({ p, status: r.status, code: r.json?.code }).toEqual({ p, status: 400, code: "validation_failed" });
        expect(r.headers.get("content-disposition")).toBeNull();
        expect(r.headers.get("x-injected")).toBeNull();
      }
    }
    const ok = await get("/api/operators/wechat/events?format=csv");
    expect(ok.headers.get("content-disposition")).toMatch(/^attachment; filename="hulian-operator-wechat-events-[0-9-]+\.csv"; filename\*=UTF-8''hulian-operator-wechat-events-[0-9-]+\.csv$/);
  });

  test("behavior: a download name that could break the header is reduced to safe ASCII, with the full name as filename*", () => {
    const header = attachment('a"; filename=evil.exe\r\nX: y 支付.csv');
    expect(header).toBe(`attachment; filename="a___filename_evil.exe__X__y___.csv"; filename*=UTF-8''a%22%3B%20filename%3Devil.exe%0D%0AX%3A%20y%20%E6%94%AF%E4%BB%98.csv`);
    expect(header).not.toMatch(/[\r\n]/);
  });
});

describe("JSON API", () => {
  test("default: the overview totals match what the nodes settled; backing matches the chain's own view", async () => {
    const r = await get("/api/overview");
    expect(r.status).toBe(200);
    const total = demo.payments.reduce((s, p) => s + p.amount, 0n);
    expect(r.json.totals).toMatchObject({ transfers: demo.payments.length, amount: total.toString(), reverted: 1 });
    expect(r.json.window.count).toBe(demo.payments.length);
    expect(r.json.backing).toMatchObject({ allBacked: false, shortfalls: ["YUNPAY"], attested: 3 });
    const yunpay = r.json.operators.find((o: any) => o.code === "YUNPAY");
    expect(yunpay).toMatchObject({ status: "Suspended", reasonCode: 7, backed: false, liabilities: "1200000000" });
    for (const o of r.json.operators) {
      expect(o.backingRatioText).toBe(backingRatio(BigInt(o.balance), BigInt(o.liabilities)).text);
      expect(o.backingRatioText).toMatch(/^[0-9,]+(\.[0-9]{1,2})?×$/);
    }
    const sum = (from: string, to: string) => demo.payments.filter((p) => p.from === from && p.to === to).reduce((s, p) => s + p.amount, 0n).toString();
    expect(r.json.flows.find((c: any) => c.from === "WECHAT" && c.to === "ALIPAY").amount).toBe(sum("WECHAT", "ALIPAY"));
    expect(r.json.chain.indexedBlock).toBe(r.json.chain.headBlock);
  });

  test("behavior: a pending applicant is no member: not in the lists, the backing count or the alarms; the registry view has it", async () => {
    const o = (await get("/api/overview")).json;
    expect(o.operators.map((x: any) => x.code).sort()).toEqual(["ALIPAY", "WECHAT", "YUNPAY"]);
    expect(o.backing).toMatchObject({ operators: 3, attested: 3, unattested: [] });
    expect(o.notListed).toEqual({ pending: 1, exited: 0 });
    expect((await get("/api/operators")).json.items.map((x: any) => x.code)).not.toContain(APPLICANT.code);
    expect((await get("/api/flows")).json.wallets).not.toContain(APPLICANT.code);
    const active = (await get("/api/alerts")).json.active;
    expect(active.filter((a: any) => a.wallet === APPLICANT.code)).toEqual([]);
    const all = (await get("/api/operators?include=all")).json.items;
    expect(all.find((x: any) => x.code === APPLICANT.code)).toMatchObject({ status: "Pending", name: APPLICANT.name, backed: null });
    expect((await get(`/api/operators/${APPLICANT.code}`)).json.operator).toMatchObject({ status: "Pending", name: APPLICANT.name });
    expect((await get("/api/operators?include=everything")).status).toBe(400);
    const csv = (await get("/api/operators?include=all&format=csv")).text;
    expect(csv).toContain("YAPILA");
  });

  test("behavior: transfers are found by id, transaction, reference, wallet, pair, amount range and time range", async () => {
    const p = demo.payments[4];
    const byId = await get(`/api/transfers?q=${p.transferId}`);
    expect(byId.json.items.map((t: any) => t.transferId)).toEqual([p.transferId.toLowerCase()]);
    expect(byId.json.index).toBe("byId");
    const t = byId.json.items[0];

    const byTx = await get(`/api/transfers?q=${p.txHash.toUpperCase().replace("0X", "0x")}`);
    expect(byTx.json.index).toBe("byTx");
    expect(byTx.json.items.every((x: any) => x.txHash === p.txHash.toLowerCase())).toBe(true);
    expect(byTx.json.items.map((x: any) => x.transferId)).toContain(t.transferId);

    const byRef = await get(`/api/transfers?ref=${t.payerRef}`);
    expect(byRef.json.items.every((x: any) => x.payerRef === t.payerRef || x.payeeRef === t.payerRef)).toBe(true);
    expect(byRef.json.items.map((x: any) => x.transferId)).toContain(t.transferId);

    const wallet = await get("/api/transfers?wallet=YUNPAY&limit=1000");
    expect(wallet.json.summary.count).toBe(demo.payments.filter((x) => x.from === "YUNPAY" || x.to === "YUNPAY").length);

    const pair = await get("/api/transfers?from=WECHAT&to=ALIPAY");
    const expected = demo.payments.filter((x) => x.from === "WECHAT" && x.to === "ALIPAY");
    expect(pair.json.index).toBe("byPair");
    expect(pair.json.summary).toEqual({ count: expected.length, amount: expected.reduce((s, x) => s + x.amount, 0n).toString(), partial: false });

    const range = await get("/api/transfers?min=100000&max=200000");
    const inRange = demo.payments.filter((x) => x.amount >= 100_000n && x.amount <= 200_000n);
    expect(range.json.summary.count).toBe(inRange.length);
    expect(range.json.items.every((x: any) => BigInt(x.amount) >= 100_000n && BigInt(x.amount) <= 200_000n)).toBe(true);

    const largest = await get("/api/transfers?sort=amount&limit=1");
    expect(largest.json.items[0].amount).toBe("8000000");

    const since = t.timestamp;
    const after = await get(`/api/transfers?since=${since}&limit=1000`);
    expect(after.json.items.every((x: any) => x.timestamp >= since)).toBe(true);
    const before = await get(`/api/transfers?until=${since}&limit=1000`);
    expect(before.json.items.every((x: any) => x.timestamp < since)).toBe(true);
    expect(after.json.summary.count + before.json.summary.count).toBe(demo.payments.length);
    const iso = await get(`/api/transfers?since=${encodeURIComponent(new Date(since * 1000).toISOString())}&wallet=WECHAT&min=1`);
    expect(iso.json.items.every((x: any) => x.timestamp >= since && (x.from === "WECHAT" || x.to === "WECHAT"))).toBe(true);

    expect((await get("/api/transfers?q=0x1234")).json).toMatchObject({ status: 400, code: "validation_failed" });
    expect((await get("/api/transfers?min=1.5")).status).toBe(400);
    expect((await get("/api/transfers?limit=0")).status).toBe(400);
  });

  test("behavior: pages follow the cursor to the end with every transfer exactly once, newest first", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const r = await get(`/api/transfers?limit=4${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...r.json.items.map((t: any) => t.pos));
      cursor = r.json.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(Math.ceil(demo.payments.length / 4));
    expect(new Set(seen).size).toBe(demo.payments.length);
    expect([...seen].sort().reverse()).toEqual(seen);
  });

  test("behavior: every transfer's Merkle proof checks against the hub's batchRoot; batches link their heads", async () => {
    for (const p of demo.payments) {
      const r = await get(`/api/transfers/${p.transferId}`);
      expect(r.status).toBe(200);
      expect(r.json.proof).toMatchObject({ verified: true, hubVerified: true, headLinks: true });
      expect(r.json.proof.computedRoot).toBe(r.json.proof.onChainRoot.toLowerCase());
      const b = await get(`/api/batches/${r.json.batch.wallet}/${r.json.batch.batchNo}`);
      expect(b.json.chainLinks).toBe(true);
      expect(b.json.transfers.map((x: any) => x.transferId)).toContain(p.transferId.toLowerCase());
    }
    expect((await get(`/api/transfers/0x${"ab".repeat(32)}`)).status).toBe(404);
  });

  test("behavior: operator pages carry lifecycle, limits, suspensions and attestations", async () => {
    const y = (await get("/api/operators/yunpay")).json;
    const kinds = y.events.map((e: any) => e.kind);
    expect(kinds[0]).toBe("suspended");
    expect(kinds.slice(-3)).toEqual(["issued", "approved", "applied"]);
    expect(kinds).toContain("attested");
    expect(y.suspensions).toEqual([expect.objectContaining({ kind: "suspended", detail: { reasonCode: 7 } })]);
    expect(y.attestations).toHaveLength(1);
    const w = (await get("/api/operators/WECHAT")).json;
    expect(w.operator.limits).toEqual({ perTransfer: "100000000", daily: "1000000000" });
    expect(w.batches.length).toBeGreaterThan(0);
    expect((await get("/api/operators/NOPE")).status).toBe(404);
  });

  test("behavior: alerts hold the large payment, the reverted attempt with its decoded error, the freeze and the live conditions", async () => {
    const r = (await get("/api/alerts")).json;
    const rules = (list: any[]) => list.map((a) => a.rule).sort();
    expect(rules(r.active)).toEqual(["backing_shortfall", "operator_suspended", "reference_frozen"]);
    expect(rules(r.history)).toEqual(expect.arrayContaining(["large_payment", "operator_suspended", "reference_frozen", "reverted_attempt"]));
    const reverted = r.history.find((a: any) => a.rule === "reverted_attempt");
    expect(reverted).toMatchObject({ txHash: demo.revertedTx.toLowerCase(), wallet: "YUNPAY" });
    expect(reverted.detail).toContain("HubSequenceReplayed");
    expect(r.active.find((a: any) => a.rule === "reference_frozen").detail).toContain(demo.frozenRef.toLowerCase());
    expect((await get("/api/alerts/summary")).json.active).toEqual({ critical: 1, warning: 1, info: 1 });
  });

  test("behavior: a returned transfer says why in words (payee_account_unknown), in JSON, lists and CSV", async () => {
    const returned = demo.payments.filter((p) => p.returned);
    expect(returned).toHaveLength(3);
    const reason = { code: 1, name: "payee_account_unknown", text: "the payee account does not exist at the receiving wallet" };
    const csv = (await get("/api/transfers?format=csv")).text.split("\r\n");
    expect(csv[0].endsWith(",returned,return_reason_code")).toBe(true);
    for (const p of returned) {
      const t = (await get(`/api/transfers/${p.transferId}`)).json.transfer;
      expect(t.returned).toMatchObject({ reasonCode: 1, reason });
      expect((await get(`/api/transfers?q=${p.transferId}`)).json.items[0].returned.reason).toEqual(reason);
      expect(csv.find((l) => l.includes(p.transferId.toLowerCase()))!.endsWith(",payee_account_unknown,1")).toBe(true);
    }
  });

  test("behavior: returns are kept apart from an operator's lifecycle, counted, paged and exported", async () => {
    const returnKinds = ["returned_transfer", "transfer_returned"];
    const alipay = (await get("/api/operators/ALIPAY")).json;
    expect(alipay.events.filter((e: any) => returnKinds.includes(e.kind))).toEqual([]);
    expect(alipay.events.map((e: any) => e.kind)).toContain("applied");
    expect(alipay.returns.returnedByIt).toEqual({ count: 3, amount: (300n + 301n + 302n).toString() });
    expect(alipay.returns.items.map((e: any) => [e.kind, e.detail.to, e.reason.name])).toEqual(Array(3).fill(["returned_transfer", "WECHAT", "payee_account_unknown"]));
    const wechat = (await get("/api/operators/WECHAT")).json;
    expect(wechat.returns.returnedToIt).toEqual({ count: 3, amount: "903" });
    expect(wechat.returns.items.every((e: any) => e.kind === "transfer_returned" && e.detail.by === "ALIPAY")).toBe(true);
    expect((await get("/api/operators/ALIPAY/events?limit=1000")).json.items.filter((e: any) => returnKinds.includes(e.kind))).toEqual([]);
    const first = (await get("/api/operators/ALIPAY/returns?limit=2")).json;
    expect(first.items).toHaveLength(2);
    const rest = (await get(`/api/operators/ALIPAY/returns?limit=2&cursor=${first.nextCursor}`)).json;
    expect(rest.items).toHaveLength(1);
    expect(rest.nextCursor).toBeUndefined();
    expect(new Set([...first.items, ...rest.items].map((e: any) => e.detail.transferId))).toEqual(new Set(demo.payments.filter((p) => p.returned).map((p) => p.transferId.toLowerCase())));
    const csv = (await get("/api/operators/ALIPAY/returns?format=csv")).text.trim().split("\r\n");
    expect(csv[0]).toBe("time,wallet,event,transfer_id,amount_minor,counterparty,reason,reason_code,tx_hash,block");
    expect(csv.slice(1).every((l) => l.includes(",returned_transfer,") && l.includes(",WECHAT,payee_account_unknown,1,"))).toBe(true);
    expect(csv).toHaveLength(4);
  });

  test("behavior: alert counts cover every kept alert, not only a page of them", async () => {
    const all = (await get("/api/alerts?limit=1000")).json;
    expect(all.total).toBe(all.history.length);
    const one = (await get("/api/alerts?limit=1")).json;
    expect(one.history).toHaveLength(1);
    expect(one.total).toBe(all.total);
    const summary = (await get("/api/alerts/summary")).json;
    const bySeverity = (s: string) => all.history.filter((a: any) => a.severity === s).length;
    expect(summary.total).toEqual({ critical: bySeverity("critical"), warning: bySeverity("warning"), info: bySeverity("info") });
    expect(summary.last24h).toEqual(summary.total);
  });

  test("behavior: blocks show the embedded chain has no QBFT data and read gas prices as they are", async () => {
    const list = (await get("/api/blocks?limit=5")).json;
    expect(list.items).toHaveLength(5);
    const b = (await get(`/api/blocks/${demo.network.devnet.manifest.deploymentBlock}`)).json;
    expect(b.qbft).toBeNull();
    expect(b.consensusNote).toContain("does not run QBFT");
    expect(b.txs[0]).toMatchObject({ to: null, contract: null, zeroGasPrice: false });
    const t = (await get(`/api/transfers/${demo.payments[0].transferId}`)).json.transfer;
    const settled = (await get(`/api/blocks/${t.blockNumber}`)).json;
    expect(settled.txs.find((x: any) => x.hash === t.txHash)).toMatchObject({ contract: "hub", selector: expect.stringMatching(/^0x[0-9a-f]{8}$/) });
    expect((await get("/api/blocks/999999999")).status).toBe(404);
  });

  test("behavior: every table exports as CSV, amounts with the token's decimals and the currency", async () => {
    for (const p of ["/api/operators", "/api/transfers", "/api/batches", "/api/blocks", "/api/alerts", "/api/flows", "/api/volume", "/api/operators/ALIPAY/events", `/api/batches/WECHAT/0`]) {
      const r = await get(`${p}?format=csv`);
      expect({ p, status: r.status, type: r.headers.get("content-type") }).toEqual({ p, status: 200, type: "text/csv; charset=utf-8" });
      expect(r.headers.get("content-disposition")).toMatch(/^attachment; filename="(hulian-[a-z0-9-]+-[0-9]{8}-[0-9]{6}\.csv)"; filename\*=UTF-8''\1$/);
      expect(r.text.split("\r\n").length).toBeGreaterThan(2);
    }
    const ops = (await get("/api/operators?format=csv")).text.split("\r\n");
    expect(ops[0]).toContain("wallet,name,status,reason_code,token_balance,attested_liabilities,currency,backing_ratio,fully_backed");
    expect(ops.find((l) => l.startsWith("YUNPAY"))).toContain(",Suspended,7,");
    expect(ops.find((l) => l.startsWith("YUNPAY"))).toContain(",12000000.00,CNY,");
    const transfers = (await get("/api/transfers?format=csv")).text.trim().split("\r\n");
    expect(transfers).toHaveLength(demo.payments.length + 1);
    expect(transfers.some((l) => l.includes(",80000.00,CNY,8000000,"))).toBe(true);
  });
});

describe("restarts", () => {
  test("behavior: after a restart the index continues from its cursor: new transfers once, old ones not again", async () => {
    await explorer.close();
    const alipay = demo.network.byCode("ALIPAY");
    const headers = { authorization: `Bearer ${alipay.keys.app}`, "content-type": "application/json" };
    const accounts = await fetch(`${alipay.url}/v1/accounts/by-handle/alipay-cust1`, { headers }).then((r) => r.json());
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${alipay.url}/v1/payments`, {
        method: "POST",
        headers: { ...headers, "idempotency-key": randomUUID() },
        body: JSON.stringify({ from: accounts.id, to: "wechat-cust2@WECHAT", amount: String(500 + i) }),
      }).then((r) => r.json());
      made.push(res.id);
    }
    for (const id of made) {
      for (let n = 0; ; n++) {
        const p = await fetch(`${alipay.url}/v1/payments/${id}`, { headers }).then((r) => r.json());
        if (p.status === "settled") break;
        if (n > 400) throw new Error(`payment ${id} stuck in ${p.status}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    explorer = await startExplorer(options());
    expect(explorer.createdKey).toBeUndefined();
    await explorer.waitForIndex();
    const totals = (await get("/api/overview")).json.totals;
    expect(totals.transfers).toBe(demo.payments.length + 3);
    expect(totals.reverted).toBe(1);
    const keys = JSON.parse(await readFile(path.join(dir, "keys.json"), "utf8"));
    expect(keys).toHaveLength(1);
    expect(JSON.stringify(keys)).not.toContain(key);
  });

  test("behavior: an index of an older key layout is rebuilt from the chain at start, to the same figures", async () => {
    const before = (await get("/api/overview")).json.totals;
    await explorer.close();
    const index = await openIndexStore(path.join(dir, "index"));
    await index.meta.del("layout");
    // What the old layout kept that the new one does not read: a return among the lifecycle events.
    await index.opEvents.put("ALIPAY!999999999999.000000.0000", { pos: "999999999999.000000.0000", wallet: "ALIPAY", kind: "returned_transfer", detail: {}, txHash: "0x", blockNumber: "1", timestamp: 1 });
    await index.close();
    explorer = await startExplorer(options());
    await explorer.waitForIndex();
    expect((await get("/api/overview")).json.totals).toEqual(before);
    expect((await get("/api/operators/ALIPAY/events?limit=1000")).json.items.map((e: any) => e.kind)).not.toContain("returned_transfer");
  });

  test("behavior: an operator's history and returns export whole as CSV, past the 1,000 of a page", async () => {
    await explorer.close();
    const index = await openIndexStore(path.join(dir, "index"));
    // Synthetic entries under a code no operator has, so nothing else reads them.
    const rows = Array.from({ length: 1_234 }, (_, i) => {
      const pos = `${String(900_000_000_000 + i).padStart(12, "0")}.000000.0000`;
      return { key: `ZZFLOOD!${pos}`, value: { pos, wallet: "ZZFLOOD", kind: "returned_transfer", detail: { transferId: `0x${"0".repeat(60)}${i.toString(16).padStart(4, "0")}`, amount: "1", reasonCode: 2, to: "WECHAT" }, txHash: "0x", blockNumber: "1", timestamp: 1 } };
    });
    await index.opReturns.batch(rows.map((r) => ({ type: "put" as const, ...r })));
    await index.opEvents.batch(rows.map((r) => ({ type: "put" as const, ...r, value: { ...r.value, kind: "limits_set" } })));
    await index.close();
    explorer = await startExplorer(options());
    await explorer.waitForIndex();
    const returns = (await get("/api/operators/ZZFLOOD/returns?format=csv")).text.trim().split("\r\n");
    expect(returns).toHaveLength(1_235);
    expect(returns.slice(1).every((l) => l.includes(",payee_account_closed,2,"))).toBe(true);
    expect((await get("/api/operators/ZZFLOOD/events?format=csv")).text.trim().split("\r\n")).toHaveLength(1_235);
  });

  test("error: an index of another deployment is refused instead of mixed", async () => {
    await explorer.close();
    const other = { ...demo.network.devnet.manifest, contracts: { ...demo.network.devnet.manifest.contracts, settlementHub: "0x000000000000000000000000000000000000dEaD" as const } };
    await expect(startExplorer({ ...options(), deployment: other })).rejects.toBeInstanceOf(IndexMismatchError);
    explorer = await startExplorer(options());
  });
});
