import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";
import type { Route } from "../src/route.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.ts";
import { LeaseLostError } from "../src/store/store.ts";
import { WireMarks } from "../src/wire-marks.ts";
import { withMethods } from "./store-override.ts";

const SYNC: Route = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };
const T0 = Date.parse("2026-12-01T12:00:00Z");

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
    return { marks: new WireMarks(counted), ids: ids as number[], writes, wire };
  }
  const mark = (at: number) => ({ step: "lead" as const, done: undefined, at, worker: "w" });

  it("marks asked for together go to the store in one write, each with the earliest time", async () => {
    const { marks, ids, writes, wire } = await setup(3, 3);
    await Promise.all(ids.map((id, i) => marks.mark([{ id }], mark(T0 + 10 + i))));
    assert.deepEqual(writes, [3]);
    for (const id of ids) assert.deepEqual(wire(id), { step: "lead", at: T0 + 10 });
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
