import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { Dispatcher } from "../src/dispatcher.ts";
import { intakeKey } from "../src/gateway.ts";
import type { Route } from "../src/route.ts";
import { PostgresStore } from "../src/store/postgres/postgres-store.ts";
import { type ClaimedLead, LeaseLostError, type Store } from "../src/store/store.ts";
import { StoreWrites } from "../src/store-writes.ts";
import { onceLead, onceRig } from "./once-rig.ts";
import { type PostgresCluster, startCluster } from "./postgres-cluster.ts";
import { withMethods } from "./store-override.ts";

const T0 = Date.parse("2026-12-01T12:00:00Z");

// Red-team review of the pipelined rounds (Dispatcher.rounds: a round's record is written while
// the next round is claimed and sent), the grouped wire marks (StoreWrites) and the intake/pause changes since d52e44f.
// Findings 1–4 were fixed with this file; finding 5 (older than the pipeline) is a todo test. The
// others are attacks the change held.

const CREATE_DUPLICATE: Route = {
  endpoint: "syncLeads",
  action: "createDuplicate",
  lookupField: "email",
};
const UPSERT: Route = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };

/**
 * The store with a record that takes `delayMs` (as on PostgreSQL over a network: SQLite's record
 * is synchronous, so with it the next round never overlaps) and that fails the first `fail`
 * times; claims are logged by lead id.
 */
function slowRecord(store: Store, options: { delayMs?: number; fail?: number } = {}) {
  const claims: number[][] = [];
  let fail = options.fail ?? 0;
  const proxy = withMethods(store, {
    recordAttempts: async (...args) => {
      if (fail > 0) {
        fail -= 1;
        throw new Error("Connection terminated unexpectedly");
      }
      await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 0));
      await store.recordAttempts(...args);
    },
    claimDue: async (...args) => {
      const claimed: ClaimedLead[] = await store.claimDue(...args);
      claims.push(claimed.map((l) => l.id));
      return claimed;
    },
  });
  return { store: proxy, claims };
}

/** A fetch whose first Sync Leads call is answered 611 (a transient system error); the rest pass. */
function firstSync611() {
  let failed = false;
  return {
    failed: () => failed,
    fetch: (async (url: string | URL | Request, init?: RequestInit) => {
      const sync =
        init?.method === "POST" && new URL(String(url)).pathname === "/rest/v1/leads.json";
      if (sync && !failed) {
        failed = true;
        return Response.json({
          requestId: "x#1",
          success: false,
          errors: [{ code: "611", message: "System error" }],
        });
      }
      return fetch(url, init);
    }) as typeof fetch,
  };
}

/**
 * Drains one new lead on `store` with retries due at once (a 611 makes it due again right away):
 * answers the lead as drain() left it.
 */
async function drainOneDue(r: ReturnType<ReturnType<typeof onceRig>>, store: Store, email: string) {
  const { ids } = await store.addLeads([onceLead(UPSERT, { email }, "k1")], r.now());
  const dispatcher = new Dispatcher({
    store,
    destination: "main",
    client: r.client,
    worker: "w-drain",
    now: r.now,
    policy: { retryScheduleMs: [0, 0, 0] },
  });
  await dispatcher.drain();
  return store.getLead(ids[0] as number);
}

describe("red team: pipelined rounds", () => {
  const rig = onceRig(21);

  // Finding 1, fixed (high): a record that fails while the next round is being claimed and sent is a
  // promise nobody awaits yet: Node reports an unhandled rejection, which under Node's default
  // (--unhandled-rejections=throw) kills the whole gateway process. `serve` installs no
  // unhandledRejection handler, so one transient store error (a PostgreSQL connection reset, a
  // SQLITE_BUSY) in a record takes every destination of the process down, where before the
  // change it reached Scheduler.onError and the process went on.
  it("a record that fails while the next round sends is not an unhandled rejection", async () => {
    const r = rig();
    const { store, claims } = slowRecord(r.store, { fail: 1 });
    const { ids } = await r.store.addLeads(
      [1, 2].map((i) => onceLead(UPSERT, { email: `p${i}@example.com` }, `k${i}`)),
      r.now(),
    );
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    // Our listener replaces Node's default (crash the process), so the test can see it.
    process.on("unhandledRejection", onUnhandled);
    let thrown: unknown;
    try {
      const dispatcher = new Dispatcher({
        store,
        destination: "main",
        client: r.client,
        worker: "w-fail",
        now: r.now,
        claimLimit: 1,
      });
      await dispatcher.drain().catch((error: unknown) => {
        thrown = error;
      });
      // Let Node's unhandled-rejection check run.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    assert.match(
      String(thrown),
      /Connection terminated/,
      "the record's error is surfaced by drain",
    );
    assert.deepEqual(
      unhandled.map(String),
      [],
      "no unhandled rejection: under Node's default it would kill the process",
    );
    // A second round that was sent is recorded though the first record failed.
    if (claims.length >= 2) {
      assert.equal((await r.store.getLead(ids[1] as number))?.status, "delivered");
    }
  });

  // Finding 2, fixed (low): drain() stops when a claim finds nothing due, but that claim ran while the
  // previous round's record was still being written, so a lead that record put back due now (a
  // retry schedule starting at 0, e.g. a perCode override) is not claimed: drain resolves with
  // a lead due, unsent. Before the change drain claimed again after the record and sent it.
  // (Only with a record that takes time, i.e. PostgreSQL; SQLite's record is synchronous.)
  it("drain() does not return while a lead its last record made due now is unsent", async () => {
    const answers = firstSync611();
    const r = rig({ fetch: answers.fetch });
    const { store, claims } = slowRecord(r.store, { delayMs: 30 });
    const row = await drainOneDue(r, store, "due@example.com");
    assert.ok(answers.failed(), "the first call was answered 611");
    assert.equal(
      row?.status,
      "delivered",
      `drain resolved with the lead ${row?.status} (${row?.lastCode}), due at ${row?.nextAt} (now ${r.now()}); claims ${JSON.stringify(claims)}`,
    );
  });

  // Held: round N creates a Marketo person for lead A (createDuplicate), its record still being
  // written; round N+1 claims lead B, cut off by a dead process, with the same email and fields.
  // B's verification must not take A's person: the next round waits for the record because B is
  // on the wire. Without that wait B would be "delivered" with A's Marketo id and never created.
  it("a cut-off createDuplicate lead verified in round N+1 does not take the person round N created", async () => {
    const r = rig();
    const fields = { email: "same@example.com", firstName: "Same", lastName: "Person" };
    const { ids } = await r.store.addLeads(
      [onceLead(CREATE_DUPLICATE, fields, "a"), onceLead(CREATE_DUPLICATE, fields, "b")],
      r.now(),
    );
    const [a, b] = ids as number[];
    await r.diedWithCallOut([b as number], "lead");
    r.settle();
    const { store, claims } = slowRecord(r.store, { delayMs: 200 });
    const dispatcher = new Dispatcher({
      store,
      destination: "main",
      client: r.client,
      worker: "w-dup",
      now: r.now,
      claimLimit: 1,
    });
    await dispatcher.drain();
    assert.deepEqual(claims.slice(0, 2), [[a], [b]], "A in round N, B in round N+1");
    const rowA = await r.store.getLead(a as number);
    const rowB = await r.store.getLead(b as number);
    assert.equal(rowA?.status, "delivered");
    assert.equal(rowB?.status, "delivered");
    assert.notEqual(rowA?.marketoId, rowB?.marketoId, "each lead has its own Marketo person");
    assert.equal((await r.byEmail("same@example.com")).length, 2, "two persons, once each");
  });

  // Finding 5, open (medium, pre-existing, not caused by this change; the pipeline keeps it): a cut-off
  // Push Lead is proven by any Push Lead activity of the same person and program dated after its
  // call. Only this round's activities are excluded (ctx.attributed.activities); nothing stored
  // says which activity an earlier round's lead made. Lead A (pushed in round N) and lead B (the
  // same email and program, cut off by a dead process before its call reached Marketo, claimed
  // in round N+1): B takes A's push and is "delivered" without ever being pushed.
  it("a cut-off Push Lead in round N+1 does not take the push round N made for another lead", {
    todo: "verification of a Push Lead accepts any later push of the person into the program; storing the push activity ids credited to each lead (as created lead ids are) and excluding them would close it",
  }, async () => {
    const r = rig();
    const push: Route = { endpoint: "pushLeads", programName: "2026 Q3 Product Webinar" };
    const { ids } = await r.store.addLeads(
      [
        onceLead(push, { email: "twice@example.com", firstName: "A" }, "a"),
        onceLead(push, { email: "twice@example.com", firstName: "B" }, "b"),
      ],
      r.now(),
    );
    const [a, b] = ids as number[];
    await r.diedWithCallOut([b as number], "lead");
    r.settle();
    const { store, claims } = slowRecord(r.store);
    const dispatcher = new Dispatcher({
      store,
      destination: "main",
      client: r.client,
      worker: "w-push",
      now: r.now,
      claimLimit: 1,
    });
    await dispatcher.drain();
    assert.deepEqual(claims.slice(0, 2), [[a], [b]]);
    const rowB = await r.store.getLead(b as number);
    const person = (await r.byEmail("twice@example.com"))[0]?.id as number;
    assert.deepEqual(
      await r.activitiesPerLead(145, [person]),
      [2],
      `two leads pushed, two pushes (lead B: ${rowB?.status}, "${rowB?.lastReason}")`,
    );
  });

  // Held: a 603 (access denied) pause in round N, with the record slow: round N+1 waits for it.
  it("a 603 in round N pauses before round N+1 is claimed; nothing more is sent", async () => {
    const r = rig();
    r.sandbox.faults.add({ code: "603", endpoint: "/rest/v1/leads.json", count: 1 });
    const { store, claims } = slowRecord(r.store, { delayMs: 100 });
    const { ids } = await r.store.addLeads(
      [1, 2, 3].map((i) => onceLead(UPSERT, { email: `q${i}@example.com` }, `k${i}`)),
      r.now(),
    );
    const dispatcher = new Dispatcher({
      store,
      destination: "main",
      client: r.client,
      worker: "w-603",
      now: r.now,
      claimLimit: 1,
    });
    await dispatcher.drain();
    assert.equal(claims.filter((c) => c.length > 0).length, 1, "one round sent");
    assert.equal(r.sandbox.state().leads, 0);
    const rows = await Promise.all(ids.map((id) => r.store.getLead(id as number)));
    assert.deepEqual(
      rows.map((row) => row?.attempts),
      [1, 0, 0],
    );
  });
});

describe("red team: intake while paused, intake keys", () => {
  const rig = onceRig(23);

  // Held: a lead accepted while the destination is paused until resumed (401) waits paused, and
  // is sent once a person resumes; a lead accepted when the pause ends exactly now is queued.
  it("paused at intake, sent after a resume; a pause ending exactly now does not hold intake", async () => {
    const r = rig();
    await r.store.setDestinationPause(
      "main",
      { until: Number.MAX_SAFE_INTEGER, code: "401", reason: "bad credentials" },
      r.now(),
    );
    const { ids } = await r.store.addLeads(
      [onceLead(UPSERT, { email: "held@example.com" }, "k1")],
      r.now(),
    );
    const held = await r.store.getLead(ids[0] as number);
    assert.deepEqual([held?.status, held?.nextAt], ["paused", Number.MAX_SAFE_INTEGER]);
    await r.dispatcher.drain();
    assert.equal(r.sandbox.state().leads, 0);
    await r.store.setDestinationPause("main", undefined, r.now());
    await r.store.resumeDestination("main", r.now());
    await r.dispatcher.drain();
    assert.equal((await r.store.getLead(ids[0] as number))?.status, "delivered");
    // A pause that ends at this very moment: intake and claim agree it is over.
    const t = r.now();
    await r.store.setDestinationPause("main", { until: t, code: "607", reason: "quota" }, t - 1000);
    const later = await r.store.addLeads(
      [onceLead(UPSERT, { email: "edge@example.com" }, "k2")],
      t,
    );
    assert.equal((await r.store.getLead(later.ids[0] as number))?.status, "queued");
  });

  // Held: intakeKey now hashes one string with crypto.hash; the keys are the ones
  // createHash().update() gave before, also for lone surrogates and NUL in raw rows.
  it("intake keys are unchanged by the crypto.hash rewrite", () => {
    const route: Route = UPSERT;
    for (const raw of [{ a: "x" }, { a: "\ud800" }, { a: "\u0000é😀" }, { b: 1, c: [null] }]) {
      const before = createHash("sha256")
        .update(JSON.stringify(route))
        .update("\u0000")
        .update(JSON.stringify(raw))
        .digest("hex")
        .slice(0, 40);
      assert.equal(intakeKey(route, raw), before);
      assert.equal(intakeKey(route, raw, { test: true }), `test:${before}`);
    }
  });
});

describe("red team: pipelined rounds, wire marks and email search on PostgreSQL", () => {
  const rig = onceRig(22);
  let cluster: PostgresCluster | undefined;
  const opened: PostgresStore[] = [];
  before(async () => {
    cluster = await startCluster();
  });
  after(async () => {
    for (const s of opened) await s.close().catch(() => {});
    cluster?.destroy();
  });
  async function pgStore(url?: string) {
    if (!cluster) throw new Error("the PostgreSQL cluster did not start");
    const at = url ?? (await cluster.createDatabase());
    const store = await PostgresStore.open(at);
    opened.push(store);
    return { store, url: at };
  }
  async function sql<T extends pg.QueryResultRow>(
    url: string,
    text: string,
    values: unknown[] = [],
  ) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  // FINDING 2's race on a real local PostgreSQL store (no delay added): here the record (one
  // transaction) commits before the next claim (health, pause read, claim: three round trips), so
  // it passes locally; with a database across a network or under load the race is FINDING 2's.
  it("(PostgreSQL) drain() does not return while a lead its last record made due now is unsent", async () => {
    const answers = firstSync611();
    const r = rig({ fetch: answers.fetch });
    const { store } = await pgStore();
    const row = await drainOneDue(r, store, "pgdue@example.com");
    assert.ok(answers.failed());
    assert.equal(
      row?.status,
      "delivered",
      `drain resolved with the lead ${row?.status} (${row?.lastCode})`,
    );
  });

  // Held: the cross-round createDuplicate attack with PostgreSQL's real, asynchronous record.
  it("(PostgreSQL) a cut-off createDuplicate lead in round N+1 does not take round N's person", async () => {
    const r = rig();
    const { store: pgs } = await pgStore();
    const fields = { email: "pgsame@example.com", firstName: "Same", lastName: "Person" };
    const { ids } = await pgs.addLeads(
      [onceLead(CREATE_DUPLICATE, fields, "a"), onceLead(CREATE_DUPLICATE, fields, "b")],
      r.now(),
    );
    const [a, b] = ids as number[];
    await pgs.balance("dead", ["main"], r.now(), 60_000);
    await pgs.claimDue("main", { now: r.now(), limit: 10, worker: "dead", leaseMs: 60_000 });
    await pgs.markOnWire([{ id: b as number }], {
      step: "lead",
      done: undefined,
      at: r.now(),
      worker: "dead",
    });
    await pgs.releaseClaims("main", { workers: ["dead"] });
    await pgs.releaseWorker("dead");
    r.settle();
    const { store, claims } = slowRecord(pgs);
    const dispatcher = new Dispatcher({
      store,
      destination: "main",
      client: r.client,
      worker: "w-pgdup",
      now: r.now,
      claimLimit: 1,
    });
    await dispatcher.drain();
    assert.deepEqual(claims.slice(0, 2), [[a], [b]]);
    const [rowA, rowB] = await Promise.all([pgs.getLead(a as number), pgs.getLead(b as number)]);
    assert.deepEqual([rowA?.status, rowB?.status], ["delivered", "delivered"]);
    assert.notEqual(rowA?.marketoId, rowB?.marketoId);
    assert.equal((await r.byEmail("pgsame@example.com")).length, 2);
  });

  // Held: merged wire marks on PostgreSQL (one statement, all or none) with one call's lead taken
  // by another worker: that call fails alone, nothing is marked for it, the others are marked.
  it("(PostgreSQL) a merged wire mark with a lost lead marks the others and fails that call only", async () => {
    const { store, url } = await pgStore();
    const { ids } = await store.addLeads(
      [0, 1, 2].map((i) => onceLead(UPSERT, { email: `wm${i}@example.com` }, `k${i}`)),
      T0,
    );
    await store.balance("w", ["main"], T0, 60_000);
    await store.claimDue("main", { now: T0, limit: 10, worker: "w", leaseMs: 60_000 });
    // Lead 2's lease ran out and another worker took it.
    await sql(url, "UPDATE leads SET claimed_by = 'other' WHERE id = $1", [ids[2]]);
    const marks = new StoreWrites(store);
    const results = await Promise.allSettled(
      ids.map((id, i) =>
        marks.mark([{ id: id as number }], {
          step: "lead",
          done: undefined,
          at: T0 + 10 * (3 - i),
          worker: "w",
        }),
      ),
    );
    assert.deepEqual(
      results.map((x) => x.status),
      ["fulfilled", "fulfilled", "rejected"],
    );
    assert.ok((results[2] as PromiseRejectedResult).reason instanceof LeaseLostError);
    const rows = await sql<{ id: string; wire_step: string | null; wire_at: string | null }>(
      url,
      "SELECT id, wire_step, wire_at FROM leads ORDER BY id",
    );
    assert.deepEqual(
      rows.map((row) => [row.wire_step, row.wire_at === null ? null : Number(row.wire_at)]),
      // Retried alone, each keeps its own time (not the group's earliest).
      [
        ["lead", T0 + 30],
        ["lead", T0 + 20],
        [null, null],
      ],
    );
  });

  // Held: the one-statement MARK_ON_WIRE beside the lease renewal (rounds() renews all the
  // worker's leases every leaseMs/3 while marks are written): no spurious LeaseLostError.
  it("(PostgreSQL) wire marks concurrent with lease renewals never fail spuriously", async () => {
    const { store } = await pgStore();
    const { ids } = await store.addLeads(
      Array.from({ length: 40 }, (_, i) =>
        onceLead(UPSERT, { email: `rn${i}@example.com` }, `k${i}`),
      ),
      T0,
    );
    await store.balance("w", ["main"], T0, 60_000);
    await store.claimDue("main", { now: T0, limit: 100, worker: "w", leaseMs: 60_000 });
    let renewing = true;
    const renewals = (async () => {
      for (let i = 0; renewing; i++) await store.renewLeases("w", T0 + 60_000 + i);
    })();
    try {
      for (let pass = 0; pass < 30; pass++) {
        const marks = new StoreWrites(store);
        await Promise.all(
          ids.map((id) =>
            marks.mark([{ id: id as number }], {
              step: pass % 2 === 0 ? "lead" : "list",
              done: pass % 2 === 0 ? undefined : "lead",
              at: T0 + pass,
              worker: "w",
            }),
          ),
        );
      }
    } finally {
      renewing = false;
      await renewals;
    }
  });

  // Held: migration 004 on a database that already has leads: they are found by "email contains".
  it("(PostgreSQL) migration 004 on an existing database moves the emails of its leads", async () => {
    const { store, url } = await pgStore();
    await store.addLeads(
      [
        onceLead(UPSERT, { email: "Old.Person@Example.com" }, "k1"),
        onceLead(UPSERT, { firstName: "NoEmail" }, "k2"),
      ],
      T0,
    );
    await store.close();
    // Back to the schema before 004, as a database written by the previous release.
    await sql(
      url,
      `DROP TABLE lead_emails;
       DROP FUNCTION lead_emails_add() CASCADE;
       CREATE INDEX leads_email_trigram ON leads USING gin (email gin_trgm_ops);
       DELETE FROM postout_migrations WHERE version = 4`,
    );
    const { store: again } = await pgStore(url);
    const found = await again.listLeads({ email: "person@exa" }, { limit: 10 });
    assert.deepEqual(
      found.leads.map((l) => l.email),
      ["old.person@example.com"],
    );
    await again.addLeads([onceLead(UPSERT, { email: "new.person@example.com" }, "k3")], T0 + 1);
    assert.equal((await again.listLeads({ email: "person@" }, { limit: 10 })).leads.length, 2);
  });

  // Finding 4, fixed (high on PostgreSQL): intake reads the destination's pause in ADD_LEADS' snapshot.
  // A resume (dashboard/API: setDestinationPause(undefined) + RESUME_DESTINATION) that commits
  // while an intake statement is running does not see the intake's uncommitted rows, and the
  // intake still sees the pause: the lead is stored `paused` with next_at = the old pause's end
  // on a destination that is no longer paused. After a 401/603 that end is UNTIL_RESUMED
  // (Number.MAX_SAFE_INTEGER): the lead is never claimed, never sent, until someone pauses and
  // resumes again (after a 607 resumed early by hand, it waits until midnight). Before the change
  // intake wrote `queued` and the claim held it only while the pause was really on. With a
  // steady trickle of intake every resume races some intake statement. (SQLite serializes the
  // two and is not affected.) Here the intake is held mid-statement by a conflicting uncommitted
  // intake key, as another process's intake of the same key would.
  it("(PostgreSQL) a lead accepted while a resume commits is not left paused on an active destination", async () => {
    const r = rig();
    const { store, url } = await pgStore();
    await store.setDestinationPause(
      "main",
      { until: Number.MAX_SAFE_INTEGER, code: "401", reason: "bad credentials" },
      r.now(),
    );
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    let adding: Promise<unknown> | undefined;
    try {
      await other.query("BEGIN");
      await other.query(
        `INSERT INTO leads (destination, intake_key, route, route_key, raw, input, status, attempts,
           created_at, updated_at)
         VALUES ('main', 'k1', '{}', '{}', '{}', '{}', 'queued', 0, 0, 0)`,
      );
      adding = store.addLeads([onceLead(UPSERT, { email: "resume@example.com" }, "k1")], r.now());
      // The intake statement has its snapshot (paused) and waits on the uncommitted key.
      for (let i = 0; i < 100; i++) {
        const waiting = await sql<{ n: string }>(
          url,
          "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'WITH input%'",
        );
        if (Number(waiting[0]?.n) > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // A person resumes the destination (destinations-routes.ts, gateway.ts). It either ends
      // now (intake's pause read did not hold it) or waits for the intake to commit.
      let resumed = false;
      const resuming = (async () => {
        await store.setDestinationPause("main", undefined, r.now());
        await store.resumeDestination("main", r.now());
        resumed = true;
      })();
      for (let i = 0; i < 100 && !resumed; i++) {
        const waiting = await sql<{ n: string }>(
          url,
          "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INTO destinations%'",
        );
        if (Number(waiting[0]?.n) > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await other.query("ROLLBACK");
      await adding;
      await resuming;
    } finally {
      await other.end();
    }
    assert.equal((await store.getDestination("main"))?.pausedUntil, undefined, "not paused");
    const dispatcher = new Dispatcher({
      store,
      destination: "main",
      client: r.client,
      worker: "w-resume",
      now: r.now,
    });
    await dispatcher.drain();
    const [lead] = (await store.listLeads({}, { limit: 10 })).leads;
    assert.equal(
      lead?.status,
      "delivered",
      `the lead is ${lead?.status}, due at ${lead?.nextAt}, on a destination that is not paused`,
    );
  });

  // Finding 3, fixed (medium, deployments of several processes): nothing but the new ADD_LEADS writes
  // lead_emails. A process of the previous release still running against the migrated database
  // (a rolling upgrade of the processes sharing PostgreSQL; nothing refuses a schema newer than
  // the code) inserts leads into `leads` only, as its ADD_LEADS did: they are never found by
  // "email contains" (dashboard search, repost by filter), and no later migration backfills them.
  it("(PostgreSQL) a lead written into leads without lead_emails (previous release) is still found by email", async () => {
    const { store, url } = await pgStore();
    await store.addLeads([onceLead(UPSERT, { email: "new@example.com" }, "k1")], T0);
    // What the previous release's ADD_LEADS wrote: the lead row alone.
    await sql(
      url,
      `INSERT INTO leads (id, destination, intake_key, route, route_key, raw, input, email, status,
         attempts, next_at, created_at, updated_at)
       SELECT nextval('leads_id_seq'), 'main', 'old-release', route, route_key,
         raw, '{"email":"old@example.com"}', 'old@example.com', 'queued', 0, $1, $1, $1
       FROM leads LIMIT 1`,
      [T0],
    );
    const found = await store.listLeads({ email: "old@example" }, { limit: 10 });
    assert.equal(
      found.leads.length,
      1,
      "the lead accepted by a process of the previous release is found",
    );
  });
});
