import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { call, sandbox, token } from "./helpers.ts";

interface Records {
  leads: Array<Record<string, unknown> & { id: number }>;
  lists: Record<string, number[]>;
  customObjects: Record<string, Array<Record<string, unknown>>>;
  activities: Array<Record<string, unknown> & { id: number }>;
  next: { after: number | null; activitiesAfter: number | null };
  totals: Record<string, unknown>;
}

describe("GET /_sandbox/records", async () => {
  const sb = await sandbox({ clock: new Date("2026-12-04T16:19:13Z") });
  const t = await token(sb);
  const post = (path: string, body: unknown) => call(sb, t, "POST", path, body);
  const records = async (q = ""): Promise<Records> => {
    const res = await fetch(`${sb.url}/_sandbox/records${q}`);
    assert.equal(res.status, 200);
    return (await res.json()) as Records;
  };

  test("pages every lead with its fields, list members, custom objects and activities", async () => {
    await post("/rest/v1/leads.json", {
      input: [{ email: "a@x.com", firstName: "A" }, { email: "b@x.com" }, { email: "c@x.com" }],
    });
    await post("/rest/v1/leads.json", {
      action: "createDuplicate",
      input: [
        { email: "a@x.com", firstName: "A2" },
        { email: "a@x.com", firstName: "A3" },
      ],
    });
    await post("/rest/v1/lists/1001/leads.json", { input: [{ id: 1 }, { id: 4 }, { id: 5 }] });
    await post("/rest/v1/customobjects/car_c.json", {
      input: [{ vin: "V1", make: "Volvo", leadId: 2 }],
    });
    await post("/rest/v1/activities/external.json", {
      input: [1, 4, 5].map((leadId) => ({
        leadId,
        activityDate: "2026-12-04T16:00:00Z",
        activityTypeId: 100001,
        primaryAttributeValue: `Booth ${leadId}`,
        attributes: [],
      })),
    });

    const first = await records("?limit=2");
    assert.deepEqual(
      first.leads.map((l) => [l.id, l.email, l.firstName, l.createdAt]),
      [
        [1, "a@x.com", "A", "2026-12-04T16:19:13Z"],
        [2, "b@x.com", undefined, "2026-12-04T16:19:13Z"],
      ],
    );
    assert.deepEqual(first.lists["Newsletter Subscribers"], [1]);
    assert.deepEqual(first.next, { after: 2, activitiesAfter: 2 });
    assert.deepEqual(
      first.activities.map((a) => [a.id, a.leadId, a.activityTypeId, a.primaryAttributeValue]),
      [
        [1, 1, 100001, "Booth 1"],
        [2, 4, 100001, "Booth 4"],
      ],
    );
    assert.equal(first.customObjects.car_c?.[0]?.vin, "V1");

    const second = await records("?limit=2&after=2&activitiesAfter=2");
    assert.deepEqual(
      second.leads.map((l) => l.id),
      [3, 4],
    );
    assert.deepEqual(second.lists["Newsletter Subscribers"], [4]);
    assert.deepEqual(
      second.activities.map((a) => a.id),
      [3],
    );
    assert.equal(second.next.activitiesAfter, null);

    const last = await records("?limit=2&after=4");
    assert.deepEqual(
      last.leads.map((l) => [l.id, l.firstName]),
      [[5, "A3"]],
    );
    assert.deepEqual(last.lists["Newsletter Subscribers"], [5]);
    assert.equal(last.next.after, null);
    assert.deepEqual(last.totals, {
      leads: 5,
      activitiesWritten: 3,
      activitiesKept: 3,
      customObjects: { car_c: 1 },
    });
  });

  test("a limit outside 1..10000 is a 400", async () => {
    const res = await fetch(`${sb.url}/_sandbox/records?limit=10001`);
    assert.equal(res.status, 400);
    const bad = await fetch(`${sb.url}/_sandbox/records?after=-1`);
    assert.equal(bad.status, 400);
  });
});
