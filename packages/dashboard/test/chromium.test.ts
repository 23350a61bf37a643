import assert from "node:assert/strict";
import { test } from "node:test";
import { chromium } from "playwright-core";

// On a machine without Chromium the browser tests use the build @sparticuz/chromium ships:
// prove that build starts and renders here, whatever the machine has installed.
test("the Chromium build shipped as a dev dependency launches and renders a page", async () => {
  const { default: shipped } = await import("@sparticuz/chromium");
  const browser = await chromium.launch({
    executablePath: await shipped.executablePath(),
    args: ["--headless", "--no-sandbox", "--disable-gpu"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.setContent("<main><h1>Postout</h1></main>");
    assert.equal(await page.innerText("h1"), "Postout");
  } finally {
    await browser.close();
  }
});
