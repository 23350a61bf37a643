import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import type { Route } from "../src/route.ts";
import { PostgresStore } from "../src/store/postgres/postgres-store.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.ts";
import { LeaseLostError, type NewLead } from "../src/store/store.ts";
import { StoreWrites } from "../src/store-writes.ts";
import { type PostgresCluster, startCluster } from "./postgres-cluster.ts";
import { withMethods } from "./store-override.ts";

// Red team of the group commit (GroupWrites, StoreWrites): where merging requests of several
// destinations or rounds into one write breaks a guarantee each request has alone.

const SYNC: Route = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };
const T0 = Date.parse("2026-12-01T12:00:00Z");
const lead = (key: string, destination: string): NewLead => ({
  destination,
  route: SYNC,
  raw: { Email: `${key}@example.com` },
  input: { email: `${key}@example.com` },
  intakeKey: key,
});

const dir = mkdtempSync(join(tmpdir(), "postout-redteam-gw-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const freshPath = () => join(dir, `s${Math.random().toString(36).slice(2)}.db`);

/** Rows of the file as another connection reads them. */
function query(path: string, sql: string, ...params: unknown[]): unknown[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).all(...params);
  } finally {
    db.close();
  }
}

describe("red team: claims of several destinations written together (SQLite)", () => {
  it("a merged claim that fails for one destination leaves no other destination's leads claimed by nobody's round", async () => {
    const path = freshPath();
    const store = new SqliteStore(path);
    await store.addLeads(
      [lead("a1", "a"), lead("a2", "a"), lead("a3", "a"), lead("b1", "b"), lead("b2", "b")],
      T0,
    );
    // Destination b's claim is refused by the database (a stand-in for any error of one
    // destination's rows: a corrupt page, a constraint, a disk full mid-statement).
    const admin = new Database(path);
    admin.exec(`CREATE TRIGGER refuse_b BEFORE UPDATE OF status ON leads
      WHEN NEW.destination = 'b' AND NEW.status = 'sending'
      BEGIN SELECT RAISE(ABORT, 'b refused'); END`);
    admin.close();
    const writes = new StoreWrites(store);
    const options = { now: T0 + 1, limit: 2, worker: "w", leaseMs: 300_000 };
    const [a, b] = await Promise.allSettled([
      writes.claim("a", options),
      writes.claim("b", options),
    ]);
    assert.equal(b.status, "rejected");
    assert.equal(a.status, "fulfilled");
    const handed = (a as PromiseFulfilledResult<{ id: number }[]>).value.map((l) => l.id).sort();
    // Every lead the store holds as sending for worker w must be one its round was given: a lead
    // claimed but handed to no round stays `sending` while w lives (its lease is renewed by w's
    // other rounds), so it is never sent nor given back until the process restarts.
    const sending = (
      query(
        path,
        "SELECT id FROM leads WHERE destination = 'a' AND status = 'sending' ORDER BY id",
      ) as { id: number }[]
    ).map((r) => r.id);
    assert.deepEqual(sending, handed);
    await store.close();
  });
});

describe("red team: wire marks of several destinations written together (SQLite)", () => {
  it("a mark merged with an earlier one is still fenced at its own time: a lease that ran out before it refuses the call", async () => {
    const path = freshPath();
    const store = new SqliteStore(path);
    const { ids } = await store.addLeads([lead("m1", "main"), lead("o1", "other")], T0);
    const [main, other] = ids as [number, number];
    // w holds both leases until T0 + 10 s, then renews main only: other's lease ends at T0 + 10 s.
    await store.balance("w", ["main", "other"], T0, 10_000);
    await store.balance("w", ["main"], T0 + 9_000, 10_000);
    for (const d of ["main", "other"])
      await store.claimDue(d, { now: T0 + 1, limit: 10, worker: "w", leaseMs: 300_000 });
    const mark = (at: number) => ({ step: "lead" as const, done: undefined, at, worker: "w" });
    // Alone, other's call at T0 + 20 s is refused: w no longer holds other's lease then.
    const alone = new StoreWrites(store);
    await assert.rejects(alone.mark([{ id: other }], mark(T0 + 20_000)), LeaseLostError);
    // The same call, asked in the same turn as a call of main made at T0 + 5 s (both waited
    // behind a slow write), must be refused all the same.
    const writes = new StoreWrites(store);
    const [m, o] = await Promise.allSettled([
      writes.mark([{ id: main }], mark(T0 + 5_000)),
      writes.mark([{ id: other }], mark(T0 + 20_000)),
    ]);
    assert.equal(m.status, "fulfilled");
    assert.equal(o.status, "rejected", "other's call would leave with its lease run out");
    assert.ok((o as PromiseRejectedResult).reason instanceof LeaseLostError);
    await store.close();
  });
});

describe("red team: a write that does not settle (SQLite)", () => {
  // Bounded by the test's timeout, not by a deadline: a busy machine only makes it slower.
  it("an intake write that hangs does not hold up another request's intake", {
    timeout: 60_000,
  }, async () => {
    const store = new SqliteStore(freshPath());
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let first = true;
    const slow = withMethods(store, {
      addLeads: async (leads, now) => {
        if (first) {
          first = false;
          await held;
        }
        return store.addLeads(leads, now);
      },
    });
    const writes = new StoreWrites(slow);
    const stuck = writes.add([lead("x1", "a")], T0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    let stuckSettled = false;
    void stuck.finally(() => {
      stuckSettled = true;
    });
    // Stored while the first write still hangs (were it held up, this would wait for ever).
    await writes.add([lead("y1", "b")], T0 + 1);
    assert.equal(stuckSettled, false, "the first write still hangs");
    release();
    await stuck;
    await store.close();
  });
});

describe("red team: group commit on PostgreSQL", () => {
  let cluster: PostgresCluster | undefined;
  const opened: PostgresStore[] = [];
  before(async () => {
    cluster = await startCluster();
  });
  after(async () => {
    for (const s of opened) await s.close().catch(() => {});
    cluster?.destroy();
  });
  async function pgStore() {
    if (!cluster) throw new Error("the PostgreSQL cluster did not start");
    const url = await cluster.createDatabase();
    const store = await PostgresStore.open(url);
    opened.push(store);
    return { store, url };
  }
  async function sql(url: string, text: string, values: unknown[] = []) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  it("a merged claim refused for one destination claims nothing of the others (one statement)", async () => {
    const { store, url } = await pgStore();
    await store.addLeads(
      [lead("a1", "a"), lead("a2", "a"), lead("a3", "a"), lead("b1", "b"), lead("b2", "b")],
      T0,
    );
    await sql(
      url,
      `CREATE FUNCTION refuse_b() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'b refused'; END $$;
       CREATE TRIGGER refuse_b BEFORE UPDATE ON leads FOR EACH ROW
       WHEN (NEW.destination = 'b' AND NEW.status = 'sending') EXECUTE FUNCTION refuse_b();`,
    );
    const writes = new StoreWrites(store);
    const options = { now: T0 + 1, limit: 2, worker: "w", leaseMs: 300_000 };
    const [a, b] = await Promise.allSettled([
      writes.claim("a", options),
      writes.claim("b", options),
    ]);
    assert.equal(b.status, "rejected");
    assert.equal(a.status, "fulfilled");
    const handed = (a as PromiseFulfilledResult<{ id: number }[]>).value.map((l) => l.id).sort();
    const sending = (
      await sql(
        url,
        "SELECT id FROM leads WHERE destination = 'a' AND status = 'sending' ORDER BY id",
      )
    ).map((r) => Number(r.id));
    assert.deepEqual(sending, handed);
    assert.equal(handed.length, 2);
  });

  it("a mark merged with an earlier one is fenced at its own time on PostgreSQL too", async () => {
    const { store } = await pgStore();
    const { ids } = await store.addLeads([lead("m1", "main"), lead("o1", "other")], T0);
    const [main, other] = ids as [number, number];
    await store.balance("w", ["main", "other"], T0, 10_000);
    await store.balance("w", ["main"], T0 + 9_000, 10_000);
    for (const d of ["main", "other"])
      await store.claimDue(d, { now: T0 + 1, limit: 10, worker: "w", leaseMs: 300_000 });
    const mark = (at: number) => ({ step: "lead" as const, done: undefined, at, worker: "w" });
    const writes = new StoreWrites(store);
    const [m, o] = await Promise.allSettled([
      writes.mark([{ id: main }], mark(T0 + 5_000)),
      writes.mark([{ id: other }], mark(T0 + 20_000)),
    ]);
    assert.equal(m.status, "fulfilled");
    assert.equal(o.status, "rejected", "other's call would leave with its lease run out");
    assert.ok((o as PromiseRejectedResult).reason instanceof LeaseLostError);
  });

  it("an intake that waits on one destination's lock does not hold up another destination's intake", {
    timeout: 60_000,
  }, async () => {
    const { store, url } = await pgStore();
    // Destination a is paused: intake of a reads its pause FOR SHARE (ADD_LEADS).
    await store.setDestinationPause(
      "a",
      { until: T0 + 3_600_000, code: "607", reason: "daily quota" },
      T0,
    );
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    await locker.query("BEGIN");
    await locker.query("SELECT 1 FROM destinations WHERE name = 'a' FOR UPDATE");
    const writes = new StoreWrites(store);
    const stuck = writes.add([lead("x1", "a")], T0 + 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    let stuckSettled = false;
    void stuck.finally(() => {
      stuckSettled = true;
    });
    // b's lead is stored while a's intake waits on the lock.
    await writes.add([lead("y1", "b")], T0 + 2);
    assert.equal(stuckSettled, false, "a's intake still waits on the lock");
    await locker.query("ROLLBACK");
    await locker.end();
    await stuck;
  });

  /** Destination a paused, and its row locked by another connection: a's intake waits on it. */
  async function lockedDestination(url: string, store: PostgresStore) {
    await store.setDestinationPause(
      "a",
      { until: T0 + 3_600_000, code: "607", reason: "daily quota" },
      T0,
    );
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    await locker.query("BEGIN");
    await locker.query("SELECT 1 FROM destinations WHERE name = 'a' FOR UPDATE");
    return {
      release: async () => {
        await locker.query("ROLLBACK");
        await locker.end();
      },
    };
  }

  /** Until `ready` holds, checked every few milliseconds (bounded by the test's timeout). */
  async function until(ready: () => boolean) {
    while (!ready()) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /** `promise`, or a rejection when the test times out (so the lock is still let go). */
  function orTimeout<T>(signal: AbortSignal, promise: Promise<T>): Promise<T> {
    return Promise.race([
      promise,
      new Promise<never>((_, reject) =>
        signal.addEventListener(
          "abort",
          () => reject(new Error("held up until the test's timeout")),
          {
            once: true,
          },
        ),
      ),
    ]);
  }

  it("a second intake of the locked destination is not merged into the write that would store another destination's intake", {
    timeout: 60_000,
  }, async (t) => {
    const { store, url } = await pgStore();
    const lock = await lockedDestination(url, store);
    let started = 0;
    const counted = withMethods(store, {
      addLeads: (leads, now) => {
        started++;
        return store.addLeads(leads, now);
      },
    });
    const writes = new StoreWrites(counted);
    const stuck = [writes.add([lead("x1", "a")], T0 + 1)];
    await until(() => started === 1);
    // Both arrive while a's first intake waits on the lock: written together, b's lead would
    // wait on a's lock as well, for as long as it is held.
    stuck.push(writes.add([lead("x2", "a")], T0 + 2));
    try {
      await orTimeout(t.signal, writes.add([lead("y1", "b")], T0 + 2));
    } finally {
      await lock.release();
    }
    for (const r of await Promise.all(stuck)) assert.equal(r.accepted, 1);
  });

  it("intakes of the locked destination do not take every write slot from another destination's intake", {
    timeout: 60_000,
  }, async (t) => {
    const { store, url } = await pgStore();
    const lock = await lockedDestination(url, store);
    let started = 0;
    const counted = withMethods(store, {
      addLeads: (leads, now) => {
        started++;
        return store.addLeads(leads, now);
      },
    });
    const writes = new StoreWrites(counted);
    // Four intakes of a, one after another's write started (a client posting again, or four
    // clients): each waits on the lock.
    const stuck: Promise<unknown>[] = [];
    for (let i = 1; i <= 4; i++) {
      stuck.push(writes.add([lead(`x${i}`, "a")], T0 + i));
      // The next asks once this one's write started, or (held behind it) after a write's stuckMs.
      const before = started;
      await Promise.race([
        until(() => started > before),
        new Promise((resolve) => setTimeout(resolve, 1500)),
      ]);
    }
    try {
      await orTimeout(t.signal, writes.add([lead("y1", "b")], T0 + 5));
    } finally {
      await lock.release();
    }
    await Promise.all(stuck);
  });
});
