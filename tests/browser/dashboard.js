#!/usr/bin/env node
// Drives beed's web dashboard in Debian's Chromium (playwright-core, no downloaded browser) the
// way an operator would: the Connections page, a connection's Inventory tab (paging, search),
// the Actions refused without the right token and run with it, the new run in the History tab.
// Usage: node dashboard.js BASE_URL CONNECTION TOKEN EXPECT_JSON [SCREENSHOT_DIR]
// EXPECT_JSON: {"skus": N, "search": "SKU-01", "search_hits": M, "page": 50}. Prints what it
// checked; exits 1 with the reason on the first failure. Started by
// tests/integration/test_web_dashboard.py against a beed it runs itself.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const [base, connection, token, expectJson, shots] = process.argv.slice(2);
const expect = JSON.parse(expectJson);
const TIMEOUT = 15000;

function check(condition, what) {
  if (!condition) throw new Error("check failed: " + what);
  console.log("ok: " + what);
}

async function skus(page) {
  return page.$$eval("#inventory tbody tr td.sku", (cells) => cells.map((c) => c.textContent));
}

// The notice's text once it says `pattern`.
async function noticeMatching(page, pattern) {
  await page.waitForFunction((p) => new RegExp(p).test(document.getElementById("notice").textContent),
                             pattern.source, { timeout: TIMEOUT });
  return page.textContent("#notice");
}

async function connectionsPage(page) {
  await page.goto(base + "/", { waitUntil: "load" });
  const row = page.locator("#connections tbody tr", { hasText: connection });
  await row.waitFor({ timeout: TIMEOUT });
  const text = await row.innerText();
  check(text.includes(connection) && /\bok\b/.test(text),
        "the Connections page lists '" + connection + "' with its last result: " + JSON.stringify(text));
  if (shots) await page.screenshot({ path: path.join(shots, "connections.png") });
  await row.locator("a").click();
}

async function inventoryTab(page) {
  await page.waitForSelector("#inventory tbody tr td.sku", { timeout: TIMEOUT });
  const first = await skus(page);
  check(first.length === expect.page, "the Inventory tab shows a page of " + expect.page + " SKUs");
  check(first.every((s, i) => i === 0 || first[i - 1] < s), "in SKU order");
  const header = await page.$$eval("#inventory thead th", (th) => th.map((h) => h.textContent));
  check(["SKU", "Qty", "Last Update", "Store quantity", "Pending", "Error"].every((h) => header.includes(h)),
        "its columns: " + header.join(", "));
  if (shots) await page.screenshot({ path: path.join(shots, "inventory.png") });
  await page.click("#next");
  await page.waitForFunction((s) => document.querySelector("#inventory tbody td.sku").textContent !== s,
                             first[0], { timeout: TIMEOUT });
  const second = await skus(page);
  check(second[0] > first[first.length - 1], "Next shows the following SKUs (" + second[0] + "...)");
  await page.click("#prev");
  await page.waitForFunction((s) => document.querySelector("#inventory tbody td.sku").textContent === s,
                             first[0], { timeout: TIMEOUT });
  check((await skus(page))[0] === first[0], "Previous goes back to the first page");

  await page.fill("#search-sku", expect.search);
  await page.click("#search button[type=submit]");
  await page.waitForFunction((n) => document.querySelectorAll("#inventory tbody tr").length === n,
                             Math.min(expect.search_hits, expect.page), { timeout: TIMEOUT });
  const found = await skus(page);
  check(found.length === Math.min(expect.search_hits, expect.page) &&
        found.every((s) => s.startsWith(expect.search)),
        "a search for '" + expect.search + "' narrows the list to " + found.length + " SKUs");
}

// Opens Actions and clicks `label`.
async function action(page, label) {
  await page.click("#actions summary");
  await page.click("#actions button:has-text('" + label + "')");
}

async function actions(page, context) {
  // Without a token at all: the API refuses (what the page shows for a wrong one, below).
  const bare = await page.evaluate(
    (name) => fetch("/api/v1/connections/" + encodeURIComponent(name) + "/sync", { method: "POST" })
      .then((r) => r.status), connection);
  check(bare === 401, "a sync without the token is refused (401)");

  await action(page, "Update inventory");
  await page.waitForSelector("#token-dialog[open]", { timeout: TIMEOUT });
  await page.fill("#token-input", "not-the-token-0123456789");
  await page.click("#token-ok");
  const refused = await noticeMatching(page, /refused/);
  check(/wrong admin token/.test(refused), "with a wrong token the page shows the refusal: " + refused);
  check(await page.evaluate(() => sessionStorage.length) === 0, "a refused token is not kept");

  await action(page, "Update inventory");
  await page.waitForSelector("#token-dialog[open]", { timeout: TIMEOUT });
  await page.fill("#token-input", token);
  await page.click("#token-ok");
  const started = await noticeMatching(page, /started: run \d+/);
  const run = Number(/run (\d+)/.exec(started)[1]);
  check(/Smart Sync/.test(started), "with the token a Smart Sync starts: " + started);
  const row = page.locator("#history tbody tr[data-run='" + run + "']");
  await row.waitFor({ timeout: TIMEOUT });
  await page.waitForFunction((r) => {
    const tr = document.querySelector("#history tbody tr[data-run='" + r + "']");
    return tr !== null && tr.querySelector(".badge").textContent === "ok";
  }, run, { timeout: TIMEOUT });
  check(/Smart Sync/.test(await row.innerText()), "the History tab shows run " + run + ", ok");

  // The token is kept for the tab's session, never as a cookie.
  await action(page, "Full inventory update");
  const full = await noticeMatching(page, new RegExp("run " + (run + 1)));
  check(!(await page.isVisible("#token-dialog")), "the second action uses the kept token: " + full);
  check((await context.cookies()).length === 0, "no cookie was ever set");
  return run;
}

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "pb-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1200, height: 720 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const problems = [];
  try {
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    // A CSP violation or a script error is a failure, even if the page still looks right.
    page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
    page.on("pageerror", (e) => problems.push(String(e)));
    await connectionsPage(page);
    await inventoryTab(page);
    const run = await actions(page, context);
    const expected = problems.filter((p) => /401|Unauthorized/.test(p));
    const others = problems.filter((p) => !expected.includes(p));
    check(others.length === 0, "no script error or CSP violation: " + JSON.stringify(others));
    console.log(JSON.stringify({ smart_run: run }));
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(String(e && e.stack || e));
  process.exit(1);
});
