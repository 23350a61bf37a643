import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Route } from "../src/route.ts";
import { LeaseLostError, type NewLead, type Step, type Store } from "../src/store/store.ts";

/**
 * Destination leases, part of the conformance suite (store-suite.ts runs it on every backend).
 * One store serves several worker ids: what each worker sees is what separate processes on a
 * shared database would see, taking turns.
 */
export function leaseSuite(
  name: string,
  open: () => Promise<{ store: Store; cleanup: () => Promise<void> }>,
): void {
  const SYNC: Route = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };
  const T0 = Date.parse("2026-11-23T12:00:00Z");
  const LEASE = 10_000;
  const D = Array.from({ length: 20 }, (_, i) => `d${String(i).padStart(2, "0")}`);
  const lead = (i: number, destination: string): NewLead => ({
    destination,
    route: SYNC,
    raw: { Email: `lead${i}@example.com` },
    input: { email: `lead${i}@example.com` },
    intakeKey: `lease#${i}`,
  });
  const CALL = {
    endpoint: "/rest/v1/leads.json",
    request: {},
    response: undefined,
    requestId: undefined,
    reason: undefined,
    durationMs: 1,
    step: "lead" as const,
  };

  async function withStore(fn: (store: Store) => Promise<void>) {
    const { store, cleanup } = await open();
    try {
      await fn(store);
    } finally {
      await cleanup();
    }
  }

  /** Heartbeats and balances each worker in turn, `rounds` times; resolves to who owns what. */
  async function settle(store: Store, workers: readonly string[], now: number, rounds = 3) {
    const owned = new Map<string, string[]>();
    for (let round = 0; round < rounds; round++) {
      for (const w of workers) await store.heartbeat(w, now, LEASE);
      for (const w of workers) owned.set(w, await store.balance(w, D, now, LEASE));
    }
    return owned;
  }

  function assertFair(owned: Map<string, string[]>) {
    const all = [...owned.values()].flat();
    assert.equal(all.length, D.length, "every destination owned");
    assert.equal(new Set(all).size, D.length, "none owned twice");
    const n = owned.size;
    for (const [w, mine] of owned) {
      assert.ok(
        mine.length === Math.ceil(D.length / n) || mine.length === Math.floor(D.length / n),
        `${w} owns ${mine.length} of ${D.length} with ${n} workers`,
      );
    }
  }

  describe(`${name} store: destination leases`, () => {
    it("spreads 20 destinations fairly over 1, 2 and 3 workers as they join", () =>
      withStore(async (store) => {
        assertFair(await settle(store, ["a"], T0));
        assertFair(await settle(store, ["a", "b"], T0 + 1000));
        assertFair(await settle(store, ["a", "b", "c"], T0 + 2000));
      }));

    it("a worker keeps a destination with a round in flight beyond its share, and gives it up when idle", () =>
      withStore(async (store) => {
        await settle(store, ["a"], T0);
        await store.heartbeat("b", T0, LEASE);
        // b joins: a's share drops to 10, but its round on d19 (last by name) is still running.
        const kept = await store.balance("a", D, T0, LEASE, ["d19"]);
        assert.equal(kept.length, 10);
        assert.ok(kept.includes("d19"));
        assert.deepEqual(
          await store.balance("b", D, T0, LEASE),
          D.filter((d) => !kept.includes(d)),
        );
        assertFair(await settle(store, ["a", "b"], T0 + 1));
      }));

    it("a worker whose heartbeat expired loses its leases to the others at their next balance", () =>
      withStore(async (store) => {
        await settle(store, ["a", "b", "c"], T0);
        // c stops heartbeating and renewing: past its lease, a and b take its destinations.
        const later = T0 + LEASE + 1;
        const owned = await settle(store, ["a", "b"], later);
        assertFair(owned);
      }));

    it("a released worker's destinations are taken at once, before any expiry", () =>
      withStore(async (store) => {
        await settle(store, ["a", "b"], T0);
        await store.releaseWorker("b");
        await store.heartbeat("a", T0 + 1, LEASE);
        assert.deepEqual(await store.balance("a", D, T0 + 1, LEASE), D);
      }));

    it("taking a destination over gives back the previous owner's lead claims and keeps their wire marks", () =>
      withStore(async (store) => {
        const { ids } = await store.addLeads([lead(1, "d00"), lead(2, "d00")], T0);
        await store.heartbeat("a", T0, LEASE);
        assert.ok((await store.balance("a", D, T0, LEASE)).includes("d00"));
        // a claims with a long lead lease (300 s), marks one call on the wire, then dies.
        await store.claimDue("d00", { now: T0, limit: 10, worker: "a", leaseMs: 300_000 });
        await store.markOnWire([{ id: ids[0] as number }], {
          step: "lead",
          done: undefined,
          at: T0,
          worker: "a",
        });
        const later = T0 + LEASE + 1;
        await store.heartbeat("b", later, LEASE);
        assert.deepEqual(await store.balance("b", D, later, LEASE), D);
        assert.deepEqual(await store.dueDestinations(D), [{ destination: "d00", dueAt: T0 }]);
        const back = await store.claimDue("d00", {
          now: later,
          limit: 10,
          worker: "b",
          leaseMs: 300_000,
        });
        assert.deepEqual(
          back.map((l) => [l.id, l.onWire]),
          [
            [ids[0], { step: "lead", at: T0 }],
            [ids[1], undefined],
          ],
        );
      }));

    it("a wire mark needs its worker to hold each lead's destination lease at the mark's time, all or none", () =>
      withStore(async (store) => {
        const { ids } = await store.addLeads([lead(1, "d00"), lead(2, "d01"), lead(3, "d02")], T0);
        const [l1, l2, l3] = ids as [number, number, number];
        await store.heartbeat("a", T0, LEASE);
        // a holds d00 and d01 until T0 + LEASE; d02's lease is nobody's. a claims all three.
        assert.deepEqual(await store.balance("a", ["d00", "d01"], T0, LEASE), ["d00", "d01"]);
        for (const d of ["d00", "d01", "d02"])
          await store.claimDue(d, { now: T0, limit: 10, worker: "a", leaseMs: 300_000 });
        const mark = (leadIds: readonly number[], step: Step, at: number) =>
          store.markOnWire(
            leadIds.map((id) => ({ id })),
            { step, done: step === "lead" ? undefined : "lead", at, worker: "a" },
          );
        const lost = (error: unknown) => error instanceof LeaseLostError;
        await mark([l1, l2], "lead", T0 + 1);
        await assert.rejects(mark([l1, l3], "list", T0 + 2), lost, "no lease on d02");
        await assert.rejects(mark([l2], "list", T0 + LEASE), lost, "the lease ends at T0 + LEASE");
        // Renewed by a balance, it holds again; then b takes d01 once a lets it run out.
        await store.balance("a", ["d00", "d01"], T0 + LEASE - 1, LEASE);
        await mark([l2], "list", T0 + LEASE);
        const later = T0 + 2 * LEASE;
        await store.heartbeat("b", later, LEASE);
        assert.deepEqual(await store.balance("b", ["d01"], later, LEASE), ["d01"]);
        await assert.rejects(mark([l1], "list", later + 1), lost, "d00's lease ran out too");
        // The refused marks left nothing: l1 and l3 as before them, l2 as its last accepted mark.
        await store.releaseClaims("d00", { workers: ["a"] });
        await store.releaseClaims("d02", { workers: ["a"] });
        const back = [];
        for (const d of ["d00", "d01", "d02"])
          back.push(
            ...(await store.claimDue(d, { now: later, limit: 10, worker: "b", leaseMs: 1 })),
          );
        assert.deepEqual(
          back.map((l) => [l.id, l.onWire]),
          [
            [l1, { step: "lead", at: T0 + 1 }],
            [l2, { step: "list", at: T0 + LEASE }],
            [l3, undefined],
          ],
        );
      }));

    it("an attempt recorded by a worker that lost the claim does not move the lead, and is logged", () =>
      withStore(async (store) => {
        const { ids } = await store.addLeads([lead(1, "d00")], T0);
        const id = ids[0] as number;
        await store.heartbeat("a", T0, LEASE);
        await store.balance("a", D, T0, LEASE);
        await store.claimDue("d00", { now: T0, limit: 10, worker: "a", leaseMs: 300_000 });
        // a pauses longer than its destination lease; b takes over and claims the lead.
        const later = T0 + LEASE + 1;
        await store.heartbeat("b", later, LEASE);
        await store.balance("b", D, later, LEASE);
        await store.claimDue("d00", { now: later, limit: 10, worker: "b", leaseMs: 300_000 });
        await store.recordAttempts(
          [
            {
              ...CALL,
              at: later + 5,
              leadId: id,
              statusCode: "604",
              status: "retrying",
              nextAt: later + 60_000,
            },
          ],
          [],
          { worker: "a" },
        );
        const mid = await store.getLead(id);
        assert.equal(mid?.status, "sending");
        assert.equal(mid?.attempts, 0);
        await store.recordAttempts(
          [
            {
              ...CALL,
              at: later + 9,
              leadId: id,
              statusCode: "200",
              status: "delivered",
              marketoId: 5,
            },
          ],
          [],
          { worker: "b" },
        );
        const done = await store.getLead(id);
        assert.equal(done?.status, "delivered");
        assert.equal(done?.attempts, 1);
        const log = await store.getAttempts(id);
        assert.deepEqual(
          log.map((a) => [a.n, a.statusCode, a.outcome]),
          [
            [1, "604", "sending"],
            [1, "200", "delivered"],
          ],
        );
      }));

    it("lists only destinations with waiting leads, with the earliest due time, in one call", () =>
      withStore(async (store) => {
        await store.addLeads([lead(1, "d03"), lead(2, "d07")], T0);
        await store.addLeads([lead(3, "d07")], T0 - 50);
        await store.addLeads([lead(4, "elsewhere")], T0);
        const due = await store.dueDestinations(D);
        assert.deepEqual(
          [...due].sort((x, y) => x.destination.localeCompare(y.destination)),
          [
            { destination: "d03", dueAt: T0 },
            { destination: "d07", dueAt: T0 - 50 },
          ],
        );
        // A paused destination's held leads are due when the pause ends.
        await store.holdQueued("d03", T0 + 1000, T0);
        assert.deepEqual(
          (await store.dueDestinations(["d03"])).map((d) => d.dueAt),
          [T0 + 1000],
        );
      }));
  });
}
