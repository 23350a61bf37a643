import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "./chromium.ts";
import { API_KEY, startGateway } from "./gateway-process.ts";

const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));

describe("test integration, against `postout serve`", () => {
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  let browser: Browser;
  let page: Page;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    gateway = await startGateway();
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

  test("Push Lead's fields start empty: nothing carried over from Sync Leads' lookup field", async () => {
    await page.goto(`${gateway.url}/#/test`);
    assert.equal(await page.getByLabel("Lookup field").inputValue(), "email");
    await page.getByLabel("Endpoint").selectOption("pushLeads");
    for (const label of ["Program name", "Program status", "Source", "Reason"]) {
      assert.equal(await page.getByLabel(label).inputValue(), "", `${label} starts empty`);
    }
    await page.screenshot({ path: `${ARTIFACTS}test-push-lead.png`, fullPage: true });
    // And back: Sync Leads' own defaults again.
    await page.getByLabel("Endpoint").selectOption("syncLeads");
    assert.equal(await page.getByLabel("Lookup field").inputValue(), "email");
  });
});
