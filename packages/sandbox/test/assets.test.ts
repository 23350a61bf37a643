import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { call, errorCode, outcomes, sandbox, token } from "./helpers.ts";

describe("§7 describe, §8 lists, §9 programs, §10 custom objects and activities", async () => {
  const sb = await sandbox({
    customFields: [{ name: "industryVertical", dataType: "string", displayName: "Vertical" }],
  });
  const t = await token(sb);
  const get = (path: string) => call(sb, t, "GET", path);
  const post = (path: string, body?: unknown) => call(sb, t, "POST", path, body);
  beforeEach(async () => {
    sb.reset();
    await post("/rest/v1/leads.json", {
      input: [{ email: "a@x.com" }, { email: "b@x.com" }, { email: "c@x.com" }],
    });
  });

  test("§7.1 describe lists standard and custom fields with data types", async () => {
    const rows = (await get("/rest/v1/leads/describe.json")).body.result ?? [];
    const byName = new Map(rows.map((r) => [(r.rest as { name: string }).name, r]));
    assert.equal(byName.get("email")?.dataType, "email");
    assert.equal(byName.get("dateOfBirth")?.dataType, "date");
    assert.equal(byName.get("unsubscribed")?.dataType, "boolean");
    assert.equal(byName.get("industryVertical")?.displayName, "Vertical");
    assert.deepEqual(byName.get("createdAt")?.rest, { name: "createdAt", readOnly: true });
  });

  test("§7.2 describe2: API Lead, searchableFields, fields", async () => {
    const item = (await get("/rest/v1/leads/describe2.json")).body.result?.[0] as {
      name: string;
      searchableFields: string[][];
      fields: Array<{ name: string; updateable: boolean }>;
    };
    assert.equal(item.name, "API Lead");
    assert.ok(item.searchableFields.some((k) => k[0] === "email"));
    assert.ok(item.searchableFields.some((k) => k[0] === "industryVertical"));
    assert.ok(!item.searchableFields.some((k) => k[0] === "firstName"));
    assert.equal(item.fields.find((f) => f.name === "id")?.updateable, false);
  });

  test("§8.3 lists by name, and by id; unknown id → 1013", async () => {
    const res = await get("/rest/v1/lists.json?name=Newsletter%20Subscribers");
    assert.equal(res.body.result?.length, 1);
    assert.equal(res.body.result?.[0]?.id, 1001);
    assert.equal(
      (await get("/rest/v1/lists/1002.json")).body.result?.[0]?.programName,
      "2026 Q3 Product Webinar",
    );
    assert.equal(errorCode((await get("/rest/v1/lists/9.json")).body), "1013");
  });

  test("§8.3 asset staticList/byName, and the no-assets warning", async () => {
    const found = await get("/rest/asset/v1/staticList/byName.json?name=Webinar%20Invitees");
    assert.deepEqual(found.body.warnings, []);
    assert.equal(found.body.result?.[0]?.id, 1002);
    const none = await get("/rest/asset/v1/staticList/byName.json?name=Nope");
    assert.deepEqual(none.body.warnings, ["No assets found for the given search criteria."]);
    assert.equal(none.body.success, true);
  });

  test("§8.1 add to list by query ids: added, skipped 1004", async () => {
    const res = await post("/rest/v1/lists/1001/leads.json?id=1&id=99");
    assert.deepEqual(outcomes(res.body), ["added", "1004"]);
    assert.deepEqual(
      res.body.result?.map((r) => r.id),
      [1, 99],
    );
  });

  test("§8.1 add to list by JSON body; ismember; remove; remove again → 1015", async () => {
    assert.deepEqual(
      outcomes(
        (await post("/rest/v1/lists/1001/leads.json", { input: [{ id: 2 }, { id: 3 }] })).body,
      ),
      ["added", "added"],
    );
    assert.deepEqual(outcomes((await get("/rest/v1/lists/1001/leads/ismember.json?id=2,1")).body), [
      "memberof",
      "notmemberof",
    ]);
    assert.deepEqual(
      outcomes((await call(sb, t, "DELETE", "/rest/v1/lists/1001/leads.json?id=2")).body),
      ["removed"],
    );
    assert.deepEqual(
      outcomes((await call(sb, t, "DELETE", "/rest/v1/lists/1001/leads.json?id=2")).body),
      ["1015"],
    );
    assert.deepEqual(
      (await get("/rest/v1/lists/1001/leads.json")).body.result?.map((r) => r.id),
      [3],
    );
  });

  const listRefusals: Array<[string, string, string]> = [
    ["unknown list → 1013", "/rest/v1/lists/5/leads.json?id=1", "1013"],
    ["no ids → 701", "/rest/v1/lists/1001/leads.json", "701"],
    [
      "301 ids → 1003",
      `/rest/v1/lists/1001/leads.json?id=${Array.from({ length: 301 }, (_, i) => i).join(",")}`,
      "1003",
    ],
  ];
  for (const [name, path, code] of listRefusals) {
    test(`§8.1 ${name}`, async () => assert.equal(errorCode((await post(path)).body), code));
  }

  test("§9.1 program by name (asset envelope) and not found warning", async () => {
    const res = await get(
      "/rest/asset/v1/program/byName.json?name=2026%20Q3%20Product%20Webinar&includeTags=true",
    );
    assert.deepEqual(res.body.errors, []);
    const p = res.body.result?.[0] as Record<string, unknown>;
    assert.equal(p.id, 1001);
    assert.equal(p.channel, "Webinar");
    assert.match(String(p.createdAt), /Z\+0000$/);
    const none = await get("/rest/asset/v1/program/byName.json?name=Nope");
    assert.deepEqual(none.body.warnings, ["No assets found for the given search criteria."]);
  });

  test("§9.2 change lead program status: updated, 1037 past it, 1025 unknown status, non-member skipped", async () => {
    await post("/rest/v1/leads/push.json", {
      programName: "2026 Q3 Product Webinar",
      programStatus: "Invited",
      input: [{ email: "a@x.com" }, { email: "b@x.com" }],
    });
    const up = await post("/rest/v1/leads/programs/1001/status.json", {
      status: "Registered",
      input: [{ id: 1 }, { id: 3 }, { id: 404 }],
    });
    assert.deepEqual(outcomes(up.body), ["updated", "1013", "1004"]);
    const back = await post("/rest/v1/leads/programs/1001/status.json", {
      status: "Invited",
      input: [{ id: 1 }, { id: 2 }],
    });
    assert.deepEqual(outcomes(back.body), ["1037", "1037"]);
    const bad = await post("/rest/v1/leads/programs/1001/status.json", {
      status: "Partying",
      input: [{ id: 1 }],
    });
    assert.deepEqual(outcomes(bad.body), ["1025"]);
    assert.equal(
      errorCode(
        (
          await post("/rest/v1/leads/programs/9/status.json", {
            status: "Invited",
            input: [{ id: 1 }],
          })
        ).body,
      ),
      "1013",
    );
    const members = await get("/rest/v1/leads/programs/1001.json");
    assert.deepEqual(
      members.body.result?.map(
        (r) => (r.membership as { progressionStatus: string }).progressionStatus,
      ),
      ["Registered", "Invited"],
    );
  });

  test("§9.3 sync program member status: seq, created/updated, 1037", async () => {
    const res = await post("/rest/v1/programs/1002/members/status.json", {
      statusName: "Engaged",
      input: [{ leadId: 1 }, { leadId: 1 }, { leadId: 500 }],
    });
    assert.deepEqual(outcomes(res.body), ["created", "1037", "1004"]);
    assert.deepEqual(
      res.body.result?.map((r) => r.seq),
      [0, 1, 2],
    );
  });

  test("§10.1 custom object sync with dedupeFields and idField", async () => {
    const created = await post("/rest/v1/customobjects/car_c.json", {
      input: [
        { vin: "V1", make: "BMW", year: 2003, leadId: 1 },
        { vin: "V2", leadId: 999 },
        { make: "NoVin" },
        { vin: "V3", year: "old" },
      ],
    });
    assert.deepEqual(outcomes(created.body), ["created", "1004", "1003", "1001"]);
    assert.deepEqual(
      created.body.result?.map((r) => r.seq),
      [0, 1, 2, 3],
    );
    const guid = created.body.result?.[0]?.marketoGUID;
    const again = await post("/rest/v1/customobjects/car_c.json", {
      action: "createOnly",
      input: [{ vin: "V1" }],
    });
    assert.deepEqual(outcomes(again.body), ["1017"]);
    const byId = await post("/rest/v1/customobjects/car_c.json", {
      action: "updateOnly",
      dedupeBy: "idField",
      input: [{ marketoGUID: guid, model: "330i" }],
    });
    assert.deepEqual(outcomes(byId.body), ["updated"]);
    assert.equal(
      errorCode(
        (
          await post("/rest/v1/customobjects/car_c.json", {
            action: "createOnly",
            dedupeBy: "idField",
            input: [{ vin: "V9" }],
          })
        ).body,
      ),
      "1003",
    );
    assert.equal(
      errorCode(
        (await post("/rest/v1/customobjects/boat_c.json", { input: [{ vin: "V9" }] })).body,
      ),
      "1013",
    );
    const q = await get("/rest/v1/customobjects/car_c.json?filterType=vin&filterValues=V1");
    assert.equal(q.body.result?.[0]?.marketoGUID, guid);
  });

  test("§10.2 add custom activities: added; skipped items use errors", async () => {
    const item = (leadId: number, activityTypeId = 100001) => ({
      leadId,
      activityDate: "2026-09-26T06:56:35+07:00",
      activityTypeId,
      primaryAttributeValue: "Booth 12",
      attributes: [{ apiName: "minutes", value: 5 }],
    });
    const res = await post("/rest/v1/activities/external.json", {
      input: [
        item(1),
        item(404),
        item(1, 100002),
        item(1, 5),
        { ...item(1), attributes: [{ apiName: "nope", value: 1 }] },
        { leadId: 1 },
      ],
    });
    assert.deepEqual(outcomes(res.body), ["added", "1004", "1003", "1013", "1006", "1002"]);
    assert.equal(res.body.result?.[0]?.marketoGUID, String(res.body.result?.[0]?.id));
    assert.ok(Array.isArray(res.body.result?.[1]?.errors));
    assert.equal(res.body.result?.[1]?.reasons, undefined);
    const types = await get("/rest/v1/activities/external/types.json");
    assert.equal(types.body.result?.[0]?.status, "approved");
  });
});
