import assert from "node:assert/strict";
import { copyFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { describe, it } from "node:test";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.ts";
import { openApi, SYNC_ROUTE } from "./http-helpers.ts";

const lead = (i: number) => ({ email: `h${i}@example.com`, firstName: "Health" });

async function total(store: SqliteStore): Promise<number> {
  return Object.values(await store.countByStatus({})).reduce((a, b) => a + b, 0);
}

describe("store health: nothing gets a 202 that is not durably stored", () => {
  it("a deleted database file: intake 503 naming the file, /healthz 503; failing until restart, and the restart finds what the 202s promised", async () => {
    const api = await openApi();
    try {
      const ok = await api.call("POST", "/v1/leads", { route: SYNC_ROUTE, leads: [lead(1)] });
      assert.equal(ok.status, 202);
      assert.equal((await api.call("GET", "/healthz")).status, 200);
      // The folder is kept (it holds the write-ahead log): only the database file goes.
      const backup = `${api.dbPath}.bak`;
      copyFileSync(api.dbPath, backup);
      rmSync(api.dbPath);

      const refused = await api.call("POST", "/v1/leads", { route: SYNC_ROUTE, leads: [lead(2)] });
      assert.equal(refused.status, 503);
      assert.match(refused.json.error, /was deleted while the gateway ran/);
      assert.ok(refused.json.error.includes(api.dbPath), "names the file");
      const health = await api.call("GET", "/healthz");
      assert.equal(health.status, 503);
      assert.equal(health.json.code, "deleted");
      assert.ok(health.json.error.includes(api.dbPath));

      // Putting a file back at the path is a different file: still failing until a restart.
      copyFileSync(backup, api.dbPath);
      const again = await api.call("POST", "/v1/leads", { route: SYNC_ROUTE, leads: [lead(3)] });
      assert.equal(again.status, 503);
      assert.equal((await api.call("GET", "/healthz")).json.code, "replaced");

      // The restart opens the file at the path: no lead answered 503 is in it.
      const reopened = new SqliteStore(api.dbPath);
      try {
        const leads = [];
        for await (const l of reopened.iterateLeads({})) leads.push(l.raw.email);
        assert.ok(!leads.includes("h2@example.com") && !leads.includes("h3@example.com"));
        assert.equal(await reopened.health(), undefined);
      } finally {
        await reopened.close();
      }
    } finally {
      await api.close();
    }
  });

  it("a replaced database file (another file renamed over it): 503 'replaced', nothing stored", async () => {
    const api = await openApi();
    try {
      const other = `${api.dbPath}.other`;
      writeFileSync(other, "");
      renameSync(other, api.dbPath);
      const before = await total(api.store);
      const res = await api.call("POST", "/v1/leads", { route: SYNC_ROUTE, leads: [lead(4)] });
      assert.equal(res.status, 503);
      assert.match(res.json.error, /was replaced by another file/);
      assert.equal(await total(api.store), before);
      assert.equal((await api.call("GET", "/healthz")).status, 503);
    } finally {
      await api.close();
    }
  });

  it("a full database (SQLite's own SQLITE_FULL at a size limit): 507 naming it, /healthz 503 'full'; room again → healthy and 202", async () => {
    const api = await openApi();
    try {
      const { size } = await import("node:fs").then((fs) => fs.statSync(api.dbPath));
      api.store.setSizeLimit(Math.max(size, 64 * 1024));
      const big = Array.from({ length: 1000 }, (_, i) => ({
        email: `full${i}@example.com`,
        note: "x".repeat(2000),
      }));
      const before = await total(api.store);
      const res = await api.call("POST", "/v1/leads", { route: SYNC_ROUTE, leads: big });
      assert.equal(res.status, 507);
      assert.match(res.json.error, /is full \(SQLITE_FULL\)/);
      assert.ok(res.json.error.includes(api.dbPath));
      assert.equal(await total(api.store), before, "nothing of the refused batch was stored");
      const health = await api.call("GET", "/healthz");
      assert.equal(health.status, 503);
      assert.equal(health.json.code, "full");

      api.store.setSizeLimit(1024 * 1024 * 1024);
      assert.equal((await api.call("GET", "/healthz")).status, 200);
      const after = await api.call("POST", "/v1/leads", { route: SYNC_ROUTE, leads: big });
      assert.equal(after.status, 202);
      assert.equal(after.json.accepted, 1000);
    } finally {
      await api.close();
    }
  });
});
