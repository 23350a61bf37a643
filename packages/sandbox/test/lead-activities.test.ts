import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { type Body, call, errorCode, sandbox, token } from "./helpers.ts";

const visited = 100001;
const pushLead = 145;

describe("Get Paging Token and Get Lead Activities", async () => {
  const sb = await sandbox({ clock: new Date("2026-12-04T16:00:00Z") });
  const t = await token(sb);
  const post = (path: string, body: unknown) => call(sb, t, "POST", path, body);
  const get = (path: string) => call(sb, t, "GET", path);
  beforeEach(() => {
    sb.reset();
    sb.clock.set(new Date("2026-12-04T16:00:00Z"));
  });

  async function leads(n: number): Promise<number[]> {
    const input = Array.from({ length: n }, (_, i) => ({ email: `a${i}@x.com` }));
    const res = await post("/rest/v1/leads.json", { input });
    return (res.body.result ?? []).map((r) => r.id as number);
  }

  async function activities(
    leadIds: number[],
    activityDate: string,
    minutes = 5,
  ): Promise<number[]> {
    const res = await post("/rest/v1/activities/external.json", {
      input: leadIds.map((leadId) => ({
        leadId,
        activityDate,
        activityTypeId: visited,
        primaryAttributeValue: "Booth 12",
        attributes: [
          { apiName: "minutes", value: minutes },
          { apiName: "uRL", value: "https://example.com/booth" },
        ],
      })),
    });
    return (res.body.result ?? []).map((r) => r.id as number);
  }

  async function pagingToken(since: string): Promise<string> {
    const res = await get(
      `/rest/v1/activities/pagingtoken.json?sinceDatetime=${encodeURIComponent(since)}`,
    );
    assert.equal(res.body.success, true, res.text);
    return res.body.nextPageToken as string;
  }

  /** Every page from `since`, as Marketo's docs say: until moreResult is false. */
  async function readAll(since: string, params: string): Promise<Body[]> {
    let next = await pagingToken(since);
    const pages: Body[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await get(`/rest/v1/activities.json?nextPageToken=${next}&${params}`);
      assert.equal(res.body.success, true, res.text);
      pages.push(res.body);
      if (res.body.moreResult !== true) return pages;
      next = res.body.nextPageToken as string;
    }
    throw new Error("more than 100 pages");
  }

  test("a paging token is Marketo's base32 date token and counts as a call", async () => {
    const res = await get(
      "/rest/v1/activities/pagingtoken.json?sinceDatetime=2008-11-06T00:00:00Z",
    );
    assert.deepEqual(Object.keys(res.body).sort(), ["nextPageToken", "requestId", "success"]);
    // paging-tokens.md: its example token for a date is exactly this.
    assert.equal(res.body.nextPageToken, "GIYDAOBNGEYS2MBWKQYDAORQGA5DAMBOGAYDAKZQGAYDALBQ");
    const calls = sb.calls().filter((c) => c.path === "/rest/v1/activities/pagingtoken.json");
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.counted, true);
  });

  test("paging token: missing sinceDatetime is 701, a bad one 704", async () => {
    assert.equal(errorCode((await get("/rest/v1/activities/pagingtoken.json")).body), "701");
    const bad = await get("/rest/v1/activities/pagingtoken.json?sinceDatetime=yesterday");
    assert.equal(errorCode(bad.body), "704");
  });

  test("custom activities read back with type id, date, primary value and attributes", async () => {
    const [lead] = await leads(1);
    const [id] = await activities([lead as number], "2026-12-04T17:30:00+01:00");
    const pages = await readAll("2026-12-04T00:00:00Z", `activityTypeIds=${visited}`);
    assert.equal(pages.length, 1);
    const page = pages[0] as Body;
    assert.equal(page.moreResult, false);
    assert.equal(typeof page.nextPageToken, "string");
    assert.deepEqual(page.result, [
      {
        id,
        marketoGUID: String(id),
        leadId: lead,
        activityDate: "2026-12-04T16:30:00Z",
        activityTypeId: visited,
        primaryAttributeValue: "Booth 12",
        attributes: [
          { name: "Minutes at Booth", value: 5 },
          { name: "URL", value: "https://example.com/booth" },
        ],
      },
    ]);
  });

  test("the Push Lead activity reads back as type 145 with its program", async () => {
    const res = await post("/rest/v1/leads/push.json", {
      programName: "2026 Q3 Product Webinar",
      source: "Webinar tool",
      reason: "Registered",
      input: [{ email: "p@x.com" }],
    });
    const leadId = res.body.result?.[0]?.id;
    const [page] = await readAll("2026-12-04T16:00:00Z", `activityTypeIds=${pushLead}`);
    const row = page?.result?.[0];
    assert.equal(row?.leadId, leadId);
    assert.equal(row?.activityTypeId, pushLead);
    assert.equal(row?.activityDate, "2026-12-04T16:00:00Z");
    assert.equal(row?.primaryAttributeValue, "2026 Q3 Product Webinar");
    assert.equal(row?.primaryAttributeValueId, 1001);
    assert.deepEqual(row?.attributes, [
      { name: "Source", value: "Webinar tool" },
      { name: "Reason", value: "Registered" },
    ]);
  });

  test("650 activities page as 300, 300, 50, oldest first, each once", async () => {
    const ids = await leads(1);
    const written: number[] = [];
    for (let i = 0; i < 3; i++) {
      const n = i < 2 ? 300 : 50;
      const date = `2026-12-04T1${6 + i}:00:00Z`;
      written.push(...(await activities(Array<number>(n).fill(ids[0] as number), date)));
    }
    const pages = await readAll("2026-12-04T00:00:00Z", `activityTypeIds=${visited}`);
    assert.deepEqual(
      pages.map((p) => [p.result?.length, p.moreResult]),
      [
        [300, true],
        [300, true],
        [50, false],
      ],
    );
    const read = pages.flatMap((p) => (p.result ?? []).map((r) => r.id as number));
    assert.deepEqual(read, written);
    const dates = pages.flatMap((p) => (p.result ?? []).map((r) => r.activityDate as string));
    assert.deepEqual(dates, [...dates].sort());
  });

  test("a token since a time reads the activities at or after it, none before", async () => {
    const [lead] = await leads(1);
    await activities([lead as number], "2026-12-04T10:00:00Z");
    const at = await activities([lead as number], "2026-12-04T11:00:00Z");
    const after = await activities([lead as number], "2026-12-04T12:00:00Z");
    const pages = await readAll("2026-12-04T11:00:00Z", `activityTypeIds=${visited}`);
    const read = pages.flatMap((p) => (p.result ?? []).map((r) => r.id));
    assert.deepEqual(read, [...at, ...after]);
    const late = await readAll("2026-12-04T12:00:01Z", `activityTypeIds=${visited}`);
    assert.deepEqual(late[0]?.result, []);
    assert.equal(late[0]?.moreResult, false);
  });

  test("leadIds filter; other types fill the window but are not returned", async () => {
    const [a, b] = (await leads(2)) as [number, number];
    const mine = await activities([a], "2026-12-04T10:00:00Z");
    await activities([b, b], "2026-12-04T10:00:00Z");
    const byLead = await readAll("2026-12-04T00:00:00Z", `activityTypeIds=${visited}&leadIds=${a}`);
    assert.deepEqual(
      byLead.flatMap((p) => (p.result ?? []).map((r) => r.id)),
      mine,
    );
    const both = await readAll(
      "2026-12-04T00:00:00Z",
      `activityTypeIds=${visited}&leadIds=${a},${b}`,
    );
    assert.equal(both.flatMap((p) => p.result ?? []).length, 3);
    const otherType = await readAll("2026-12-04T00:00:00Z", `activityTypeIds=${pushLead}`);
    assert.deepEqual(
      otherType.flatMap((p) => p.result ?? []),
      [],
    );
  });

  test("a page reads a window of 300 of all types: fewer results with moreResult true", async () => {
    const [lead] = await leads(1);
    await activities(Array<number>(300).fill(lead as number), "2026-12-04T10:00:00Z");
    await post("/rest/v1/leads/push.json", {
      programName: "2026 Q3 Product Webinar",
      input: [{ email: "a0@x.com" }],
    });
    const pages = await readAll("2026-12-04T00:00:00Z", `activityTypeIds=${pushLead}`);
    assert.deepEqual(
      pages.map((p) => [p.result?.length, p.moreResult]),
      [
        [0, true],
        [1, false],
      ],
    );
  });

  test("errors: activityTypeIds missing 701, over 10 or over 30 leadIds 1003, token 701/1003", async () => {
    const next = await pagingToken("2026-12-04T00:00:00Z");
    const code = async (params: string) =>
      errorCode((await get(`/rest/v1/activities.json?${params}`)).body);
    assert.equal(await code(`nextPageToken=${next}`), "701");
    const eleven = Array.from({ length: 11 }, (_, i) => i + 1).join(",");
    assert.equal(await code(`nextPageToken=${next}&activityTypeIds=${eleven}`), "1003");
    const leads31 = Array.from({ length: 31 }, (_, i) => i + 1).join(",");
    assert.equal(await code(`nextPageToken=${next}&activityTypeIds=1&leadIds=${leads31}`), "1003");
    assert.equal(await code(`activityTypeIds=${visited}`), "701");
    assert.equal(await code(`nextPageToken=NOTATOKEN&activityTypeIds=${visited}`), "1003");
    assert.equal(await code(`nextPageToken=${next}&activityTypeIds=1,x`), "1003");
    const missing = await get(`/rest/v1/activities.json?nextPageToken=${next}`);
    assert.deepEqual(missing.body.errors, [
      { code: "701", message: "activityTypeIds cannot be blank" },
    ]);
  });

  test("only the latest keptActivities are kept; reads start at the oldest kept", async () => {
    const small = await sandbox({ keptActivities: 10, clock: new Date("2026-12-04T16:00:00Z") });
    const st = await token(small);
    const lead = await call(small, st, "POST", "/rest/v1/leads.json", {
      input: [{ email: "k@x.com" }],
    });
    const leadId = lead.body.result?.[0]?.id;
    const input = Array.from({ length: 12 }, (_, i) => ({
      leadId,
      activityDate: `2026-12-04T10:${String(i).padStart(2, "0")}:00Z`,
      activityTypeId: visited,
      primaryAttributeValue: `n${i}`,
      attributes: [],
    }));
    await call(small, st, "POST", "/rest/v1/activities/external.json", { input });
    const tk = await call(
      small,
      st,
      "GET",
      "/rest/v1/activities/pagingtoken.json?sinceDatetime=2026-12-04T00:00:00Z",
    );
    const res = await call(
      small,
      st,
      "GET",
      `/rest/v1/activities.json?nextPageToken=${tk.body.nextPageToken}&activityTypeIds=${visited}`,
    );
    // 12 written, past 10 + 1 the log trims to the latest 10 by date.
    assert.deepEqual(
      res.body.result?.map((r) => r.primaryAttributeValue),
      ["n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9", "n10", "n11"],
    );
    const state = small.state() as { activities: number; activitiesKept: number };
    assert.equal(state.activities, 12);
    assert.equal(state.activitiesKept, 10);
  });
});
