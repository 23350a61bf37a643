import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";
import type { Route } from "../src/route.ts";
import { StoreError } from "../src/store/errors.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.ts";
import { LeaseLostError, type NewLead } from "../src/store/store.ts";
import { StoreWrites } from "../src/store-writes.ts";
import { withMethods } from "./store-override.ts";

const SYNC: Route = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };
const T0 = Date.parse("2026-12-01T12:00:00Z");
const lead = (key: string, destination = "main"): NewLead => ({
  destination,
  route: SYNC,
  raw: { Email: `${key}@example.com` },
  input: { email: `${key}@example.com` },
  intakeKey: key,
});

describe("wire marks written together (group commit) on a real SQLite store", () => {
  const dir = mkdtempSync(join(tmpdir(), "postout-marks-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * A store with `n` leads, the first `claimed` of them claimed by worker "w", which holds the
   * destination's lease; its markOnWire calls are counted.
   */
  async function setup(n: number, claimed: number) {
    const path = join(dir, `m${Math.random().toString(36).slice(2)}.db`);
    const store = new SqliteStore(path);
    const { ids } = await store.addLeads(
      Array.from({ length: n }, (_, i) => ({
        destination: "main",
        route: SYNC,
        raw: { i },
        input: { email: `m${i}@example.com` },
        intakeKey: `k${i}`,
      })),
      T0,
    );
    await store.balance("w", ["main"], T0 + 1, 60_000);
    await store.claimDue("main", { now: T0 + 1, limit: claimed, worker: "w", leaseMs: 60_000 });
    const writes: number[] = [];
    const counted = withMethods(store, {
      markOnWire: (leads, mark) => {
        writes.push(leads.length);
        return store.markOnWire(leads, mark);
      },
    });
    /** The lead's wire mark as the file holds it. */
    const wire = (id: number) => {
      const db = new Database(path, { readonly: true });
      try {
        return db
          .prepare("SELECT wire_step AS step, wire_at AS at FROM leads WHERE id = ?")
          .get(id);
      } finally {
        db.close();
      }
    };
    return { marks: new StoreWrites(counted), ids: ids as number[], writes, wire };
  }
  const mark = (at: number) => ({ step: "lead" as const, done: undefined, at, worker: "w" });

  it("marks asked for together go to the store in one write, each with the latest time (the fence holds at every call's own time)", async () => {
    const { marks, ids, writes, wire } = await setup(3, 3);
    await Promise.all(ids.map((id, i) => marks.mark([{ id }], mark(T0 + 10 + i))));
    assert.deepEqual(writes, [3]);
    for (const id of ids) assert.deepEqual(wire(id), { step: "lead", at: T0 + 12 });
  });

  it("a lead no longer held fails its own call only: the others are marked and may leave", async () => {
    const { marks, ids, writes, wire } = await setup(3, 2);
    const results = await Promise.allSettled(ids.map((id) => marks.mark([{ id }], mark(T0 + 10))));
    assert.deepEqual(
      results.map((r) => r.status),
      ["fulfilled", "fulfilled", "rejected"],
    );
    assert.ok((results[2] as PromiseRejectedResult).reason instanceof LeaseLostError);
    // The merged write rolled back as a whole, then each call's mark was tried alone.
    assert.deepEqual(writes, [3, 1, 1, 1]);
    assert.deepEqual(wire(ids[2] as number), { step: null, at: null });
    assert.deepEqual(wire(ids[0] as number), { step: "lead", at: T0 + 10 });
  });

  it("marks of different steps are separate writes; a mark asked while one is written waits for the next", async () => {
    const { marks, ids, writes } = await setup(3, 3);
    const first = marks.mark([{ id: ids[0] as number }], mark(T0 + 10));
    const list = marks.mark([{ id: ids[1] as number }], {
      ...mark(T0 + 10),
      step: "list",
      done: "lead",
    });
    await Promise.all([first, list]);
    assert.deepEqual(writes.sort(), [1, 1]);
    await marks.mark([{ id: ids[2] as number }], mark(T0 + 20));
    assert.deepEqual(writes.length, 3);
  });
});

describe("intake batches written together (group commit) on a real SQLite store", () => {
  const dir = mkdtempSync(join(tmpdir(), "postout-intake-writes-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A fresh store whose addLeads calls are counted (leads per write), optionally failing some. */
  function setup(fail?: (leads: readonly NewLead[]) => Error | undefined) {
    const store = new SqliteStore(join(dir, `w${Math.random().toString(36).slice(2)}.db`));
    const writes: number[] = [];
    const counted = withMethods(store, {
      addLeads: (leads, now) => {
        writes.push(leads.length);
        const error = fail?.(leads);
        return error ? Promise.reject(error) : store.addLeads(leads, now);
      },
    });
    return { store, writes, intake: new StoreWrites(counted, { maxLeads: 5 }) };
  }

  it("batches that arrive together are one write; each caller gets its own ids, in its order", async () => {
    const { store, writes, intake } = setup();
    try {
      const [a, b, c] = await Promise.all([
        intake.add([lead("a1"), lead("a2")], T0),
        intake.add([lead("b1")], T0 + 1),
        intake.add([lead("c1", "other"), lead("c2", "other")], T0 + 2),
      ]);
      assert.deepEqual(writes, [5]);
      for (const [result, keys] of [
        [a, ["a1", "a2"]],
        [b, ["b1"]],
        [c, ["c1", "c2"]],
      ] as const) {
        assert.equal(result?.accepted, keys.length);
        assert.equal(result?.duplicates, 0);
        const stored = await Promise.all((result?.ids ?? []).map((id) => store.getLead(id)));
        assert.deepEqual(
          stored.map((l) => l?.email),
          keys.map((k) => `${k}@example.com`),
        );
      }
      assert.equal((await store.getLead(c?.ids[0] as number))?.destination, "other");
    } finally {
      await store.close();
    }
  });

  it("the same lead in two batches written together is stored once; both callers get its id", async () => {
    const { store, writes, intake } = setup();
    try {
      const [a, b] = await Promise.all([
        intake.add([lead("same"), lead("a")], T0),
        intake.add([lead("same")], T0),
      ]);
      assert.deepEqual(writes, [3]);
      assert.equal(a?.accepted, 2);
      assert.deepEqual(b, { ids: [a?.ids[0]], duplicate: [true], accepted: 0, duplicates: 1 });
      assert.equal((await store.countByStatus({})).queued, 2);
    } finally {
      await store.close();
    }
  });

  it("a write is at most maxLeads leads: what waits beyond it goes in the next write", async () => {
    const { store, writes, intake } = setup();
    try {
      await Promise.all([
        intake.add([lead("a1"), lead("a2"), lead("a3")], T0),
        intake.add([lead("b1"), lead("b2")], T0),
        intake.add([lead("c1")], T0),
        // Larger than maxLeads alone: written alone, not split.
        intake.add(
          ["d1", "d2", "d3", "d4", "d5", "d6"].map((k) => lead(k)),
          T0,
        ),
      ]);
      assert.deepEqual(writes, [5, 1, 6]);
      assert.equal((await store.countByStatus({})).queued, 12);
    } finally {
      await store.close();
    }
  });

  it("a batch the database refuses fails only its own caller: the others are written alone and kept", async () => {
    const refused = new Error("invalid byte sequence");
    const { store, writes, intake } = setup((leads) =>
      leads.some((l) => l.intakeKey === "bad") ? refused : undefined,
    );
    try {
      const results = await Promise.allSettled([
        intake.add([lead("a")], T0),
        intake.add([lead("bad"), lead("b")], T0),
        intake.add([lead("c")], T0),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ["fulfilled", "rejected", "fulfilled"],
      );
      assert.equal((results[1] as PromiseRejectedResult).reason, refused);
      // The merged write, then each batch alone.
      assert.deepEqual(writes, [4, 1, 2, 1]);
      assert.equal((await store.countByStatus({})).queued, 2);
    } finally {
      await store.close();
    }
  });

  it("a fault of the store itself (full, unreachable) fails every batch of the write, without retrying each", async () => {
    const full = new StoreError("full", "/tmp/x.db", "the disk is full");
    const { store, writes, intake } = setup(() => full);
    try {
      const results = await Promise.allSettled([
        intake.add([lead("a")], T0),
        intake.add([lead("b")], T0),
      ]);
      assert.deepEqual(
        results.map((r) => (r.status === "rejected" ? r.reason : undefined)),
        [full, full],
      );
      assert.deepEqual(writes, [2]);
    } finally {
      await store.close();
    }
  });

  it("batches arriving while a write is on its way go together in the next one", async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const store = new SqliteStore(join(dir, "held.db"));
    const writes: number[] = [];
    const intake = new StoreWrites(
      withMethods(store, {
        addLeads: async (leads, now) => {
          writes.push(leads.length);
          if (writes.length === 1) await held;
          return store.addLeads(leads, now);
        },
      }),
    );
    try {
      const first = intake.add([lead("first")], T0);
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      const later = [intake.add([lead("l1")], T0), intake.add([lead("l2"), lead("l3")], T0)];
      release();
      await Promise.all([first, ...later]);
      assert.deepEqual(writes, [1, 3]);
    } finally {
      await store.close();
    }
  });
});

describe("claims and records of several rounds written together, on a real SQLite store", () => {
  const dir = mkdtempSync(join(tmpdir(), "postout-rounds-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Leads 0–2 of destinations a, b, c (one each); the store's claim and record calls counted. */
  async function setup() {
    const store = new SqliteStore(join(dir, `r${Math.random().toString(36).slice(2)}.db`));
    const { ids } = await store.addLeads(
      ["a", "b", "c"].map((d) => lead(`${d}1`, d)),
      T0,
    );
    const calls: string[] = [];
    const counted = withMethods(store, {
      claimDue: (destination, options) => {
        calls.push(`claim ${destination}`);
        return store.claimDue(destination, options);
      },
      claimDueMany: (requests, options) => {
        calls.push(`claimMany ${requests.map((r) => r.destination).join(",")}`);
        return store.claimDueMany(requests, options);
      },
      recordAttempts: (records, tries, options) => {
        calls.push(`record ${records.map((r) => r.leadId).join(",")}`);
        return store.recordAttempts(records, tries, options);
      },
    });
    return { store, ids: ids as number[], calls, writes: new StoreWrites(counted) };
  }
  const claimOptions = { now: T0 + 1, limit: 10, worker: "w", leaseMs: 60_000 };
  const delivered = (leadId: number) => ({
    leadId,
    at: T0 + 2,
    endpoint: "/rest/v1/leads.json",
    request: {},
    response: {},
    requestId: "r1",
    statusCode: "200",
    reason: "updated",
    durationMs: 5,
    step: "lead" as const,
    status: "delivered" as const,
    marketoId: leadId + 1000,
  });

  it("claims asked together are one claim of every destination; each round gets its own leads", async () => {
    const { store, ids, calls, writes } = await setup();
    try {
      const claimed = await Promise.all(["a", "b", "c"].map((d) => writes.claim(d, claimOptions)));
      assert.deepEqual(calls, ["claimMany a,b,c"]);
      assert.deepEqual(
        claimed.map((leads) => leads.map((l) => [l.id, l.destination])),
        [[[ids[0], "a"]], [[ids[1], "b"]], [[ids[2], "c"]]],
      );
    } finally {
      await store.close();
    }
  });

  it("two claims of one destination are never one write (it would hand the same leads to both)", async () => {
    const { store, calls, writes } = await setup();
    try {
      const [first, second] = await Promise.all([
        writes.claim("a", claimOptions),
        writes.claim("a", claimOptions),
      ]);
      assert.deepEqual(calls, ["claim a", "claim a"]);
      assert.equal(first.length + second.length, 1);
    } finally {
      await store.close();
    }
  });

  it("records of rounds that end together are one transaction; a round the store refuses fails alone", async () => {
    const { store, ids, calls, writes } = await setup();
    try {
      await Promise.all(["a", "b", "c"].map((d) => writes.claim(d, claimOptions)));
      calls.length = 0;
      const missing = 999_999;
      const results = await Promise.allSettled([
        writes.record([delivered(ids[0] as number)], [], { worker: "w" }),
        writes.record([delivered(missing)], [], { worker: "w" }),
        writes.record([delivered(ids[2] as number)], [], { worker: "w" }),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ["fulfilled", "rejected", "fulfilled"],
      );
      assert.deepEqual(calls, [
        `record ${ids[0]},${missing},${ids[2]}`,
        `record ${ids[0]}`,
        `record ${missing}`,
        `record ${ids[2]}`,
      ]);
      const status = await Promise.all(ids.map(async (id) => (await store.getLead(id))?.status));
      assert.deepEqual(status, ["delivered", "sending", "delivered"]);
      assert.equal((await store.getAttempts(ids[0] as number)).length, 1, "recorded once");
    } finally {
      await store.close();
    }
  });
});
