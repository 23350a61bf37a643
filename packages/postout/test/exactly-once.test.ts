import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MarketoClient } from "@postout/marketo";
import { Dispatcher } from "../src/dispatcher.ts";
import { activityOf } from "../src/follow-ups.ts";
import { markerOf } from "../src/lead-step.ts";
import type { Route } from "../src/route.ts";
import type { ClaimedLead } from "../src/store/store.ts";
import { onceLead, onceRig } from "./once-rig.ts";

// The findings of the exactly-once review, each as the moment it went wrong: a process that
// dies with a call out, two people in one batch, a follow-up that fails after the lead step.
// The dead process is played by a claim of worker "dead" with the wire mark it would have made.

const CREATE_DUPLICATE: Route = {
  endpoint: "syncLeads",
  action: "createDuplicate",
  lookupField: "email",
};
const CREATE_ONLY: Route = { endpoint: "syncLeads", action: "createOnly", lookupField: "email" };

describe("exactly once: what a crash or a lost answer leaves, settled by what Marketo proves", () => {
  const setup = onceRig(11);
  const lead = onceLead;

  it("a createDuplicate whose call never reached Marketo is created, not taken for the older lead with its email", async () => {
    const { store, client, dispatcher, diedWithCallOut, settle, byEmail, now } = setup();
    const older = await client.syncLeads([{ email: "ann@example.com", firstName: "Old" }], {
      action: "createOrUpdate",
    });
    const olderId = older.results[0]?.id;
    const { ids } = await store.addLeads(
      [lead(CREATE_DUPLICATE, { email: "ann@example.com", firstName: "Ann" }, "a")],
      now(),
    );
    const id = ids[0] as number;
    // Its call was answered 606 (never carried out) and the process died waiting for the window.
    await diedWithCallOut([id], "lead");
    settle();
    await dispatcher.drain();
    const row = await store.getLead(id);
    assert.equal(row?.status, "delivered");
    assert.notEqual(row?.marketoId, olderId, "not the older lead's id");
    const people = await byEmail("ann@example.com");
    assert.deepEqual(people.map((p) => p.firstName).sort(), ["Ann", "Old"]);
    assert.ok(people.some((p) => p.id === row?.marketoId && p.firstName === "Ann"));
  });

  it("a createOnly whose call never reached Marketo ends 1005 when the email exists, as without the crash", async () => {
    const { store, client, dispatcher, diedWithCallOut, settle, now } = setup();
    await client.syncLeads([{ email: "bo@example.com", firstName: "Old" }]);
    const { ids } = await store.addLeads(
      [lead(CREATE_ONLY, { email: "bo@example.com", firstName: "Bo" }, "b")],
      now(),
    );
    await diedWithCallOut([ids[0] as number], "lead");
    settle();
    await dispatcher.drain();
    const row = await store.getLead(ids[0] as number);
    assert.deepEqual([row?.status, row?.lastCode], ["needs_fix", "1005"]);
  });

  it("a lead created by the interrupted call but already attributed to another lead of ours is not taken twice", async () => {
    const { store, client, dispatcher, diedWithCallOut, settle, byEmail, now } = setup();
    const { ids } = await store.addLeads(
      [
        lead(CREATE_DUPLICATE, { email: "cy@example.com", firstName: "Cy" }, "c1"),
        lead(CREATE_DUPLICATE, { email: "cy@example.com", firstName: "Cy" }, "c2"),
      ],
      now(),
    );
    const [first, second] = ids as number[];
    // The first lead was delivered a moment ago (inside the clock-skew allowance); then the
    // second one's call went out and its process died.
    await diedWithCallOut([second as number], "lead");
    const firstOnly = new Dispatcher({
      store,
      destination: "main",
      client,
      worker: "first",
      now,
      claimLimit: 1,
    });
    await firstOnly.runOnce();
    const made = (await store.getLead(first as number))?.marketoId;
    assert.equal(typeof made, "number");
    settle();
    await dispatcher.drain();
    const people = await byEmail("cy@example.com");
    const secondRow = await store.getLead(second as number);
    assert.equal(secondRow?.status, "delivered");
    assert.notEqual(secondRow?.marketoId, made);
    assert.equal(people.length, 2, "one Marketo lead for each of our two leads");
  });

  it("a createDuplicate lead without an email whose call went out goes to a person; one whose call never left is sent", async () => {
    const { sandbox, store, dispatcher, settle, now } = setup();
    const { ids } = await store.addLeads(
      [
        lead(CREATE_DUPLICATE, { firstName: "Nomail", company: "Out" }, "d1"),
        lead(CREATE_DUPLICATE, { firstName: "Nomail", company: "Gate" }, "d2"),
      ],
      now(),
    );
    const [out, gate] = ids as number[];
    await store.balance("dead", ["main"], now(), 60_000);
    await store.claimDue("main", { now: now(), limit: 100, worker: "dead", leaseMs: 60_000 });
    await store.markOnWire([{ id: out as number }], {
      step: "lead",
      done: undefined,
      at: now(),
      worker: "dead",
    });
    await store.releaseClaims("main", { workers: ["dead"] });
    await store.releaseWorker("dead");
    const leadsBefore = Number(sandbox.state().leads);
    settle();
    await dispatcher.drain();
    const [outRow, gateRow] = await Promise.all([
      store.getLead(out as number),
      store.getLead(gate as number),
    ]);
    assert.deepEqual([outRow?.status, outRow?.lastCode], ["needs_fix", "uncertain"]);
    assert.match(outRow?.fix ?? "", /Look in Marketo for a lead created around/);
    assert.equal(gateRow?.status, "delivered");
    assert.equal(
      sandbox.state().leads,
      leadsBefore + 1,
      "only the lead whose call never left was sent",
    );
  });

  it("a custom activity whose call went out is looked for among the lead's activities, never added twice", async () => {
    const { sandbox, store, client, dispatcher, settle, now, activitiesPerLead } = setup();
    const activity = {
      activityTypeId: 100001,
      primaryAttributeField: "boothName",
      attributeFields: ["minutes"],
    };
    const route: Route = { ...CREATE_DUPLICATE, activity };
    const made = await client.syncLeads(
      [{ email: "act1@example.com" }, { email: "act2@example.com" }],
      { action: "createDuplicate" },
    );
    const marketoIds = made.results.map((r) => r.id as number);
    const { ids } = await store.addLeads(
      [1, 2].map((i) =>
        lead(route, { email: `act${i}@example.com`, boothName: "Booth 7", minutes: 15 }, `g${i}`),
      ),
      now(),
    );
    // Both leads were created and their activity calls went out; Marketo added the first
    // lead's activity, the second call never arrived. Then the process died.
    await store.balance("dead", ["main"], now(), 60_000);
    const claimed = await store.claimDue("main", {
      now: now(),
      limit: 10,
      worker: "dead",
      leaseMs: 60_000,
    });
    for (const [k, c] of claimed.entries()) {
      await store.markOnWire([{ id: c.id, marketoId: marketoIds[k] as number }], {
        step: "activity",
        done: "lead",
        at: now(),
        worker: "dead",
      });
    }
    const first = claimed[0] as ClaimedLead;
    await client.addCustomActivities([
      activityOf(activity, {
        lead: first,
        attempts: 0,
        marketoId: marketoIds[0] as number,
      }),
    ]);
    await store.releaseClaims("main", { workers: ["dead"] });
    await store.releaseWorker("dead");
    // Marketo may still be working on the calls: the leads wait, their rows at the activity step.
    await dispatcher.drain();
    const waiting = await store.getAttempts(ids[0] as number);
    assert.deepEqual(
      [waiting.at(-1)?.endpoint, waiting.at(-1)?.statusCode],
      ["/rest/v1/activities/external.json", "uncertain"],
    );
    settle();
    await dispatcher.drain();
    const rows = await Promise.all(ids.map((id) => store.getLead(id as number)));
    assert.deepEqual(
      rows.map((r) => r?.status),
      ["delivered", "delivered"],
    );
    assert.match(rows[0]?.lastReason ?? "", /added by the interrupted call/);
    assert.equal(rows[1]?.lastReason, "activity 100001 added");
    assert.deepEqual(await activitiesPerLead(100001, marketoIds), [1, 1], "one activity per lead");
    assert.equal(sandbox.state().leads, 2, "the lead step was not repeated");
  });

  it("a Push Lead whose call went out is looked for by its Push Lead activity, never pushed twice", async () => {
    const { store, client, dispatcher, diedWithCallOut, settle, now, activitiesPerLead } = setup();
    const push: Route = { endpoint: "pushLeads", programName: "2026 Q3 Product Webinar" };
    const { ids } = await store.addLeads(
      [1, 2].map((i) => lead(push, { email: `push${i}@example.com`, firstName: `P${i}` }, `p${i}`)),
      now(),
    );
    // Both pushes went out; Marketo carried out the first, the second never arrived.
    await diedWithCallOut(ids as number[], "lead");
    await client.pushLeads([{ email: "push1@example.com", firstName: "P1" }], {
      programName: "2026 Q3 Product Webinar",
    });
    settle();
    await dispatcher.drain();
    const rows = await Promise.all(ids.map((id) => store.getLead(id as number)));
    assert.deepEqual(
      rows.map((r) => r?.status),
      ["delivered", "delivered"],
    );
    assert.match(rows[0]?.lastReason ?? "", /^pushed by the interrupted call/);
    assert.deepEqual(
      await activitiesPerLead(
        145,
        rows.map((r) => r?.marketoId as number),
      ),
      [1, 1],
      "one Push Lead activity per lead",
    );
  });

  it("a lookup that fails leaves the lead to look for again, its mark kept: nothing is sent meanwhile", async () => {
    const { sandbox, store, dispatcher, diedWithCallOut, settle, now, marks } = setup();
    const { ids } = await store.addLeads(
      [lead(CREATE_DUPLICATE, { email: "look@example.com", firstName: "Lu" }, "l1")],
      now(),
    );
    const id = ids[0] as number;
    await diedWithCallOut([id], "lead");
    settle();
    sandbox.faults.add({ code: "611", endpoint: "/rest/v1/leads.json", method: "GET", count: 1 });
    await dispatcher.drain();
    const waiting = await store.getLead(id);
    assert.deepEqual([waiting?.status, waiting?.lastCode], ["retrying", "611"]);
    assert.equal(marks(id).wire, "lead", "still to be looked for");
    assert.equal(sandbox.state().leads, 0, "not sent while unknown");
    sandbox.clock.set(new Date(now() + 61_000));
    await dispatcher.drain();
    assert.equal((await store.getLead(id))?.status, "delivered");
    assert.equal(sandbox.state().leads, 1);
  });

  describe("with a marker field (the destination's markerField): the limits of the evidence are gone", () => {
    const marked = () => setup({}, { markerField: "postoutId" });

    it("another app's lead with every value we sent, made after our cut-off call, is not taken for ours", async () => {
      const { store, plain, dispatcher, diedWithCallOut, settle, byEmail, now } = marked();
      const person = { email: "event@example.com", firstName: "Eve" };
      const { ids } = await store.addLeads([lead(CREATE_DUPLICATE, person, "m1")], now());
      const id = ids[0] as number;
      await diedWithCallOut([id], "lead");
      await plain.syncLeads([person], { action: "createDuplicate" });
      settle();
      await dispatcher.drain();
      const row = await store.getLead(id);
      assert.equal(row?.status, "delivered");
      const people = await byEmail("event@example.com");
      assert.equal(people.length, 2, "ours was created beside the other app's");
    });

    it("a lead our cut-off call made is found by its marker though a campaign changed it and Marketo's clock lags 10 s", async () => {
      const { sandbox, store, dispatcher, diedWithCallOut, settle, byEmail, now } = marked();
      const sent = { email: "camp@example.com", firstName: "Cam", company: "Acme" };
      const { ids } = await store.addLeads([lead(CREATE_DUPLICATE, sent, "m2")], now());
      const id = ids[0] as number;
      const [claimed] = await diedWithCallOut([id], "lead");
      // The dead process's call, as it went out with the marker; Marketo's clock 10 s behind.
      sandbox.clock.set(new Date(now() - 10_000));
      const plainClient = new MarketoClient({
        baseUrl: sandbox.url,
        clientId: sandbox.clientId,
        clientSecret: sandbox.clientSecret,
      });
      const made = await plainClient.syncLeads(
        [{ ...sent, postoutId: markerOf(claimed as ClaimedLead) }],
        { action: "createDuplicate" },
      );
      await plainClient.syncLeads([{ id: made.results[0]?.id, company: "ACME Inc." }], {
        action: "updateOnly",
        lookupField: "id",
      });
      sandbox.clock.set(new Date(now() + 10_000));
      settle();
      await dispatcher.drain();
      const row = await store.getLead(id);
      assert.equal(row?.status, "delivered");
      assert.equal(row?.marketoId, made.results[0]?.id);
      assert.match(row?.lastReason ?? "", /holds Postout's id for this lead in postoutId/);
      assert.equal((await byEmail("camp@example.com")).length, 1, "created once");
    });

    it("every create carries the marker", async () => {
      const { store, dispatcher, plain, now } = marked();
      const { ids } = await store.addLeads(
        [lead(CREATE_ONLY, { email: "mk@example.com", firstName: "Mk" }, "m3")],
        now(),
      );
      await dispatcher.drain();
      const row = await store.getLead(ids[0] as number);
      const rows: Record<string, unknown>[] = [];
      for await (const page of plain.getLeadsByFilter({
        filterType: "email",
        filterValues: ["mk@example.com"],
        fields: ["id", "postoutId"],
      })) {
        rows.push(...page);
      }
      assert.match(String(rows[0]?.postoutId), new RegExp(`^postout:${row?.id}:\\d+$`));
    });
  });

  it("two createDuplicate leads with one email in one batch are two people, never merged", async () => {
    const { store, dispatcher, byEmail, now } = setup();
    const { ids } = await store.addLeads(
      [
        lead(CREATE_DUPLICATE, { email: "twin@example.com", firstName: "Ada", company: "A" }, "e1"),
        lead(CREATE_DUPLICATE, { email: "twin@example.com", firstName: "Bea" }, "e2"),
      ],
      now(),
    );
    await dispatcher.drain();
    const rows = await Promise.all(ids.map((id) => store.getLead(id as number)));
    assert.deepEqual(
      rows.map((r) => r?.status),
      ["delivered", "delivered"],
    );
    assert.notEqual(rows[0]?.marketoId, rows[1]?.marketoId);
    const people = await byEmail("twin@example.com");
    const byId = new Map(people.map((p) => [p.id, p]));
    assert.equal(byId.get(rows[0]?.marketoId)?.firstName, "Ada");
    assert.equal(byId.get(rows[1]?.marketoId)?.firstName, "Bea");
    assert.equal(byId.get(rows[1]?.marketoId)?.company ?? null, null, "no field of Ada's in Bea");
  });

  it("upserts with one email in one batch are merged into one record, as Marketo treats them as one lead", async () => {
    const { store, dispatcher, byEmail, now } = setup();
    const upsert: Route = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };
    const { ids } = await store.addLeads(
      [
        lead(upsert, { email: "one@example.com", firstName: "Ann", company: "A" }, "f1"),
        lead(upsert, { email: "ONE@example.com", firstName: "Anne" }, "f2"),
      ],
      now(),
    );
    await dispatcher.drain();
    const rows = await Promise.all(ids.map((id) => store.getLead(id as number)));
    assert.equal(rows[0]?.marketoId, rows[1]?.marketoId);
    const people = await byEmail("one@example.com");
    assert.deepEqual(
      people.map((p) => [p.firstName, p.company]),
      [["Anne", "A"]],
    );
  });
});
