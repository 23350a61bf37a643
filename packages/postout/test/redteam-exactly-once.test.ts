import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MarketoClientOptions } from "@postout/marketo";
import type { Sandbox } from "@postout/sandbox";
import { Dispatcher } from "../src/dispatcher.ts";
import type { Route } from "../src/route.ts";
import { onceLead, onceRig } from "./once-rig.ts";

// Red-team review of issue 12 (exactly once). Each test is a break found against the current
// main: it fails now and states the outcome the promise requires.

const CREATE_DUPLICATE: Route = { endpoint: "syncLeads", action: "createDuplicate" };
const CREATE_ONLY: Route = { endpoint: "syncLeads", action: "createOnly", lookupField: "email" };
const UPSERT: Route = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };
const ACTIVITY = {
  activityTypeId: 100001,
  primaryAttributeField: "boothName",
  attributeFields: ["minutes"],
};

const isSyncPost = (url: string, method: string) =>
  method === "POST" && new URL(url).pathname === "/rest/v1/leads.json" && !url.includes("_method");
const isActivityPost = (url: string, method: string) =>
  method === "POST" && new URL(url).pathname === "/rest/v1/activities/external.json";
const isLeadLookup = (url: string, method: string) =>
  new URL(url).pathname === "/rest/v1/leads.json" && (method === "GET" || url.includes("_method"));

function bad502(): Response {
  return new Response("<html>502 Bad Gateway</html>", {
    status: 502,
    headers: { "content-type": "text/html" },
  });
}

/** Marketo carries the first matching call out, then the answer is lost (a 502 from a proxy). */
function losesFirstAnswer(match: (url: string, method: string) => boolean): typeof fetch {
  let lost = false;
  return (async (url: string | URL | Request, init?: RequestInit) => {
    const response = await fetch(url, init);
    if (!lost && match(String(url), init?.method ?? "GET")) {
      lost = true;
      await response.text();
      return bad502();
    }
    return response;
  }) as typeof fetch;
}

describe("red team: exactly once, broken", () => {
  const rig = onceRig(12);
  const lead = onceLead;
  let sandbox: Sandbox;
  function setup(
    clientOptions: Partial<MarketoClientOptions> = {},
    options: { readonly markerField?: string } = {},
  ) {
    const r = rig(clientOptions, options);
    sandbox = r.sandbox;
    const activitiesOn = async (leadId: number) =>
      (await r.activitiesPerLead(ACTIVITY.activityTypeId, [leadId]))[0] as number;
    return { ...r, activitiesOn };
  }

  // ---------------------------------------------------------------- duplicated activity

  it("R1 an activity whose answer was lost in the same round as its lead step is not added twice", async () => {
    const { store, marks, dispatcher, settle, activitiesOn, now } = setup({
      fetch: losesFirstAnswer(isActivityPost),
    });
    const route: Route = { ...UPSERT, activity: ACTIVITY };
    const { ids } = await store.addLeads(
      [lead(route, { email: "r1@example.com", boothName: "Booth 7", minutes: 5 }, "r1")],
      now(),
    );
    const id = ids[0] as number;
    await dispatcher.drain();
    const mid = await store.getLead(id);
    assert.equal(mid?.status, "retrying", "the activity's answer was lost");
    assert.deepEqual(
      marks(id),
      { wire: "activity", done: "lead" },
      "the lost activity call keeps its wire mark (the lead step's row, recorded first, erased it)",
    );
    settle();
    await dispatcher.drain();
    const row = await store.getLead(id);
    assert.equal(row?.status, "delivered");
    assert.equal(
      await activitiesOn(row?.marketoId as number),
      1,
      "Marketo carried the first activity call out: it must be found, not added again",
    );
  });

  // ---------------------------------------------------------------- duplicated lead

  it("R2 a createOnly lead without an email whose call Marketo carried out is not created again after a crash", async () => {
    const { store, plain, dispatcher, diedWithCallOut, settle, now } = setup();
    const { ids } = await store.addLeads(
      [lead(CREATE_ONLY, { firstName: "Nomail", company: "Only" }, "r2")],
      now(),
    );
    const id = ids[0] as number;
    await diedWithCallOut([id], "lead");
    // The dead process's call reached Marketo: createOnly without a lookup value creates.
    const made = await plain.syncLeads([{ firstName: "Nomail", company: "Only" }], {
      action: "createOnly",
    });
    assert.equal(made.results[0]?.status, "created");
    settle();
    await dispatcher.drain();
    const row = await store.getLead(id);
    assert.equal(
      sandbox.state().leads,
      1,
      `one Marketo lead for our one lead (ours ended ${row?.status} ${row?.lastCode ?? ""})`,
    );
  });

  it("R3 a createOnly lead without an email whose answer was lost is not resent by the client", async () => {
    const { store, dispatcher, now } = setup({ fetch: losesFirstAnswer(isSyncPost) });
    const { ids } = await store.addLeads(
      [lead(CREATE_ONLY, { firstName: "Nomail", company: "Lost" }, "r3")],
      now(),
    );
    await dispatcher.drain();
    const row = await store.getLead(ids[0] as number);
    assert.equal(
      sandbox.state().leads,
      1,
      `one Marketo lead for our one lead (ours ended ${row?.status} ${row?.lastCode ?? ""})`,
    );
  });

  // ---------------------------------------------------------------- lost + mixed

  it("R4 a createDuplicate lead whose call failed unexecuted is not attributed to the lead another of our calls created at the same time", async () => {
    // Two of our leads for the same person, on two routes (any difference in the routing
    // section makes two routes) in one round: the routes' calls go out together.
    let first = true;
    const fetcher = (async (url: string | URL | Request, init?: RequestInit) => {
      if (first && isSyncPost(String(url), init?.method ?? "GET")) {
        first = false;
        // A gateway in front of Marketo gives up on this call without passing it on; its
        // answer arrives a moment after the other call's.
        await new Promise((resolve) => setTimeout(resolve, 300));
        return bad502();
      }
      return fetch(url, init);
    }) as typeof fetch;
    const { store, dispatcher, settle, byEmail, now } = setup({ fetch: fetcher });
    const routeB: Route = { ...CREATE_DUPLICATE, lookupField: "email" };
    const person = { email: "same@example.com", firstName: "Sam" };
    const { ids } = await store.addLeads(
      [lead(CREATE_DUPLICATE, person, "r4a"), lead(routeB, person, "r4b")],
      now(),
    );
    await dispatcher.drain();
    settle();
    await dispatcher.drain();
    const rows = await Promise.all(ids.map((id) => store.getLead(id as number)));
    const people = await byEmail("same@example.com");
    assert.deepEqual(
      rows.map((r) => r?.status),
      ["delivered", "delivered"],
    );
    assert.notEqual(
      rows[0]?.marketoId,
      rows[1]?.marketoId,
      "two of our leads are never attributed to one Marketo lead created once",
    );
    assert.equal(people.length, 2, "both createDuplicate leads are in Marketo");
  });

  it("R5 after a crash, a createDuplicate lead is not attributed to the lead another route's call creates while it is being verified", async () => {
    let delayLookups = false;
    const fetcher = (async (url: string | URL | Request, init?: RequestInit) => {
      if (delayLookups && isLeadLookup(String(url), init?.method ?? "GET")) {
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      return fetch(url, init);
    }) as typeof fetch;
    const { store, dispatcher, diedWithCallOut, settle, byEmail, now } = setup({
      fetch: fetcher,
    });
    const routeB: Route = { ...CREATE_DUPLICATE, lookupField: "email" };
    const person = { email: "race@example.com", firstName: "Rae" };
    const { ids } = await store.addLeads([lead(routeB, person, "r5b")], now());
    const b = ids[0] as number;
    // B's call was marked and the process died before it left: Marketo never saw it.
    await diedWithCallOut([b], "lead");
    settle();
    // The same person comes in again, on another route; one round verifies B and sends A.
    const added = await store.addLeads([lead(CREATE_DUPLICATE, person, "r5a")], now());
    const a = added.ids[0] as number;
    delayLookups = true;
    await dispatcher.drain();
    const [rowA, rowB] = await Promise.all([store.getLead(a), store.getLead(b)]);
    const people = await byEmail("race@example.com");
    assert.notEqual(
      rowA?.marketoId,
      rowB?.marketoId,
      `B (${rowB?.status}: ${rowB?.lastReason}) is not A's lead`,
    );
    assert.equal(people.length, 2, "both createDuplicate leads are in Marketo");
  });

  // ---------------------------------------------------------------- repost interplay

  it("R6 a repost with a corrected map while a createDuplicate call is uncertain does not create the person twice", async () => {
    const { store, plain, dispatcher, diedWithCallOut, settle, byEmail, now } = setup();
    const sent = { email: "remap@example.com", firstName: "Rem" };
    const { ids } = await store.addLeads([lead(CREATE_DUPLICATE, sent, "r6")], now());
    const id = ids[0] as number;
    await diedWithCallOut([id], "lead");
    // The dead process's call did reach Marketo.
    await plain.syncLeads([sent], { action: "createDuplicate" });
    // Meanwhile a person fixes the field map (adds the company) and reposts the lead.
    await store.requeue(
      [{ id, route: CREATE_DUPLICATE, input: { ...sent, company: "Fixed Co" } }],
      now(),
    );
    settle();
    await dispatcher.drain();
    const people = await byEmail("remap@example.com");
    assert.equal(
      people.length,
      1,
      "the interrupted call made this person; the repost must not make a second",
    );
  });

  it("R7 a createDuplicate lead without an email handed to a person as uncertain can be reposted once the person checked Marketo", async () => {
    const { store, dispatcher, diedWithCallOut, settle, now } = setup();
    const input = { firstName: "Nomail", company: "Checked" };
    const { ids } = await store.addLeads([lead(CREATE_DUPLICATE, input, "r7")], now());
    const id = ids[0] as number;
    await diedWithCallOut([id], "lead");
    settle();
    await dispatcher.drain();
    const handed = await store.getLead(id);
    assert.deepEqual([handed?.status, handed?.lastCode], ["needs_fix", "uncertain"]);
    // The fix says: "If there is none, repost it". There is none: the person reposts.
    assert.match(handed?.fix ?? "", /If there is none, repost it/);
    await store.requeue([{ id, route: CREATE_DUPLICATE, input }], now());
    settle();
    await dispatcher.drain();
    const row = await store.getLead(id);
    assert.equal(row?.status, "delivered", `reposted, it ends ${row?.status} ${row?.lastCode}`);
    assert.equal(sandbox.state().leads, 1);
  });

  // ---------------------------------------------------------------- lost activity

  it("R8 a custom activity of one of our leads is not taken for another's that has the same lead, second and primary value", async () => {
    const { store, plain, dispatcher, settle, activitiesOn, now } = setup();
    const route: Route = { ...UPSERT, activity: ACTIVITY };
    // Two rows of one CSV file: the same person visited the same booth twice (minutes differ).
    // Rows of one post are accepted in the same millisecond.
    const { ids } = await store.addLeads(
      [
        lead(route, { email: "twice@example.com", boothName: "Booth 7", minutes: 5 }, "r8a"),
        lead(route, { email: "twice@example.com", boothName: "Booth 7", minutes: 40 }, "r8b"),
      ],
      now(),
    );
    const [a, b] = ids as number[];
    // A is delivered in full on its own; B's lead step is done and its activity call was
    // marked, then its process died before the call left.
    const one = new Dispatcher({
      store,
      destination: "main",
      client: plain,
      worker: "one",
      now,
      claimLimit: 1,
    });
    await one.runOnce();
    const rowA = await store.getLead(a as number);
    assert.equal(rowA?.status, "delivered");
    const marketoId = rowA?.marketoId as number;
    assert.equal(await activitiesOn(marketoId), 1);
    // Then another process holds the destination, claims B, sends its activity and dies.
    await store.releaseWorker("one");
    await store.balance("dead", ["main"], now(), 60_000);
    await store.claimDue("main", { now: now(), limit: 10, worker: "dead", leaseMs: 60_000 });
    await store.markOnWire([{ id: b as number, marketoId }], {
      step: "activity",
      done: "lead",
      at: now(),
      worker: "dead",
    });
    await store.releaseClaims("main", { workers: ["dead"] });
    await store.releaseWorker("dead");
    settle();
    await dispatcher.drain();
    const rowB = await store.getLead(b as number);
    assert.equal(rowB?.status, "delivered");
    assert.equal(
      await activitiesOn(marketoId),
      2,
      `one activity per lead of ours (B ended: ${rowB?.lastReason})`,
    );
  });
  // ---------------------------------------------------------------- the evidence of a lost create

  it("R9 a createDuplicate whose call went out unexecuted is not attributed to a lead another app created with the same values", {
    todo: "a limit of the evidence without a marker field: a lead another app creates after our call, with every value we sent, is indistinguishable from ours (with markerField it holds: exactly-once.test.ts)",
  }, async () => {
    const { store, plain, dispatcher, diedWithCallOut, settle, byEmail, now } = setup();
    const person = { email: "event@example.com", firstName: "Eve" };
    const { ids } = await store.addLeads([lead(CREATE_DUPLICATE, person, "r9")], now());
    const id = ids[0] as number;
    // Ours was marked and the process died before the call left.
    await diedWithCallOut([id], "lead");
    // The same attendee reaches Marketo from the event platform's own integration a moment later.
    await plain.syncLeads([{ ...person, company: "Platform" }], { action: "createOrUpdate" });
    settle();
    await dispatcher.drain();
    const row = await store.getLead(id);
    const people = await byEmail("event@example.com");
    assert.ok(
      people.length === 2 || row?.status === "needs_fix",
      `ours is created, or goes to a person; it ended ${row?.status}: ${row?.lastReason}`,
    );
  });

  it("R10 a createDuplicate lead with a number sent as text (no preflight) is found after a crash, not created twice", async () => {
    const { store, plain, dispatcher, diedWithCallOut, settle, byEmail, now } = setup();
    // Accepted while describe was unreachable: no preflight, the CSV's text kept as it is.
    const sent = { email: "num@example.com", firstName: "Num", numberOfEmployees: "42" };
    const { ids } = await store.addLeads([lead(CREATE_DUPLICATE, sent, "r10")], now());
    await diedWithCallOut([ids[0] as number], "lead");
    // The dead process's call reached Marketo, which keeps 42 as a number.
    await plain.syncLeads([sent], { action: "createDuplicate" });
    settle();
    await dispatcher.drain();
    assert.equal((await byEmail("num@example.com")).length, 1, "created once");
  });

  it("R11 a createDuplicate lead changed in Marketo after its lost create (a campaign) is found, not created twice", {
    todo: "a limit of the evidence without a marker field: a field changed in Marketo between the create and the lookup no longer matches what was sent (with markerField it holds: exactly-once.test.ts)",
  }, async () => {
    const { store, plain, dispatcher, diedWithCallOut, settle, byEmail, now } = setup();
    const sent = { email: "camp@example.com", firstName: "Cam", company: "Acme" };
    const { ids } = await store.addLeads([lead(CREATE_DUPLICATE, sent, "r11")], now());
    await diedWithCallOut([ids[0] as number], "lead");
    const made = await plain.syncLeads([sent], { action: "createDuplicate" });
    // A "Lead is Created" smart campaign normalises the company a few seconds later.
    await plain.syncLeads([{ id: made.results[0]?.id as number, company: "ACME Inc." }], {
      action: "updateOnly",
      lookupField: "id",
    });
    settle();
    await dispatcher.drain();
    assert.equal((await byEmail("camp@example.com")).length, 1, "created once");
  });

  it("R12 a gateway clock 10 s ahead of Marketo's does not make a lost create be created twice", {
    todo: "a limit of the evidence without a marker field: a clock skew beyond verify.skewMs (5 s) hides the create (with markerField it holds: exactly-once.test.ts)",
  }, async () => {
    const { store, plain, byEmail } = setup();
    const ahead = () => sandbox.clock.now() + 10_000;
    const dispatcher = new Dispatcher({
      store,
      destination: "main",
      client: plain,
      worker: "ahead",
      now: ahead,
    });
    const sent = { email: "skew@example.com", firstName: "Sku" };
    const { ids } = await store.addLeads([lead(CREATE_DUPLICATE, sent, "r12")], ahead());
    const id = ids[0] as number;
    await store.balance("dead", ["main"], ahead(), 60_000);
    await store.claimDue("main", { now: ahead(), limit: 10, worker: "dead", leaseMs: 60_000 });
    await store.markOnWire([{ id }], {
      step: "lead",
      done: undefined,
      at: ahead(),
      worker: "dead",
    });
    await plain.syncLeads([sent], { action: "createDuplicate" });
    await store.releaseClaims("main", { workers: ["dead"] });
    await store.releaseWorker("dead");
    sandbox.clock.set(new Date(sandbox.clock.now() + 61_000));
    await dispatcher.drain();
    const row = await store.getLead(id);
    assert.equal(
      (await byEmail("skew@example.com")).length,
      1,
      `created once (ours ended ${row?.status}: ${row?.lastReason})`,
    );
  });
});
