import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import type { Activity } from "../src/index.ts";
import { isMarketoError } from "../src/index.ts";
import { type Rig, restCalls, rig } from "./helpers.ts";

const visited = 100001;
const pushLead = 145;

describe("getPagingToken and getLeadActivities against the sandbox", () => {
  let r: Rig;
  before(async () => {
    r = await rig();
  });
  after(() => r.close());
  beforeEach(() => r.sb.reset());

  async function newLeads(n: number, prefix: string): Promise<number[]> {
    const input = Array.from({ length: n }, (_, i) => ({ email: `${prefix}${i}@x.com` }));
    const res = await r.client.syncLeads(input);
    return res.results.map((x) => x.id as number);
  }

  async function addVisits(leadIds: number[], at: Date): Promise<number[]> {
    const res = await r.client.addCustomActivities(
      leadIds.map((leadId, i) => ({
        leadId,
        activityDate: at.toISOString(),
        activityTypeId: visited,
        primaryAttributeValue: `Booth ${i}`,
        attributes: [{ apiName: "minutes", value: i }],
      })),
    );
    return res.results.map((x) => x.id as number);
  }

  async function readAll(query: Parameters<Rig["client"]["getLeadActivities"]>[0]) {
    const pages: Activity[][] = [];
    for await (const page of r.client.getLeadActivities(query)) pages.push(page);
    return pages;
  }

  const activityCalls = () =>
    restCalls(r.sb).filter((c) => c.path.startsWith("/rest/v1/activities") && c.method === "GET");

  test("getPagingToken answers the sandbox's token for that second", async () => {
    const token = await r.client.getPagingToken(new Date("2008-11-06T00:00:00.999Z"));
    // paging-tokens.md's example token for 2008-11-06T00:00:00: the time is sent to the second.
    assert.equal(token, "GIYDAOBNGEYS2MBWKQYDAORQGA5DAMBOGAYDAKZQGAYDALBQ");
    assert.deepEqual(
      activityCalls().map((c) => [c.path, c.code]),
      [["/rest/v1/activities/pagingtoken.json", "200"]],
    );
  });

  test("650 activities of one lead come back in pages of at most 300, oldest first, each once", async () => {
    const [lead, other] = (await newLeads(2, "p")) as [number, number];
    const since = new Date(r.sb.clock.now() - 1000);
    const written = await addVisits(Array<number>(650).fill(lead), new Date(r.sb.clock.now()));
    await addVisits([other], new Date(r.sb.clock.now()));
    const pages = await readAll({ activityTypeIds: [visited], leadIds: [lead], since });
    assert.deepEqual(
      pages.map((p) => p.length),
      [300, 300, 50],
    );
    const all = pages.flat();
    assert.deepEqual(
      all.map((a) => a.id),
      written,
    );
    assert.equal(all[1]?.leadId, lead);
    assert.equal(all[1]?.activityTypeId, visited);
    assert.equal(all[1]?.primaryAttributeValue, "Booth 1");
    assert.deepEqual(all[1]?.attributes, [{ name: "Minutes at Booth", value: 1 }]);
    // One paging token, then one call per page.
    assert.equal(activityCalls().length, 4);
  });

  test("more than 30 leadIds are read in groups of 30 from one paging token", async () => {
    const ids = await newLeads(31, "g");
    const since = new Date(r.sb.clock.now() - 1000);
    await addVisits(ids, new Date(r.sb.clock.now()));
    const pages = await readAll({ activityTypeIds: [visited], leadIds: ids, since });
    assert.deepEqual(
      pages
        .flat()
        .map((a) => a.leadId)
        .sort((a, b) => a - b),
      ids,
    );
    assert.deepEqual(
      activityCalls().map((c) => c.path),
      [
        "/rest/v1/activities/pagingtoken.json",
        "/rest/v1/activities.json",
        "/rest/v1/activities.json",
      ],
    );
  });

  test("an empty window with moreResult true is read through, not yielded", async () => {
    const [lead] = (await newLeads(1, "w")) as [number];
    const since = new Date(r.sb.clock.now() - 1000);
    await addVisits(Array<number>(300).fill(lead), new Date(r.sb.clock.now() - 500));
    await r.client.pushLeads([{ email: "w0@x.com" }], { programName: "2026 Q3 Product Webinar" });
    const pages = await readAll({ activityTypeIds: [pushLead], since });
    assert.equal(pages.length, 1);
    assert.equal(pages[0]?.[0]?.leadId, lead);
    assert.equal(pages[0]?.[0]?.primaryAttributeValue, "2026 Q3 Product Webinar");
    assert.equal(activityCalls().length, 3);
  });

  test("activities before `since` are not read; no type ids reads nothing and calls nothing", async () => {
    const [lead] = (await newLeads(1, "s")) as [number];
    const now = r.sb.clock.now();
    await addVisits([lead], new Date(now - 60_000));
    const later = await addVisits([lead], new Date(now));
    const pages = await readAll({ activityTypeIds: [visited], since: new Date(now - 1000) });
    assert.deepEqual(
      pages.flat().map((a) => a.id),
      later,
    );
    const before = activityCalls().length;
    assert.deepEqual(await readAll({ activityTypeIds: [], since: new Date(0) }), []);
    assert.equal(activityCalls().length, before);
  });

  test("maxPages bounds the read with a page_limit error", async () => {
    const [lead] = (await newLeads(1, "m")) as [number];
    const since = new Date(r.sb.clock.now() - 1000);
    await addVisits(Array<number>(301).fill(lead), new Date(r.sb.clock.now()));
    await assert.rejects(
      readAll({ activityTypeIds: [visited], since, maxPages: 1 }),
      (e: unknown) => isMarketoError(e) && e.code === "page_limit",
    );
  });
});
