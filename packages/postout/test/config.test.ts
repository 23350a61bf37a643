import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ConfigError, loadConfig } from "../src/config.ts";

const dir = mkdtempSync(join(tmpdir(), "postout-config-"));
const file = (name: string, body: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof body === "string" ? body : JSON.stringify(body));
  return path;
};

describe("configuration: flags, then environment, then the config file", () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("falls back to the built-in sandbox when no Marketo is configured", () => {
    const c = loadConfig({ env: {}, cwd: dir });
    assert.equal(c.sandbox, true);
    assert.deepEqual(
      c.destinations.map((d) => d.name),
      ["sandbox"],
    );
    assert.equal(c.db, "./data/postout.db");
  });

  it("takes one destination from the MARKETO_* variables, and --db over POSTOUT_DB", () => {
    const env = {
      MARKETO_BASE_URL: "https://123-ABC-456.mktorest.com",
      MARKETO_CLIENT_ID: "id",
      MARKETO_CLIENT_SECRET: "s3cret",
      POSTOUT_DB: "/tmp/env.db",
    };
    const c = loadConfig({ env, cwd: dir, db: "/tmp/flag.db" });
    assert.equal(c.sandbox, false);
    assert.equal(c.db, "/tmp/flag.db");
    assert.equal(c.destinations[0]?.clientSecret, "s3cret");
    assert.equal(loadConfig({ env, cwd: dir }).db, "/tmp/env.db");
  });

  it("reads destinations with credentials from named variables, and a retry policy", () => {
    const path = file("two.json", {
      destinations: [
        {
          name: "us",
          baseUrl: "https://111-AAA-111.mktorest.com",
          clientIdEnv: "US_ID",
          clientSecretEnv: "US_SECRET",
          callsPer20s: 50,
        },
        {
          name: "eu",
          baseUrl: "https://222-BBB-222.mktorest.com",
          clientId: "eu",
          clientSecret: "eu-secret",
          concurrency: 3,
        },
      ],
      retry: { scheduleMs: [60000, 600000], perCode: { "611": [300000] } },
    });
    const c = loadConfig({
      env: { US_ID: "us-id", US_SECRET: "us-secret" },
      cwd: dir,
      configFile: path,
    });
    assert.deepEqual(
      c.destinations.map((d) => [d.name, d.clientId, d.callsPer20s, d.concurrency]),
      [
        ["us", "us-id", 50, undefined],
        ["eu", "eu", undefined, 3],
      ],
    );
    assert.deepEqual(c.retry, { retryScheduleMs: [60000, 600000], perCode: { "611": [300000] } });
  });

  const bad: { name: string; body: unknown; env?: Record<string, string>; message: RegExp }[] = [
    { name: "not JSON", body: "{nope", message: /is not valid JSON/ },
    { name: "an unknown key", body: { dbx: "x" }, message: /Unrecognized key/ },
    {
      name: "a non-http URL",
      body: { destinations: [{ name: "x", baseUrl: "ftp://x" }] },
      message: /destinations\.0\.baseUrl/,
    },
    {
      name: "a share over Marketo's limit",
      body: { destinations: [{ name: "x", callsPer20s: 500 }] },
      message: /destinations\.0\.callsPer20s/,
    },
    {
      name: "a missing secret variable",
      body: {
        destinations: [
          { name: "x", baseUrl: "https://x.mktorest.com", clientId: "a", clientSecretEnv: "NOPE" },
        ],
      },
      message: /lacks the variable NOPE/,
    },
    {
      name: "a duplicate destination",
      body: {
        destinations: [
          { name: "x", baseUrl: "https://x.mktorest.com", clientId: "a", clientSecret: "b" },
          { name: "x", baseUrl: "https://x.mktorest.com", clientId: "a", clientSecret: "b" },
        ],
      },
      message: /appears twice/,
    },
    {
      name: "a retry delay under a second",
      body: { retry: { scheduleMs: [5] } },
      message: /retry\.scheduleMs\.0/,
    },
    {
      name: "a marker field that is no field name",
      body: {
        destinations: [
          {
            name: "x",
            baseUrl: "https://x.mktorest.com",
            clientId: "a",
            clientSecret: "b",
            markerField: "postout id",
          },
        ],
      },
      message: /destinations\.0\.markerField: a lead field's API name/,
    },
    {
      name: "a destination lease under a second",
      body: { scheduler: { leaseMs: 500 } },
      message: /scheduler\.leaseMs/,
    },
    {
      name: "a verify settle time under 100 ms",
      body: { verify: { settleMs: 5 } },
      message: /verify\.settleMs/,
    },
  ];
  for (const b of bad) {
    it(`refuses ${b.name} with a message naming it`, () => {
      const path = file(`${b.name.replace(/\W+/g, "-")}.json`, b.body);
      assert.throws(
        () => loadConfig({ env: b.env ?? {}, cwd: dir, configFile: path }),
        (e: unknown) => e instanceof ConfigError && b.message.test(e.message),
      );
    });
  }

  it("reads the scheduler's lease and tick, for several processes on PostgreSQL", () => {
    const path = file("scheduler.json", { scheduler: { leaseMs: 3000, tickMs: 100 } });
    assert.deepEqual(loadConfig({ env: {}, cwd: dir, configFile: path }).scheduler, {
      leaseMs: 3000,
      tickMs: 100,
    });
    assert.equal(loadConfig({ env: {}, cwd: dir }).scheduler, undefined);
  });

  it("refuses half the MARKETO_* variables, naming the missing ones", () => {
    assert.throws(
      () => loadConfig({ env: { MARKETO_BASE_URL: "https://x.mktorest.com" }, cwd: dir }),
      /set MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET too/,
    );
  });

  it("refuses a --config file that does not exist", () => {
    assert.throws(
      () => loadConfig({ env: {}, cwd: dir, configFile: "missing.json" }),
      /does not exist/,
    );
  });
});
