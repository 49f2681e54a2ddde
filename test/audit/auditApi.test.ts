import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { ApiKeyStore, createApiKey } from "../../node/api/apiKeys.ts";
import { type ApiServer, createApiServer } from "../../node/api/server.ts";
import { registerAuditRoutes } from "../../node/api/routes/audit.ts";
import { createChainReader, httpCreditLookup, traceTransfer } from "../../node/audit/index.ts";
import { Attester } from "../../node/bridge/attester.ts";
import { createChainClients } from "../../node/chain/clients.ts";
import { TransactionSender } from "../../node/chain/transactionSender.ts";
import { auditCommand } from "../../node/cli/commands/audit.ts";
import { LocalDirectory } from "../../node/directory/localDirectory.ts";
import { openKeystoreFile } from "../../node/keys/keystore.ts";
import { silentLogger } from "../../node/observability/logger.ts";
import { walletIdOf } from "../../node/receipts/index.ts";
import { call, expectProblem } from "../api/client.ts";
import { type TestNodes, startTestNodes } from "../helpers/testNode.ts";
import { camt053Errors } from "./camt053.ts";

/** One operator's node with the audit API and the attester mounted, as nodeRuntime wires them. */
interface AuditedNode {
  code: string;
  url: string;
  keys: { app: string; admin: string; audit: string };
  attester: Attester;
  api: ApiServer;
}

let network: TestNodes;
let nodes: Record<string, AuditedNode>;
let tmp: string;
let transferId: Hex;
let payerAccount: string;

async function mountAudit(code: string): Promise<AuditedNode> {
  const t = network.byCode(code);
  const { devnet } = network;
  const operator = devnet.operators.find((o) => o.code === code)!;
  const account = privateKeyToAccount((await openKeystoreFile(operator.keystoreFile, devnet.keystorePassword)).privateKey);
  const { publicClient, chain } = createChainClients(devnet.chain.url, devnet.manifest.chainId, account, { pollingIntervalMs: 20 });
  const ledger = t.node.ledger;
  const secret = Buffer.from((await ledger.store.sub.meta.get("referenceSecret")) as string, "base64");
  const walletId = walletIdOf(code);
  const attester = new Attester({
    ledger,
    secret,
    sender: new TransactionSender(account, publicClient, chain),
    client: publicClient,
    attestation: devnet.manifest.contracts.reserveAttestation,
    wallet: { code, walletId },
    log: silentLogger,
  });
  const keys = { app: createApiKey(["app"]), admin: createApiKey(["admin"]), audit: createApiKey(["audit"]) };
  const api = createApiServer({ service: t.service, keys: new ApiKeyStore([keys.app.record, keys.admin.record, keys.audit.record]), logger: silentLogger });
  const local = new LocalDirectory(ledger, secret);
  registerAuditRoutes(api, {
    reader: createChainReader(publicClient, devnet.manifest),
    wallet: { code, walletId },
    store: ledger.store,
    payeeRefOf: (id) => local.payeeRef(id),
    hasAccount: (id) => ledger.account(id)?.kind === "customer",
    attester,
  });
  const { url } = await api.listen(0, "127.0.0.1");
  return { code, url, keys: { app: keys.app.key, admin: keys.admin.key, audit: keys.audit.key }, attester, api };
}

const idem = (() => {
  let n = 0;
  return () => ({ key: `audit-test-${n++}`, fingerprint: `f${n}`, scope: "test" });
})();

/** Runs `hulian audit …` in process; returns what it printed, or the error it exits with. */
async function hulianAudit(argv: string[]): Promise<{ out: string; error?: Error }> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((...args) => void lines.push(args.join(" ")));
  const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  try {
    await auditCommand([...argv, "--rpc", network.devnet.chain.url, "--deployment", network.devnet.manifestFile]);
    return { out: lines.join("\n") };
  } catch (e) {
    return { out: lines.join("\n"), error: e as Error };
  } finally {
    spy.mockRestore();
    stderr.mockRestore();
  }
}

beforeAll(async () => {
  network = await startTestNodes([
    { code: "ALIPAY", name: "Alipay", reserve: 10_000_000_00n },
    { code: "WECHAT", name: "WeChat Pay", reserve: 10_000_000_00n },
  ]);
  tmp = await mkdtemp(path.join(tmpdir(), "hulian-audit-"));
  nodes = { ALIPAY: await mountAudit("ALIPAY"), WECHAT: await mountAudit("WECHAT") };
  const alipay = network.byCode("ALIPAY").service;
  const wechat = network.byCode("WECHAT").service;
  const payer = await alipay.createAccount({ handle: "lihua", displayName: "Li Hua" }, idem());
  payerAccount = payer.id;
  await wechat.createAccount({ handle: "wangwei", displayName: "Wang Wei" }, idem());
  await alipay.topUp({ accountId: payer.id, amount: 500_00n, reference: "bank-1" }, idem());
  const payment = await alipay.pay({ fromAccountId: payer.id, to: "wangwei@WECHAT", amount: 123_45n, memo: "rent" }, idem());
  for (let i = 0; i < 200; i++) {
    const p = await alipay.getPayment(payment.id);
    if (p.status === "settled" && p.transferId) {
      transferId = p.transferId;
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(transferId).toBeDefined();
  // Wait for WECHAT's inbound follower to credit it.
  for (let i = 0; i < 200 && (await wechat.getAccountByHandle("wangwei")).balance === 0n; i++) await new Promise((r) => setTimeout(r, 50));
});
afterAll(async () => {
  for (const n of Object.values(nodes ?? {})) {
    await n.attester.stop();
    await n.api.close();
  }
  await network?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe("audit API", () => {
  test("default: a transfer's certificate, behind audit keys only", async () => {
    const { url, keys } = nodes.ALIPAY;
    const r = await call(url, "GET", `/v1/audit/transfers/${transferId}`, { key: keys.audit });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ status: "verified", amount: "12345", payer: { code: "ALIPAY" }, payee: { code: "WECHAT" }, shortId: "ALIPAY-0" });
    expectProblem(await call(url, "GET", `/v1/audit/transfers/${transferId}`, { key: keys.app }), 403, "forbidden");
    expectProblem(await call(url, "GET", `/v1/audit/transfers/${transferId}`, { key: keys.admin }), 403, "forbidden");
    expectProblem(await call(url, "GET", `/v1/audit/transfers/${transferId}`), 401, "unauthorized");
  });

  test("error: findings are 422 problems with the finding's code; bad ids are 400", async () => {
    const { url, keys } = nodes.ALIPAY;
    const missing = expectProblem(await call(url, "GET", "/v1/audit/transfers/ALIPAY-999", { key: keys.audit }), 422, "transfer_not_found");
    expect(missing.detail).toBe("no settled transfer ALIPAY-999 (ALIPAY sequence 999) on this chain");
    expectProblem(await call(url, "GET", "/v1/audit/transfers/nonsense", { key: keys.audit }), 400, "validation_failed");
  });

  test("behavior: the payee node reports its credit; the trace reads it over HTTP", async () => {
    const credit = await call(nodes.WECHAT.url, "GET", `/v1/audit/transfers/${transferId}/credit`, { key: nodes.WECHAT.keys.audit });
    expect(credit.json).toMatchObject({ status: "credited", payeeRefMatches: true, settled: true, wallet: "WECHAT" });
    const reader = createChainReader(createChainClients(network.devnet.chain.url, network.devnet.manifest.chainId).publicClient, network.devnet.manifest);
    const trace = await traceTransfer(reader, transferId, { credit: httpCreditLookup(nodes.WECHAT.keys.audit, nodes.WECHAT.url) });
    expect(trace).toMatchObject({ outcome: "credited", credit: { status: "credited", payeeRefMatches: true } });
    const cli = await hulianAudit(["trace", "ALIPAY-0", "--payee-node", nodes.WECHAT.url, "--audit-key", nodes.WECHAT.keys.audit]);
    expect(cli.out).toMatch(/payee credit\s+credited, to the account the payee reference names/);
    expect(cli.out).toMatch(/outcome\s+CREDITED/);
  });

  test("behavior: chain and camt.053 statement over the API", async () => {
    const { url, keys } = nodes.ALIPAY;
    const chain = await call(url, "GET", "/v1/audit/chain", { key: keys.audit });
    expect(chain.json).toMatchObject({ status: "verified", code: "ALIPAY", batches: 1, transfers: 1, total: "12345" });
    const today = new Date().toISOString().slice(0, 10);
    const r = await call(url, "GET", `/v1/audit/statements?from=2000-01-01&to=${today}&format=camt053`, { key: keys.audit });
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/xml");
    expect(await camt053Errors(r.text)).toEqual([]);
    expect(r.text).toContain("<EndToEndId>ALIPAY-0</EndToEndId>");
  });
});

describe("reserve attestation", () => {
  test("default: attest on demand, serve the customer's proof, verify it (API and CLI)", async () => {
    const { url, keys } = nodes.ALIPAY;
    const posted = await call(url, "POST", "/v1/admin/attestations", { key: keys.admin });
    expect(posted.status, posted.text).toBe(201);
    expect(posted.json).toMatchObject({ wallet: "ALIPAY", total: String(500_00n - 123_45n), accountCount: 1 });
    const proof = await call(url, "GET", `/v1/accounts/${payerAccount}/reserve-proof`, { key: keys.app });
    expect(proof.status, proof.text).toBe(200);
    expect(proof.json).toMatchObject({ wallet: "ALIPAY", balance: String(500_00n - 123_45n), root: posted.json.root });
    expect(JSON.stringify(proof.json)).not.toContain("lihua");

    const checked = await call(url, "POST", "/v1/audit/inclusion", { key: keys.audit, body: proof.json });
    expect(checked.json).toMatchObject({ status: "included", contractAgrees: true });
    const file = path.join(tmp, "proof.json");
    await writeFile(file, JSON.stringify(proof.json));
    const cli = await hulianAudit(["inclusion", file]);
    expect(cli.error).toBeUndefined();
    expect(cli.out).toMatch(/^BALANCE INCLUDED {2}in ALIPAY's attested liabilities/);
    expect(cli.out).toMatch(/pieces\s+4 leaves of the attested tree, adding up to the balance/);

    expect(proof.json.pieces.length).toBeGreaterThan(1);
    await writeFile(file, JSON.stringify({ ...proof.json, balance: "1", pieces: [{ ...proof.json.pieces[0], amount: "1" }] }));
    const tampered = await hulianAudit(["inclusion", file, "--json"]);
    expect(tampered.error?.message).toMatch(/^inclusion_invalid: balance 1 for reference 0x[0-9a-f]{64} does not prove against ALIPAY's attested root/);
    expect(JSON.parse(tampered.out)).toMatchObject({ status: "failed", code: "inclusion_invalid" });
  });

  test("error: reserves fail while an operator never attested, pass once all did", async () => {
    const before = await call(nodes.ALIPAY.url, "GET", "/v1/audit/reserves", { key: nodes.ALIPAY.keys.audit });
    expect(before.json.ok).toBe(false);
    const cliBefore = await hulianAudit(["reserves"]);
    expect(cliBefore.error?.message).toBe("never_attested: WECHAT has never posted a reserve attestation");
    await nodes.WECHAT.attester.attestNow();
    await nodes.ALIPAY.attester.attestNow();
    const cli = await hulianAudit(["reserves", "--json"]);
    expect(cli.error).toBeUndefined();
    expect(JSON.parse(cli.out)).toMatchObject({ ok: true, operators: [{ code: "ALIPAY" }, { code: "WECHAT" }] });
  });

  test("error: the customer proof route is for existing accounts", async () => {
    expectProblem(await call(nodes.ALIPAY.url, "GET", "/v1/accounts/c_nobody/reserve-proof", { key: nodes.ALIPAY.keys.app }), 404, "account_not_found");
  });
});

describe("hulian audit CLI", () => {
  test("default: verify prints a certificate; --json is machine readable", async () => {
    const text = await hulianAudit(["verify", "ALIPAY-0"]);
    expect(text.error).toBeUndefined();
    expect(text.out).toMatch(/^TRANSFER VERIFIED {2}ALIPAY-0/);
    expect(text.out).toContain("✓ merkle proof");
    const json = await hulianAudit(["verify", transferId, "--json"]);
    expect(JSON.parse(json.out)).toMatchObject({ status: "verified", transferId, amount: "12345" });
  });

  test("behavior: a transaction hash verifies all its transfers", async () => {
    const tx = (await hulianAudit(["verify", "ALIPAY-0", "--json"])).out;
    const hash = JSON.parse(tx).transaction.hash as string;
    const all = await hulianAudit(["verify", hash, "--json"]);
    expect(JSON.parse(all.out).transfers.map((c: { shortId: string }) => c.shortId)).toEqual(["ALIPAY-0"]);
  });

  test("error: exits with the exact reason", async () => {
    const r = await hulianAudit(["verify", "WECHAT-7"]);
    expect(r.error?.message).toBe("transfer_not_found: no settled transfer WECHAT-7 (WECHAT sequence 7) on this chain");
    expect(r.out).toContain("✗ VERIFY FAILED [transfer_not_found]");
    expect((await hulianAudit(["verify", "bogus"])).error?.name).toBe("UsageError");
  });

  test("default: chain and export (camt.053 to a file)", async () => {
    expect((await hulianAudit(["chain", "--wallet", "ALIPAY"])).out).toMatch(/^ROOT CHAIN VERIFIED {2}ALIPAY/);
    const out = path.join(tmp, "wechat.xml");
    const today = new Date().toISOString().slice(0, 10);
    const r = await hulianAudit(["export", "--wallet", "WECHAT", "--from", "2000-01-01", "--to", today, "--format", "camt053", "--out", out]);
    expect(r.error).toBeUndefined();
    const { readFile } = await import("node:fs/promises");
    const xml = await readFile(out, "utf8");
    expect(await camt053Errors(xml)).toEqual([]);
    expect(xml).toContain("<Amt Ccy=\"CNY\">123.45</Amt><CdtDbtInd>CRDT</CdtDbtInd>");
  });
});
