import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type Sandbox, startSandbox } from "@postout/sandbox";
import type { Browser, Locator, Page } from "playwright-core";
import { launchChromium } from "./chromium.ts";
import { API_KEY, startGateway } from "./gateway-process.ts";

const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));

/** Distinctive, so that a leak anywhere in the page is found by a plain search. */
const SECRET = "acme-Secret-5mQ8-never-shown";
const WRONG = "acme-Wrong-3zR6-never-shown";
const SYNC_ROUTE = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };

/** A port on 127.0.0.1 that nothing listens on: taken from the system, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("Connect a Marketo instance: the dashboard in Chromium against `postout serve`", () => {
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  let acme: Sandbox;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  /** Every answer of /v1/destinations the page read: none may carry a secret. */
  const answers: string[] = [];

  const shot = (name: string) =>
    page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
  const form = () => page.getByRole("form", { name: "Connect a Marketo instance" });
  const card = (name: string) => page.getByRole("article", { name: `destination ${name}` });
  /** A field's own error, shown under it. */
  const errorOf = (where: Locator, label: string) =>
    where
      .locator(".field", { has: page.getByLabel(label, { exact: true }) })
      .locator(".field-error");
  const result = (where: Locator) => where.locator(".connection-result");
  const post = async (emails: string[]) => {
    const res = await gateway.call("POST", "/v1/leads", {
      destination: "acme",
      route: SYNC_ROUTE,
      leads: emails.map((email) => ({ email })),
    });
    assert.equal(res.status, 202, JSON.stringify(res.json));
    return res.json.ids as number[];
  };
  const seeDelivered = async (id: number) => {
    await page.goto(`${gateway.url}/#/leads/${id}`);
    await page.locator("h1 .badge", { hasText: "delivered" }).waitFor({ timeout: 30_000 });
  };
  const openDestinations = async () => {
    await page.goto(`${gateway.url}/#/destinations`);
    await card("sandbox").waitFor();
  };

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    acme = await startSandbox({ latency: false, clientId: "acme-client", clientSecret: SECRET });
    gateway = await startGateway();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(15_000);
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`);
    });
    page.on("response", async (r) => {
      if (!r.url().includes("/v1/destinations")) return;
      answers.push(await r.text().catch(() => ""));
      // 400 (a field) and 409 (a name taken, leads waiting) are answers this suite asks for.
      if (r.status() >= 400 && r.status() !== 400 && r.status() !== 409)
        problems.push(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}`);
    });
    page.on("dialog", (d) => {
      problems.push(`a browser dialog opened: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(`${gateway.url}/login`);
    await page.fill("#key", API_KEY);
    await page.click("button[type=submit]");
    await page.locator("table.log tbody tr").first().waitFor();
  });
  after(async () => {
    await browser?.close();
    await gateway?.stop();
    await acme?.close();
  });

  test("a destination of the config file is read-only: a note, no Edit, no Remove", async () => {
    await openDestinations();
    const sandbox = card("sandbox");
    assert.match(await sandbox.innerText(), /Read-only here: it comes from the config file/);
    assert.equal(await sandbox.getByRole("button", { name: "Edit" }).count(), 0);
    assert.equal(await sandbox.getByRole("button", { name: "Remove" }).count(), 0);
    await sandbox.getByRole("button", { name: "Test connection" }).click();
    await result(sandbox).getByText("Connected").waitFor();
  });

  test("the form: labelled fields, the secret a password field, the marker field explained", async () => {
    await page.getByRole("button", { name: "Connect a Marketo instance" }).click();
    const f = form();
    await f.waitFor();
    for (const label of [
      "Name",
      "REST base URL",
      "Client id",
      "Calls per 20 s",
      "Concurrent calls",
      "Daily call budget",
      "Marker field",
    ])
      assert.equal(await f.getByLabel(label, { exact: true }).count(), 1, label);
    assert.equal(await f.getByLabel("Client secret").getAttribute("type"), "password");
    assert.match(await f.innerText(), /Of Marketo's 100 per instance/);
    assert.match(await f.innerText(), /writes its own id into on creates/);
    const focused = await page.evaluate(
      () =>
        (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document
          .activeElement?.id,
    );
    assert.equal(
      focused,
      await f.getByLabel("Name", { exact: true }).getAttribute("id"),
      "the first field has the focus",
    );
    await shot("connect-1-empty");
  });

  test("a wrong secret: Test connection says bad credentials", async () => {
    const f = form();
    await f.getByLabel("Name", { exact: true }).fill("acme");
    await f.getByLabel("REST base URL").fill(acme.url);
    await f.getByLabel("Client id").fill("acme-client");
    await f.getByLabel("Client secret").fill(WRONG);
    await f.getByRole("button", { name: "Test connection" }).click();
    const said = result(f);
    await said.waitFor();
    assert.match(
      await said.innerText(),
      /^Bad credentials: .*refused the client id or client secret/,
    );
    await shot("connect-2-bad-credentials");
  });

  test("a URL nothing listens on: Test connection says unreachable", async () => {
    const f = form();
    await f.getByLabel("REST base URL").fill(`http://127.0.0.1:${await closedPort()}`);
    assert.equal(await result(f).count(), 0, "a changed URL clears the earlier answer");
    await f.getByLabel("Client secret").fill(SECRET);
    await f.getByRole("button", { name: "Test connection" }).click();
    await result(f).waitFor();
    assert.match(await result(f).innerText(), /^Unreachable: .*refused the connection/);
  });

  test("Save with a share over Marketo's limit: the gateway's reason under that field", async () => {
    const f = form();
    await f.getByLabel("REST base URL").fill(acme.url);
    await f.getByLabel("Calls per 20 s").fill("500");
    await f.getByRole("button", { name: "Save" }).click();
    const error = errorOf(f, "Calls per 20 s");
    await error.waitFor();
    assert.match(await error.innerText(), /at most 100/);
    assert.equal(await f.getByLabel("Calls per 20 s").getAttribute("aria-invalid"), "true");
    assert.match(await f.getByRole("alert").innerText(), /One field needs a change/);
    await shot("connect-3-field-error");
    // A name already taken (by the config file's sandbox) is said at the name.
    await f.getByLabel("Calls per 20 s").fill("50");
    assert.equal(await error.count(), 0, "typing in the field clears its error");
    await f.getByLabel("Name", { exact: true }).fill("sandbox");
    await f.getByRole("button", { name: "Save" }).click();
    await errorOf(f, "Name")
      .getByText(/comes from the config file/)
      .waitFor();
  });

  test("the right credentials: connected, with the number of lead fields", async () => {
    const f = form();
    await f.getByLabel("Name", { exact: true }).fill("acme");
    await f.getByRole("button", { name: "Test connection" }).click();
    await result(f).waitFor();
    assert.match(await result(f).innerText(), /^Connected: got a token and read \d+ lead fields/);
    await shot("connect-4-connected");
  });

  test("Save: the new destination appears, and a lead posted to it is delivered", async () => {
    await form().getByRole("button", { name: "Save" }).click();
    const acmeCard = card("acme");
    await acmeCard.waitFor();
    await page.getByText("Connected acme: Postout sends its leads from now on.").waitFor();
    // Saving tests the connection at once.
    const tested = page.getByRole("status", { name: "test of the saved destination" });
    await tested.getByText("Connected").waitFor();
    assert.match(await tested.innerText(), /^Connected: got a token and read \d+ lead fields/);
    assert.equal(await form().count(), 0, "the form is closed");
    const text = await acmeCard.innerText();
    assert.match(text, /connected here/);
    assert.match(text, new RegExp(acme.url.replace(/[.:/]/g, "\\$&")));
    assert.match(text, /50 of 100 calls per 20 s, all 10 concurrent calls/);
    assert.doesNotMatch(await page.content(), new RegExp(`${SECRET}|${WRONG}`));
    await shot("connect-5-saved");

    const [id] = await post(["first.acme@example.com"]);
    assert.ok(id);
    await seeDelivered(id);
    assert.match(JSON.stringify(acme.records()), /first\.acme@example\.com/);
  });

  test("Save with an unreachable URL: saved, and the test right after says it is unreachable", async () => {
    await openDestinations();
    await page.getByRole("button", { name: "Connect a Marketo instance" }).click();
    const f = form();
    await f.getByLabel("Name", { exact: true }).fill("dead");
    await f.getByLabel("REST base URL").fill(`http://127.0.0.1:${await closedPort()}`);
    await f.getByLabel("Client id").fill("dead-client");
    await f.getByLabel("Client secret").fill(SECRET);
    await f.getByRole("button", { name: "Save" }).click();
    await card("dead").waitFor();
    const tested = page.getByRole("status", { name: "test of the saved destination" });
    await tested.locator(".connection-result").waitFor();
    assert.match(await tested.innerText(), /^Unreachable: .*refused the connection/);
    await page.getByText("Saved dead, but its connection test failed").waitFor();
    await shot("connect-6-saved-unreachable");
    const removed = await gateway.call("DELETE", "/v1/destinations/dead");
    assert.equal(removed.status, 200, JSON.stringify(removed.json));
  });

  test("Edit leaves the secret field empty, and saving it empty keeps the stored secret", async () => {
    await openDestinations();
    await card("acme").getByRole("button", { name: "Edit" }).click();
    const f = page.getByRole("form", { name: "Edit acme" });
    await f.waitFor();
    const secret = f.getByLabel("Client secret");
    assert.equal(await secret.inputValue(), "");
    assert.match(await f.innerText(), /Leave empty to keep the stored secret\./);
    assert.equal(await f.getByLabel("Calls per 20 s").inputValue(), "50");
    // Unchanged URL and client id with no secret typed: the stored credentials are tested.
    await f.getByRole("button", { name: "Test connection" }).click();
    await result(f).waitFor();
    assert.match(await result(f).innerText(), /^Connected \(with the stored secret\)/);
    await f.getByLabel("Calls per 20 s").fill("40");
    await shot("connect-6-edit");
    await f.getByRole("button", { name: "Save" }).click();
    await page.getByText("Saved acme.").waitFor();
    const acmeCard = card("acme");
    assert.match(await acmeCard.innerText(), /40 of 100 calls per 20 s/);
    await acmeCard.getByRole("button", { name: "Test connection" }).click();
    await result(acmeCard).getByText("Connected").waitFor();
    const [id] = await post(["after.edit@example.com"]);
    assert.ok(id);
    await seeDelivered(id);
  });

  test("Remove with leads waiting: it says how many; cancel keeps it; or remove and keep them paused", async () => {
    await openDestinations();
    const acmeCard = card("acme");
    await acmeCard.getByRole("button", { name: "Pause" }).click();
    await acmeCard.getByText("paused from the dashboard").waitFor();
    await post(["wait.1@example.com", "wait.2@example.com", "wait.3@example.com"]);

    const dialog = page.getByRole("dialog");
    const askToRemove = async () => {
      await acmeCard.getByRole("button", { name: "Remove" }).click();
      await dialog.getByRole("heading", { name: "Remove acme?" }).waitFor();
      await dialog.getByRole("button", { name: "Remove", exact: true }).click();
      await dialog.getByRole("heading", { name: "3 leads are waiting for acme" }).waitFor();
    };
    await askToRemove();
    assert.match(await dialog.innerText(), /3 leads have not been sent yet \(3 paused\)/);
    // The card behind the dialog is read again and counts the same leads.
    await acmeCard.getByText(/; 3 leads waiting\./).waitFor();
    await shot("connect-7-remove-waiting");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "hidden" });
    assert.equal(await acmeCard.count(), 1, "cancel removes nothing");

    await askToRemove();
    await dialog.getByRole("button", { name: "Remove and keep them paused" }).click();
    await page
      .getByText(
        "Removed acme. 3 leads wait paused until a destination named acme is connected again.",
      )
      .waitFor();
    await acmeCard.waitFor({ state: "detached" });
    const held = await gateway.call("GET", "/v1/leads?destination=acme&status=paused");
    assert.equal((held.json.leads as unknown[]).length, 3, "none of the waiting leads is dropped");
  });

  test("no script error, unexpected answer or browser dialog; no answer carried a secret", () => {
    // Chromium logs each 400/409 the suite asked for as a failed resource.
    const unexpected = problems.filter((p) => !/status of 40[09]/.test(p));
    assert.deepEqual(unexpected, []);
    assert.ok(answers.length > 10);
    for (const text of answers) assert.doesNotMatch(text, new RegExp(`${SECRET}|${WRONG}`));
  });
});
