import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "./chromium.ts";
import { API_KEY, startGateway } from "./gateway-process.ts";

const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));

describe("errors by code, against `postout serve` with the demo's leads", () => {
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  let browser: Browser;
  let page: Page;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    gateway = await startGateway();
    // The demo's outage answers 503 to calls the client then tries again: wait for them.
    for (let i = 0; ; i++) {
      const stats = await gateway.call("GET", "/v1/stats/codes");
      const buckets = stats.json.buckets as { counts: Record<string, number> }[];
      if (buckets.some((b) => (b.counts["503"] ?? 0) > 0)) break;
      assert.ok(i < 100, "the demo's outage answers 503");
      await sleep(100);
    }
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(15_000);
    await page.goto(`${gateway.url}/login`);
    await page.fill("#key", API_KEY);
    await page.click("button[type=submit]");
    await page.locator("table.log tbody tr").first().waitFor();
  });
  after(async () => {
    await browser?.close();
    await gateway?.stop();
  });

  test("each code's leads are counted, and 'show in the log' lists that many, 503 among them", async () => {
    await page.goto(`${gateway.url}/#/errors`);
    const rows = page.locator("table.legend tbody tr");
    await rows.first().waitFor();
    await page.locator("table.legend td.leads").first().waitFor();
    await page.locator('table.legend[aria-busy="false"]').waitFor();
    await page.screenshot({ path: `${ARTIFACTS}errors-1440.png`, fullPage: true });
    const legend = await rows.evaluateAll((trs) =>
      trs.map((tr) => ({
        code: tr.querySelector(".code")?.textContent ?? "",
        leads: tr.querySelector("td.leads")?.textContent ?? "",
        href: tr.querySelector("a")?.getAttribute("href") ?? "",
      })),
    );
    assert.ok(
      legend.some((r) => r.code === "503"),
      legend.map((r) => r.code).join(),
    );
    for (const row of legend) {
      assert.match(row.leads, /^\d+$/, `code ${row.code} has a number of leads`);
      const n = Number(row.leads);
      assert.ok(n > 0, `code ${row.code} was answered for some lead`);
      await page.goto(`${gateway.url}/${row.href}`);
      await page.locator('table.log[aria-busy="false"]').waitFor();
      const counts = await page.locator("nav.counts strong").allInnerTexts();
      const total = counts.reduce((sum, c) => sum + Number(c), 0);
      assert.equal(total, n, `'show in the log' for ${row.code} lists as many leads`);
      if (row.code === "503") {
        await page.screenshot({ path: `${ARTIFACTS}errors-503-in-log.png`, fullPage: true });
        const id = await page.locator("table.log tbody tr").first().getAttribute("data-lead");
        const detail = await gateway.call("GET", `/v1/leads/${id}`);
        const attempts = detail.json.attempts as { responseStatusCode: string }[];
        assert.ok(attempts.some((a) => a.responseStatusCode === "503"));
      }
    }
  });
});
