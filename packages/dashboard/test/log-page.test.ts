import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "./chromium.ts";
import { API_KEY, startGateway } from "./gateway-process.ts";

const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));

/** A laptop's screen: the log must fit it. */
const WIDTH = 1440;

interface ListedLead {
  readonly id: number;
  readonly fix: string | null;
  readonly email: string | null;
  readonly status: string;
}

describe("the post-out log at 1,440 px, against `postout serve` with the demo's leads", () => {
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  const shot = (name: string) =>
    page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
  /** The log after its answer is in (a table not busy, with its rows or its empty note). */
  const settled = () => page.locator('table.log[aria-busy="false"]').waitFor();
  /** The cells of one column, found by its header's text. */
  const column = async (header: string) => {
    const headers = await page.locator("table.log thead th").allInnerTexts();
    const index = headers.findIndex((h) => h.trim() === header);
    assert.notEqual(index, -1, `a column "${header}" among ${headers.join(" | ")}`);
    return page.locator(`table.log tbody tr td:nth-child(${index + 1})`);
  };
  const listed = async (q: string) => {
    const res = await gateway.call("GET", `/v1/leads?${q}&limit=500`);
    assert.equal(res.status, 200);
    return res.json.leads as ListedLead[];
  };

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    gateway = await startGateway();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: WIDTH, height: 900 } });
    page.setDefaultTimeout(15_000);
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    await page.goto(`${gateway.url}/login`);
    await page.fill("#key", API_KEY);
    await page.click("button[type=submit]");
    await page.locator("table.log tbody tr").first().waitFor();
  });
  after(async () => {
    await browser?.close();
    await gateway?.stop();
  });

  test("a delivered lead's ResponseStatusCode is 200, as on its own page and in the report", async () => {
    await page.goto(`${gateway.url}/#/?status=delivered`);
    await settled();
    const codes = await page.locator("table.log tbody td.code").allInnerTexts();
    assert.ok(codes.length > 0, "the demo delivers leads");
    assert.deepEqual(
      codes.filter((c) => c !== "200"),
      [],
    );
    await shot("log-1440-delivered");
  });

  test("status, code and the whole fix are on screen without scrolling sideways", async () => {
    for (const [q, name] of [
      ["", "log-1440"],
      ["status=needs_fix", "log-1440-needs-fix"],
    ] as const) {
      await page.goto(`${gateway.url}/#/?${q}`);
      await settled();
      await page.locator("table.log tbody tr").first().waitFor();
      const wrap = await page
        .locator(".table-wrap")
        .evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
      assert.ok(wrap.scroll <= wrap.client, `the table fits (${wrap.scroll} > ${wrap.client} px)`);
      const pageWidth = await page.locator("html").evaluate((el) => el.scrollWidth);
      assert.ok(pageWidth <= WIDTH, `the page fits (${pageWidth} px)`);
      const leads = await listed(q);
      const fixes = await column("Fix");
      const count = await fixes.count();
      assert.equal(count, Math.min(leads.length, 50));
      for (let i = 0; i < count; i++) {
        const cell = fixes.nth(i);
        const box = await cell.boundingBox();
        assert.ok(box && box.x + box.width <= WIDTH, `fix ${i} is on screen`);
        const cut = await cell.evaluate((el) => el.scrollWidth > el.clientWidth);
        assert.equal(cut, false, `fix ${i} is not cut`);
        assert.equal((await cell.innerText()).trim(), leads[i]?.fix ?? "");
      }
      // An email cut to the column's width is whole in its tooltip.
      const emails = await column("Email");
      for (let i = 0; i < count; i++) {
        const titles = await emails
          .nth(i)
          .locator("[title]")
          .evaluateAll((els) => els.map((el) => el.getAttribute("title")));
        assert.ok(titles.includes(leads[i]?.email ?? "—"), `lead ${i}'s email in a tooltip`);
      }
      for (const header of ["Status", "Code", "Email", "Updated"]) {
        const cell = (await column(header)).first();
        const box = await cell.boundingBox();
        assert.ok(box && box.x + box.width <= WIDTH, `${header} is on screen`);
      }
      await shot(name);
    }
  });

  test("a since that is no date says so, naming the field, instead of 'No lead matches'", async () => {
    await page.goto(`${gateway.url}/#/`);
    await settled();
    await page.fill("input[name=since]", "yesterday");
    await page.click("form.filters button[type=submit]");
    const alert = page.locator("p.error[role=alert]");
    await alert.waitFor();
    assert.match(await alert.innerText(), /Since/);
    assert.match(await alert.innerText(), /yesterday/);
    assert.match(await alert.innerText(), /2026-11-23/, "shows how to write one");
    assert.equal(await page.getByText("No lead matches this filter.").count(), 0);
    assert.equal(await page.locator("input[name=since]").getAttribute("aria-invalid"), "true");
    await shot("log-bad-since");
    // A shared link with a date that does not exist.
    await page.goto(`${gateway.url}/#/?since=2026-13-45`);
    await alert.waitFor();
    assert.match(await alert.innerText(), /Since.*2026-13-45/);
    assert.equal(await page.getByText("No lead matches this filter.").count(), 0);
  });

  test("after 'Repost all matching', the list shows the reposted leads as they are now", async () => {
    await page.goto(`${gateway.url}/#/?status=needs_fix`);
    await settled();
    await page.locator("table.log tbody tr").first().waitFor();
    const before = (await listed("status=needs_fix")).map((l) => l.id).sort();
    assert.ok(before.length > 0);
    await page
      .getByRole("button", { name: `Repost all matching this filter (${before.length})` })
      .click();
    await page
      .getByRole("dialog")
      .getByRole("button", { name: `Repost ${before.length}` })
      .click();
    await page.getByText(`Queued ${before.length} leads again.`).waitFor();
    await settled();
    const rows = page.locator("table.log tbody tr");
    await rows.first().waitFor();
    const shown = (
      await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute("data-lead"))))
    ).sort();
    assert.deepEqual(shown, before);
    assert.equal(await page.getByText("No lead matches this filter.").count(), 0);
    assert.match(
      await page.locator(".listed-note").innerText(),
      new RegExp(`the ${before.length} leads just reposted, as they are now`),
    );
    await shot("log-after-repost");
    // Back to the filter: its own answer again (the leads that need a fix now), no note.
    await page.getByRole("button", { name: "Back to the filter" }).click();
    await settled();
    assert.equal(await page.locator(".listed-note").count(), 0);
    const now = Number(await page.locator("button.count.active strong").innerText());
    assert.equal(await page.locator("table.log tbody tr").count(), now);
  });

  test("no script error on the way", () => {
    // The bad since is answered 400 by design; Chromium logs that as a failed resource.
    assert.deepEqual(
      problems.filter((p) => !/status of 400/.test(p)),
      [],
    );
  });
});
