import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "./chromium.ts";
import { API_KEY, startGateway } from "./gateway-process.ts";

/** Screenshots of each page, kept as test artifacts (CI can upload the folder). */
const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));

const HOSTILE = {
  "First Name": "<script>window.__xss=1</script>",
  "Last Name": '<img src=x onerror="window.__xss=2">',
  Company: '"><svg onload="window.__xss=3">',
};

describe("the dashboard in Chromium, against `postout serve` with the demo's leads", () => {
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  const shot = (name: string) =>
    page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
  const statusOf = () => page.locator("h1 .badge").innerText();

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    gateway = await startGateway();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(15_000);
    // Any script error or refused resource (a CSP violation among them) fails the run.
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    page.on("response", (r) => {
      if (r.status() >= 400)
        problems.push(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}`);
    });
    page.on("dialog", (d) => {
      problems.push(`a dialog opened: ${d.message()}`);
      void d.dismiss();
    });
  });
  after(async () => {
    await browser?.close();
    await gateway?.stop();
  });

  test("signing in: / sends to /login; a wrong key is refused; the right key opens the log", async () => {
    await page.goto(`${gateway.url}/`);
    assert.match(page.url(), /\/login$/);
    await page.fill("#key", "not-the-key");
    await page.click("button[type=submit]");
    await page.getByText("That is not the API key.").waitFor();
    await page.fill("#key", API_KEY);
    await page.click("button[type=submit]");
    await page.locator("table.log tbody tr").first().waitFor();
    assert.equal(await page.locator("h1").innerText(), "Post-out log");
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === "postout_session");
    assert.ok(session?.httpOnly, "the session cookie is HttpOnly");
    assert.notEqual(session?.value, API_KEY);
    await shot("1-log");
  });

  test("filter needs_fix: only needs-fix leads, as many as the count says", async () => {
    await page.selectOption("select[name=status]", "needs_fix");
    await page.click("form.filters button[type=submit]");
    await page.waitForURL(/status=needs_fix/);
    // The active count exists once the page renders the new filter; its answer is in when the
    // table is no longer busy (reading sooner could see the previous filter's rows).
    await page.locator("button.count.active").waitFor();
    await page.locator('table.log[aria-busy="false"]').waitFor();
    const count = Number(await page.locator("button.count.active strong").innerText());
    assert.ok(count >= 5, `the demo leaves needs-fix leads (${count})`);
    const badges = page.locator("table.log tbody tr td .badge");
    await assert.doesNotReject(() => badges.first().waitFor());
    const texts = await badges.allInnerTexts();
    assert.equal(texts.length, count);
    assert.ok(
      texts.every((t) => t === "needs fix"),
      texts.join(","),
    );
    await shot("2-log-needs-fix");
  });

  test("a lead whose field is unknown (1006): the Request, the Response and the fix naming the field", async () => {
    const row = page.locator("tr", { has: page.locator("td.code", { hasText: /^1006$/ }) });
    await row.first().locator("a").click();
    await page.waitForURL(/#\/leads\/\d+$/);
    const explanation = page.locator(".explanation");
    await explanation.waitFor();
    assert.match(await explanation.innerText(), /1006/);
    assert.match(await explanation.innerText(), /Field 'role' not found/);
    assert.match(
      await page.locator(".explanation .fix").innerText(),
      /'role' is not a Marketo field/,
    );
    assert.equal(await statusOf(), "needs fix");
    const request = await page.getByLabel("request of attempt 1").innerText();
    assert.match(request, /"role":/);
    await shot("3-lead-1006");
  });

  test("fix the field map (Job Role → title), repost, and see it delivered", async () => {
    const editor = page.getByLabel("field map");
    const map = await editor.inputValue();
    assert.match(map, /"Job Role": "role"/);
    await editor.fill(map.replace('"Job Role": "role"', '"Job Role": "title"'));
    await page.getByRole("button", { name: "Repost with this map" }).click();
    await page.getByText("Queued again").waitFor();
    await page.locator("h1 .badge", { hasText: "delivered" }).waitFor({ timeout: 30_000 });
    const attempts = page.locator("details.attempt");
    const last = attempts.last();
    assert.match(await last.locator("summary").innerText(), /200/);
    assert.match(await last.getByLabel(/^request of attempt/).innerText(), /"title":/);
    await shot("4-lead-delivered");
  });

  test("a lead caught in an outage (503): every call the client tried again is in its log", async () => {
    await page.goto(`${gateway.url}/#/?status=retrying`);
    const row = page.locator("tr", { has: page.locator("td.code", { hasText: /^503$/ }) });
    await row.first().locator("a").click();
    await page.waitForURL(/#\/leads\/\d+$/);
    await page.locator("details.attempt").last().waitFor();
    const summaries = await page.locator("details.attempt summary").allInnerTexts();
    // The demo's client tries a call 3 times: 2 answered 503 and tried again, the 3rd decides.
    assert.equal(summaries.length, 3, summaries.join("\n"));
    for (const s of summaries.slice(0, 2)) assert.match(s, /#1 .* 503 · tried again/);
    assert.match(summaries[2] ?? "", /#1 .* 503 · retrying/);
    await page.locator("details.attempt").first().locator("summary").click();
    assert.match(
      await page.getByLabel("response of attempt 1, call 1 of 3").innerText(),
      /"code": "503"/,
    );
    await shot("4b-lead-outage");
  });

  test("lead data is text: a lead named <script> is shown, not run", async () => {
    const posted = await gateway.call("POST", "/v1/leads", {
      route: { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" },
      map: {
        fields: {
          Email: "email",
          "First Name": "firstName",
          "Last Name": "lastName",
          Company: "company",
        },
      },
      leads: [{ Email: "xss.test@example.com", ...HOSTILE }],
    });
    assert.equal(posted.status, 202);
    const id = (posted.json.ids as number[])[0];
    await page.goto(`${gateway.url}/#/?email=xss.test`);
    const row = page.locator(`tr[data-lead="${id}"]`);
    await row.waitFor();
    await page.goto(`${gateway.url}/#/leads/${id}`);
    const raw = await page.getByLabel("raw input").innerText();
    // Shown as JSON text: the strings as JSON writes them.
    for (const value of Object.values(HOSTILE)) {
      assert.ok(raw.includes(JSON.stringify(value).slice(1, -1)), `${value} is shown in ${raw}`);
    }
    assert.equal(await page.evaluate(() => (globalThis as { __xss?: number }).__xss), undefined);
    assert.equal(await page.locator("img[src=x], svg[onload]").count(), 0);
    await shot("5-lead-hostile-text");
  });

  test("a new filter shows nothing of the previous one until its own answer is in", async () => {
    await page.goto(`${gateway.url}/#/?status=needs_fix`);
    await page.locator("table.log tbody tr").first().waitFor();
    // Hold the next filter's answer, to look at the page while it is on its way.
    let requested!: () => void;
    const seen = new Promise<void>((resolve) => {
      requested = resolve;
    });
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const pattern = /\/v1\/leads\?.*email=nobody/;
    await page.route(pattern, async (route) => {
      requested();
      await held;
      await route.continue();
    });
    try {
      await page.goto(`${gateway.url}/#/?email=nobody.at.all`);
      await seen;
      assert.equal(await page.locator("table.log tbody tr").count(), 0);
      const all = page.getByRole("button", { name: /^Repost all matching this filter/ });
      assert.equal(await all.innerText(), "Repost all matching this filter (0)");
      assert.ok(await all.isDisabled(), "nothing to repost before the filter's answer");
    } finally {
      release();
    }
    await page.getByText("No lead matches this filter.").waitFor();
    await page.unroute(pattern);
  });

  test("a selection belongs to its rows: leaving the filter by a link drops it", async () => {
    await page.goto(`${gateway.url}/#/?status=needs_fix`);
    await page.locator("table.log tbody tr").first().waitFor();
    await page.locator("table.log tbody tr input[type=checkbox]").first().check();
    const selected = page.getByRole("button", { name: /^Repost selected/ });
    assert.equal(await selected.innerText(), "Repost selected (1)");
    await page.getByRole("link", { name: "Post-out log" }).click();
    await page.waitForURL(/#\/$/);
    await page.locator('table.log[aria-busy="false"] tbody tr').first().waitFor();
    assert.equal(await selected.innerText(), "Repost selected (0)");
    assert.ok(await selected.isDisabled());
  });

  test("bulk: repost all matching a filter, after a confirmation that says how many", async () => {
    await page.goto(`${gateway.url}/#/?status=needs_fix`);
    await page.locator("table.log tbody tr").first().waitFor();
    const count = Number(await page.locator("button.count.active strong").innerText());
    await page.getByRole("button", { name: `Repost all matching this filter (${count})` }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    assert.match(
      await dialog.innerText(),
      new RegExp(`Repost all ${count} leads matching this filter\\?`),
    );
    await shot("6-bulk-confirm");
    await dialog.getByRole("button", { name: `Repost ${count}` }).click();
    await page.getByText(`Queued ${count} leads again.`).waitFor();
  });

  test("errors by code over time: a chart and the numbers behind it", async () => {
    await page.goto(`${gateway.url}/#/errors`);
    await page.locator("svg.chart rect").first().waitFor();
    const legend = await page.locator("table.legend").innerText();
    for (const code of ["1006", "1001", "1025", "1005"]) assert.match(legend, new RegExp(code));
    await shot("7-errors");
  });

  test("destinations: quota gauge, pause and resume", async () => {
    await page.goto(`${gateway.url}/#/destinations`);
    const card = page.getByRole("article", { name: "destination sandbox" });
    await card.waitFor();
    assert.equal(await card.locator("meter").count(), 1);
    assert.match(await card.innerText(), /of 50,000 calls today/);
    await card.getByRole("button", { name: "Pause" }).click();
    await card.getByText("paused from the dashboard").waitFor();
    await shot("8-destination-paused");
    await card.getByRole("button", { name: "Resume" }).click();
    await card.getByRole("button", { name: "Pause" }).waitFor();
  });

  test("test integration: send one lead and read the Request and the Response", async () => {
    await page.goto(`${gateway.url}/#/test`);
    await page.getByRole("button", { name: "Send test lead" }).click();
    const result = page.getByLabel("test result");
    await result.waitFor();
    assert.match(await page.getByLabel("test request").innerText(), /test\.lead@example\.com/);
    assert.match(await result.locator(".verdict").innerText(), /ResponseStatusCode\s+200/);
    await shot("9-test-integration");
  });

  test("sign out ends the session", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/login\?signed-out$/);
    await page.goto(`${gateway.url}/`);
    assert.match(page.url(), /\/login$/);
  });

  test("no script error, refused resource or dialog on any page", () => {
    // The wrong-key sign-in answers 401 by design; Chromium logs that as a failed resource.
    const unexpected = problems.filter(
      (p) => !/status of 401|HTTP 401 for POST \S+\/login$/.test(p),
    );
    assert.deepEqual(unexpected, []);
  });
});

describe("the dashboard while the gateway's database is gone", () => {
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  let browser: Browser;
  before(async () => {
    gateway = await startGateway();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gateway?.stop();
  });

  test("a banner names the cause: nothing is accepted or sent until the gateway is restarted", async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(15_000);
    await page.goto(`${gateway.url}/login`);
    await page.fill("#key", API_KEY);
    await page.click("button[type=submit]");
    await page.locator("table.log tbody tr").first().waitFor();
    assert.equal(await page.locator(".store-fault").count(), 0, "no banner while healthy");
    rmSync(gateway.db);
    await page.reload();
    const banner = page.locator(".store-fault[role=alert]");
    await banner.waitFor();
    const text = await banner.innerText();
    assert.match(text, /Leads are not being accepted or sent/);
    assert.match(text, /was deleted while the gateway ran/);
    assert.ok(text.includes(gateway.db), "names the file");
    await page.screenshot({ path: `${ARTIFACTS}10-database-deleted.png`, fullPage: true });
  });
});
