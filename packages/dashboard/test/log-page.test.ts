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

  test("no script error on the way", () => {
    // The bad since is answered 400 by design; Chromium logs that as a failed resource.
    assert.deepEqual(
      problems.filter((p) => !/status of 400/.test(p)),
      [],
    );
  });
});
