import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import pg from "pg";
import type { Route } from "../src/route.ts";
import type { NewCatalogEntry } from "../src/store/destination-catalog.ts";
import { isStoreError } from "../src/store/errors.ts";
import { PostgresStore } from "../src/store/postgres/postgres-store.ts";
import { ROW_BOUNDS } from "../src/store/row-bounds.ts";
import type { NewLead } from "../src/store/store.ts";
import { type PostgresCluster, startCluster } from "./postgres-cluster.ts";

const SYNC: Route = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };
const T0 = Date.parse("2026-11-23T12:00:00Z");
const lead = (i: number, destination = "main"): NewLead => ({
  destination,
  route: SYNC,
  raw: { email: `p${i}@example.com` },
  input: { email: `p${i}@example.com` },
  intakeKey: `api#${i}`,
});

/** The versions of the schema's migration files, in order: each applied once. */
const MIGRATIONS = readdirSync(new URL("../src/store/postgres/migrations/", import.meta.url))
  .filter((f) => /^\d{3}-.+\.sql$/.test(f))
  .map((f) => Number(f.slice(0, 3)))
  .sort((a, b) => a - b);

/** A call the client sent again (a try), as the dispatcher records it beside its attempt. */
const CALL_AGAIN = {
  at: T0,
  endpoint: "/rest/v1/leads.json",
  request: {},
  statusCode: "606",
  durationMs: 1,
};

let cluster: PostgresCluster;
before(async () => {
  cluster = await startCluster();
});
after(() => cluster?.destroy());

describe("PostgreSQL store: what only a server brings (several processes, a server that stops, its text type)", () => {
  it("three processes starting at once on a fresh database migrate it once, and all work", async () => {
    const url = await cluster.createDatabase();
    const stores = await Promise.all([1, 2, 3].map(() => PostgresStore.open(url)));
    try {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query("SELECT version FROM postout_migrations ORDER BY 1");
        assert.deepEqual(
          rows.map((r) => r.version),
          MIGRATIONS,
          "each file of migrations/ once",
        );
      } finally {
        await client.end();
      }
      const [a, b, c] = stores as [PostgresStore, PostgresStore, PostgresStore];
      await a.addLeads([lead(1)], T0);
      await b.addLeads([lead(2)], T0);
      assert.equal((await c.countByStatus({})).queued, 2);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it("two processes claiming one destination at once never get the same lead, and together get all", async () => {
    const url = await cluster.createDatabase();
    // Two pools: two processes, each with several claims in flight.
    const [one, two] = await Promise.all([PostgresStore.open(url), PostgresStore.open(url)]);
    try {
      let next = 0;
      for (let round = 0; round < 15; round++) {
        const batch = Array.from({ length: 120 }, () => lead(next++));
        const { ids } = await one.addLeads([...batch, lead(next++, "other")], T0);
        const expected = new Set(ids.slice(0, batch.length));
        const claimed: number[] = [];
        const claimer = async (store: PostgresStore, worker: string) => {
          // Bounded: 120 leads, at least one per claim that finds any.
          for (let k = 0; k < 200; k++) {
            const got = await store.claimDue("main", {
              now: T0,
              limit: 7,
              worker,
              leaseMs: 60_000,
            });
            if (got.length === 0) return;
            for (const l of got) claimed.push(l.id);
          }
        };
        await Promise.all([
          claimer(one, "one-a"),
          claimer(one, "one-b"),
          claimer(one, "one-c"),
          claimer(two, "two-a"),
          claimer(two, "two-b"),
          claimer(two, "two-c"),
        ]);
        assert.equal(new Set(claimed).size, claimed.length, `round ${round}: a lead claimed twice`);
        assert.deepEqual(new Set(claimed), expected, `round ${round}: every due lead, only those`);
      }
      assert.equal((await two.countByStatus({ destination: "main" })).sending, 15 * 120);
      assert.equal((await two.countByStatus({ destination: "other" })).queued, 15);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it("two processes taking the same leads at once (in opposite orders) store each once and answer the same ids", async () => {
    const url = await cluster.createDatabase();
    const [one, two] = await Promise.all([PostgresStore.open(url), PostgresStore.open(url)]);
    try {
      for (let round = 0; round < 5; round++) {
        const batch = Array.from({ length: 300 }, (_, i) => lead(round * 1000 + i));
        const [a, b] = await Promise.all([
          one.addLeads(batch, T0),
          two.addLeads([...batch].reverse(), T0),
        ]);
        assert.equal(a.accepted + b.accepted, 300, `round ${round}: each lead accepted once`);
        assert.equal(a.duplicates + b.duplicates, 300);
        assert.deepEqual(a.ids, [...b.ids].reverse(), `round ${round}: the same id for a key`);
        assert.equal(new Set(a.ids).size, 300);
      }
      assert.equal((await one.countByStatus({})).queued, 5 * 300);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it("four processes creating one destination name at once: one creates it, the others find it taken (a removed name too)", async () => {
    const url = await cluster.createDatabase();
    const stores = await Promise.all([1, 2, 3, 4].map(() => PostgresStore.open(url)));
    const [first] = stores as [PostgresStore];
    const entry = (name: string, clientId: string): NewCatalogEntry => ({
      name,
      baseUrl: "https://123-ABC-456.mktorest.com",
      clientId,
      secret: { sealed: "v1:aaaaaaaa:iv:body:tag", keyId: "aaaaaaaa" },
      callsPer20s: undefined,
      concurrency: undefined,
      dailyBudget: undefined,
      markerField: undefined,
    });
    try {
      for (let round = 0; round < 10; round++) {
        const name = `acme-${round}`;
        for (const removedBefore of [false, true]) {
          if (removedBefore)
            await first.removeCatalogEntry(name, {
              waiting: "refuse",
              now: T0,
              hold: { until: 1, reason: "" },
            });
          const version = await first.catalogVersion();
          const results = await Promise.all(
            stores.map((s, i) => s.addCatalogEntry(entry(name, `client-${i}`), T0)),
          );
          const created = results.flatMap((r) => ("entry" in r ? [r.entry] : []));
          const what = `${name}${removedBefore ? " taken again" : ""}`;
          assert.equal(created.length, 1, `${what}: one process creates it`);
          assert.equal(results.filter((r) => "taken" in r).length, 3);
          assert.deepEqual(await first.getCatalogEntry(name), created[0], `${what}: as created`);
          assert.ok((await first.catalogVersion()) > version);
        }
      }
      assert.equal((await first.listCatalog()).length, 10);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it("a catalog from before migration 005 keeps the key most of its secrets are sealed with", async () => {
    const url = await cluster.createDatabase();
    await (await PostgresStore.open(url)).close();
    // Back to the schema before 005, with secrets sealed by two keys (one after a rotation
    // that missed a secret sealed meanwhile).
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(
        "DROP TABLE catalog_key; DELETE FROM postout_migrations WHERE version = 5",
      );
      for (const [name, keyId, at] of [
        ["a", "aaaaaaaa", T0],
        ["b", "aaaaaaaa", T0],
        ["c", "bbbbbbbb", T0 + 1],
      ] as const) {
        await client.query(
          `INSERT INTO destination_catalog (name, base_url, client_id, sealed_secret, created_at,
             updated_at, version)
           VALUES ($1, 'https://123-ABC-456.mktorest.com', 'id', $2, $3, $3,
             nextval('destination_catalog_version_seq'))`,
          [name, `v1:${keyId}:iv:body:tag`, at],
        );
      }
    } finally {
      await client.end();
    }
    const store = await PostgresStore.open(url);
    try {
      const entry = (name: string, keyId: string): NewCatalogEntry => ({
        name,
        baseUrl: "https://123-ABC-456.mktorest.com",
        clientId: "id",
        secret: { sealed: `v1:${keyId}:iv:body:tag`, keyId },
        callsPer20s: undefined,
        concurrency: undefined,
        dailyBudget: undefined,
        markerField: undefined,
      });
      assert.deepEqual(await store.addCatalogEntry(entry("d", "bbbbbbbb"), T0 + 2), {
        catalogKey: "aaaaaaaa",
      });
      assert.ok("entry" in (await store.addCatalogEntry(entry("d", "aaaaaaaa"), T0 + 2)));
    } finally {
      await store.close();
    }
  });

  it("keeps a NUL a source or Marketo sent (PostgreSQL text cannot hold one) as U+FFFD, and finds it", async () => {
    const url = await cluster.createDatabase();
    const store = await PostgresStore.open(url);
    try {
      const { ids } = await store.addLeads(
        [{ ...lead(1), raw: { email: "a\0b@example.com" }, input: { email: "a\0b@example.com" } }],
        T0,
      );
      const id = ids[0] as number;
      assert.equal((await store.getLead(id))?.email, "a\uFFFDb@example.com");
      assert.deepEqual(
        (await store.getLead(id))?.raw,
        { email: "a\0b@example.com" },
        "raw as received",
      );
      const found = await store.listLeads({ email: "a\0b" }, { limit: 10 });
      assert.deepEqual(
        found.leads.map((l) => l.id),
        [id],
      );
      await store.claimDue("main", { now: T0, limit: 1, worker: "w", leaseMs: 60_000 });
      await store.recordAttempts([
        {
          leadId: id,
          step: "lead",
          at: T0 + 1,
          endpoint: "/rest/v1/leads.json",
          request: {},
          response: { reasons: [{ message: "bad\0value" }] },
          requestId: "r\0",
          statusCode: "1001",
          reason: "Invalid value\0 for field",
          durationMs: 3,
          status: "needs_fix",
          fix: "fix\0it",
        },
      ]);
      const [attempt] = await store.getAttempts(id);
      assert.equal(attempt?.reason, "Invalid value\uFFFD for field");
      assert.deepEqual(attempt?.response, { reasons: [{ message: "bad\0value" }] });
      assert.equal((await store.getLead(id))?.fix, "fix\uFFFDit");
    } finally {
      await store.close();
    }
  });

  it("a stopped server: open, health and intake answer 'unreachable' without the password; started again, healthy", async () => {
    const url = await cluster.createDatabase();
    // Trust authentication ignores the password; it is there to be kept out of messages.
    const withPassword = url.replace("postgres@", "postgres:s3cret-pw@");
    const store = await PostgresStore.open(withPassword);
    try {
      assert.equal(await store.health({ probe: true }), undefined);
      cluster.stop();
      const sick = await store.health({ probe: true });
      assert.equal(sick?.code, "unreachable");
      assert.ok(!sick.message.includes("s3cret-pw"), sick.message);
      assert.ok(sick.message.includes("postgres:***@127.0.0.1"), sick.message);
      await assert.rejects(
        store.addLeads([lead(1)], T0),
        (error: unknown) => isStoreError(error) && error.code === "unreachable",
      );
      assert.equal((await store.health())?.code, "unreachable", "failing without a probe too");
      await assert.rejects(
        PostgresStore.open(withPassword),
        (error: unknown) =>
          isStoreError(error) &&
          error.code === "unreachable" &&
          !error.message.includes("s3cret-pw") &&
          !error.path.includes("s3cret-pw"),
      );

      cluster.start();
      assert.equal(await store.health(), undefined);
      assert.equal((await store.addLeads([lead(1)], T0)).accepted, 1);
    } finally {
      cluster.start();
      await store.close();
    }
  });
});

describe("PostgreSQL store: a post-out log row's bounds, as on SQLite", () => {
  it("a hostile answer (200 KB reason, response, request id, code) costs kilobytes, cut and marked", async () => {
    const store = await PostgresStore.open(await cluster.createDatabase());
    try {
      const { ids } = await store.addLeads([lead(1)], T0);
      const id = ids[0] as number;
      await store.claimDue("main", { now: T0, limit: 1, worker: "w", leaseMs: 60_000 });
      const huge = "x".repeat(200_000);
      await store.recordAttempts(
        [
          {
            leadId: id,
            step: "lead",
            at: T0 + 1,
            endpoint: "/rest/v1/leads.json",
            request: {},
            response: { reasons: [{ message: huge }] },
            requestId: huge,
            statusCode: `9${huge}`,
            reason: huge,
            durationMs: 3,
            status: "needs_fix",
            fix: huge,
          },
        ],
        [{ ...CALL_AGAIN, leadId: id, n: 1, reason: huge, response: huge, requestId: huge }],
      );
      const attempts = await store.getAttempts(id);
      assert.equal(attempts.length, 2);
      for (const a of attempts) {
        assert.ok((a.reason ?? "").length < ROW_BOUNDS.reason + 40, "reason");
        assert.match(a.reason ?? "", /\[cut [\d,]+ chars\]/);
        assert.ok(JSON.stringify(a.response).length <= ROW_BOUNDS.response + 40, "response");
        assert.ok((a.requestId ?? "").length < ROW_BOUNDS.requestId + 40, "request id");
      }
      assert.ok((attempts[1]?.statusCode ?? "").length < ROW_BOUNDS.statusCode + 40, "code");
      const row = await store.getLead(id);
      assert.ok((row?.lastReason ?? "").length < ROW_BOUNDS.reason + 40);
      assert.ok((row?.fix ?? "").length < ROW_BOUNDS.fix + 40);
      assert.ok((row?.lastCode ?? "").length < ROW_BOUNDS.statusCode + 40);
    } finally {
      await store.close();
    }
  });
});

describe("PostgreSQL store: destination leases balanced by several processes at once", () => {
  it("3 processes balancing 20 destinations at once, one stopping and coming back, all pausing: never two owners, all owned, fair once settled", async () => {
    const url = await cluster.createDatabase();
    // Three pools: three processes, each one worker.
    const stores = await Promise.all([1, 2, 3].map(() => PostgresStore.open(url)));
    const workers = ["w1", "w2", "w3"];
    const D = Array.from({ length: 20 }, (_, i) => `d${String(i).padStart(2, "0")}`);
    const LEASE = 3_000;
    const STEP = 1_000;
    const ROUNDS = 56;
    /** Rounds w3 sits out: no heartbeat, balance or claim (a pause, then for good: a crash). */
    const w3Away = (round: number) =>
      (round >= 15 && round < 24) || (round >= 34 && round < 40) || round >= 44;
    /**
     * Before these rounds every process pauses beyond its leases (the database was away) and
     * those not away come back at once: without w3, the other two are under their share, each
     * renewing its own expired leases while taking the other's.
     */
    const GAPS = [28, 34, 44];
    const timeAt = (round: number) =>
      T0 + round * STEP + GAPS.filter((g) => g <= round).length * 2 * LEASE;
    // Any change (w3 away or back, a gap) is settled within 8 rounds.
    const CHANGES = [15, 24, 28, 34, 40, 44];
    const settledAt = (round: number) =>
      round >= 5 && !CHANGES.some((c) => round >= c && round < c + 8);
    // Who holds each destination, as balance answered, and until when.
    const held = new Map<string, { worker: string; until: number }>();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await stores[0]?.addLeads(
        D.map((d, i) => lead(i, d)),
        T0,
      );
      for (let round = 0; round < ROUNDS; round++) {
        const now = timeAt(round);
        const active = w3Away(round) ? [0, 1] : [0, 1, 2];
        await Promise.all(
          active.map((i) => stores[i]?.heartbeat(workers[i] as string, now, LEASE)),
        );
        const answers = await Promise.all(
          active.map(async (i) => {
            const store = stores[i] as PostgresStore;
            const worker = workers[i] as string;
            const owned = await store.balance(worker, D, now, LEASE);
            // An owner claims its destinations' leads with a lead lease far beyond the
            // destination lease: a takeover must hand them back.
            for (const d of owned)
              await store.claimDue(d, { now, limit: 5, worker, leaseMs: 600_000 });
            return [worker, owned] as const;
          }),
        );
        // A destination a worker no longer answers, it gave up: its lease ended then.
        for (const [worker, owned] of answers)
          for (const [d, h] of held) if (h.worker === worker && !owned.includes(d)) held.delete(d);
        for (const [worker, owned] of answers) {
          for (const d of owned) {
            const before = held.get(d);
            assert.ok(
              !before || before.worker === worker || before.until <= now,
              `round ${round}: ${d} answered to ${worker} while ${before?.worker}'s lease runs to ${before?.until}`,
            );
            held.set(d, { worker, until: now + LEASE });
          }
        }
        const { rows } = await client.query<{ destination: string; owner: string }>(
          "SELECT destination, owner FROM destination_leases ORDER BY destination",
        );
        const table = new Map(rows.map((r) => [r.destination, r.owner]));
        for (const [worker, owned] of answers)
          for (const d of owned)
            assert.equal(table.get(d), worker, `round ${round}: ${d} in the table`);
        // A lead's claim is held by its destination's owner (or by the last one, while nobody
        // has taken the destination it gave up): taking a destination takes its claims back.
        const sending = await client.query<{ destination: string; claimed_by: string }>(
          "SELECT destination, claimed_by FROM leads WHERE status = 'sending'",
        );
        for (const l of sending.rows) {
          const owner = table.get(l.destination);
          assert.ok(
            owner === undefined || owner === l.claimed_by,
            `round ${round}: a lead of ${l.destination} claimed by ${l.claimed_by}, owned by ${owner}`,
          );
        }
        if (!settledAt(round)) continue;
        const all = answers.flatMap(([, owned]) => owned);
        assert.deepEqual([...all].sort(), D, `round ${round}: every destination owned, once`);
        const shares = answers.map(([, owned]) => owned.length);
        assert.ok(
          Math.max(...shares) - Math.min(...shares) <= 1,
          `round ${round}: shares ${shares.join("/")}`,
        );
      }
      // w3's claims went back with its destinations and were claimed again by the new owners.
      const left = await client.query("SELECT id FROM leads WHERE claimed_by = 'w3'");
      assert.equal(left.rowCount, 0);
    } finally {
      await client.end();
      await Promise.all(stores.map((s) => s.close()));
    }
    // Balances wait for each other; none was undone by a deadlock (and silently run again).
    // The processes' connections are closed: their statistics are in.
    const stats = new pg.Client({ connectionString: url });
    await stats.connect();
    try {
      const { rows } = await stats.query<{ deadlocks: string }>(
        "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()",
      );
      assert.equal(Number(rows[0]?.deadlocks), 0, "deadlocks");
    } finally {
      await stats.end();
    }
  });

  it("a round recorded while another process takes its destination over: each lead is decided by one of them, never sent by both", async () => {
    const url = await cluster.createDatabase();
    const [a, b] = await Promise.all([PostgresStore.open(url), PostgresStore.open(url)]);
    const LEASE = 10_000;
    try {
      for (let round = 0; round < 20; round++) {
        const d = `r${round}`;
        const start = T0 + round * 100_000;
        const { ids } = await a.addLeads(
          Array.from({ length: 40 }, (_, i) => lead(round * 100 + i, d)),
          start,
        );
        await a.heartbeat("a", start, LEASE);
        assert.deepEqual(await a.balance("a", [d], start, LEASE), [d]);
        await a.claimDue(d, { now: start, limit: 40, worker: "a", leaseMs: 600_000 });
        // a's round answers after its destination lease ran out, just as b takes over and claims.
        const later = start + LEASE + 1;
        // Started a little later round by round, so either may come first.
        const record = delay(round % 5).then(() =>
          a.recordAttempts(
            ids.map((id) => ({
              leadId: id,
              step: "lead" as const,
              at: later,
              endpoint: "/rest/v1/leads.json",
              request: {},
              response: undefined,
              requestId: undefined,
              statusCode: "200",
              reason: undefined,
              durationMs: 1,
              status: "delivered" as const,
              marketoId: id,
            })),
            [],
            { worker: "a" },
          ),
        );
        const takeOver = (async () => {
          await b.heartbeat("b", later, LEASE);
          await b.balance("b", [d], later, LEASE);
          return b.claimDue(d, { now: later, limit: 40, worker: "b", leaseMs: 600_000 });
        })();
        const [, claimedByB] = await Promise.all([record, takeOver]);
        // A lead given back while a's record held it was skipped by b's claim: b's next takes it.
        const next = await b.claimDue(d, { now: later, limit: 40, worker: "b", leaseMs: 600_000 });
        const toB = new Set([...claimedByB, ...next].map((l) => l.id));
        for (const id of ids) {
          const row = await b.getLead(id);
          const log = (await b.getAttempts(id)).map((x) => x.outcome);
          if (toB.has(id)) {
            assert.equal(row?.status, "sending", `round ${round}: lead ${id} is b's to send`);
            assert.deepEqual(log, ["sending"], `round ${round}: a's answer logged, not deciding`);
          } else {
            assert.equal(row?.status, "delivered", `round ${round}: lead ${id} decided by a`);
            assert.deepEqual(log, ["delivered"]);
          }
        }
        await a.releaseWorker("a");
        await b.releaseWorker("b");
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
