// The regulator explorer: a single page with hash routes over the explorer's read-only JSON API.
// Every element is built with textContent (never innerHTML), so nothing from the chain can run here.
import { heat, volumeChart } from "./charts.js";
import * as f from "./format.js";

const content = document.getElementById("content");
const login = document.getElementById("login");
const nav = document.getElementById("nav");
let meta;

class Unauthorized extends Error {}

/** GET a JSON route; `background` marks a refresh nobody asked for, which does not keep the session alive. */
async function api(path, { background = false } = {}) {
  const headers = { accept: "application/json" };
  if (background) headers["x-hulian-background"] = "1";
  const res = await fetch(path, { credentials: "same-origin", headers });
  if (res.status === 401) throw new Unauthorized();
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.detail || `${res.status}`);
  return body;
}

/** h("a", { href: "#/" }, "text", child…): an element with attributes and text or element children. */
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

const link = (href, text, attrs = {}) => h("a", { href, ...attrs }, text);
/** A string someone wrote to the chain: isolated (<bdi>, unicode-bidi: isolate), its hidden characters shown. */
const chainText = (s, attrs = {}) => h("bdi", { class: "chain-text", dir: "auto", ...attrs }, f.visible(s));
const walletLink = (code) => link(`#/operators/${encodeURIComponent(code)}`, code, { class: "wallet" });
const hash = (value, href) => (href ? link(href, f.short(value), { title: value, class: "mono" }) : h("span", { title: value, class: "mono" }, f.short(value)));
const money = (minor) => h("span", { class: "money" }, f.amount(minor));
const when = (ts) => h("time", { datetime: new Date(ts * 1000).toISOString(), title: new Date(ts * 1000).toISOString() }, f.time(ts));

function statusBadge(status, reasonCode) {
  const cls = { Active: "ok", Suspended: "warn", Pending: "info", Exited: "muted" }[status] || "muted";
  return h("span", { class: `pill ${cls}` }, status + (status === "Suspended" && reasonCode ? ` · reason ${reasonCode}` : ""));
}

// The ratio's text comes from the server (node/explorer/backingRatio.ts), the one formatter of it.
function backingBadge(o) {
  if (o.backed === null) return h("span", { class: "pill muted", title: "No reserve attestation yet" }, "not attested");
  const title = o.backingRatio === null ? "no attested liabilities" : `token balance / attested liabilities = ${o.backingRatio}`;
  return o.backed
    ? h("span", { class: "pill ok", title }, o.backingRatio === null ? `✓ backed · ${o.backingRatioText}` : `✓ backed ${o.backingRatioText}`)
    : h("span", { class: "pill bad", title }, `✗ shortfall ${o.backingRatioText}`);
}

/** A table with an optional CSV link: columns are [header, cell(row), class?]. */
function table(columns, rows, { csv, empty = "Nothing yet.", caption } = {}) {
  const wrap = h("div", { class: "table-block" });
  if (caption || csv) {
    wrap.append(
      h("div", { class: "table-head" }, caption ? h("h2", {}, caption) : h("span"), csv ? link(csv, "Download CSV", { class: "csv", download: "" }) : null),
    );
  }
  const thead = h("thead", {}, h("tr", {}, columns.map(([title, , cls]) => h("th", { class: cls }, title))));
  const tbody = h("tbody", {}, rows.length === 0 ? h("tr", {}, h("td", { colspan: columns.length, class: "empty" }, empty)) : rows.map((r) => h("tr", {}, columns.map(([, cell, cls]) => h("td", { class: cls }, cell(r))))));
  wrap.append(h("div", { class: "table-wrap" }, h("table", {}, thead, tbody)));
  return wrap;
}

/** A "Load more" button under table `t`: `next(cursor)` fetches the page after `cursor` as { items, nextCursor }. */
function loadMore(t, columns, cursor, next) {
  const tbody = t.querySelector("tbody");
  const more = h("button", {
    class: "more",
    type: "button",
    hidden: !cursor,
    onclick: async () => {
      more.disabled = true;
      const page = await next(cursor);
      for (const r of page.items) tbody.append(h("tr", {}, columns.map(([, cell, cls]) => h("td", { class: cls }, cell(r)))));
      cursor = page.nextCursor;
      more.hidden = !cursor;
      more.disabled = false;
    },
  }, "Load more");
  return more;
}

/** A return's reason as people read it: "the payee account is closed (payee_account_closed)". */
const reasonText = (reason) => (reason ? `${reason.text} (${reason.name})` : "");

function card(title, value, sub, cls = "") {
  return h("div", { class: `card ${cls}` }, h("div", { class: "card-title" }, title), h("div", { class: "card-value" }, value), sub ? h("div", { class: "card-sub" }, sub) : null);
}

function csvHref(path, params = {}) {
  const q = new URLSearchParams({ ...clean(params), format: "csv" });
  return `${path}?${q}`;
}

function clean(o) {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null && v !== ""));
}

// ---------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------

async function overview(query) {
  const flowPeriod = query.get("flows") || "today";
  const volumeRange = query.get("volume") || "24h";
  const now = Date.now() / 1000;
  const flowSince = flowPeriod === "7d" ? f.startOfToday() - 6 * 86400 : flowPeriod === "30d" ? f.startOfToday() - 29 * 86400 : f.startOfToday();
  const z = f.zone();
  const vStep = volumeRange === "14d" ? 86400 : 3600;
  const vSince = volumeRange === "14d" ? f.startOfToday() - 13 * 86400 : Math.floor(now / 3600) * 3600 - 23 * 3600;
  const [o, volume] = await Promise.all([
    api(`/api/overview?since=${flowSince}`),
    api(`/api/volume?since=${vSince}&step=${vStep}&tz=${z.offsetMinutes}`),
  ]);
  const periodName = { today: `Today (since 00:00, ${z.name})`, "7d": "Last 7 days", "30d": "Last 30 days" }[flowPeriod] || "Today";
  const b = o.backing;
  const backingCard = b.allBacked
    ? card("Backing", h("span", { class: "ok-text" }, "✓ All fully backed"), `${b.attested} of ${b.operators} operators attested; token balance ≥ liabilities`, "good")
    : card(
        "Backing",
        h("span", { class: "bad-text" }, b.shortfalls.length ? `✗ Shortfall: ${b.shortfalls.join(", ")}` : "Not all attested"),
        b.unattested.length ? `Not attested: ${b.unattested.join(", ")}` : `${b.attested} of ${b.operators} attested`,
        "alarm",
      );
  const paused = o.chain.paused.hub || o.chain.paused.token;
  const active = o.alerts.active;
  const cards = h(
    "div",
    { class: "cards" },
    backingCard,
    card(periodName.split(" (")[0], f.amount(o.window.amount), `${o.window.count} transfers in ${o.window.batches} batches`),
    card("Network", paused ? h("span", { class: "bad-text" }, "Paused") : h("span", { class: "ok-text" }, "Settling"), `${o.totals.transfers} transfers · ${f.amount(o.totals.amount)} all time`, paused ? "alarm" : ""),
    card("Chain head", `#${o.chain.headBlock ?? "—"}`, `indexed #${o.chain.indexedBlock ?? "—"} · ${o.chain.batchesLastHour} batches in the last hour${o.chain.indexerError ? ` · indexer: ${o.chain.indexerError}` : ""}`),
    card(
      "Alerts",
      link("#/alerts", `${active.critical} critical · ${active.warning} warning`),
      `${o.alerts.last24h.critical + o.alerts.last24h.warning} raised in the last 24 h`,
      active.critical ? "alarm" : active.warning ? "warn" : "",
    ),
  );

  const operators = table(
    [
      ["Wallet", (r) => walletLink(r.code)],
      ["Name", (r) => chainText(r.name), "opt"],
      ["Backing", backingBadge],
      ["Token balance", (r) => money(r.balance), "num"],
      ["Attested liabilities", (r) => (r.liabilities === null ? "—" : money(r.liabilities)), "num"],
      ["Status", (r) => statusBadge(r.status, r.reasonCode)],
      ["Attested", (r) => (r.attestedAt ? h("span", { title: f.time(r.attestedAt) }, f.ago(r.attestedAt, o.now)) : "never"), "opt"],
      [`Sent (n · ${f.currencyCode()})`, (r) => `${r.sent.count} · ${f.amountNumber(r.sent.amount)}`, "num opt"],
      [`Received (n · ${f.currencyCode()})`, (r) => `${r.received.count} · ${f.amountNumber(r.received.amount)}`, "num opt"],
    ],
    o.operators,
    { caption: "Operators", csv: "/api/operators?format=csv" },
  );
  operators.id = "operators";
  const { pending, exited } = o.notListed;
  if (pending + exited > 0) {
    // Anyone may apply: applicants are listed apart so they never count as members or light alarms.
    const parts = [pending ? `${pending} pending application${pending === 1 ? "" : "s"}` : "", exited ? `${exited} exited or rejected` : ""].filter(Boolean);
    operators.append(h("p", { class: "note", id: "not-listed" }, `Members only. Not listed: ${parts.join(", ")} `, link("/api/operators?include=all&format=csv", "(CSV of the whole registry)", { class: "csv", download: "" })));
  }

  const volumeBlock = h(
    "section",
    { class: "panel", id: "volume" },
    h(
      "div",
      { class: "table-head" },
      h("h2", {}, "Payment volume and count"),
      h(
        "div",
        { class: "seg" },
        link(`#/?volume=24h&flows=${flowPeriod}`, "24 h", { class: volumeRange === "24h" ? "on" : "" }),
        link(`#/?volume=14d&flows=${flowPeriod}`, "14 days", { class: volumeRange === "14d" ? "on" : "" }),
        link(csvHref("/api/volume", { since: vSince, step: vStep, tz: z.offsetMinutes }), "CSV", { class: "csv", download: "" }),
      ),
    ),
    volumeChart(volume.points, { step: vStep }),
    h("p", { class: "legend" }, h("span", { class: "key bar-key" }), `amount (${f.currencyCode()}) per ${vStep === 86400 ? "day" : "hour"}`, h("span", { class: "key line-key" }), "number of transfers"),
  );

  return [h("h1", {}, "Network overview"), cards, operators, flowMatrix(o, flowPeriod, flowSince, periodName, volumeRange), volumeBlock];
}

function flowMatrix(o, period, since, periodName, volumeRange) {
  // Members, and any wallet that moved money in the period though it has left since.
  const wallets = [...new Set([...o.operators.map((op) => op.code), ...o.flows.flatMap((c) => [c.from, c.to])])];
  const cells = new Map(o.flows.map((c) => [`${c.from}>${c.to}`, c]));
  const max = Math.max(0, ...o.flows.map((c) => Number(BigInt(c.amount))));
  const head = h("tr", {}, h("th", { class: "corner" }, "from ↓ / to →"), wallets.map((w) => h("th", { scope: "col" }, w)), h("th", { class: "num" }, "Sent"));
  const rows = wallets.map((from) => {
    let rowTotal = 0n;
    const tds = wallets.map((to) => {
      const c = cells.get(`${from}>${to}`);
      if (from === to) return h("td", { class: "self", title: "Same-wallet payments never reach the chain" }, "—");
      if (!c) return h("td", { class: "zero" }, "0");
      rowTotal += BigInt(c.amount);
      const td = h(
        "td",
        { class: "hot" },
        link(`#/transfers?${new URLSearchParams({ from, to, since: String(since) })}`, [h("strong", {}, f.amountNumber(c.amount)), h("small", {}, `${c.count} transfers`)], {
          title: `${from} → ${to}: ${f.amount(c.amount)} in ${c.count} transfers — open them`,
          "data-flow": `${from}>${to}`,
        }),
      );
      const share = max > 0 ? Number(BigInt(c.amount)) / max : 0;
      td.style.backgroundColor = heat(share);
      if (share > 0.6) td.classList.add("dark");
      return td;
    });
    return h("tr", {}, h("th", { scope: "row" }, walletLink(from)), tds, h("td", { class: "num" }, f.amountNumber(rowTotal.toString())));
  });
  return h(
    "section",
    { class: "panel", id: "flows" },
    h(
      "div",
      { class: "table-head" },
      h("h2", {}, `Flows between wallets · ${periodName} · ${f.currencyCode()}`),
      h(
        "div",
        { class: "seg" },
        ["today", "7d", "30d"].map((p) => link(`#/?flows=${p}&volume=${volumeRange}`, { today: "Today", "7d": "7 days", "30d": "30 days" }[p], { class: p === period ? "on" : "" })),
        link(csvHref("/api/flows", { since }), "CSV", { class: "csv", download: "" }),
      ),
    ),
    h("div", { class: "table-wrap" }, h("table", { class: "matrix" }, h("thead", {}, head), h("tbody", {}, rows))),
    h("p", { class: "legend" }, "Click a cell to list its transfers with their total."),
  );
}

async function transfers(query) {
  const params = {};
  for (const k of ["q", "wallet", "from", "to", "min", "max", "since", "until", "sort"]) if (query.get(k)) params[k] = query.get(k);
  const form = searchForm(params);
  const results = h("div", { id: "results" });
  const body = await api(`/api/transfers?${new URLSearchParams({ ...params, limit: "50" })}`);
  const summary = body.summary;
  const scope = describe(params);
  results.append(
    h(
      "div",
      { class: "summary", id: "transfer-summary" },
      h("strong", { id: "summary-total" }, f.amount(summary.amount)),
      ` in ${summary.count} transfer${summary.count === 1 ? "" : "s"}`,
      summary.partial ? " (at least: too many to count here)" : "",
      scope ? h("span", { class: "scope" }, ` · ${scope}`) : "",
    ),
  );
  const columns = transferColumns();
  const t = table(columns, body.items, { csv: csvHref("/api/transfers", params), empty: "No transfer matches." });
  results.append(t);
  const tbody = t.querySelector("tbody");
  let cursor = body.nextCursor;
  const more = h("button", {
    class: "more",
    type: "button",
    hidden: !cursor,
    onclick: async () => {
      more.disabled = true;
      const page = await api(`/api/transfers?${new URLSearchParams({ ...params, limit: "50", cursor })}`);
      for (const r of page.items) tbody.append(h("tr", {}, columns.map(([, cell, cls]) => h("td", { class: cls }, cell(r)))));
      cursor = page.nextCursor;
      more.hidden = !cursor;
      more.disabled = false;
    },
  }, "Load more");
  results.append(more);
  return [h("h1", {}, "Transfers"), form, results];
}

function describe(p) {
  const parts = [];
  if (p.from && p.to) parts.push(`${p.from} → ${p.to}`);
  else if (p.from) parts.push(`from ${p.from}`);
  else if (p.to) parts.push(`to ${p.to}`);
  if (p.wallet) parts.push(`wallet ${p.wallet}`);
  if (p.q) parts.push(`matching ${f.short(p.q)}`);
  if (p.min) parts.push(`≥ ${f.amount(p.min)}`);
  if (p.max) parts.push(`≤ ${f.amount(p.max)}`);
  if (p.since) parts.push(`since ${f.time(Number(p.since))}`);
  if (p.until) parts.push(`before ${f.time(Number(p.until))}`);
  return parts.join(", ");
}

function transferColumns() {
  return [
    ["Time", (r) => when(r.timestamp)],
    ["Transfer", (r) => hash(r.transferId, `#/transfers/${r.transferId}`)],
    ["From", (r) => walletLink(r.from)],
    ["To", (r) => walletLink(r.to)],
    ["Amount", (r) => money(r.amount), "num"],
    ["Batch", (r) => (r.batchNo !== undefined ? link(`#/batches/${r.from}/${r.batchNo}`, `${r.from} #${r.batchNo}`) : "—"), "opt"],
    ["Block", (r) => link(`#/blocks/${r.blockNumber}`, `#${r.blockNumber}`), "opt"],
    ["", (r) => (r.returned ? h("span", { class: "pill warn", title: reasonText(r.returned.reason) }, "returned") : "")],
  ];
}

function searchForm(p) {
  const wallets = meta.wallets || [];
  const select = (name, label, value) =>
    h("label", {}, label, h("select", { name }, h("option", { value: "" }, "any"), wallets.map((w) => h("option", { value: w, selected: w === value }, w))));
  const toMajor = (minor) => (minor ? f.amountNumber(minor).replace(/[^0-9.]/g, "") : "");
  const error = h("p", { class: "error", role: "alert", hidden: true });
  return h(
    "form",
    {
      class: "search",
      id: "search-form",
      onsubmit: (e) => {
        e.preventDefault();
        const data = new FormData(e.target);
        const q = {};
        const text = String(data.get("q") || "").trim();
        if (text) q.q = text;
        for (const k of ["wallet", "from", "to"]) if (data.get(k)) q[k] = data.get(k);
        for (const k of ["min", "max"]) {
          const v = f.parseAmount(data.get(k) || "");
          if (v === null) {
            error.textContent = `${k === "min" ? "Minimum" : "Maximum"} must be an amount like 1234.56`;
            error.hidden = false;
            return;
          }
          if (v !== undefined) q[k] = v;
        }
        const since = f.fromLocalInput(data.get("since"));
        const until = f.fromLocalInput(data.get("until"));
        if (since !== undefined) q.since = String(since);
        if (until !== undefined) q.until = String(until);
        if (data.get("sort") === "amount") q.sort = "amount";
        location.hash = `#/transfers?${new URLSearchParams(q)}`;
      },
    },
    h("label", { class: "wide" }, "Transfer id, transaction hash or customer reference", h("input", { name: "q", value: p.q || "", placeholder: "0x…", spellcheck: "false", autocomplete: "off" })),
    select("from", "From wallet", p.from),
    select("to", "To wallet", p.to),
    select("wallet", "Either side", p.wallet),
    h("label", {}, `Min (${f.currencyCode()})`, h("input", { name: "min", inputmode: "decimal", value: toMajor(p.min), placeholder: "0.00" })),
    h("label", {}, `Max (${f.currencyCode()})`, h("input", { name: "max", inputmode: "decimal", value: toMajor(p.max), placeholder: "any" })),
    h("label", {}, "From (your time)", h("input", { name: "since", type: "datetime-local", value: p.since ? f.toLocalInput(Number(p.since)) : "" })),
    h("label", {}, "Until (your time)", h("input", { name: "until", type: "datetime-local", value: p.until ? f.toLocalInput(Number(p.until)) : "" })),
    h("label", {}, "Order", h("select", { name: "sort" }, h("option", { value: "" }, "newest first"), h("option", { value: "amount", selected: p.sort === "amount" }, "largest first"))),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Search"), link("#/transfers", "Clear")),
    error,
  );
}

function field(label, value) {
  return [h("dt", {}, label), h("dd", {}, value)];
}

function check(ok, yes, no) {
  return h("span", { class: ok ? "pill ok" : "pill bad" }, ok ? `✓ ${yes}` : `✗ ${no}`);
}

async function transfer(id) {
  const d = await api(`/api/transfers/${encodeURIComponent(id)}`);
  const t = d.transfer;
  const p = d.proof;
  const verdict = p.verified
    ? h("div", { class: "verdict ok", id: "proof-verdict" }, "Proof verified ✓", h("small", {}, "The receipt is in its batch's Merkle tree, and that root is the one the settlement hub holds on chain."))
    : h("div", { class: "verdict bad", id: "proof-verdict" }, "Proof NOT verified ✗", h("small", {}, p.error || "The recomputed root does not match the chain."));
  const receipt = h(
    "dl",
    { class: "fields" },
    field("Time", when(t.timestamp)),
    field("From", [walletLink(t.from), h("span", { class: "mono small break" }, ` ${t.fromWallet}`)]),
    field("To", [walletLink(t.to), h("span", { class: "mono small break" }, ` ${t.toWallet}`)]),
    field("Amount", money(t.amount)),
    field("Sequence", t.seq),
    field("Transfer id", h("span", { class: "mono break" }, t.transferId)),
    field("Payer reference", [link(`#/transfers?q=${t.payerRef}`, t.payerRef, { class: "mono break" }), d.frozen.payerRef ? h("span", { class: "pill bad" }, "frozen") : ""]),
    field("Payee reference", [link(`#/transfers?q=${t.payeeRef}`, t.payeeRef, { class: "mono break" }), d.frozen.payeeRef ? h("span", { class: "pill bad" }, "frozen") : ""]),
    field("Memo hash", h("span", { class: "mono break" }, t.memoHash)),
    field("Batch", t.batchNo !== undefined ? link(`#/batches/${t.from}/${t.batchNo}`, `${t.from} batch #${t.batchNo}`) : "—"),
    field("Block", link(`#/blocks/${t.blockNumber}`, `#${t.blockNumber}`)),
    field("Transaction", link(`#/transfers?q=${t.txHash}`, t.txHash, { class: "mono break" })),
    t.returned ? field("Returned", [h("span", { class: "pill warn", id: "returned-reason", title: `reason code ${t.returned.reasonCode}` }, `returned: ${reasonText(t.returned.reason)}`), " ", when(t.returned.timestamp)]) : null,
  );
  const proof = p.leaf
    ? h(
        "dl",
        { class: "fields" },
        field("Receipt leaf", h("span", { class: "mono break" }, p.leaf)),
        field("Position", `${p.index + 1} of ${p.batchSize} in the batch`),
        field("Proof", p.proof.length ? h("ol", { class: "mono small" }, p.proof.map((x) => h("li", { class: "break" }, x))) : "none (single-transfer batch)"),
        field("Recomputed root", h("span", { class: "mono break" }, p.computedRoot)),
        field("batchRoot on chain", [h("span", { class: "mono break" }, p.onChainRoot), " ", check(p.computedRoot.toLowerCase() === p.onChainRoot.toLowerCase(), "matches", "differs")]),
        field("Root in BatchSettled", [h("span", { class: "mono break" }, p.eventRoot), " ", check(p.computedRoot.toLowerCase() === p.eventRoot.toLowerCase(), "matches", "differs")]),
        field("Hub verifyReceipt", check(p.hubVerified, "true", "false")),
        field("Batch head chain", check(p.headLinks, "links to the previous head", "broken")),
      )
    : null;
  return [
    h("h1", {}, "Transfer ", h("span", { class: "mono", title: t.transferId }, f.short(t.transferId, 14, 8))),
    verdict,
    h("section", { class: "panel" }, h("h2", {}, "Receipt"), receipt),
    proof ? h("section", { class: "panel" }, h("h2", {}, "Merkle proof"), proof) : null,
  ];
}

const EVENT_NAMES = {
  applied: "Applied for membership",
  approved: "Approved",
  rejected: "Rejected",
  suspended: "Suspended",
  resumed: "Resumed",
  exited: "Exited",
  endpoint_updated: "Endpoint updated",
  limits_set: "Limits set",
  attested: "Reserves attested",
  issued: "Tokens issued",
  redeemed: "Tokens redeemed",
  returned_transfer: "Returned a transfer",
  transfer_returned: "Transfer returned to it",
};
const MONEY_KEYS = new Set(["amount", "perTransfer", "daily", "totalLiabilities"]);

function eventDetail(e) {
  return Object.entries(e.detail).map(([k, v]) => h("span", { class: "kv" }, `${k}: `, MONEY_KEYS.has(k) ? f.amount(String(v)) : k === "asOf" ? f.time(Number(v)) : String(v).startsWith("0x") ? h("span", { class: "mono", title: String(v) }, f.short(String(v))) : chainText(v)));
}

async function operator(code) {
  const d = await api(`/api/operators/${encodeURIComponent(code)}`);
  const o = d.operator;
  const cards = h(
    "div",
    { class: "cards" },
    card("Status", statusBadge(o.status, o.reasonCode), o.status === "Suspended" ? `reason code ${o.reasonCode}` : `since ${f.time(o.updatedAt)}`),
    card("Token balance", f.amount(o.balance), `settlement account ${f.short(o.settlementAccount)}`),
    card("Attested liabilities", o.liabilities === null ? "—" : f.amount(o.liabilities), o.attestedAt ? `as of ${f.time(o.attestationAsOf)}` : "never attested"),
    card("Backing", backingBadge(o), o.backed === null ? "" : "token balance ÷ attested liabilities", o.backed === false ? "alarm" : o.backed ? "good" : ""),
    card("Limits", o.limits ? `${f.amount(o.limits.perTransfer)} / transfer` : "none set", o.limits ? `${f.amount(o.limits.daily)} / day` : "set by the regulator"),
    card("Activity", `${o.sent.count} sent · ${o.received.count} received`, `${f.amount(o.sent.amount)} out · ${f.amount(o.received.amount)} in · ${o.batches} batches`),
  );
  const suspensions = table(
    [
      ["Time", (e) => when(e.timestamp)],
      ["Event", (e) => EVENT_NAMES[e.kind] || e.kind],
      ["Reason code", (e) => (e.detail.reasonCode !== undefined ? String(e.detail.reasonCode) : "—")],
      ["Transaction", (e) => hash(e.txHash)],
    ],
    d.suspensions,
    { caption: "Suspensions", empty: "Never suspended." },
  );
  const historyColumns = [
    ["Time", (e) => when(e.timestamp)],
    ["Event", (e) => EVENT_NAMES[e.kind] || e.kind],
    ["Detail", eventDetail],
    ["Block", (e) => link(`#/blocks/${e.blockNumber}`, `#${e.blockNumber}`), "opt"],
  ];
  const history = table(historyColumns, d.events, { caption: "Lifecycle and governance history", csv: `/api/operators/${encodeURIComponent(o.code)}/events?format=csv` });
  history.id = "history";
  history.append(loadMore(history, historyColumns, d.eventsNextCursor, (cursor) => api(`/api/operators/${encodeURIComponent(o.code)}/events?${new URLSearchParams({ cursor, limit: "100" })}`)));
  // Returns apart: a stream of them must not push the lifecycle off the page.
  const r = d.returns;
  const returnColumns = [
    ["Time", (e) => when(e.timestamp)],
    ["Return", (e) => (e.kind === "returned_transfer" ? ["returned to ", walletLink(e.detail.to)] : ["returned by ", walletLink(e.detail.by)])],
    ["Transfer", (e) => link(`#/transfers/${e.detail.transferId}`, f.short(String(e.detail.transferId)), { class: "mono", title: String(e.detail.transferId) })],
    ["Amount", (e) => money(String(e.detail.amount)), "num"],
    ["Reason", (e) => reasonText(e.reason)],
  ];
  const returns = table(returnColumns, r.items, { caption: "Returns", csv: `/api/operators/${encodeURIComponent(o.code)}/returns?format=csv`, empty: "No return." });
  returns.id = "returns";
  returns.querySelector(".table-head").after(
    h("p", { class: "note", id: "returns-summary" }, `Returned ${r.returnedByIt.count} transfer${r.returnedByIt.count === 1 ? "" : "s"} it received (${f.amount(r.returnedByIt.amount)}); ${r.returnedToIt.count} of its own came back (${f.amount(r.returnedToIt.amount)}).`),
  );
  returns.append(loadMore(returns, returnColumns, r.nextCursor, (cursor) => api(`/api/operators/${encodeURIComponent(o.code)}/returns?${new URLSearchParams({ cursor, limit: "50" })}`)));
  const attestations = table(
    [
      ["Posted", (a) => when(a.timestamp)],
      ["As of", (a) => f.time(a.asOf)],
      ["Liabilities", (a) => money(a.totalLiabilities), "num"],
      ["Accounts", (a) => String(a.accountCount), "num"],
      ["Root", (a) => hash(a.root), "opt"],
    ],
    d.attestations,
    { caption: "Reserve attestations", empty: "No attestation posted." },
  );
  const batches = table(batchColumns(), d.batches, { caption: "Latest batches", csv: csvHref("/api/batches", { wallet: o.code }), empty: "No batch settled." });
  return [
    h("h1", {}, chainText(o.name, { id: "operator-name" }), " ", h("span", { class: "code" }, o.code)),
    h("p", { class: "links" }, link(`#/transfers?wallet=${o.code}`, "All its transfers"), " · ", link(`#/batches?wallet=${o.code}`, "All its batches"), " · ", h("span", { class: "mono small break" }, `validator ${o.validator} · endpoint `, chainText(o.endpoint))),
    cards,
    suspensions,
    history,
    attestations,
    returns,
    batches,
  ];
}

function batchColumns() {
  return [
    ["Time", (b) => when(b.timestamp)],
    ["Batch", (b) => link(`#/batches/${b.wallet}/${b.batchNo}`, `${b.wallet} #${b.batchNo}`)],
    ["Transfers", (b) => String(b.count), "num"],
    ["Total", (b) => money(b.total), "num"],
    ["Payees", (b) => b.payees.join(", "), "opt"],
    ["Block", (b) => link(`#/blocks/${b.blockNumber}`, `#${b.blockNumber}`), "opt"],
  ];
}

async function batches(query) {
  const wallet = query.get("wallet") || undefined;
  const params = clean({ wallet, limit: "50" });
  const body = await api(`/api/batches?${new URLSearchParams(params)}`);
  const columns = batchColumns();
  const t = table(columns, body.items, { csv: csvHref("/api/batches", { wallet }), caption: wallet ? `Batches of ${wallet}` : "All batches, newest first" });
  const tbody = t.querySelector("tbody");
  let cursor = body.nextCursor;
  const more = h("button", {
    class: "more",
    type: "button",
    hidden: !cursor,
    onclick: async () => {
      const page = await api(`/api/batches?${new URLSearchParams({ ...params, cursor })}`);
      for (const r of page.items) tbody.append(h("tr", {}, columns.map(([, cell, cls]) => h("td", { class: cls }, cell(r)))));
      cursor = page.nextCursor;
      more.hidden = !cursor;
    },
  }, "Load more");
  return [h("h1", {}, "Batches"), t, more];
}

async function batch(code, no) {
  const d = await api(`/api/batches/${encodeURIComponent(code)}/${encodeURIComponent(no)}`);
  const b = d.batch;
  return [
    h("h1", {}, `Batch ${b.wallet} #${b.batchNo}`),
    h(
      "section",
      { class: "panel" },
      h(
        "dl",
        { class: "fields" },
        field("Time", when(b.timestamp)),
        field("Sender", walletLink(b.wallet)),
        field("Transfers", `${b.count} (sequences ${b.firstSeq} to ${BigInt(b.firstSeq) + BigInt(b.count) - 1n})`),
        field("Total", money(b.total)),
        field("Payees", b.payees.map((p) => [walletLink(p), " "])),
        field("Merkle root", h("span", { class: "mono break" }, b.root)),
        field("Previous head", h("span", { class: "mono break" }, b.prevHead)),
        field("Head", [h("span", { class: "mono break" }, b.head), " ", check(d.chainLinks, "links to the previous batch", "does not link")]),
        field("Block", link(`#/blocks/${b.blockNumber}`, `#${b.blockNumber}`)),
        field("Transaction", link(`#/transfers?q=${b.txHash}`, b.txHash, { class: "mono break" })),
      ),
    ),
    table(transferColumns(), d.transfers, { caption: "Transfers in this batch", csv: `/api/batches/${b.wallet}/${b.batchNo}?format=csv` }),
  ];
}

async function blocks(query) {
  const before = query.get("before") || undefined;
  const body = await api(`/api/blocks?${new URLSearchParams(clean({ before, limit: "25" }))}`);
  const last = body.items[body.items.length - 1];
  return [
    h("h1", {}, "Blocks"),
    table(
      [
        ["Block", (b) => link(`#/blocks/${b.number}`, `#${b.number}`)],
        ["Time", (b) => when(b.timestamp)],
        ["Transactions", (b) => String(b.transactions), "num"],
        ["Gas used", (b) => Number(b.gasUsed).toLocaleString(), "num opt"],
        ["Base fee", (b) => (b.baseFeePerGas === null ? "—" : b.baseFeePerGas === "0" ? "0 (free gas)" : `${Number(b.baseFeePerGas).toLocaleString()} wei`), "num opt"],
        ["Hash", (b) => hash(b.hash), "opt"],
      ],
      body.items,
      { caption: `Latest blocks (head #${body.head})`, csv: csvHref("/api/blocks", { before }) },
    ),
    last && Number(last.number) > 0 ? h("p", {}, link(`#/blocks?before=${last.number}`, "Older blocks →")) : null,
  ];
}

async function block(n) {
  const b = await api(`/api/blocks/${encodeURIComponent(n)}`);
  const q = b.qbft;
  const consensus = q
    ? h(
        "dl",
        { class: "fields" },
        field("Proposer", h("span", { class: "mono" }, q.proposer)),
        field("Round", String(q.round)),
        field("Validators", h("ol", { class: "mono small break" }, q.validators.map((v) => h("li", {}, v)))),
        field("Commit seals", h("ol", { class: "mono small break" }, q.seals.map((s) => h("li", {}, s.signer ? `${s.signer} ${s.inValidatorSet ? "✓ validator" : "(not in the validator list)"}` : f.short(s.signature, 18, 8))))),
        q.vote ? field("Vote", `${q.vote.add ? "add" : "remove"} ${q.vote.address}`) : null,
      )
    : h("p", { class: "note", id: "consensus-note" }, b.consensusNote);
  return [
    h("h1", {}, `Block #${b.number}`),
    h(
      "section",
      { class: "panel" },
      h(
        "dl",
        { class: "fields" },
        field("Time", when(b.timestamp)),
        field("Hash", h("span", { class: "mono break" }, b.hash)),
        field("Parent", link(`#/blocks/${Number(b.number) - 1}`, b.parentHash, { class: "mono break" })),
        field("Gas used / limit", `${Number(b.gasUsed).toLocaleString()} / ${Number(b.gasLimit).toLocaleString()}`),
        field("Base fee", b.baseFeePerGas === null ? "none" : b.baseFeePerGas === "0" ? "0 — gas is free on this network" : `${Number(b.baseFeePerGas).toLocaleString()} wei`),
        field("extraData", h("span", { class: "mono break small" }, b.extraData)),
      ),
    ),
    h("section", { class: "panel" }, h("h2", {}, "Consensus (QBFT)"), consensus),
    table(
      [
        ["Transaction", (t) => link(`#/transfers?q=${t.hash}`, f.short(t.hash), { class: "mono", title: t.hash })],
        ["From", (t) => hash(t.from)],
        ["To", (t) => (t.contract ? `${t.contract} contract` : t.to ? hash(t.to) : "contract creation")],
        ["Call", (t) => h("span", { class: "mono" }, t.selector)],
        ["Gas price", (t) => (t.zeroGasPrice ? h("span", { class: "pill info" }, "0 (zero gas price)") : `${Number(t.gasPrice).toLocaleString()} wei`), "num"],
      ],
      b.txs,
      { caption: "Transactions", empty: "No transaction in this block." },
    ),
  ];
}

async function alerts() {
  const d = await api("/api/alerts?limit=200");
  const cols = [
    ["Severity", (a) => h("span", { class: `pill ${a.severity === "critical" ? "bad" : a.severity === "warning" ? "warn" : "info"}` }, a.severity)],
    ["Alert", (a) => [h("strong", {}, chainText(a.title)), h("div", { class: "small" }, chainText(a.detail))]],
    ["Wallet", (a) => (a.wallet ? walletLink(a.wallet) : "—")],
    ["When", (a) => when(a.timestamp), "opt"],
    ["Link", (a) => (a.transferId ? link(`#/transfers/${a.transferId}`, "transfer") : a.txHash ? link(`#/transfers?q=${a.txHash}`, "transaction") : "")],
  ];
  const shown = d.history.length;
  const caption = d.total > shown ? `Raised by events, newest first (${shown.toLocaleString()} of ${d.total.toLocaleString()})` : "Raised by events, newest first";
  const history = table(cols, d.history, { caption, empty: "No alert raised yet." });
  history.id = "alert-history";
  return [
    h("h1", {}, "Alerts"),
    table(cols, d.active, { caption: "Active now", empty: "Nothing needs attention now.", csv: "/api/alerts?format=csv" }),
    history,
    loadMore(history, cols, d.nextCursor, (cursor) => api(`/api/alerts?${new URLSearchParams({ cursor, limit: "200" })}`).then((p) => ({ items: p.history, nextCursor: p.nextCursor }))),
  ];
}

// ---------------------------------------------------------------------------------------------
// Routing, session and chrome
// ---------------------------------------------------------------------------------------------

const ROUTES = [
  [/^\/$/, (m, q) => overview(q), "overview"],
  [/^\/transfers$/, (m, q) => transfers(q), "transfers"],
  [/^\/transfers\/([^/]+)$/, (m) => transfer(m[1]), "transfers"],
  [/^\/operators\/([^/]+)$/, (m) => operator(m[1]), "overview"],
  [/^\/batches$/, (m, q) => batches(q), "batches"],
  [/^\/batches\/([^/]+)\/([0-9]+)$/, (m) => batch(m[1], m[2]), "batches"],
  [/^\/blocks$/, (m, q) => blocks(q), "blocks"],
  [/^\/blocks\/([0-9]+)$/, (m) => block(m[1]), "blocks"],
  [/^\/alerts$/, () => alerts(), "alerts"],
];

let generation = 0;

async function render() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, qs] = raw.split("?");
  if (path === "/logout") {
    // POST, from this page: the server ends the session itself, so a copied cookie dies too.
    await fetch("/api/logout", { method: "POST", credentials: "same-origin" }).catch(() => undefined);
    location.hash = "#/";
    showLogin();
    return;
  }
  const route = ROUTES.find(([re]) => re.test(path));
  const mine = ++generation;
  document.body.classList.add("loading");
  try {
    if (!meta) await loadMeta();
    if (!route) throw new Error(`No page at ${path}`);
    const nodes = await route[1](route[0].exec(path).map(decodeURIComponent), new URLSearchParams(qs || ""));
    if (mine !== generation) return;
    content.replaceChildren(...[nodes].flat().filter(Boolean));
    for (const a of nav.querySelectorAll("a[data-section]")) a.classList.toggle("active", a.dataset.section === route[2]);
    document.title = `${document.querySelector("h1")?.textContent ?? "Explorer"} · Hulian explorer`;
    refreshBadge();
  } catch (e) {
    if (e instanceof Unauthorized) return showLogin();
    if (mine === generation) content.replaceChildren(h("div", { class: "verdict bad" }, "Could not load this page", h("small", {}, e.message)));
  } finally {
    if (mine === generation) document.body.classList.remove("loading");
  }
}

async function loadMeta() {
  meta = await api("/api/meta");
  f.setCurrency(meta.currency, meta.decimals);
  const ops = await api("/api/operators");
  meta.wallets = ops.items.map((o) => o.code);
  document.getElementById("foot-currency").textContent = `${meta.currency} (${meta.decimals} decimals, token ${meta.token.symbol})`;
  document.getElementById("foot-index").textContent = `chain ${meta.chainId} · ${meta.network}`;
  login.hidden = true;
  nav.hidden = false;
}

async function refreshBadge({ background = false } = {}) {
  try {
    const s = await api("/api/alerts/summary", { background });
    const badge = document.getElementById("alert-badge");
    const n = s.active.critical + s.active.warning;
    badge.hidden = n === 0;
    badge.textContent = String(n);
    badge.className = `badge ${s.active.critical ? "bad" : "warn"}`;
    badge.title = `${s.active.critical} critical, ${s.active.warning} warning active`;
  } catch (e) {
    // The session ended (idle, too old, signed out elsewhere): hide the data, ask for the key.
    if (e instanceof Unauthorized) showLogin();
    // Otherwise the badge is a convenience; the page itself reports errors.
  }
}

function showLogin() {
  meta = undefined;
  nav.hidden = true;
  content.replaceChildren();
  login.hidden = false;
  document.getElementById("login-key").focus();
}

document.getElementById("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const input = document.getElementById("login-key");
  const error = document.getElementById("login-error");
  const res = await fetch("/api/session", { credentials: "same-origin", headers: { authorization: `Bearer ${input.value.trim()}` } });
  if (!res.ok) {
    error.textContent = res.status === 401 ? "That key is not valid." : `Sign-in failed (${res.status}).`;
    error.hidden = false;
    return;
  }
  input.value = "";
  error.hidden = true;
  login.hidden = true;
  render();
});

document.getElementById("foot-zone").textContent = f.zone().name;
window.addEventListener("hashchange", render);
setInterval(() => {
  if (!login.hidden || document.hidden) return;
  refreshBadge({ background: true });
}, 15_000);
render();
