import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { InstanceChangeError } from "../src/destinations/errors.ts";
import { type CatalogAccess, editDestination } from "../src/destinations/manage.ts";
import type { Route } from "../src/route.ts";
import { envKeySource } from "../src/secrets/key-source.ts";
import { newSecretKey } from "../src/secrets/secret-box.ts";
import { PostgresStore } from "../src/store/postgres/postgres-store.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.ts";
import type { Store } from "../src/store/store.ts";
import { type PostgresCluster, startCluster } from "./postgres-cluster.ts";
import { withMethods } from "./store-override.ts";

/**
 * PATCH /v1/destinations/{name} (editDestination) moving a destination to another Marketo
 * instance is refused while its leads wait: they were accepted for the first instance. The
 * check and the change must be one: a lead accepted between them would wait for the old
 * instance, then be sent to the new one (another customer's Marketo).
 */
const T0 = Date.parse("2026-12-05T12:00:00Z");
const FIRST = "https://111-AAA-111.mktorest.com";
const OTHER = "https://999-ZZZ-999.mktorest.com";
const SYNC: Route = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };
const KEYS = envKeySource(newSecretKey().bytes.toString("base64"));

const lead = (key: string) => ({
  destination: "acme",
  route: SYNC,
  raw: { email: `${key}@example.com` },
  input: { email: `${key}@example.com` },
  intakeKey: key,
});

async function withAcme(store: Store): Promise<void> {
  const added = await store.addCatalogEntry(
    {
      name: "acme",
      baseUrl: FIRST,
      clientId: "id",
      secret: { sealed: "v1:aaaaaaaa:iv:body:tag", keyId: "aaaaaaaa" },
      callsPer20s: undefined,
      concurrency: undefined,
      dailyBudget: undefined,
      markerField: undefined,
    },
    T0,
  );
  assert.ok("entry" in added);
}

const access = (catalog: Store): CatalogAccess => ({
  catalog,
  keys: KEYS,
  configNames: new Set(),
  now: () => T0 + 1,
});

function editRace(name: string, open: () => Promise<{ store: Store; done: () => Promise<void> }>) {
  it(`${name}: a lead accepted between the edit's check and its change is counted, and the move is refused`, async () => {
    const { store, done } = await open();
    try {
      await withAcme(store);
      // An intake lands just before the change is written (another request, another process).
      const raced = withMethods(store, {
        updateCatalogEntry: async (...args) => {
          await store.addLeads([lead("late")], T0);
          return store.updateCatalogEntry(...args);
        },
      });
      await assert.rejects(
        editDestination(access(raced), "acme", { baseUrl: OTHER, clientId: "id-2" }),
        (error: unknown) => error instanceof InstanceChangeError,
        "the move went through with a lead waiting for the first instance",
      );
      const entry = await store.getCatalogEntry("acme");
      assert.deepEqual([entry?.baseUrl, entry?.clientId], [FIRST, "id"], "nothing changed");
      // Sending, the lead still waits for the first instance; delivered, it no longer does.
      const [claimed] = await store.claimDue("acme", {
        now: T0 + 2,
        limit: 10,
        worker: "w",
        leaseMs: 60_000,
      });
      await assert.rejects(editDestination(access(store), "acme", { baseUrl: OTHER }), {
        name: "InstanceChangeError",
      });
      await store.recordAttempts([
        {
          leadId: claimed?.id as number,
          step: "lead",
          at: T0 + 3,
          endpoint: "/rest/v1/leads.json",
          request: {},
          response: undefined,
          requestId: undefined,
          statusCode: "200",
          reason: undefined,
          durationMs: 1,
          status: "delivered",
          marketoId: 7,
        },
      ]);
      const moved = await editDestination(access(store), "acme", { baseUrl: OTHER });
      assert.equal(moved.baseUrl, OTHER);
    } finally {
      await done();
    }
  });
}

describe("editing a destination's Marketo instance while leads arrive", () => {
  const dir = mkdtempSync(join(tmpdir(), "postout-edit-race-"));
  let cluster: PostgresCluster | undefined;
  before(async () => {
    cluster = await startCluster();
  });
  after(() => {
    cluster?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  let n = 0;
  const pgStore = async () => {
    if (!cluster) throw new Error("the PostgreSQL cluster did not start");
    const url = await cluster.createDatabase();
    const store = await PostgresStore.open(url);
    return { store, url, done: () => store.close() };
  };

  editRace("SQLite", async () => {
    const store = new SqliteStore(join(dir, `e${++n}.db`));
    return { store, done: () => store.close() };
  });
  editRace("PostgreSQL", pgStore);

  it("PostgreSQL: an intake in flight when the edit counts (another process, not yet committed) is waited for and counted", async () => {
    const { store, url, done } = await pgStore();
    const intake = new pg.Client({ connectionString: url });
    await intake.connect();
    try {
      await withAcme(store);
      await intake.query("BEGIN");
      await intake.query(
        `INSERT INTO leads (destination, intake_key, route, route_key, raw, status, next_at,
           created_at, updated_at)
         VALUES ('acme', 'in-flight', '{}', '{}', '{}', 'queued', $1, $1, $1)`,
        [T0],
      );
      let settled = false;
      const edit = editDestination(access(store), "acme", { baseUrl: OTHER }).finally(() => {
        settled = true;
      });
      edit.catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 300));
      const beforeCommit = settled;
      await intake.query("COMMIT");
      await assert.rejects(
        edit,
        (error: unknown) => error instanceof InstanceChangeError,
        "the move went through while a lead for the first instance was being accepted",
      );
      assert.equal(beforeCommit, false, "the edit waited for the intake");
      assert.equal((await store.getCatalogEntry("acme"))?.baseUrl, FIRST);
    } finally {
      await intake.end().catch(() => {});
      await done();
    }
  });
});
