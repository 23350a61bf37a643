import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { leads, type Rig, restCalls, rig } from "./helpers.ts";

describe("endpoints against the sandbox", () => {
  let r: Rig;
  before(async () => {
    r = await rig({ customFields: [{ name: "role", dataType: "string" }] });
  });
  after(() => r.close());

  test("mixed batch: one result per input, in input order, with 1004/1005/1006 reasons", async () => {
    const { client } = r;
    await client.syncLeads([{ email: "exists1@x.com" }, { email: "exists2@x.com" }]);
    const created = await client.syncLeads(
      [
        { email: "exists1@x.com" },
        { email: "new1@x.com" },
        { email: "new2@x.com", bogus: "x" },
        { email: "exists2@x.com" },
        { email: "new3@x.com", role: "Buyer" },
      ],
      { action: "createOnly" },
    );
    assert.deepEqual(
      created.results.map((x) => [x.index, x.input.email, x.status, x.reasons.map((c) => c.code)]),
      [
        [0, "exists1@x.com", "skipped", ["1005"]],
        [1, "new1@x.com", "created", []],
        [2, "new2@x.com", "skipped", ["1006"]],
        [3, "exists2@x.com", "skipped", ["1005"]],
        [4, "new3@x.com", "created", []],
      ],
    );
    assert.deepEqual(created.results[2]?.reasons[0]?.values, { field: "bogus" });
    assert.equal(created.results[2]?.reasons[0]?.entry?.recovery, "none");
    assert.equal(typeof created.results[1]?.id, "number");
    assert.deepEqual(created.counts, { created: 2, updated: 0, skipped: 3, failed: 0, unknown: 0 });

    const updated = await client.syncLeads(
      [{ email: "nobody@x.com" }, { email: "new1@x.com", firstName: "N" }],
      {
        action: "updateOnly",
      },
    );
    assert.deepEqual(
      updated.results.map((x) => [x.status, x.reasons.map((c) => c.code)]),
      [
        ["skipped", ["1004"]],
        ["updated", []],
      ],
    );
    const upsert = await client.syncLeads([{ email: "new1@x.com" }, { email: "fresh@x.com" }]);
    assert.deepEqual(
      upsert.results.map((x) => x.status),
      ["updated", "created"],
    );
    assert.ok(upsert.requestIds.length === 1);
  });

  test("getLeadsByFilter is an async iterator over pages, across 300-value queries", async () => {
    const input = leads(700, "page");
    await r.client.syncLeads(input);
    const before = restCalls(r.sb).length;
    const pages: number[] = [];
    const emails = new Set<string>();
    for await (const page of r.client.getLeadsByFilter<{ email: string }>({
      filterType: "email",
      filterValues: input.map((l) => l.email),
      fields: ["email", "firstName"],
      batchSize: 100,
    })) {
      pages.push(page.length);
      for (const lead of page) emails.add(lead.email);
    }
    assert.equal(emails.size, 700);
    assert.deepEqual(pages, [100, 100, 100, 100, 100, 100, 100]);
    assert.equal(restCalls(r.sb).length - before, 7);
    // stopping early stops calling
    const again = restCalls(r.sb).length;
    for await (const _ of r.client.getLeadsByFilter({
      filterType: "email",
      filterValues: input.map((l) => l.email),
      batchSize: 100,
    }))
      break;
    assert.equal(restCalls(r.sb).length - again, 1);
  });

  test("describeLeads reads describe2", async () => {
    const schema = await r.client.describeLeads();
    assert.ok(schema.fields.some((f) => f.name === "email"));
    assert.ok(schema.fields.some((f) => f.name === "role"));
    assert.ok(schema.searchableFields.some((s) => s.includes("email")));
    assert.equal(restCalls(r.sb).at(-1)?.path, "/rest/v1/leads/describe2.json");
  });

  test("lists and programs by name; add to list; push; program status", async () => {
    const { client } = r;
    const list = await client.getListByName("Newsletter Subscribers");
    assert.equal(list?.id, 1001);
    assert.equal(await client.getListByName("Newsletter"), undefined, "no near matches");
    assert.equal(await client.getProgramByName("No Such Program"), undefined);
    const program = await client.getProgramByName("2026 Q3 Product Webinar");
    assert.equal(program?.id, 1001);

    const pushed = await client.pushLeads([{ email: "push1@x.com" }, { email: "push2@x.com" }], {
      programName: "2026 Q3 Product Webinar",
      source: "Webinar page",
      reason: "Registered",
    });
    assert.deepEqual(
      pushed.results.map((x) => x.status),
      ["created", "created"],
    );
    const ids = pushed.results.map((x) => x.id as number);

    const added = await client.addToList(1001, [...ids, 99_999_999]);
    assert.deepEqual(
      added.results.map((x) => [x.input, x.status, x.reasons.map((c) => c.code)]),
      [
        [ids[0], "created", []],
        [ids[1], "created", []],
        [99_999_999, "skipped", ["1004"]],
      ],
    );

    const moved = await client.changeProgramStatus(1001, "Attended", ids);
    assert.deepEqual(
      moved.results.map((x) => x.status),
      ["updated", "updated"],
    );
    const bogus = await client.changeProgramStatus(1001, "Dancing", ids.slice(0, 1));
    assert.deepEqual(
      bogus.results[0]?.reasons.map((c) => c.code),
      ["1025"],
    );
  });

  test("custom objects are matched back by seq; custom activities by position", async () => {
    const { client } = r;
    const lead = (await client.syncLeads([{ email: "car-owner@x.com" }])).results[0]?.id as number;
    const cars = await client.syncCustomObjects("car_c", [
      { vin: "VIN1", make: "BMW", leadId: lead },
      { vin: "VIN2", make: "Audi", leadId: lead, nonsense: 1 },
      { vin: "VIN3", make: "Kia", leadId: lead },
    ]);
    assert.deepEqual(
      cars.results.map((x) => x.input.vin),
      ["VIN1", "VIN2", "VIN3"],
    );
    assert.equal(cars.results[0]?.status, "created");
    assert.equal(typeof cars.results[0]?.id, "string", "marketoGUID");
    assert.equal(cars.results[1]?.status, "skipped");
    assert.equal(cars.results[2]?.status, "created");

    const acts = await client.addCustomActivities([
      {
        leadId: lead,
        activityDate: "2026-07-01T10:00:00Z",
        activityTypeId: 100001,
        primaryAttributeValue: "Booth 7",
        attributes: [{ apiName: "minutes", value: 12 }],
      },
      {
        leadId: 987_654_321,
        activityDate: "2026-07-01T10:00:00Z",
        activityTypeId: 100001,
        primaryAttributeValue: "Booth 7",
        attributes: [],
      },
    ]);
    assert.deepEqual(
      acts.results.map((x) => [x.status, x.reasons.map((c) => c.code)]),
      [
        ["created", []],
        ["skipped", ["1004"]],
      ],
    );
  });
});
