import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { clearTokenCache, MarketoClient } from "@postout/marketo";
import { type Sandbox, startSandbox } from "@postout/sandbox";
import { Dispatcher } from "../src/dispatcher.ts";
import type { Route } from "../src/route.ts";
import { SqliteStore } from "../src/store/sqlite/sqlite-store.ts";
import type { NewLead } from "../src/store/store.ts";
import { withMethods } from "./store-override.ts";

const SYNC: Route = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };

describe("dispatcher against the sandbox over HTTP", () => {
  let sandbox: Sandbox;
  let dir: string;
  before(async () => {
    sandbox = await startSandbox({ latency: false, timeScale: 0.01, seed: 7 });
    dir = mkdtempSync(join(tmpdir(), "postout-dispatch-"));
  });
  after(async () => {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let n = 0;
  function setup(options: { clientSecret?: string } = {}) {
    n += 1;
    sandbox.reset();
    sandbox.faults.clear();
    const store = new SqliteStore(join(dir, `t${n}.db`));
    const now = () => sandbox.clock.now();
    const client = new MarketoClient({
      baseUrl: sandbox.url,
      clientId: sandbox.clientId,
      clientSecret: options.clientSecret ?? sandbox.clientSecret,
      now,
      retry: { maxAttempts: 1 },
    });
    const dispatcher = new Dispatcher({ store, destination: "main", client, worker: `w${n}`, now });
    return { store, client, dispatcher, now, path: join(dir, `t${n}.db`) };
  }
  const lead = (i: number, input: Record<string, unknown> = {}, route: Route = SYNC): NewLead => ({
    destination: "main",
    route,
    raw: { i },
    input: { email: `lead${i}@example.com`, firstName: `L${i}`, ...input },
    intakeKey: `k${i}`,
  });

  it("delivers a batch and records one attempt per lead with Marketo's answer", async () => {
    const { store, dispatcher, now } = setup();
    const { ids } = await store.addLeads(
      Array.from({ length: 5 }, (_, i) => lead(i)),
      now(),
    );
    assert.equal(await dispatcher.drain(), 5);
    for (const id of ids) {
      const row = await store.getLead(id as number);
      assert.equal(row?.status, "delivered");
      assert.equal(typeof row?.marketoId, "number");
      const [attempt] = await store.getAttempts(id as number);
      assert.equal(attempt?.statusCode, "200");
      assert.equal(attempt?.endpoint, "/rest/v1/leads.json");
      assert.deepEqual((attempt?.request as { input?: unknown } | undefined)?.input, row?.input);
      assert.match(attempt?.requestId ?? "", /#/);
    }
    assert.equal(sandbox.state().leads, 5);
  });

  it("a drain sends only under the destination's lease: none while another live process holds it, all once that lease ran out", async () => {
    const { store, dispatcher, now } = setup();
    const { ids } = await store.addLeads([lead(1)], now());
    await store.heartbeat("other", now(), 10_000);
    assert.deepEqual(await store.balance("other", ["main"], now(), 10_000), ["main"]);
    assert.equal(await dispatcher.drain(), 0, "the lease's owner sends these leads");
    assert.equal(await dispatcher.runOnce(), 0);
    assert.equal(sandbox.state().leads, 0);
    assert.equal((await store.getLead(ids[0] as number))?.status, "queued");
    sandbox.clock.set(new Date(now() + 10_000));
    assert.equal(await dispatcher.drain(), 1);
    assert.equal((await store.getLead(ids[0] as number))?.status, "delivered");
  });

  it("a drain whose lease another process took between two rounds stops there", async () => {
    const { store, client, now } = setup();
    const { ids } = await store.addLeads([lead(1), lead(2)], now());
    let held = 0;
    const dispatcher = new Dispatcher({
      // Before the second round the process stalls past its lease, and "other" takes it.
      store: withMethods(store, {
        balance: async (worker, destinations, _at, leaseMs, busy) => {
          if (++held === 2) {
            sandbox.clock.set(new Date(now() + 15_000));
            await store.balance("other", ["main"], now(), 15_000);
          }
          return store.balance(worker, destinations, now(), leaseMs, busy);
        },
      }),
      destination: "main",
      client,
      worker: "w-taken",
      now,
      claimLimit: 1,
    });
    assert.equal(await dispatcher.drain(), 1);
    assert.equal(sandbox.state().leads, 1, "the second round sent nothing");
    assert.equal((await store.getLead(ids[1] as number))?.status, "queued");
    // The first round's record may be written after the takeover (it overlaps the next round's
    // start): then the new owner holds lead 1 and finds it in Marketo by its wire mark, and the
    // answer is kept in the log as a call that did not decide.
    const first = await store.getLead(ids[0] as number);
    const answered = (await store.getAttempts(ids[0] as number)).map((a) => a.statusCode);
    assert.ok(
      first?.status === "delivered" || (first?.status === "queued" && answered.includes("200")),
      `lead 1: ${first?.status}, attempts ${answered.join(", ")}`,
    );
  });

  it("marks a skipped record needs_fix with the code, the reason and the fix naming the field", async () => {
    const { store, dispatcher, now } = setup();
    const { ids } = await store.addLeads([lead(1), lead(2, { role: "CEO" }), lead(3)], now());
    await dispatcher.drain();
    const bad = await store.getLead(ids[1] as number);
    assert.equal(bad?.status, "needs_fix");
    assert.equal(bad?.lastCode, "1006");
    assert.equal(bad?.lastReason, "Field 'role' not found");
    assert.match(bad?.fix ?? "", /^'role' is not a Marketo field/);
    assert.equal((await store.getLead(ids[0] as number))?.status, "delivered");
    assert.equal((await store.getLead(ids[2] as number))?.status, "delivered");
  });

  it("tells its owner what it recorded, so a Marketo 1006 can refresh the cached schema", async () => {
    const { store, client, now } = setup();
    const seen: string[] = [];
    const dispatcher = new Dispatcher({
      store,
      destination: "main",
      client,
      worker: "w-hook",
      now,
      onRecorded: (records) => seen.push(...records.map((r) => r.statusCode)),
    });
    await store.addLeads([lead(1), lead(2, { role: "CEO" })], now());
    await dispatcher.drain();
    assert.deepEqual(seen.sort(), ["1006", "200"]);
  });

  it("merges leads with the same lookup key into one record and answers each", async () => {
    const { store, dispatcher, now } = setup();
    const { ids } = await store.addLeads(
      [lead(1, { firstName: "Old" }), { ...lead(1, { lastName: "New" }), intakeKey: "again" }],
      now(),
    );
    await dispatcher.drain();
    const rows = await Promise.all(ids.map((id) => store.getLead(id as number)));
    assert.deepEqual(
      rows.map((r) => r?.status),
      ["delivered", "delivered"],
    );
    assert.equal(rows[0]?.marketoId, rows[1]?.marketoId);
    assert.equal(sandbox.state().leads, 1);
  });

  it("retries a transient failure later and delivers it then", async () => {
    const { store, dispatcher, now } = setup();
    sandbox.faults.add({ code: "611", endpoint: "/rest/v1/leads.json", method: "POST", count: 50 });
    const { ids } = await store.addLeads([lead(1)], now());
    await dispatcher.drain();
    const first = await store.getLead(ids[0] as number);
    assert.equal(first?.status, "retrying");
    assert.equal(first?.lastCode, "611");
    assert.ok((first?.nextAt ?? 0) > now());
    sandbox.faults.clear();
    assert.equal(await dispatcher.drain(), 0, "not due yet");
    sandbox.clock.advance(61_000);
    await dispatcher.drain();
    const second = await store.getLead(ids[0] as number);
    assert.equal(second?.status, "delivered");
    assert.deepEqual(
      (await store.getAttempts(ids[0] as number)).map((a) => a.statusCode),
      ["611", "200"],
    );
  });

  it("pauses the destination on 607 until midnight Chicago, then resumes by itself", async () => {
    const { store, dispatcher, now } = setup();
    sandbox.clock.set(new Date("2026-11-23T18:00:00Z"));
    sandbox.faults.add({ code: "607", endpoint: "/rest/v1/leads.json", count: 1 });
    const { ids } = await store.addLeads([lead(1), lead(2)], now());
    await dispatcher.drain();
    const paused = await store.getLead(ids[0] as number);
    assert.equal(paused?.status, "paused");
    assert.equal(paused?.lastCode, "607");
    const state = await store.getDestination("main");
    assert.equal(state?.pausedUntil, Date.parse("2026-11-24T06:00:00Z"));
    assert.equal(await dispatcher.drain(), 0, "nothing is sent while paused");
    sandbox.clock.set(new Date("2026-11-24T06:00:01Z"));
    await dispatcher.drain();
    assert.deepEqual(
      (await Promise.all(ids.map((id) => store.getLead(id as number)))).map((r) => r?.status),
      ["delivered", "delivered"],
    );
    assert.equal((await store.getDestination("main"))?.pausedUntil, undefined);
  });

  it("pauses on bad credentials without spending attempts", async () => {
    const { store, dispatcher, now } = setup({ clientSecret: "wrong" });
    const { ids } = await store.addLeads([lead(1)], now());
    await dispatcher.drain();
    const row = await store.getLead(ids[0] as number);
    assert.equal(row?.status, "paused");
    assert.equal(row?.lastCode, "401");
    assert.equal((await store.getDestination("main"))?.pausedCode, "401");
  });

  it("pushes into a program with a status, and a wrong status is needs_fix 1025", async () => {
    const { store, dispatcher, now } = setup();
    const good: Route = {
      endpoint: "pushLeads",
      programName: "2026 Q3 Product Webinar",
      source: "ON24",
      reason: "Registered on the landing page",
      programStatus: "Registered",
    };
    const bad: Route = { ...good, programStatus: "Attended Twice" };
    const { ids } = await store.addLeads([lead(1, {}, good), lead(2, {}, bad)], now());
    await dispatcher.drain();
    const [ok, wrong] = await Promise.all(ids.map((id) => store.getLead(id as number)));
    assert.equal(ok?.status, "delivered");
    assert.equal(ok?.program, "2026 Q3 Product Webinar");
    const [attempt] = await store.getAttempts(ids[0] as number);
    assert.equal(attempt?.endpoint, "/rest/v1/leads/push.json");
    assert.deepEqual(attempt?.request, {
      programName: "2026 Q3 Product Webinar",
      source: "ON24",
      reason: "Registered on the landing page",
      programStatus: "Registered",
      input: { email: "lead1@example.com", firstName: "L1" },
    });
    assert.equal(wrong?.status, "needs_fix");
    assert.equal(wrong?.lastCode, "1025");
    assert.match(wrong?.fix ?? "", /program status/);
  });

  it("adds delivered leads to the route's static list, and an unknown list is needs_fix", async () => {
    const { store, dispatcher, now } = setup();
    const toList: Route = { ...SYNC, listName: "Newsletter Subscribers" };
    const noList: Route = { ...SYNC, listName: "No Such List" };
    const { ids } = await store.addLeads([lead(1, {}, toList), lead(2, {}, noList)], now());
    await dispatcher.drain();
    const listed = await store.getLead(ids[0] as number);
    assert.equal(listed?.status, "delivered");
    assert.deepEqual(
      (await store.getAttempts(ids[0] as number)).map((a) => [a.endpoint, a.statusCode]),
      [
        ["/rest/v1/leads.json", "200"],
        ["/rest/v1/lists/1001/leads.json", "200"],
      ],
    );
    const state = sandbox.state() as {
      lists: Record<string, number> | { name: string; members: number }[];
    };
    assert.match(JSON.stringify(state.lists), /Newsletter Subscribers/);
    const missing = await store.getLead(ids[1] as number);
    assert.equal(missing?.status, "needs_fix");
    assert.equal(missing?.lastCode, "1013");
    assert.equal(missing?.lastReason, "Static list 'No Such List' not found");
  });

  it("logs every call that carried a lead: the calls the client retried, then the one that decided", async () => {
    const { store, now } = setup();
    const client = new MarketoClient({
      baseUrl: sandbox.url,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
      now,
      retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 },
    });
    const dispatcher = new Dispatcher({ store, destination: "main", client, worker: "wlog", now });
    sandbox.faults.add({ code: "713", endpoint: "/rest/v1/leads.json", method: "POST", count: 1 });
    sandbox.faults.add({ code: 502, endpoint: "/rest/v1/leads.json", method: "POST", count: 1 });
    sandbox.faults.add({ code: "611", endpoint: "/rest/v1/lists/", method: "POST", count: 1 });
    const toList: Route = { ...SYNC, listName: "Newsletter Subscribers" };
    // Two leads with one email are one record of the call: each gets its own rows.
    const { ids } = await store.addLeads(
      [
        lead(1, {}, toList),
        lead(2, {}, toList),
        { ...lead(3, {}, toList), input: { email: "lead1@example.com" } },
      ],
      now(),
    );
    await dispatcher.drain();
    for (const id of ids as number[]) {
      const attempts = await store.getAttempts(id);
      assert.deepEqual(
        attempts.map((a) => [a.n, a.endpoint, a.statusCode, a.outcome]),
        [
          [1, "/rest/v1/leads.json", "713", "sending"],
          [1, "/rest/v1/leads.json", "502", "sending"],
          [1, "/rest/v1/leads.json", "200", "delivered"],
          [2, "/rest/v1/lists/1001/leads.json", "611", "sending"],
          [2, "/rest/v1/lists/1001/leads.json", "200", "delivered"],
        ],
        `lead ${id}`,
      );
      const [first, second] = attempts;
      assert.match(
        first?.requestId ?? "",
        /#/,
        "a refusal in Marketo's envelope keeps its requestId",
      );
      assert.equal(second?.requestId, undefined, "an HTML 502 has none");
      assert.equal(first?.reason, "Transient Error; the client tried the call again");
      assert.deepEqual(
        (first?.request as { input?: unknown } | undefined)?.input,
        (attempts[2]?.request as { input?: unknown } | undefined)?.input,
      );
      const row = await store.getLead(id);
      assert.deepEqual(
        [row?.status, row?.attempts],
        ["delivered", 2],
        "retried calls do not count as attempts",
      );
    }
    const writes = sandbox
      .calls()
      .filter((c) => c.method === "POST" && c.path.startsWith("/rest/v1/"));
    assert.deepEqual(
      writes.map((c) => c.code),
      ["713", "502", "200", "611", "200"],
    );
  });

  it("a write never sent because the token request failed is logged at the identity endpoint", async () => {
    const { store, dispatcher, now } = setup();
    clearTokenCache();
    sandbox.faults.add({ code: 503, endpoint: "/identity/", count: 1 });
    const { ids } = await store.addLeads([lead(1)], now());
    await dispatcher.runOnce();
    const [attempt] = await store.getAttempts(ids[0] as number);
    assert.deepEqual(
      [attempt?.endpoint, attempt?.statusCode, attempt?.outcome],
      ["/identity/oauth/token", "503", "retrying"],
    );
    assert.equal(sandbox.calls().filter((c) => c.path === "/rest/v1/leads.json").length, 0);
  });

  it("a failed list lookup keeps the lead's own attempt, and the retry of a createDuplicate lead resumes at its list step instead of creating it twice", async () => {
    const { store, dispatcher, now } = setup();
    const route: Route = {
      endpoint: "syncLeads",
      action: "createDuplicate",
      lookupField: "email",
      listName: "Newsletter Subscribers",
    };
    sandbox.faults.add({ code: "611", endpoint: "/rest/v1/lists.json", method: "GET", count: 1 });
    const { ids } = await store.addLeads([lead(1, {}, route)], now());
    const id = ids[0] as number;
    await dispatcher.drain();
    assert.equal((await store.getLead(id))?.status, "retrying");
    assert.deepEqual(
      (await store.getAttempts(id)).map((a) => [a.endpoint, a.statusCode]),
      [
        ["/rest/v1/leads.json", "200"],
        ["/rest/v1/lists.json", "611"],
      ],
    );
    sandbox.clock.set(new Date(now() + 301_000));
    await dispatcher.drain();
    assert.equal((await store.getLead(id))?.status, "delivered");
    assert.deepEqual(
      (await store.getAttempts(id)).slice(2).map((a) => [a.endpoint, a.statusCode]),
      [["/rest/v1/lists/1001/leads.json", "200"]],
    );
    assert.equal(sandbox.state().leads, 1, "created once");
  });

  it("writes a custom object and a custom activity for each delivered lead", async () => {
    const { store, dispatcher, now } = setup();
    const route: Route = {
      ...SYNC,
      customObject: { apiName: "car_c", fields: ["vin", "make", "year"] },
      activity: {
        activityTypeId: 100001,
        primaryAttributeField: "boothName",
        attributeFields: ["minutes"],
      },
    };
    const { ids } = await store.addLeads(
      [
        lead(
          1,
          { vin: "19UYA31581L000000", make: "BMW", year: 2003, boothName: "Booth 12", minutes: 15 },
          route,
        ),
      ],
      now(),
    );
    await dispatcher.drain();
    const row = await store.getLead(ids[0] as number);
    assert.equal(row?.status, "delivered");
    const attempts = await store.getAttempts(ids[0] as number);
    assert.deepEqual(
      attempts.map((a) => [a.endpoint, a.statusCode]),
      [
        ["/rest/v1/leads.json", "200"],
        ["/rest/v1/customobjects/car_c.json", "200"],
        ["/rest/v1/activities/external.json", "200"],
      ],
    );
    assert.deepEqual(
      (attempts[0]?.request as { input?: unknown } | undefined)?.input,
      { email: "lead1@example.com", firstName: "L1" },
      "step fields are not sent as lead fields",
    );
    const state = sandbox.state() as { customObjects: Record<string, number>; activities: number };
    assert.equal(state.customObjects.car_c, 1);
    assert.equal(state.activities, 1);
  });

  it("a follow-up step that Marketo refuses makes the lead needs_fix with that step's code", async () => {
    const { store, dispatcher, now } = setup();
    const route: Route = {
      ...SYNC,
      activity: { activityTypeId: 100002, primaryAttributeField: "label" },
    };
    const { ids } = await store.addLeads([lead(1, { label: "x" }, route)], now());
    await dispatcher.drain();
    const row = await store.getLead(ids[0] as number);
    assert.equal(row?.status, "needs_fix", "a draft activity type cannot be used");
    assert.equal(row?.lastCode, "1003");
    assert.equal(typeof row?.marketoId, "number", "the lead itself was delivered");
  });

  it("pauses one destination on bad credentials while another keeps delivering", async () => {
    const { store, now } = setup();
    const good = new MarketoClient({
      baseUrl: sandbox.url,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
      now,
    });
    const broken = new MarketoClient({
      baseUrl: sandbox.url,
      clientId: sandbox.clientId,
      clientSecret: "revoked",
      now,
    });
    const a = new Dispatcher({ store, destination: "good", client: good, worker: "wa", now });
    const b = new Dispatcher({ store, destination: "broken", client: broken, worker: "wb", now });
    await store.addLeads(
      [
        { ...lead(1), destination: "good" },
        { ...lead(2), destination: "broken" },
      ],
      now(),
    );
    await Promise.all([a.drain(), b.drain()]);
    assert.equal((await store.countByStatus({ destination: "good" })).delivered, 1);
    assert.equal((await store.countByStatus({ destination: "broken" })).paused, 1);
    assert.equal((await store.getDestination("broken"))?.pausedCode, "401");
    assert.equal(await store.getDestination("good"), undefined);
    await store.addLeads([{ ...lead(3), destination: "good" }], now());
    assert.equal(await a.drain(), 1, "the good destination is not held back");
    await store.addLeads([{ ...lead(4), destination: "broken" }], now());
    assert.equal(await b.drain(), 0);
    assert.equal(
      (await store.countByStatus({ destination: "broken" })).paused,
      2,
      "a lead accepted while paused is counted as paused",
    );
  });

  it("after a crash, a createDuplicate lead whose call went out is looked for; one whose call never left is simply sent", async () => {
    const { store, dispatcher, client, now } = setup();
    const createDuplicate: Route = {
      endpoint: "syncLeads",
      action: "createDuplicate",
      lookupField: "email",
    };
    const { ids } = await store.addLeads(
      [lead(1, {}, createDuplicate), lead(2, {}, createDuplicate)],
      now(),
    );
    const [one, two] = ids as number[];
    // The dead process marked lead 1's call, Marketo created it, and the process died before
    // the answer was recorded. Lead 2's call was still waiting in the gate.
    await store.balance("dead", ["main"], now(), 60_000);
    await store.claimDue("main", { now: now(), limit: 10, worker: "dead", leaseMs: 60_000 });
    await store.markOnWire([{ id: one as number }], {
      step: "lead",
      done: undefined,
      at: now(),
      worker: "dead",
    });
    const made = await client.syncLeads([{ email: "lead1@example.com", firstName: "L1" }], {
      action: "createDuplicate",
    });
    assert.equal(await store.releaseClaims("main", { workers: ["dead"] }), 2);
    await store.releaseWorker("dead");
    await dispatcher.drain();
    assert.deepEqual(
      [(await store.getLead(one as number))?.status, (await store.getLead(two as number))?.status],
      ["retrying", "delivered"],
      "lead 1 waits until Marketo has surely finished the call; lead 2 is sent at once",
    );
    assert.equal((await store.getLead(one as number))?.lastCode, "uncertain");
    sandbox.clock.set(new Date(now() + 61_000));
    await dispatcher.drain();
    const found = await store.getLead(one as number);
    assert.equal(found?.status, "delivered");
    assert.equal(found?.marketoId, made.results[0]?.id);
    assert.match(found?.lastReason ?? "", /^created by the interrupted call: lead \d+/);
    assert.equal(sandbox.state().leads, 2, "lead 1 exists once, lead 2 was created");
  });

  it("sends nothing while its database file is deleted: an outcome it could not keep is never sent for", async () => {
    const { store, client, now, path } = setup();
    const errors: unknown[] = [];
    const quiet = new Dispatcher({
      store,
      destination: "main",
      client,
      worker: "w-deleted",
      now,
      onError: (error) => errors.push(error),
    });
    await store.addLeads([lead(1)], now());
    rmSync(path);
    assert.equal(await quiet.runOnce(), 0);
    assert.equal(await quiet.runOnce(), 0);
    assert.equal(sandbox.state().leads, 0, "no call was made");
    assert.equal(errors.length, 1, "told once");
    assert.match(String(errors[0]), /was deleted while the gateway ran/);
  });

  it("a step that fails unexpectedly fails alone: the lead step Marketo confirmed is kept, and the retry starts at the failed step", async () => {
    const { store, client, now } = setup();
    const route: Route = {
      endpoint: "syncLeads",
      action: "createDuplicate",
      lookupField: "email",
      listName: "Newsletter Subscribers",
    };
    const { ids } = await store.addLeads([lead(1, {}, route)], now());
    const id = ids[0] as number;
    let refuse = true;
    // The store refuses the list step's wire mark once (a full disk, say).
    const flaky = withMethods(store, {
      markOnWire: (leads, mark) => {
        if (refuse && mark.step === "list") throw new Error("disk full while marking");
        return store.markOnWire(leads, mark);
      },
    });
    const dispatcher = new Dispatcher({
      store: flaky,
      destination: "main",
      client,
      worker: "wf",
      now,
    });
    await dispatcher.runOnce();
    assert.deepEqual(
      (await store.getAttempts(id)).map((a) => [a.endpoint, a.statusCode, a.outcome]),
      [
        ["/rest/v1/leads.json", "200", "delivered"],
        ["/rest/v1/lists.json", "internal_error", "retrying"],
      ],
    );
    refuse = false;
    // The lead's second attempt: the schedule's second delay, 5 minutes.
    sandbox.clock.set(new Date(now() + 301_000));
    await dispatcher.drain();
    assert.equal((await store.getLead(id))?.status, "delivered");
    assert.equal(sandbox.state().leads, 1, "created once");
  });
  it("writes a round's record while the next round is sent: the database's work overlaps the calls", async () => {
    const { store, client, now } = setup();
    await store.addLeads([lead(1), lead(2), lead(3)], now());
    let marks = 0;
    let secondSent: () => void = () => {};
    const sending = new Promise<void>((resolve) => {
      secondSent = resolve;
    });
    let recordedFirst = false;
    let sentBeforeRecorded = false;
    const watched = withMethods(store, {
      markOnWire: (leads, mark) => {
        marks += 1;
        if (marks === 2) {
          sentBeforeRecorded = !recordedFirst;
          secondSent();
        }
        return store.markOnWire(leads, mark);
      },
      recordAttempts: async (...args) => {
        if (!recordedFirst) {
          // Held until the next round's call goes out; a dispatcher that records before it
          // claims again never sends it, and the bound ends the wait.
          let bound: ReturnType<typeof setTimeout> | undefined;
          await Promise.race([
            sending,
            new Promise((resolve) => {
              bound = setTimeout(resolve, 10_000);
            }),
          ]);
          clearTimeout(bound);
        }
        await store.recordAttempts(...args);
        recordedFirst = true;
      },
    });
    const dispatcher = new Dispatcher({
      store: watched,
      destination: "main",
      client,
      worker: "w-overlap",
      now,
      claimLimit: 1,
    });
    assert.equal(await dispatcher.drain(), 3);
    assert.ok(
      sentBeforeRecorded,
      "the second round's call left before the first round's record was written",
    );
    assert.equal((await store.countByStatus({ destination: "main" })).delivered, 3);
    assert.equal(sandbox.state().leads, 3);
  });

  it("after an answer that pauses the destination, the next round waits for it: nothing more is sent", async () => {
    const { store, client, now } = setup();
    sandbox.clock.set(new Date("2026-11-23T18:00:00Z"));
    sandbox.faults.add({ code: "607", endpoint: "/rest/v1/leads.json", count: 1 });
    const { ids } = await store.addLeads([lead(1), lead(2), lead(3)], now());
    // A record that takes a while, as on a server: the next round would be claimed meanwhile.
    const slow = withMethods(store, {
      recordAttempts: async (...args) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        await store.recordAttempts(...args);
      },
    });
    const dispatcher = new Dispatcher({
      store: slow,
      destination: "main",
      client,
      worker: "w-pause",
      now,
      claimLimit: 1,
    });
    await dispatcher.drain();
    assert.deepEqual(
      (await Promise.all(ids.map((id) => store.getLead(id as number)))).map((r) => r?.status),
      ["paused", "paused", "paused"],
    );
    assert.equal(sandbox.state().leads, 0, "no lead was sent into the paused destination");
    assert.deepEqual(
      await Promise.all(ids.map(async (id) => (await store.getAttempts(id as number)).length)),
      [1, 0, 0],
      "the leads after the 607 were held by the pause, not tried against it",
    );
  });
  it("reads the destination's pause only when a claim comes back empty: one statement a round while leads flow", async () => {
    const { store, client, now } = setup();
    await store.addLeads([lead(1), lead(2), lead(3)], now());
    let pauseReads = 0;
    const counted = withMethods(store, {
      getDestination: (name) => {
        pauseReads += 1;
        return store.getDestination(name);
      },
    });
    const dispatcher = new Dispatcher({
      store: counted,
      destination: "main",
      client,
      worker: "w-reads",
      now,
      claimLimit: 1,
    });
    assert.equal(await dispatcher.drain(), 3);
    // Three rounds that claimed a lead each, then the claim that found none (and the one made
    // again after the last record).
    assert.ok(pauseReads <= 2, `${pauseReads} pause reads for 3 rounds`);
    assert.equal((await store.countByStatus({ destination: "main" })).delivered, 3);
  });
});
