import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { MarketoEvent } from "../src/transport.ts";
import { leads, onSandboxClock, type Rig, restCalls, rigsClosedAfter, SCALE } from "./helpers.ts";

type Throttled = Extract<MarketoEvent, { type: "throttled" }>;

const throttled = (r: Rig): Throttled[] =>
  r.events.filter((e): e is Throttled => e.type === "throttled");
const refusals = (r: Rig, code: string) => restCalls(r.sb).filter((c) => c.code === code);

describe("throttled events: a 606 or 615 is self-caused or foreign (sandbox over HTTP)", () => {
  const open = rigsClosedAfter();

  test("606 after another app used the window: foreign, our own window far from 100", async () => {
    const r = await open();
    // The sandbox's clock stands still until the client's gate waits: the other app's 100
    // calls are still in the window when our first call arrives, however slow the machine.
    const client = r.make({ maxBatchRecords: 10, ...onSandboxClock(r) });
    r.sb.foreignTraffic({ calls: 100 });
    const result = await client.syncLeads(leads(100, "fw"));
    assert.equal(result.counts.created, 100);
    const events = throttled(r);
    assert.ok(events.length >= 1, "the foreign calls cause at least one 606");
    assert.equal(events.length, refusals(r, "606").length, "one event per 606");
    for (const e of events) {
      assert.equal(e.code, "606");
      assert.equal(e.cause, "foreign");
      assert.equal(e.endpoint, "syncLeads");
      assert.ok(e.inWindow < 100, `${e.inWindow} own calls in the window`);
    }
  });

  test("615 while another app holds every slot: foreign", async () => {
    const r = await open();
    // The other app holds every slot until our first call has been refused, then lets go.
    const holdMs = 3_000;
    const client = r.make(
      onSandboxClock(r, (e) => {
        if (e.type === "throttled") r.sb.clock.advance(holdMs * SCALE);
      }),
    );
    r.sb.foreignTraffic({ holdSlots: 10, holdMs });
    await client.syncLeads(leads(5, "fc"));
    const events = throttled(r);
    assert.ok(events.length >= 1);
    assert.equal(events.length, refusals(r, "615").length);
    for (const e of events) {
      assert.equal(e.code, "615");
      assert.equal(e.cause, "foreign");
      assert.ok(e.inFlight < 10);
    }
  });

  test("606 after this client alone made 100 calls in the window (its gate set above Marketo's limit): self", async () => {
    // The sandbox's clock stands still until the gate waits, so the 110 calls all fall in one
    // window of the instance and of the gate, however long the machine takes to make them.
    // One call at a time, so the sandbox never counts a call of ours that the gate had not
    // counted when it let the refused call go.
    const r = await open({ latency: false });
    const client = r.make({
      maxBatchRecords: 10,
      gate: { calls: 300, concurrency: 1 },
      ...onSandboxClock(r),
    });
    const result = await client.syncLeads(leads(1_100, "self"));
    assert.equal(result.counts.created, 1_100);
    const events = throttled(r);
    assert.ok(events.length >= 1, "110 calls in one window: Marketo refuses the 101st");
    assert.equal(events.length, refusals(r, "606").length);
    for (const e of events) {
      assert.equal(e.code, "606");
      assert.equal(e.cause, "self");
      assert.ok(e.inWindow >= 100, `${e.inWindow} own calls in the window`);
    }
  });
});
