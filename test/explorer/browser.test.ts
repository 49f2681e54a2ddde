import { copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type Page, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type RunningExplorer, startExplorer } from "../../node/explorer/startExplorer.ts";
import { type DemoNetwork, applyForMembership, startDemoNetwork } from "./demoNetwork.ts";

// A real Chromium (shipped inside the @sparticuz/chromium npm package) against a real devnet with
// demo traffic and the explorer on 127.0.0.1. One browser for the whole file.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const OUT = path.join(ROOT, "test-output", "explorer");

let demo: DemoNetwork;
let explorer: RunningExplorer;
let browser: Browser;
let page: Page;
let dir: string;

/** "1,234.56 CNY" the way the UI writes it (grouping of the browser's locale, en-US here). */
function cny(minor: bigint): string {
  const whole = (minor / 100n).toLocaleString("en-US");
  return `${whole}.${(minor % 100n).toString().padStart(2, "0")} CNY`;
}

beforeAll(async () => {
  await mkdir(OUT, { recursive: true });
  dir = await mkdtemp(path.join(tmpdir(), "hulian-explorer-ui-"));
  const chromiumPkg = (await import("@sparticuz/chromium")).default;
  const [network, executablePath] = await Promise.all([startDemoNetwork({ payments: 50, returns: 2 }), chromiumPkg.executablePath()]);
  demo = network;
  // An applicant (never approved) whose name reads "ALIPAY" when a right-to-left override is obeyed.
  await applyForMembership(demo.network, { code: "YAPILA", name: "\u202eYAPILA\u202c", endpoint: "https://\u202elapi.example" });
  explorer = await startExplorer({
    rpcUrl: demo.network.devnet.chain.url,
    deployment: demo.network.devnet.manifestFile,
    dataDir: path.join(dir, "index"),
    keysFile: path.join(dir, "explorer-keys.json"),
    port: 0,
    rules: { largeAmount: 5_000_000n, burst: { windowSeconds: 300, maxTransfers: 5 } },
    pollIntervalMs: 100,
  });
  await explorer.waitForIndex();
  browser = await chromium.launch({
    executablePath,
    args: [...chromiumPkg.args, "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
    headless: true,
  });
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: "en-US", timezoneId: "Asia/Shanghai", acceptDownloads: true });
  page = await context.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await explorer?.close();
  await demo?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("explorer in a real browser", () => {
  test("default: the key logs in; the overview shows operators, backing, flows and volume", async () => {
    const first = await page.goto(explorer.url);
    expect(first?.status()).toBe(401);
    await page.locator("#login-key").fill("hx_live_wrong");
    await page.locator("#login-form button").click();
    await expect.poll(() => page.locator("#login-error").textContent()).toBe("That key is not valid.");

    await page.locator("#login-key").fill(explorer.createdKey!);
    await page.locator("#login-form button").click();
    await page.locator("h1", { hasText: "Network overview" }).waitFor();
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === "hx_session")).toMatchObject({ httpOnly: true, sameSite: "Strict" });
    expect(cookies.some((c) => c.value.includes(explorer.createdKey!))).toBe(false);

    const rows = page.locator("#operators tbody tr");
    await expect.poll(() => rows.count()).toBe(3);
    await expect.poll(() => page.locator("#operators tbody tr", { hasText: "YUNPAY" }).textContent()).toMatch(/✗ shortfall.*Suspended · reason 7/);
    expect(await page.locator("#operators tbody tr", { hasText: "ALIPAY" }).locator(".pill.ok", { hasText: "backed" }).textContent()).toMatch(/^✓ backed [0-9,]+(\.[0-9]{1,2})?×$/);
    expect(await page.locator("#not-listed").textContent()).toContain("Not listed: 1 pending application");
    expect(await page.locator(".card", { hasText: "Backing" }).textContent()).toContain("Shortfall: YUNPAY");
    expect(await page.locator("#volume svg rect.bar").count()).toBe(24);
    expect(await page.locator("#alert-badge").isVisible()).toBe(true);
    await page.screenshot({ path: path.join(OUT, "overview-laptop.png"), fullPage: true });
    // The README's screenshot is refreshed on request only, so a test run leaves the tree clean.
    if (process.env.HULIAN_UPDATE_SCREENSHOTS === "1") {
      await mkdir(path.join(ROOT, "docs"), { recursive: true });
      await copyFile(path.join(OUT, "overview-laptop.png"), path.join(ROOT, "docs", "explorer-overview.png"));
    }
  });

  test("behavior: one click on the WECHAT → ALIPAY cell lists today's transfers with their total", async () => {
    await page.goto(`${explorer.url}/#/`);
    const expected = demo.payments.filter((p) => p.from === "WECHAT" && p.to === "ALIPAY");
    const total = expected.reduce((s, p) => s + p.amount, 0n);
    const cell = page.locator('a[data-flow="WECHAT>ALIPAY"]');
    expect(await cell.locator("small").textContent()).toBe(`${expected.length} transfers`);
    await cell.click();
    await page.locator("#transfer-summary").waitFor();
    expect(await page.locator("#summary-total").textContent()).toBe(cny(total));
    expect(await page.locator("#transfer-summary").textContent()).toContain(`in ${expected.length} transfers`);
    expect(await page.locator("#results tbody tr").count()).toBe(expected.length);
  });

  test("behavior: search a transfer by id, open it, and see its Merkle proof verified against the chain", async () => {
    // A transfer that shares its batch with others, so its proof has steps.
    const target = demo.payments.find((p) => demo.payments.filter((q) => q.txHash === p.txHash).length > 1) ?? demo.payments[10];
    await page.goto(`${explorer.url}/#/transfers`);
    // The hash route renders asynchronously: wait for the unfiltered list, or the form being typed
    // into may be replaced by the render that follows.
    await expect.poll(() => page.locator("#results tbody tr").count()).toBe(Math.min(demo.payments.length, 50));
    await page.locator('#search-form input[name="q"]').fill(target.transferId);
    await page.locator('#search-form button[type="submit"]').click();
    await expect.poll(() => page.locator("#results tbody tr").count()).toBe(1);
    expect(await page.locator("#summary-total").textContent()).toBe(cny(target.amount));
    await page.locator(`#results a[href="#/transfers/${target.transferId}"]`).click();
    await page.locator("#proof-verdict").waitFor();
    expect(await page.locator("#proof-verdict").textContent()).toContain("Proof verified ✓");
    expect(await page.locator("main").textContent()).toContain("Hub verifyReceipt✓ true");
    await page.screenshot({ path: path.join(OUT, "transfer.png"), fullPage: true });

    await page.locator(".fields a.wallet", { hasText: target.from }).first().click();
    await page.locator("h1 .code", { hasText: target.from }).waitFor();
    expect(await page.locator(".table-block", { hasText: "Lifecycle and governance history" }).textContent()).toContain("Approved");
  });

  test("behavior: an operator page shows suspensions with reason codes, limits and attestations", async () => {
    await page.goto(`${explorer.url}/#/operators/YUNPAY`);
    await page.locator("h1 .code", { hasText: "YUNPAY" }).waitFor();
    const suspensions = page.locator(".table-block", { hasText: "Suspensions" });
    await suspensions.waitFor();
    expect(await suspensions.locator("tbody").textContent()).toMatch(/Suspended\s*7/);
    expect(await page.locator(".table-block", { hasText: "Reserve attestations" }).locator("tbody tr").count()).toBe(1);
    await page.goto(`${explorer.url}/#/operators/WECHAT`);
    await page.locator("h1 .code", { hasText: "WECHAT" }).waitFor();
    expect(await page.locator(".card", { hasText: "Limits" }).textContent()).toContain("1,000,000.00 CNY / transfer");
    await page.screenshot({ path: path.join(OUT, "operator.png"), fullPage: true });
  });

  test("behavior: the transfers table downloads as CSV with every matching row", async () => {
    await page.goto(`${explorer.url}/#/transfers?from=WECHAT`);
    await page.locator("#transfer-summary", { hasText: "from WECHAT" }).waitFor();
    const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#results .csv").click()]);
    expect(download.suggestedFilename()).toMatch(/^hulian-transfers-[0-9]{8}-[0-9]{6}\.csv$/);
    const text = await readFile((await download.path())!, "utf8");
    const lines = text.trim().split("\r\n");
    expect(lines[0]).toBe("time,transfer_id,from_wallet,to_wallet,seq,amount,currency,amount_minor,payer_ref,payee_ref,memo_hash,batch_no,tx_hash,block,returned,return_reason_code");
    expect(lines.length - 1).toBe(demo.payments.filter((p) => p.from === "WECHAT").length);
  });

  test("behavior: alerts list the large payment, the reverted attempt, the frozen reference and the shortfall", async () => {
    await page.goto(`${explorer.url}/#/alerts`);
    await page.locator("h2", { hasText: "Active now" }).waitFor();
    const text = (await page.locator("main").textContent())!;
    for (const s of ["YUNPAY not fully backed", "YUNPAY suspended", "1 customer reference frozen", "Large payment", "Reverted hub.settleBatch by YUNPAY", "HubSequenceReplayed", "Burst of payments"]) {
      expect(text).toContain(s);
    }
    await page.goto(`${explorer.url}/#/blocks/2`);
    await page.locator("#consensus-note").waitFor();
    expect(await page.locator("#consensus-note").textContent()).toContain("does not run QBFT");
  });

  test("behavior: chain text is isolated and its bidi overrides shown: the applicant YAPILA does not read as ALIPAY", async () => {
    await page.goto(`${explorer.url}/#/operators/YAPILA`);
    const name = page.locator("#operator-name");
    await name.waitFor();
    expect(await name.evaluate((e) => [e.tagName, getComputedStyle(e).unicodeBidi, e.getAttribute("dir")])).toEqual(["BDI", "isolate", "auto"]);
    expect(await name.textContent()).toBe("⟨U+202E⟩YAPILA⟨U+202C⟩");
    const heading = (await page.locator("#content h1").textContent())!;
    expect(heading).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    expect(heading).not.toContain("ALIPAY");
    expect(await page.locator("p.links bdi.chain-text").textContent()).toBe("https://⟨U+202E⟩lapi.example");
    expect(await page.locator("main").textContent()).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    // The formatter itself, as the page loads it.
    const inputs = ["\u202eYAPILA", "a\u2066b\u2069c", "\u200e\u200fx", "tab\there", "\u0085\u009b", "\ud800x", "\u{1f600} 支付宝 مرحبا", "zero\u200bwidth"];
    // A string, so the test runner's own rewriting of import() cannot reach the page's code.
    const shown = await page.evaluate(`import("/assets/format.js").then(({ visible }) => ${JSON.stringify(inputs)}.map(visible))`);
    expect(shown).toEqual(["⟨U+202E⟩YAPILA", "a⟨U+2066⟩b⟨U+2069⟩c", "⟨U+200E⟩⟨U+200F⟩x", "tab⟨U+0009⟩here", "⟨U+0085⟩⟨U+009B⟩", "⟨U+D800⟩x", "\u{1f600} 支付宝 مرحبا", "zero⟨U+200B⟩width"]);
  });

  test("behavior: a returned transfer reads its reason in words; the operator page keeps returns apart from its lifecycle", async () => {
    const returned = demo.payments.find((p) => p.returned)!;
    await page.goto(`${explorer.url}/#/transfers/${returned.transferId}`);
    await page.locator("#returned-reason").waitFor();
    expect(await page.locator("#returned-reason").textContent()).toBe("returned: the payee account does not exist at the receiving wallet (payee_account_unknown)");
    await page.goto(`${explorer.url}/#/operators/ALIPAY`);
    await page.locator("#returns").waitFor();
    expect(await page.locator("#returns-summary").textContent()).toBe(`Returned 2 transfers it received (${cny(300n + 301n)}); 0 of its own came back (${cny(0n)}).`);
    expect(await page.locator("#returns tbody tr").count()).toBe(2);
    expect(await page.locator("#returns tbody").textContent()).toContain("payee_account_unknown");
    expect(await page.locator("#history tbody").textContent()).not.toContain("Returned a transfer");
    expect(await page.locator("#history tbody").textContent()).toContain("Applied for membership");
  });

  test("behavior: at phone width the overview fits the screen (tables scroll inside their panels)", async () => {
    // Same context (one browser, and Chromium from @sparticuz runs single-process), phone-sized.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${explorer.url}/#/`);
    await page.locator("#operators tbody tr").first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await page.locator("#operators th", { hasText: "Name" }).isVisible()).toBe(false);
    await page.screenshot({ path: path.join(OUT, "overview-phone.png"), fullPage: true });
    await page.goto(`${explorer.url}/#/transfers/${demo.payments[0].transferId}`);
    await page.locator("#proof-verdict").waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(OUT, "transfer-phone.png"), fullPage: true });
    await page.setViewportSize({ width: 1366, height: 900 });
  });

  test("behavior: Sign out ends the session on the server: the cookie it had no longer opens anything", async () => {
    await page.goto(`${explorer.url}/#/`);
    await page.locator("#operators tbody tr").first().waitFor();
    const before = (await page.context().cookies()).find((c) => c.name === "hx_session")!;
    await page.locator("nav a.signout").click();
    await page.locator("#login").waitFor();
    expect(await page.locator("#content").textContent()).toBe("");
    expect((await page.context().cookies()).find((c) => c.name === "hx_session")).toBeUndefined();
    const replay = await fetch(`${explorer.url}/api/overview`, { headers: { cookie: `hx_session=${before.value}` } });
    expect(replay.status).toBe(401);
  });
});
