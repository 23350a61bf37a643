import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Route } from "../src/route.ts";
import {
  type ClaimedLead,
  type LeadFilter,
  LeaseLostError,
  type NewLead,
  type Store,
} from "../src/store/store.ts";
import { catalogSuite } from "./catalog-suite.ts";
import { leaseSuite } from "./store-suite-leases.ts";

/**
 * The conformance suite every Store implementation passes unchanged. `open` gives a fresh,
 * empty store; `reopen` (where the backend is durable) opens the same data again.
 */
/** A call's facts as a recorded attempt carries them; the tests add the outcome. */
const CALL = {
  endpoint: "/rest/v1/leads.json",
  request: {},
  response: undefined,
  requestId: undefined,
  reason: undefined,
  durationMs: 1,
};

export function storeSuite(
  name: string,
  open: () => Promise<{
    store: Store;
    reopen?: () => Promise<Store>;
    cleanup: () => Promise<void>;
  }>,
): void {
  const SYNC: Route = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };
  const PUSH: Route = { endpoint: "pushLeads", programName: "Webinar 2026", source: "ON24" };
  const T0 = Date.parse("2026-11-23T12:00:00Z");
  /** A worker takes the lease of "main" (a wire mark needs it) for the whole test. */
  const leaseMain = (store: Store, worker: string) =>
    store.balance(worker, ["main"], T0, 24 * 3_600_000);

  const lead = (i: number, over: Partial<NewLead> = {}): NewLead => ({
    destination: "main",
    route: SYNC,
    raw: { Email: `Lead${i}@Example.com`, First: `L${i}` },
    input: { email: `lead${i}@example.com`, firstName: `L${i}` },
    intakeKey: `file#${i}`,
    source: "leads.csv",
    sourceLine: i + 1,
    ...over,
  });

  async function withStore(fn: (store: Store, reopen?: () => Promise<Store>) => Promise<void>) {
    const { store, reopen, cleanup } = await open();
    try {
      await fn(store, reopen);
    } finally {
      await cleanup();
    }
  }

  describe(`${name} store`, () => {
    it("accepts leads once per intake key and says which were already accepted", () =>
      withStore(async (store) => {
        const first = await store.addLeads([lead(1), lead(2)], T0);
        assert.equal(first.accepted, 2);
        assert.equal(
          first.ids.every((id) => typeof id === "number"),
          true,
        );
        const again = await store.addLeads([lead(2), lead(3)], T0);
        assert.deepEqual([again.accepted, again.duplicates], [1, 1]);
        assert.equal(again.ids[0], first.ids[1], "the duplicate answers the id accepted before");
        assert.deepEqual(again.duplicate, [true, false]);
        const counts = await store.countByStatus({});
        assert.equal(counts.queued, 3);
      }));

    it("keeps the raw input exactly as received, beside the mapped input", () =>
      withStore(async (store) => {
        const raw = { Email: "  A@B.com ", Note: "<script>alert(1)</script>", Ünïcode: "✓" };
        const { ids } = await store.addLeads([lead(1, { raw })], T0);
        const row = await store.getLead(ids[0] as number);
        assert.deepEqual(row?.raw, raw);
        assert.deepEqual(row?.input, { email: "lead1@example.com", firstName: "L1" });
        assert.equal(row?.email, "lead1@example.com");
        assert.equal(row?.status, "queued");
      }));

    it("stores a lead refused at intake as needs_fix with a preflight attempt", () =>
      withStore(async (store) => {
        const refused = {
          code: "1006",
          reason: "Field 'role' not found",
          fix: "'role' is not a Marketo field",
        };
        const { ids } = await store.addLeads([lead(1, { input: undefined, refused })], T0);
        const id = ids[0] as number;
        const row = await store.getLead(id);
        assert.equal(row?.status, "needs_fix");
        assert.equal(row?.lastCode, "1006");
        assert.equal(row?.fix, "'role' is not a Marketo field");
        const [attempt, ...rest] = await store.getAttempts(id);
        assert.equal(rest.length, 0);
        assert.equal(attempt?.endpoint, "preflight");
        assert.equal(attempt?.statusCode, "1006");
        assert.equal(attempt?.n, 1);
        assert.deepEqual(
          await store.claimDue("main", { now: T0 + 1, limit: 10, worker: "w", leaseMs: 1000 }),
          [],
        );
      }));

    it("claims only due leads of one destination, each once, oldest first, up to the limit", () =>
      withStore(async (store) => {
        await store.addLeads([lead(1), lead(2), lead(3), lead(4, { destination: "other" })], T0);
        await store.addLeads([lead(5)], T0 + 10_000);
        const opts = { now: T0, limit: 2, worker: "w1", leaseMs: 30_000 };
        const a = await store.claimDue("main", opts);
        assert.deepEqual(
          a.map((l) => l.input.email),
          ["lead1@example.com", "lead2@example.com"],
        );
        const b = await store.claimDue("main", { ...opts, worker: "w2" });
        assert.deepEqual(
          b.map((l) => l.input.email),
          ["lead3@example.com"],
        );
        assert.equal((await store.countByStatus({ destination: "main" })).sending, 3);
        assert.deepEqual((await store.sendingWorkers("main")).sort(), ["w1", "w2"]);
        const later = await store.claimDue("main", { ...opts, now: T0 + 10_000 });
        assert.deepEqual(
          later.map((l) => l.input.email),
          ["lead5@example.com"],
        );
      }));

    it("records attempts, numbers them, and moves each lead to its status", () =>
      withStore(async (store) => {
        const { ids } = await store.addLeads([lead(1), lead(2), lead(3)], T0);
        const [a, b, c] = ids as number[];
        await store.claimDue("main", { now: T0, limit: 10, worker: "w", leaseMs: 1000 });
        const base = {
          at: T0 + 5,
          endpoint: "/rest/v1/leads.json",
          request: {},
          requestId: "r#1",
          durationMs: 120,
          step: "lead" as const,
        };
        await store.recordAttempts([
          {
            ...base,
            leadId: a as number,
            response: { id: 7, status: "created" },
            statusCode: "200",
            reason: undefined,
            status: "delivered",
            marketoId: 7,
          },
          {
            ...base,
            leadId: b as number,
            response: { status: "skipped" },
            statusCode: "1006",
            reason: "Field 'role' not found",
            status: "needs_fix",
            fix: "fix it",
          },
          {
            ...base,
            leadId: c as number,
            response: undefined,
            statusCode: "606",
            reason: "Max rate limit",
            status: "retrying",
            nextAt: T0 + 60_000,
          },
        ]);
        const [la, lb, lc] = await Promise.all([a, b, c].map((id) => store.getLead(id as number)));
        assert.deepEqual(
          [la?.status, la?.marketoId, la?.lastCode, la?.attempts],
          ["delivered", 7, undefined, 1],
        );
        assert.deepEqual(
          [lb?.status, lb?.lastCode, lb?.lastReason, lb?.fix],
          ["needs_fix", "1006", "Field 'role' not found", "fix it"],
        );
        assert.deepEqual([lc?.status, lc?.nextAt], ["retrying", T0 + 60_000]);
        assert.deepEqual(
          await store.claimDue("main", { now: T0 + 59_999, limit: 10, worker: "w", leaseMs: 1 }),
          [],
        );
        const retry = await store.claimDue("main", {
          now: T0 + 60_000,
          limit: 10,
          worker: "w",
          leaseMs: 1,
        });
        assert.deepEqual(
          retry.map((l) => [l.id, l.attempts]),
          [[c, 1]],
        );
        await store.recordAttempts([
          {
            ...base,
            at: T0 + 60_100,
            leadId: c as number,
            response: { id: 9, status: "updated" },
            statusCode: "200",
            reason: undefined,
            status: "delivered",
            marketoId: 9,
          },
        ]);
        const attempts = await store.getAttempts(c as number);
        assert.deepEqual(
          attempts.map((x) => [x.n, x.statusCode, x.outcome]),
          [
            [1, "606", "retrying"],
            [2, "200", "delivered"],
          ],
        );
        assert.deepEqual(await store.countByCode({}), { "1006": 1, "200": 2, "606": 1 });
      }));

    it("records the calls the client sent again before their attempt's row, without moving the lead", () =>
      withStore(async (store) => {
        const { ids } = await store.addLeads([lead(1), lead(2)], T0);
        const [a, b] = ids as number[];
        await store.claimDue("main", { now: T0, limit: 10, worker: "w", leaseMs: 1000 });
        const call = (leadId: number, n: number, at: number, statusCode: string) => ({
          leadId,
          n,
          at,
          endpoint: n === 1 ? "/rest/v1/leads.json" : "/rest/v1/lists/1/leads.json",
          request: { n },
          response: { success: false, errors: [{ code: statusCode }] },
          requestId: statusCode === "timeout" ? undefined : `r#${at}`,
          statusCode,
          reason: "tried again",
          durationMs: 40,
          step: "lead" as const,
        });
        const decided = (leadId: number, at: number, endpoint: string) => ({
          leadId,
          at,
          endpoint,
          request: {},
          response: { status: "created" },
          requestId: `r#${at}`,
          statusCode: "200",
          reason: undefined,
          durationMs: 30,
          step: "lead" as const,
          status: "delivered" as const,
          marketoId: 7,
        });
        // As a round hands them over: the lead sync's and the list add's tries (collected
        // while sending), then the sync's rows and the list step's rows.
        await store.recordAttempts(
          [
            decided(a as number, T0 + 3, "/rest/v1/leads.json"),
            decided(b as number, T0 + 3, "/rest/v1/leads.json"),
            decided(a as number, T0 + 5, "/rest/v1/lists/1/leads.json"),
          ],
          [
            call(a as number, 1, T0 + 1, "606"),
            call(b as number, 1, T0 + 1, "606"),
            call(a as number, 1, T0 + 2, "timeout"),
            call(a as number, 2, T0 + 4, "611"),
          ],
        );
        const rows = (leadId: number) =>
          store.getAttempts(leadId).then((list) => list.map((x) => [x.n, x.statusCode, x.outcome]));
        assert.deepEqual(await rows(a as number), [
          [1, "606", "sending"],
          [1, "timeout", "sending"],
          [1, "200", "delivered"],
          [2, "611", "sending"],
          [2, "200", "delivered"],
        ]);
        assert.deepEqual(await rows(b as number), [
          [1, "606", "sending"],
          [1, "200", "delivered"],
        ]);
        // The report reads rows in the order they were written: each lead's in its own order.
        const reported = [];
        for await (const row of store.iterateAttempts({ ids: [a as number] })) {
          reported.push([row.n, row.statusCode]);
        }
        assert.deepEqual(reported, [
          [1, "606"],
          [1, "timeout"],
          [1, "200"],
          [2, "611"],
          [2, "200"],
        ]);
        const la = await store.getLead(a as number);
        assert.deepEqual(
          [la?.status, la?.attempts, la?.lastCode],
          ["delivered", 2, undefined],
          "calls sent again do not count as attempts",
        );
        assert.deepEqual(await store.countByCode({}), { "200": 3, "606": 2, "611": 1, timeout: 1 });
        const report = [];
        for await (const row of store.iterateLeadReport({ ids: [a as number] })) report.push(row);
        assert.equal(report[0]?.last?.endpoint, "/rest/v1/lists/1/leads.json");
        assert.equal(report[0]?.last?.statusCode, "200", "the last row is the decisive one");

        // A call whose attempt is not among the records (the round gave the lead up) is kept too.
        const { ids: more } = await store.addLeads([lead(3)], T0);
        await store.recordAttempts([], [call(more[0] as number, 1, T0 + 9, "502")]);
        assert.deepEqual(await rows(more[0] as number), [[1, "502", "sending"]]);
        assert.equal((await store.getLead(more[0] as number))?.status, "queued");
        await assert.rejects(store.recordAttempts([], [call(999_999, 1, T0, "502")]), /999999/);
      }));

    it("finds leads by a code any of their calls got, a call tried again among them, not only the last", () =>
      withStore(async (store) => {
        const { ids } = await store.addLeads([lead(1), lead(2), lead(3)], T0);
        const [a, b, c] = ids as number[];
        await store.claimDue("main", { now: T0, limit: 10, worker: "w", leaseMs: 1000 });
        const call = (leadId: number, at: number, statusCode: string) => ({
          leadId,
          n: 1,
          at,
          endpoint: "/rest/v1/leads.json",
          request: {},
          response: null,
          requestId: undefined,
          statusCode,
          reason: "tried again",
          durationMs: 10,
          step: "lead" as const,
        });
        const decided = (leadId: number, statusCode: string, status: "delivered" | "retrying") => ({
          ...call(leadId, T0 + 5, statusCode),
          reason: status === "delivered" ? undefined : "Service Unavailable",
          status,
          ...(status === "retrying" ? { nextAt: T0 + 60_000 } : { marketoId: leadId }),
        });
        // An outage: a's call answered 503, then 200; b's answered 503 twice and waits for a retry;
        // c's answered 200 at once.
        await store.recordAttempts(
          [decided(a as number, "200", "delivered"), decided(b as number, "503", "retrying")],
          [call(a as number, T0 + 1, "503"), call(b as number, T0 + 1, "503")],
        );
        await store.recordAttempts([decided(c as number, "200", "delivered")], []);
        const found = async (filter: LeadFilter) =>
          (await store.listLeads(filter, { limit: 10 })).leads.map((l) => l.id).sort();
        assert.deepEqual(await found({ attemptCode: ["503"] }), [a, b].sort());
        assert.deepEqual(await found({ code: ["503"] }), [b], "the last code: b alone");
        assert.deepEqual(await found({ attemptCode: ["503"], status: ["delivered"] }), [a]);
        assert.deepEqual(await found({ attemptCode: ["404", "200"] }), [a, c].sort());
        assert.deepEqual(await found({ attemptCode: ["404"] }), []);
        const { counts } = await store.listLeads({ attemptCode: ["503"] }, { limit: 1 });
        assert.deepEqual([counts.delivered, counts.retrying], [1, 1], "counted over the filter");
        const iterated = [];
        for await (const l of store.iterateLeads({ attemptCode: ["503"] }, 10)) iterated.push(l.id);
        assert.deepEqual(iterated.sort(), [a, b].sort(), "repost finds the same leads");
      }));

    it("counts attempts by code in time buckets, over a range and a destination", () =>
      withStore(async (store) => {
        const HOUR = 3_600_000;
        const { ids } = await store.addLeads(
          [lead(1), lead(2), lead(3), lead(4, { destination: "other" })],
          T0,
        );
        const [a, b, c, d] = ids as number[];
        const attempt = (leadId: number, at: number, statusCode: string) => ({
          leadId,
          at,
          endpoint: "/rest/v1/leads.json",
          request: {},
          response: undefined,
          requestId: undefined,
          statusCode,
          reason: undefined,
          durationMs: 1,
          step: "lead" as const,
          status: (statusCode === "200" ? "delivered" : "needs_fix") as "delivered" | "needs_fix",
        });
        await store.recordAttempts([
          attempt(a as number, T0 + 5, "200"),
          attempt(b as number, T0 + 5, "1006"),
          attempt(c as number, T0 + HOUR + 1, "606"),
          attempt(c as number, T0 + HOUR + 2, "606"),
          attempt(d as number, T0 + 10, "200"),
          attempt(d as number, T0 + 3 * HOUR, "200"),
        ]);
        const range = { since: T0, until: T0 + 2 * HOUR, bucketMs: HOUR };
        assert.deepEqual(await store.countCodesOverTime(range), [
          { start: T0, counts: { "200": 2, "1006": 1 } },
          { start: T0 + HOUR, counts: { "606": 2 } },
        ]);
        assert.deepEqual(await store.countCodesOverTime({ ...range, destination: "other" }), [
          { start: T0, counts: { "200": 1 } },
        ]);
        // since and until are inclusive, to the millisecond; buckets stay aligned to the hour.
        assert.deepEqual(
          await store.countCodesOverTime({ ...range, since: T0 + 6, until: T0 + HOUR + 1 }),
          [
            { start: T0, counts: { "200": 1 } },
            { start: T0 + HOUR, counts: { "606": 1 } },
          ],
        );
        assert.deepEqual(
          await store.countCodesOverTime({ since: 0, until: T0 + 24 * HOUR, bucketMs: 24 * HOUR }),
          [
            {
              start: Date.parse("2026-11-23T00:00:00Z"),
              counts: { "200": 3, "606": 2, "1006": 1 },
            },
          ],
        );
        assert.deepEqual(
          await store.countCodesOverTime({ ...range, since: T0 + 4 * HOUR, until: T0 + 5 * HOUR }),
          [],
        );
      }));

    it("gives back leads a dead worker left in sending; only those with a wire mark are uncertain", () =>
      withStore(async (store) => {
        await store.addLeads([lead(1), lead(2), lead(3)], T0);
        await leaseMain(store, "dead");
        const dead = await store.claimDue("main", {
          now: T0,
          limit: 2,
          worker: "dead",
          leaseMs: 60_000,
        });
        await store.claimDue("main", { now: T0, limit: 1, worker: "alive", leaseMs: 60_000 });
        // The dead worker's call for its first lead had gone out; the second never left.
        await store.markOnWire([{ id: (dead[0] as ClaimedLead).id }], {
          step: "lead",
          done: undefined,
          at: T0 + 3,
          worker: "dead",
        });
        assert.equal(await store.releaseClaims("main", { workers: ["dead"] }), 2);
        const back = await store.claimDue("main", {
          now: T0 + 1,
          limit: 10,
          worker: "w",
          leaseMs: 1,
        });
        assert.deepEqual(
          back.map((l) => [l.input.email, l.onWire]),
          [
            ["lead1@example.com", { step: "lead", at: T0 + 3 }],
            ["lead2@example.com", undefined],
          ],
        );
        assert.equal(
          await store.releaseClaims("main", { expiredBefore: T0 + 59_999 }),
          2,
          "the expired lease of w",
        );
        await store.renewLeases("alive", T0 + 120_000);
        assert.equal(
          await store.releaseClaims("main", { expiredBefore: T0 + 100_000 }),
          0,
          "a renewed lease is kept",
        );
      }));

    it("claims several destinations in one call, each up to its own limit, none of a paused one", () =>
      withStore(async (store) => {
        const { ids } = await store.addLeads(
          [
            lead(1),
            lead(2),
            lead(3),
            lead(4, { destination: "b" }),
            lead(5, { destination: "paused" }),
          ],
          T0,
        );
        await store.setDestinationPause(
          "paused",
          { until: T0 + 1000, code: "607", reason: "daily quota reached" },
          T0,
        );
        const claimed = await store.claimDueMany(
          [
            { destination: "main", limit: 2 },
            { destination: "paused", limit: 10 },
            { destination: "none", limit: 10 },
            { destination: "b", limit: 10 },
          ],
          { now: T0 + 1, worker: "w", leaseMs: 1000 },
        );
        assert.deepEqual(
          claimed.map((leads) => leads.map((l) => l.id)),
          [[ids[0], ids[1]], [], [], [ids[3]]],
        );
        assert.equal((await store.getLead(ids[2] as number))?.status, "queued");
        await assert.rejects(
          store.claimDueMany(
            [
              { destination: "main", limit: 1 },
              { destination: "main", limit: 1 },
            ],
            { now: T0 + 1, worker: "w", leaseMs: 1000 },
          ),
          RangeError,
        );
      }));

    it("holds paused leads until the destination resumes", () =>
      withStore(async (store) => {
        const { ids } = await store.addLeads([lead(1)], T0);
        await store.claimDue("main", { now: T0, limit: 10, worker: "w", leaseMs: 1000 });
        await store.recordAttempts([
          {
            leadId: ids[0] as number,
            at: T0,
            endpoint: "/rest/v1/leads.json",
            request: {},
            response: undefined,
            requestId: undefined,
            statusCode: "401",
            reason: "bad credentials",
            durationMs: 5,
            step: "lead" as const,
            status: "paused",
          },
        ]);
        await store.setDestinationPause(
          "main",
          { until: Number.MAX_SAFE_INTEGER, code: "401", reason: "bad credentials" },
          T0,
        );
        assert.equal((await store.getDestination("main"))?.pausedCode, "401");
        assert.equal(await store.nextDueAt("main"), undefined);
        assert.deepEqual(
          await store.claimDue("main", { now: T0 + 1e9, limit: 10, worker: "w", leaseMs: 1 }),
          [],
        );
        assert.equal(await store.resumeDestination("main", T0 + 5), 1);
        await store.setDestinationPause("main", undefined, T0 + 5);
        assert.equal((await store.getDestination("main"))?.pausedUntil, undefined);
        assert.equal(await store.nextDueAt("main"), T0 + 5);
        assert.equal(
          (await store.claimDue("main", { now: T0 + 5, limit: 10, worker: "w", leaseMs: 1 }))
            .length,
          1,
        );
      }));

    it("claims nothing of a paused destination while the pause lasts, even leads due before it", () =>
      withStore(async (store) => {
        const { ids } = await store.addLeads([lead(1), lead(2, { destination: "other" })], T0);
        await store.setDestinationPause(
          "main",
          { until: T0 + 1000, code: "607", reason: "daily quota reached" },
          T0 + 1,
        );
        const claim = (destination: string, now: number) =>
          store.claimDue(destination, { now, limit: 10, worker: "w", leaseMs: 1000 });
        assert.deepEqual(await claim("main", T0 + 999), []);
        assert.deepEqual(
          (await claim("other", T0 + 999)).map((l) => l.id),
          [ids[1]],
          "another destination's leads are claimed",
        );
        assert.deepEqual(
          (await claim("main", T0 + 1000)).map((l) => l.id),
          [ids[0]],
          "due again once the pause is over, before anyone ends it",
        );
      }));

    it("stores a lead accepted while its destination is paused as paused, due when the pause ends", () =>
      withStore(async (store) => {
        await store.setDestinationPause(
          "main",
          { until: T0 + 1000, code: "607", reason: "daily quota reached" },
          T0,
        );
        const refused = { code: "1006", reason: "Field 'x' not found", fix: "map it" };
        const { ids } = await store.addLeads(
          [lead(1), lead(2, { refused }), lead(3, { destination: "other" })],
          T0 + 1,
        );
        const [paused, fix, other] = await Promise.all(
          ids.map((id) => store.getLead(id as number)),
        );
        assert.equal(paused?.status, "paused");
        assert.equal(fix?.status, "needs_fix");
        assert.equal(other?.status, "queued", "another destination's lead is not held");
        assert.deepEqual(
          await store.claimDue("main", { now: T0 + 999, limit: 10, worker: "w", leaseMs: 1000 }),
          [],
        );
        assert.equal(await store.nextDueAt("main"), T0 + 1000);
        const due = await store.claimDue("main", {
          now: T0 + 1000,
          limit: 10,
          worker: "w",
          leaseMs: 1000,
        });
        assert.deepEqual(
          due.map((l) => l.id),
          [ids[0]],
        );
        // A pause that has ended holds nothing.
        const later = await store.addLeads([lead(4)], T0 + 2000);
        assert.equal((await store.getLead(later.ids[0] as number))?.status, "queued");
      }));

    it("lists leads by filter, newest first, with a cursor", () =>
      withStore(async (store) => {
        await store.addLeads(
          Array.from({ length: 25 }, (_, i) => lead(i, i % 5 === 0 ? { route: PUSH } : {})),
          T0,
        );
        const page1 = (await store.listLeads({}, { limit: 10 })).leads;
        assert.equal(page1.length, 10);
        const page2 = (await store.listLeads({}, { limit: 10, before: page1.at(-1)?.id as number }))
          .leads;
        const page3 = (await store.listLeads({}, { limit: 10, before: page2.at(-1)?.id as number }))
          .leads;
        assert.equal(page3.length, 5);
        const all = [...page1, ...page2, ...page3].map((l) => l.id);
        assert.equal(new Set(all).size, 25);
        assert.deepEqual(
          all,
          [...all].sort((x, y) => y - x),
        );
        assert.equal(
          (await store.listLeads({ program: "Webinar 2026" }, { limit: 100 })).leads.length,
          5,
        );
        assert.deepEqual(
          (await store.listLeads({ email: "lead1" }, { limit: 100 })).leads
            .map((l) => l.email)
            .sort(),
          [
            "lead1@example.com",
            ...Array.from({ length: 10 }, (_, i) => `lead1${i}@example.com`),
          ].sort(),
        );
        assert.equal(
          (await store.listLeads({ email: "%" }, { limit: 100 })).leads.length,
          0,
          "LIKE wildcards are escaped",
        );
        // Any substring, in any case, however long: the part after the @, across the dot, two characters.
        assert.equal(
          (await store.listLeads({ email: "@EXAMPLE.c" }, { limit: 100 })).leads.length,
          25,
        );
        assert.deepEqual(
          (await store.listLeads({ email: "d24@e" }, { limit: 100 })).leads.map((l) => l.email),
          ["lead24@example.com"],
        );
        assert.equal((await store.listLeads({ email: "d2" }, { limit: 100 })).leads.length, 6);
        assert.equal((await store.listLeads({ email: 'lead1"' }, { limit: 100 })).leads.length, 0);
        assert.equal((await store.listLeads({ email: "%%%" }, { limit: 100 })).leads.length, 0);
        assert.equal((await store.countByStatus({ email: "lead2" })).queued, 6);
        assert.equal(
          (await store.listLeads({ status: ["needs_fix"] }, { limit: 100 })).leads.length,
          0,
        );
        assert.equal((await store.listLeads({ ids: [1, 2, 3] }, { limit: 100 })).leads.length, 3);
      }));

    it("finds a lead by email contains as soon as it is accepted, chunk after chunk", () =>
      withStore(async (store) => {
        const emails = async (part: string) =>
          (await store.listLeads({ email: part }, { limit: 100 })).leads.map((l) => l.email).sort();
        await store.addLeads([lead(1), lead(2)], T0);
        assert.deepEqual(await emails("@example.com"), ["lead1@example.com", "lead2@example.com"]);
        // A second chunk: new leads, one already accepted, one without an email.
        const noEmail = lead(9, { raw: { First: "N" }, input: { firstName: "N" } });
        await store.addLeads([lead(3), lead(2), noEmail], T0);
        assert.deepEqual(await emails("@example.com"), [
          "lead1@example.com",
          "lead2@example.com",
          "lead3@example.com",
        ]);
        assert.deepEqual(await emails("ead3@"), ["lead3@example.com"]);
        assert.equal((await store.countByStatus({ email: "example.com" })).queued, 3);
        const streamed: string[] = [];
        for await (const l of store.iterateLeads({ email: "lead3" })) streamed.push(l.email ?? "");
        assert.deepEqual(streamed, ["lead3@example.com"]);
      }));

    it("a page's counts are those of its whole filter, however its leads are found", () =>
      withStore(async (store) => {
        const { ids } = await store.addLeads(
          Array.from({ length: 30 }, (_, i) =>
            lead(i, {
              input: { email: `p${i}@${i % 3 === 0 ? "acme.example" : "other.example"}` },
            }),
          ),
          T0,
        );
        // A third delivered, a third needing a fix, a third left queued.
        await store.claimDue("main", { now: T0, limit: 20, worker: "w", leaseMs: 1000 });
        const base = {
          at: T0 + 5,
          endpoint: "/rest/v1/leads.json",
          request: {},
          requestId: "r#1",
          durationMs: 120,
          step: "lead" as const,
          response: undefined,
          reason: undefined,
        };
        await store.recordAttempts(
          ids
            .slice(0, 20)
            .map((leadId, k) =>
              k % 2 === 0
                ? { ...base, leadId, statusCode: "200", status: "delivered" as const }
                : { ...base, leadId, statusCode: "1006", status: "needs_fix" as const, fix: "f" },
            ),
        );
        const filters = [
          {},
          { email: "acme.example" },
          { email: "ACME" },
          { email: "p1" },
          { email: "@a" },
          { email: "acme", status: ["needs_fix" as const] },
          { email: "example", ids: ids.slice(5, 12) },
          { email: "nobody" },
        ];
        for (const filter of filters) {
          const { leads, counts } = await store.listLeads(filter, { limit: 4 });
          const name = JSON.stringify(filter);
          assert.deepEqual(counts, await store.countByStatus(filter), name);
          const total = Object.values(counts).reduce((a, b) => a + b, 0);
          assert.equal(leads.length, Math.min(4, total), name);
          // The page is the newest of the whole filter.
          const every: number[] = [];
          for await (const l of store.iterateLeads(filter)) every.push(l.id);
          assert.deepEqual(
            leads.map((l) => l.id),
            every.sort((x, y) => y - x).slice(0, 4),
            name,
          );
        }
        assert.equal(
          (await store.listLeads({ email: "acme.example" }, { limit: 100 })).leads.length,
          10,
        );
        // The next page of an email filter, and a filter after it, find what they should.
        const first = await store.listLeads({ email: "acme" }, { limit: 6 });
        const next = await store.listLeads(
          { email: "acme" },
          { limit: 6, before: first.leads.at(-1)?.id as number },
        );
        assert.equal(first.leads.length + next.leads.length, 10);
        assert.deepEqual(next.counts, first.counts);
        assert.equal((await store.listLeads({ email: "other" }, { limit: 100 })).leads.length, 20);
      }));

    it("streams every attempt of the filtered leads across pages", () =>
      withStore(async (store) => {
        const { ids } = await store.addLeads(
          Array.from({ length: 7 }, (_, i) => lead(i)),
          T0,
        );
        await store.claimDue("main", { now: T0, limit: 10, worker: "w", leaseMs: 1000 });
        await store.recordAttempts(
          ids.map((id) => ({
            leadId: id as number,
            at: T0,
            endpoint: "/rest/v1/leads.json",
            request: { input: {} },
            response: { status: "created" },
            requestId: "x",
            statusCode: "200",
            reason: undefined,
            durationMs: 1,
            step: "lead" as const,
            status: "delivered" as const,
          })),
        );
        const seen: number[] = [];
        for await (const row of store.iterateAttempts({}, 3)) {
          assert.equal(row.lead.id, row.leadId);
          seen.push(row.leadId);
        }
        assert.deepEqual(seen, ids);
        const leads: number[] = [];
        for await (const row of store.iterateLeads({ status: ["delivered"] }, 2))
          leads.push(row.id);
        assert.deepEqual(leads, ids);
      }));

    it("reports each lead with its latest attempt, across pages", () =>
      withStore(async (store) => {
        const { ids } = await store.addLeads(
          Array.from({ length: 5 }, (_, i) => lead(i, { mapPath: "/maps/webinar.json" })),
          T0,
        );
        await store.claimDue("main", { now: T0, limit: 2, worker: "w", leaseMs: 1000 });
        const base = {
          endpoint: "/rest/v1/leads.json",
          request: {},
          response: {},
          requestId: "r",
          reason: undefined,
          durationMs: 1,
          step: "lead" as const,
        };
        await store.recordAttempts([
          {
            ...base,
            leadId: ids[0] as number,
            at: T0 + 1,
            statusCode: "611",
            status: "retrying",
            nextAt: T0 + 2,
          },
          { ...base, leadId: ids[1] as number, at: T0 + 1, statusCode: "200", status: "delivered" },
        ]);
        await store.claimDue("main", { now: T0 + 2, limit: 1, worker: "w", leaseMs: 1000 });
        await store.recordAttempts([
          { ...base, leadId: ids[0] as number, at: T0 + 3, statusCode: "200", status: "delivered" },
        ]);
        const rows: [number, string | undefined, number | undefined][] = [];
        for await (const { lead: l, last } of store.iterateLeadReport({}, 2))
          rows.push([l.id, last?.statusCode, last?.n]);
        assert.deepEqual(rows, [
          [ids[0], "200", 2],
          [ids[1], "200", 1],
          [ids[2], undefined, undefined],
          [ids[3], undefined, undefined],
          [ids[4], undefined, undefined],
        ]);
        assert.equal((await store.getLead(ids[4] as number))?.mapPath, "/maps/webinar.json");
      }));

    it("requeues with the re-mapped input and keeps the history", () =>
      withStore(async (store) => {
        const refused = { code: "1006", reason: "Field 'role' not found", fix: "fix the map" };
        const { ids } = await store.addLeads(
          [lead(1, { input: undefined, refused }), lead(2, { input: undefined, refused })],
          T0,
        );
        const [a, b] = ids as number[];
        const n = await store.requeue(
          [
            { id: a as number, route: SYNC, input: { email: "lead1@example.com", title: "CEO" } },
            {
              id: b as number,
              route: SYNC,
              input: undefined,
              refused: { ...refused, reason: "Field 'jobRole' not found" },
            },
          ],
          T0 + 100,
        );
        assert.equal(n, 2);
        const la = await store.getLead(a as number);
        assert.deepEqual(
          [la?.status, la?.input, la?.lastCode],
          ["queued", { email: "lead1@example.com", title: "CEO" }, undefined],
        );
        assert.equal((await store.getAttempts(a as number)).length, 1, "the old attempt is kept");
        const lb = await store.getLead(b as number);
        assert.deepEqual(
          [lb?.status, lb?.lastReason, lb?.attempts],
          ["needs_fix", "Field 'jobRole' not found", 2],
        );
        assert.deepEqual(
          (await store.getAttempts(b as number)).map((x) => x.n),
          [1, 2],
        );
      }));

    it("a repost leaves a lead alone while its cut-off call is to be looked for; once it needs a fix, a repost drops the mark", () =>
      withStore(async (store) => {
        const { ids } = await store.addLeads([lead(1)], T0);
        const id = ids[0] as number;
        await store.claimDue("main", { now: T0, limit: 1, worker: "dead", leaseMs: 60_000 });
        await leaseMain(store, "dead");
        await store.markOnWire([{ id }], {
          step: "lead",
          done: undefined,
          at: T0 + 2,
          worker: "dead",
        });
        await store.releaseClaims("main", { workers: ["dead"] });
        const requeue = () => store.requeue([{ id, route: SYNC, input: { email: "a@x.com" } }], T0);
        assert.equal(await requeue(), 0, "still to be looked for");
        const [back] = await store.claimDue("main", {
          now: T0 + 1,
          limit: 1,
          worker: "w",
          leaseMs: 60_000,
        });
        assert.deepEqual(back?.onWire, { step: "lead", at: T0 + 2 });
        assert.equal(back?.input.email, "lead1@example.com", "the input it was sent with");
        // The lookups gave up: the lead needs a person, its mark kept.
        await store.recordAttempts([
          {
            leadId: id,
            step: "lead",
            at: T0 + 3,
            endpoint: "/rest/v1/leads.json",
            request: {},
            response: undefined,
            requestId: undefined,
            statusCode: "611",
            reason: "lookup failed",
            durationMs: 0,
            status: "needs_fix",
            uncertain: true,
          },
        ]);
        assert.equal(await requeue(), 1, "a person reposts after checking Marketo");
        const [again] = await store.claimDue("main", {
          now: T0 + 4,
          limit: 1,
          worker: "w",
          leaseMs: 60_000,
        });
        assert.equal(again?.onWire, undefined);
      }));

    it("a wire mark is only made on leads the worker holds, all or none", () =>
      withStore(async (store) => {
        const { ids } = await store.addLeads([lead(1), lead(2)], T0);
        const [a, b] = ids as number[];
        await leaseMain(store, "w1");
        await store.claimDue("main", { now: T0, limit: 1, worker: "w1", leaseMs: 60_000 });
        await store.claimDue("main", { now: T0, limit: 1, worker: "w2", leaseMs: 60_000 });
        await assert.rejects(
          store.markOnWire([{ id: a as number }, { id: b as number }], {
            step: "lead",
            done: undefined,
            at: T0 + 1,
            worker: "w1",
          }),
          (error: unknown) => error instanceof LeaseLostError && error.leadIds.join() === String(b),
        );
        await store.releaseClaims("main", { workers: ["w1", "w2"] });
        const back = await store.claimDue("main", {
          now: T0 + 2,
          limit: 10,
          worker: "w3",
          leaseMs: 60_000,
        });
        assert.deepEqual(
          back.map((l) => l.onWire),
          [undefined, undefined],
          "the failed mark left no lead marked",
        );
      }));

    it("the first call of a step keeps its time; a call not carried out takes the mark back", () =>
      withStore(async (store) => {
        const { ids } = await store.addLeads([lead(1)], T0);
        const id = ids[0] as number;
        const mark = (step: "lead" | "list", at: number, marketoId?: number) =>
          store.markOnWire([marketoId === undefined ? { id } : { id, marketoId }], {
            step,
            done: step === "list" ? "lead" : undefined,
            at,
            worker: "w",
          });
        const claimBack = async () => {
          await store.releaseClaims("main", { workers: ["w"] });
          const [back] = await store.claimDue("main", {
            now: T0 + 100,
            limit: 1,
            worker: "w",
            leaseMs: 60_000,
          });
          return back as ClaimedLead;
        };
        await store.claimDue("main", { now: T0, limit: 1, worker: "w", leaseMs: 60_000 });
        await leaseMain(store, "w");
        await mark("lead", T0 + 1);
        await mark("lead", T0 + 5);
        assert.deepEqual((await claimBack()).onWire, { step: "lead", at: T0 + 1 });
        await store.clearWire([id], "lead");
        const cleared = await claimBack();
        assert.equal(cleared.onWire, undefined);
        // On to the list step: the lead step is confirmed and the lead's id kept with it.
        await mark("list", T0 + 7, 42);
        const atList = await claimBack();
        assert.deepEqual(
          [atList.onWire, atList.done, atList.marketoId],
          [{ step: "list", at: T0 + 7 }, "lead", 42],
        );
      }));

    it("records the steps Marketo confirmed; an uncertain attempt keeps the wire mark", () =>
      withStore(async (store) => {
        const { ids } = await store.addLeads([lead(1), lead(2)], T0);
        const [a, b] = ids as number[];
        await store.claimDue("main", { now: T0, limit: 2, worker: "w", leaseMs: 60_000 });
        await leaseMain(store, "w");
        for (const id of [a, b] as number[]) {
          await store.markOnWire([{ id }], { step: "lead", done: undefined, at: T0, worker: "w" });
        }
        const row = { ...CALL, at: T0 + 5 };
        await store.recordAttempts([
          {
            ...row,
            leadId: a as number,
            step: "lead",
            statusCode: "200",
            status: "delivered",
            marketoId: 9,
          },
          {
            ...row,
            leadId: a as number,
            step: "list",
            statusCode: "611",
            status: "retrying",
            nextAt: T0 + 10,
          },
          {
            ...row,
            leadId: b as number,
            step: "lead",
            statusCode: "unknown",
            status: "retrying",
            nextAt: T0 + 10,
            uncertain: true,
          },
        ]);
        const back = await store.claimDue("main", {
          now: T0 + 10,
          limit: 2,
          worker: "w",
          leaseMs: 60_000,
        });
        assert.deepEqual(
          back.map((l) => [l.id, l.done, l.marketoId, l.onWire]),
          [
            [a, "lead", 9, undefined],
            [b, undefined, undefined, { step: "lead", at: T0 }],
          ],
        );
        assert.deepEqual(await store.attributedIds("main", [9, 10]), new Set([9]));
        assert.deepEqual(await store.attributedIds("other", [9]), new Set());
      }));

    it("a repost of a delivered lead starts over; of a lead stopped at a follow-up, resumes there", () =>
      withStore(async (store) => {
        const { ids } = await store.addLeads([lead(1), lead(2)], T0);
        const [a, b] = ids as number[];
        await store.claimDue("main", { now: T0, limit: 2, worker: "w", leaseMs: 60_000 });
        const row = { ...CALL, at: T0 + 5, statusCode: "200", status: "delivered" as const };
        await store.recordAttempts([
          { ...row, leadId: a as number, step: "lead", marketoId: 1 },
          { ...row, leadId: b as number, step: "lead", marketoId: 2 },
          { ...row, leadId: b as number, step: "list", statusCode: "1013", status: "needs_fix" },
        ]);
        const input = { email: "x@example.com" };
        await store.requeue(
          [
            { id: a as number, route: SYNC, input },
            { id: b as number, route: SYNC, input },
          ],
          T0 + 6,
        );
        const back = await store.claimDue("main", {
          now: T0 + 6,
          limit: 2,
          worker: "w",
          leaseMs: 60_000,
        });
        assert.deepEqual(
          back.map((l) => [l.id, l.done]),
          [
            [a, undefined],
            [b, "lead"],
          ],
        );
      }));

    it("keeps what it accepted across a reopen", async () => {
      const { store, reopen, cleanup } = await open();
      try {
        if (!reopen) return;
        await store.addLeads([lead(1), lead(2)], T0);
        await store.close();
        const again = await reopen();
        assert.equal((await again.countByStatus({})).queued, 2);
        assert.equal((await again.addLeads([lead(1)], T0)).duplicates, 1);
        await again.close();
      } finally {
        await cleanup();
      }
    });

    catalogSuite((fn) => withStore((store) => fn(store)));
  });
  leaseSuite(name, open);
}
