import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { IntakeWrites } from "../src/intake-writes.ts";
import type { Route } from "../src/route.ts";
import { StoreError } from "../src/store/errors.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.ts";
import type { NewLead } from "../src/store/store.ts";
import { withMethods } from "./store-override.ts";

const SYNC: Route = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };
const T0 = Date.parse("2026-12-05T12:00:00Z");
const lead = (key: string, destination = "main"): NewLead => ({
  destination,
  route: SYNC,
  raw: { Email: `${key}@example.com` },
  input: { email: `${key}@example.com` },
  intakeKey: key,
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
    return { store, writes, intake: new IntakeWrites(counted, 5) };
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
    const intake = new IntakeWrites(
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
