import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PROBLEM_BASE } from "../../node/api/problem.ts";
import { type TestNode, type TestNodes, startTestNodes } from "../helpers/testNode.ts";
import { NodeApiClient, pollUntil, waitForFinalPayments } from "../helpers/http.ts";
import { OpenApiResponseChecker } from "../api/openapiCheck.ts";

/*
 * Hostile input against every endpoint of a real node (embedded chain, LevelDB, HTTP): the
 * operations come from the node's own /openapi.json, so a route added later is fuzzed too. Each
 * generated request starts from a valid one and breaks it in one way — auth (missing, malformed,
 * unknown or tampered key, wrong scope), method, Idempotency-Key, body (not JSON, invalid UTF-8,
 * 1 MB, wrong media type, wrong types, missing or extra fields, negative/zero/overflowing/decimal
 * amounts, too long strings), path parameters (malformed, unknown, undecodable), query parameters,
 * or business rules (unknown handle or wallet, unknown payer, self-payment, insufficient funds,
 * taken handle). Every answer must be a 4xx application/problem+json, never a 5xx, documented for
 * its operation in that same document (status, media type, problem schema), and the ledger
 * and the chain must be exactly as before (balances, trial balance, journal length, reconciliation).
 *
 * HULIAN_FUZZ_RUNS sets the number of cases (default 1,500; the full run uses 10,000);
 * HULIAN_FUZZ_SEED replays a run.
 */

const RUNS = Number(process.env.HULIAN_FUZZ_RUNS ?? 1_500);
// A fixed seed keeps `npm test` repeatable; HULIAN_FUZZ_SEED=random explores, a number replays.
const SEED_ENV = process.env.HULIAN_FUZZ_SEED;
const SEED = SEED_ENV === "random" ? Date.now() | 0 : SEED_ENV ? Number(SEED_ENV) | 0 : 20261127;

type Scope = "app" | "admin" | "audit" | "metrics";
type Category = "auth" | "method" | "idempotency" | "body" | "params" | "query" | "business";

interface Operation {
  method: "GET" | "POST";
  /** OpenAPI path, e.g. /v1/accounts/{id}/top-ups */
  path: string;
  scopes: Scope[] | "none";
  idempotent: boolean;
  body?: { schema: JsonSchema; required: boolean };
  query: string[];
  params: string[];
}

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema & { minLength?: number; maxLength?: number; format?: string }>;
  required?: string[];
  additionalProperties?: boolean;
}

interface FuzzRequest {
  category: Category;
  what: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
}

let net: TestNodes;
let node: TestNode;
let ops: Operation[];
let checker: OpenApiResponseChecker;
const fixture = { accountId: "", handle: "fz-alice", otherHandle: "fz-bob", paymentId: "", transferRef: "", txHash: "" };
const coverage = new Map<string, number>();

const KEY_SCOPES: Record<"app" | "admin" | "audit", Scope[]> = { app: ["app"], admin: ["admin", "app", "metrics"], audit: ["audit"] };

function validKey(op: Operation): string | undefined {
  if (op.scopes === "none") return undefined;
  const scopes = op.scopes;
  const name = (Object.keys(KEY_SCOPES) as (keyof typeof KEY_SCOPES)[]).find((k) => KEY_SCOPES[k].some((s) => scopes.includes(s)))!;
  return node.keys[name];
}

function wrongScopeKey(op: Operation): string | undefined {
  if (op.scopes === "none") return undefined;
  const scopes = op.scopes;
  const name = (Object.keys(KEY_SCOPES) as (keyof typeof KEY_SCOPES)[]).find((k) => !KEY_SCOPES[k].some((s) => scopes.includes(s)));
  return name && node.keys[name];
}

function validParam(op: Operation, name: string): string {
  if (name === "handle") return fixture.handle;
  if (name === "address") return `${fixture.otherHandle}@WECHAT`;
  if (name === "ref") return fixture.transferRef;
  if (name === "hash") return fixture.txHash;
  return op.path.startsWith("/v1/payments") ? fixture.paymentId : fixture.accountId;
}

function validBody(op: Operation): unknown {
  if (op.path === "/v1/accounts") return { handle: "fz-new", displayName: "New Customer" };
  if (op.path.endsWith("/top-ups") || op.path.endsWith("/withdrawals")) return { amount: "100", reference: "fuzz-ref" };
  if (op.path === "/v1/payments") return { from: fixture.accountId, to: fixture.otherHandle, amount: "1" };
  if (op.path === "/node/v1/resolve") return { handle: fixture.handle };
  return {};
}

// ------------------------------------------------------------------------------------------------
// Generators of bad parts
// ------------------------------------------------------------------------------------------------

const junkText = fc.string({ unit: "grapheme", maxLength: 40 });
const wrongTypeValue = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
  fc.constantFrom(1e308, -0, 2 ** 53 + 1, -1),
);
const badAmount = fc.oneof(
  fc.constantFrom("-1", "0", "00", "01", "1.5", "1e3", " 1", "1 ", "+1", "0x10", "", "NaN", "Infinity", "١٢٣", "1_000", "1,000", "9".repeat(19)),
  fc.bigInt({ min: 10n ** 18n, max: 2n ** 512n }).map(String),
  fc.bigInt({ min: -(2n ** 256n), max: 0n }).map(String),
  fc.integer({ min: 1, max: 1_000_000 }).map((n) => n), // a JSON number, not a string
  fc.double({ noNaN: true }).map((n) => `${n}.5`),
);
const badIdempotencyKey = fc.oneof(
  fc.constantFrom("", " ", "a b", "key/with/slash", "ключ", "k".repeat(129), "semi;colon", "a,b", "<script>"),
  fc.string({ unit: fc.constantFrom(..." !\"#$%&'()*+,/;<=>?@[\\]^`{|}~"), minLength: 1, maxLength: 20 }).map((s) => `k${s}`),
  fc.string({ minLength: 129, maxLength: 300, unit: fc.constantFrom("a", "b", "0", "-") }),
  // HTTP strips whitespace around a header value ("k " arrives as "k"): such a key is valid, not bad.
).filter((k) => !/^[A-Za-z0-9_:.-]{1,128}$/.test(k.trim()));
const badAuth = fc.oneof(
  fc.constant({ what: "missing", header: undefined }),
  fc.constantFrom("Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "Bearer hk_live_", "Bearer \u00e9t\u00e9").map((h) => ({ what: "malformed", header: h })),
  fc.base64String({ minLength: 4, maxLength: 60 }).map((s) => ({ what: "unknown key", header: `Bearer hk_live_${s.replace(/=/g, "")}` })),
  fc.constant({ what: "tampered key", header: "tampered" }),
  fc.constant({ what: "wrong scope", header: "wrong-scope" }),
);
const invalidUtf8 = fc.constantFrom([0xff], [0xfe, 0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82], [0x80]);
const badPathValue = fc.oneof(
  junkText.filter((s) => s.length > 0 && /[^A-Za-z0-9_.:-]/.test(s)).map((s) => ({ what: "malformed", raw: encodeURIComponent(s) })),
  fc.constantFrom("%FF", "%E2%82", "%C3%28", "%").map((raw) => ({ what: "undecodable", raw })),
  fc.string({ unit: fc.constantFrom("a", "Z", "0", "_"), minLength: 129, maxLength: 200 }).map((s) => ({ what: "too long", raw: s })),
  fc.stringMatching(/^[A-Za-z0-9_]{6,20}$/).map((s) => ({ what: "unknown", raw: `zz_${s}` })),
);

/** A body that the route's schema (or the route itself) must refuse. */
function badBody(op: Operation): fc.Arbitrary<{ what: string; body: string | Uint8Array<ArrayBuffer>; contentType?: string }> {
  const json = (what: string, v: unknown) => ({ what, body: JSON.stringify(v) });
  const base = validBody(op) as Record<string, unknown>;
  const schema = op.body?.schema;
  const props = Object.keys(schema?.properties ?? {});
  const required = schema?.required ?? [];
  const options: fc.Arbitrary<{ what: string; body: string | Uint8Array<ArrayBuffer>; contentType?: string }>[] = [
    junkText.map((s) => ({ what: "not JSON", body: `{"a":${JSON.stringify(s)},` })),
    fc.tuple(invalidUtf8, fc.nat(10)).map(([bad, at]) => {
      const text = Buffer.from(JSON.stringify(base));
      const i = Math.min(at + 1, text.length - 1);
      return { what: "invalid UTF-8", body: new Uint8Array(Buffer.concat([text.subarray(0, i), Buffer.from(bad), text.subarray(i)])) };
    }),
    fc.constant({ what: "1 MB", body: JSON.stringify({ ...base, pad: "x".repeat(1024 * 1024) }) }),
    fc.constantFrom("text/plain", "application/xml", "application/x-www-form-urlencoded", "application/json; charset=latin1").map((t) => ({ what: `media type ${t}`, body: JSON.stringify(base), contentType: t })),
    fc.oneof(fc.constant([]), fc.constant("a string"), fc.constant(42), fc.constant(null), fc.constant(true)).map((v) => json("not an object", v)),
  ];
  if (schema?.additionalProperties !== true) {
    options.push(fc.tuple(fc.stringMatching(/^[a-z]{1,12}$/), wrongTypeValue).filter(([k]) => !props.includes(k)).map(([k, v]) => json(`extra field ${k}`, { ...base, [k]: v })));
  }
  if (required.length > 0) options.push(fc.constantFrom(...required).map((k) => json(`missing ${k}`, Object.fromEntries(Object.entries(base).filter(([f]) => f !== k)))));
  if (props.length > 0) {
    options.push(fc.tuple(fc.constantFrom(...props), wrongTypeValue).map(([k, v]) => json(`wrong type ${k}`, { ...base, [k]: v })));
    const bounded = props.filter((k) => schema!.properties![k].maxLength !== undefined);
    if (bounded.length > 0) options.push(fc.constantFrom(...bounded).map((k) => json(`too long ${k}`, { ...base, [k]: "x".repeat(schema!.properties![k].maxLength! + 1) })));
    const nonEmpty = props.filter((k) => (schema!.properties![k].minLength ?? 0) > 0);
    if (nonEmpty.length > 0) options.push(fc.constantFrom(...nonEmpty).map((k) => json(`empty ${k}`, { ...base, [k]: "" })));
  }
  if (props.includes("amount")) options.push(badAmount.map((a) => json(`amount ${String(a).slice(0, 24)}`, { ...base, amount: a })));
  return fc.oneof(...options);
}

/** Requests that are well formed but break a business rule. */
function businessCase(op: Operation): fc.Arbitrary<{ what: string; body: unknown }> | undefined {
  if (op.path === "/v1/payments") {
    return fc.oneof(
      fc.stringMatching(/^[a-z]{3,10}$/).map((h) => ({ what: "unknown local handle", body: { from: fixture.accountId, to: `nobody-${h}`, amount: "1" } })),
      fc.stringMatching(/^[A-Z]{3,10}$/).filter((w) => w !== "ALIPAY" && w !== "WECHAT").map((w) => ({ what: "unknown wallet", body: { from: fixture.accountId, to: `${fixture.otherHandle}@${w}`, amount: "1" } })),
      fc.stringMatching(/^[a-z0-9]{3,10}$/).map((s) => ({ what: "unknown payer", body: { from: `c_${s}`, to: fixture.otherHandle, amount: "1" } })),
      fc.constant({ what: "self payment", body: { from: fixture.accountId, to: fixture.handle, amount: "1" } }),
      fc.bigInt({ min: 10n ** 12n, max: 10n ** 18n - 1n }).map((a) => ({ what: "insufficient funds", body: { from: fixture.accountId, to: fixture.otherHandle, amount: a.toString() } })),
      fc.bigInt({ min: 10n ** 12n, max: 10n ** 18n - 1n }).map((a) => ({ what: "insufficient funds cross-wallet", body: { from: fixture.accountId, to: `${fixture.otherHandle}@WECHAT`, amount: a.toString() } })),
      fc.constantFrom("a@b@c", "@WECHAT", "bob@", "bob@wechat!", "x".repeat(300)).map((to) => ({ what: `bad address ${to.slice(0, 12)}`, body: { from: fixture.accountId, to, amount: "1" } })),
    );
  }
  if (op.path.endsWith("/withdrawals")) {
    return fc.bigInt({ min: 10n ** 12n, max: 10n ** 18n - 1n }).map((a) => ({ what: "withdraw more than the balance", body: { amount: a.toString(), reference: "fuzz" } }));
  }
  if (op.path === "/v1/accounts") {
    return fc.constantFrom(fixture.handle, fixture.otherHandle, fixture.handle.toUpperCase()).map((h) => ({ what: "taken handle", body: { handle: h, displayName: "Someone" } }));
  }
  return undefined;
}

/** Invalid values of the route's query parameters. */
function badQuery(op: Operation): fc.Arbitrary<{ what: string; query: string }> | undefined {
  if (op.query.length === 0) return undefined;
  // Values no parameter accepts (a wallet code may be "0" or "ABC", a number "1e2": those are not bad).
  const common = fc.oneof(fc.constantFrom("", "!!", "%00", "x".repeat(600), "a b"), junkText.map((s) => `!${s}`));
  const numeric = fc.oneof(common, fc.constantFrom("-1", "0", "abc", "1.5", "NaN", "Infinity"));
  const valuesOf = (k: string) => (k === "limit" || k === "maxAgeSeconds" ? numeric : k === "from" || k === "to" ? fc.oneof(common, fc.constantFrom("2026-13-45", "yesterday", "2026-02-30")) : k === "format" ? fc.oneof(common, fc.constantFrom("pdf", "xml", "CSV2")) : common);
  const known = fc
    .constantFrom(...op.query)
    .chain((k) => valuesOf(k).map((v) => ({ what: `${k}=${v.slice(0, 12)}`, query: `${k}=${encodeURIComponent(v)}` })));
  return op.path.endsWith("/history") ? fc.oneof(known, fc.constant({ what: "unknown parameter", query: "limit=5&color=red" }), fc.constant({ what: "limit twice", query: "limit=5&limit=6" })) : known;
}

function caseFor(op: Operation): fc.Arbitrary<FuzzRequest> {
  const categories: Category[] = ["method"];
  if (op.scopes !== "none") categories.push("auth");
  if (op.idempotent) categories.push("idempotency");
  if (op.method === "POST") categories.push("body");
  if (op.params.length > 0) categories.push("params");
  if (badQuery(op)) categories.push("query");
  if (businessCase(op)) categories.push("business");

  const request = (category: Category, what: string, over: Partial<{ method: string; auth: string | undefined; idem: string | undefined; params: Record<string, string>; query: string; body: unknown; raw: string | Uint8Array<ArrayBuffer>; contentType: string }> = {}): FuzzRequest => {
    const params = Object.fromEntries(op.params.map((p) => [p, encodeURIComponent(validParam(op, p))]));
    Object.assign(params, over.params);
    let path = op.path.replace(/\{(\w+)\}/g, (_, p: string) => params[p]);
    if (over.query) path += `?${over.query}`;
    const headers: Record<string, string> = {};
    const key = validKey(op);
    const auth = "auth" in over ? over.auth : key && `Bearer ${key}`;
    if (auth !== undefined) headers.authorization = auth;
    const idem = "idem" in over ? over.idem : op.idempotent ? `fuzz-${Math.random().toString(36).slice(2)}` : undefined;
    if (idem !== undefined) headers["idempotency-key"] = idem;
    let body: string | Uint8Array<ArrayBuffer> | undefined = over.raw ?? (over.body !== undefined ? JSON.stringify(over.body) : op.method === "POST" && op.body ? JSON.stringify(validBody(op)) : undefined);
    if (body !== undefined) headers["content-type"] = over.contentType ?? "application/json";
    if (over.method && over.method !== "POST" && body === undefined) body = undefined;
    return { category, what, method: over.method ?? op.method, path, headers, body };
  };

  // Where the parsers are, the cases are: bodies, business rules and parameters weigh most.
  const WEIGHT: Record<Category, number> = { method: 1, auth: 2, idempotency: 2, body: 6, params: 3, query: 3, business: 5 };
  return fc.oneof(...categories.map((c) => ({ arbitrary: fc.constant(c), weight: WEIGHT[c] }))).chain((category): fc.Arbitrary<FuzzRequest> => {
    switch (category) {
      case "method":
        return fc.constantFrom("PUT", "PATCH", "DELETE").map((m) => request(category, m, { method: m }));
      case "auth":
        return badAuth.map(({ what, header }) => {
          let h = header;
          if (header === "tampered") h = `Bearer ${validKey(op)!.slice(0, -1)}${validKey(op)!.endsWith("A") ? "B" : "A"}`;
          if (header === "wrong-scope") {
            const wrong = wrongScopeKey(op);
            h = wrong ? `Bearer ${wrong}` : undefined;
          }
          return request(category, what, { auth: h });
        });
      case "idempotency":
        return fc.oneof(fc.constant({ what: "missing", idem: undefined }), badIdempotencyKey.map((k) => ({ what: `"${k.slice(0, 16)}"`, idem: k }))).map(({ what, idem }) => request(category, what, { idem }));
      case "body":
        return badBody(op).map((b) => request(category, b.what, { raw: b.body, contentType: b.contentType }));
      case "params":
        return fc.tuple(fc.constantFrom(...op.params), badPathValue).map(([p, v]) => {
          // A well-formed unknown handle@WALLET resolves by design (no enumeration): use an unknown wallet.
          const raw = p === "address" && v.what === "unknown" ? `${v.raw}%40NOSUCHWALLET` : v.raw;
          return request(category, `${p} ${v.what}`, { params: { [p]: raw } });
        });
      case "query":
        return badQuery(op)!.map((q) => request(category, q.what, { query: q.query }));
      case "business":
        return businessCase(op)!.map((b) => request(category, b.what, { body: b.body }));
    }
  });
}

// ------------------------------------------------------------------------------------------------
// The node and its snapshot
// ------------------------------------------------------------------------------------------------

async function snapshot() {
  const ledger = node.node.ledger;
  const tb = ledger.trialBalance();
  const api = new NodeApiClient(node.url, node.keys);
  const rec = await api.reconciliation();
  const other = net.byCode("WECHAT").node.ledger;
  return {
    trialBalance: { total: tb.total, liabilities: tb.liabilities, system: tb.system },
    balances: ledger.customerBalances(),
    entries: ledger.entryCount,
    otherWallet: { balances: other.customerBalances(), entries: other.entryCount },
    reconciliation: { tokenBalance: rec.tokenBalance, liabilities: rec.liabilities, float: rec.float, difference: rec.difference, outboxDepth: rec.outboxDepth },
    nextSeq: await net.devnet.chain.provider.request({ method: "eth_getTransactionCount", params: [node.node.account, "latest"] }),
  };
}

beforeAll(async () => {
  net = await startTestNodes([
    { code: "ALIPAY", name: "Alipay", reserve: 10_000_000_00n },
    { code: "WECHAT", name: "WeChat Pay", reserve: 10_000_000_00n },
  ]);
  node = net.byCode("ALIPAY");
  const api = new NodeApiClient(node.url, node.keys);
  const wechat = new NodeApiClient(net.byCode("WECHAT").url, net.byCode("WECHAT").keys);
  await pollUntil("ALIPAY's reserve", async () => ((await api.reconciliation()).float === "1000000000" ? true : undefined));
  const alice = await api.openAccount(fixture.handle, "Alice Fuzz");
  await api.openAccount(fixture.otherHandle, "Bob Fuzz");
  await wechat.openAccount(fixture.otherHandle, "Bob at WeChat");
  await api.topUp(alice.id, 1_000_00n);
  fixture.accountId = alice.id;
  fixture.paymentId = (await api.pay(alice.id, fixture.otherHandle, 1_00n)).id;
  const cross = await api.pay(alice.id, `${fixture.otherHandle}@WECHAT`, 2_00n);
  const settled = (await waitForFinalPayments([{ api, id: cross.id, until: "settled" }])).get(cross.id)!;
  fixture.transferRef = `ALIPAY-${settled.seq}`;
  fixture.txHash = settled.txHash!;

  const doc = (await (await fetch(`${node.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, any>> };
  checker = new OpenApiResponseChecker(doc);
  ops = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(methods)) {
      const parameters = (op.parameters ?? []) as { name: string; in: string }[];
      const content = op.requestBody?.content?.["application/json"];
      ops.push({
        method: m.toUpperCase() as "GET" | "POST",
        path,
        scopes: op["x-required-scopes"] ?? "none",
        idempotent: parameters.some((p) => p.in === "header" && p.name === "Idempotency-Key"),
        body: m === "post" ? { schema: content?.schema ?? {}, required: op.requestBody?.required ?? false } : undefined,
        query: parameters.filter((p) => p.in === "query").map((p) => p.name),
        params: [...path.matchAll(/\{(\w+)\}/g)].map((x) => x[1]),
      });
    }
  }
}, 120_000);

afterAll(async () => {
  await net?.close();
});

describe("API fuzzing", () => {
  test(`behavior: ${RUNS} generated bad requests over every endpoint → 4xx problem+json, ledger unchanged`, { timeout: 600_000 }, async () => {
    expect(ops.length).toBeGreaterThanOrEqual(20);
    const before = await snapshot();
    const started = Date.now();
    console.log(`api fuzz seed ${SEED} (replay with HULIAN_FUZZ_SEED=${SEED}), ${RUNS} cases over ${ops.length} operations`);
    const arbitrary = fc.constantFrom(...ops).chain((op) => caseFor(op).map((r) => ({ op, r })));
    await fc.assert(
      fc.asyncProperty(arbitrary, async ({ op, r }) => {
        coverage.set(`${op.method} ${op.path} ${r.category}`, (coverage.get(`${op.method} ${op.path} ${r.category}`) ?? 0) + 1);
        // Header values go out as raw UTF-8 bytes, as a careless client would send them (fetch takes only Latin-1).
        const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Buffer.from(v, "utf8").toString("latin1")]));
        const res = await fetch(node.url + r.path, { method: r.method, headers, body: r.body });
        const text = await res.text();
        const where = `${r.method} ${r.path.slice(0, 120)} [${r.category}: ${r.what}] → ${res.status} ${text.slice(0, 300)}`;
        expect(res.status, where).toBeGreaterThanOrEqual(400);
        expect(res.status, where).toBeLessThan(500);
        expect(res.headers.get("content-type"), where).toBe("application/problem+json");
        const problem = JSON.parse(text) as { type: string; status: number; code: string; title: string; detail: string };
        expect(problem.status, where).toBe(res.status);
        expect(problem.type, where).toBe(PROBLEM_BASE + problem.code);
        expect(typeof problem.detail, where).toBe("string");
        checker.assert({ method: r.method, path: r.path, status: res.status, contentType: res.headers.get("content-type"), body: text });
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    const after = await snapshot();
    expect(after).toEqual(before);
    const seconds = (Date.now() - started) / 1000;
    const byCategory = new Map<string, number>();
    for (const [k, n] of coverage) byCategory.set(k.split(" ").at(-1)!, (byCategory.get(k.split(" ").at(-1)!) ?? 0) + n);
    console.log(`api fuzz: ${RUNS} cases in ${seconds.toFixed(1)} s, 0 failures; by category ${JSON.stringify(Object.fromEntries(byCategory))}`);
    // Every operation was hit, and every category that applies to it.
    for (const op of ops) expect([...coverage.keys()].some((k) => k.startsWith(`${op.method} ${op.path} `)), `${op.method} ${op.path}`).toBe(true);
  });
});
