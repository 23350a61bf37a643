import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { LeadSchema as MarketoLeadSchema } from "@postout/marketo";
import { IDENTITY_MAP } from "../src/mapping/field-map.ts";
import { type Lead, leadSchema, type PreflightRoute, preflight } from "../src/mapping/index.ts";
import { preparer } from "../src/prepare.ts";
import type { Route } from "../src/route.ts";

// A describe2 field list (docs/marketo.md §7.2/§7.4) with one field per data type.
const SCHEMA = leadSchema([
  { name: "id", dataType: "integer", updateable: false },
  { name: "email", dataType: "email", length: 255, updateable: true },
  { name: "firstName", dataType: "string", length: 255, updateable: true },
  { name: "title", dataType: "string", length: 10, updateable: true },
  { name: "numberOfEmployees", dataType: "integer", updateable: true },
  { name: "annualRevenue", dataType: "currency", updateable: true },
  { name: "discount", dataType: "float", updateable: true },
  { name: "share", dataType: "percent", updateable: true },
  { name: "leadScore", dataType: "score", updateable: true },
  { name: "unsubscribed", dataType: "boolean", updateable: true },
  { name: "dateOfBirth", dataType: "date", updateable: true },
  { name: "lastSeen", dataType: "datetime", updateable: true },
  { name: "phone", dataType: "phone", length: 255, updateable: true },
  { name: "createdAt", dataType: "datetime", updateable: false },
]);

function check(lead: Lead, route: PreflightRoute = {}) {
  return preflight(lead, SCHEMA, route);
}

describe("preflight: accepted, with safe coercion", () => {
  const cases: [string, Lead, Lead][] = [
    [
      "a plain lead",
      { email: "a@x.com", firstName: "Ann" },
      { email: "a@x.com", firstName: "Ann" },
    ],
    [
      "integer text → number",
      { email: "a@x.com", numberOfEmployees: "42" },
      { email: "a@x.com", numberOfEmployees: 42 },
    ],
    [
      "negative integer, score and percent",
      { email: "a@x.com", numberOfEmployees: "-3", leadScore: "+7", share: 30 },
      { email: "a@x.com", numberOfEmployees: -3, leadScore: 7, share: 30 },
    ],
    [
      "float and currency text → number",
      { email: "a@x.com", discount: "10.4", annualRevenue: ".5" },
      { email: "a@x.com", discount: 10.4, annualRevenue: 0.5 },
    ],
    [
      "boolean words",
      { email: "a@x.com", unsubscribed: "Yes" },
      { email: "a@x.com", unsubscribed: true },
    ],
    [
      "boolean 0",
      { email: "a@x.com", unsubscribed: "0" },
      { email: "a@x.com", unsubscribed: false },
    ],
    [
      "a real date",
      { email: "a@x.com", dateOfBirth: "2024-02-29" },
      { email: "a@x.com", dateOfBirth: "2024-02-29" },
    ],
    [
      "a datetime with offset → UTC",
      { email: "a@x.com", lastSeen: "2010-05-07T15:41:32-05:00" },
      { email: "a@x.com", lastSeen: "2010-05-07T20:41:32Z" },
    ],
    [
      "a datetime without offset kept",
      { email: "a@x.com", lastSeen: "2010-05-07T15:41" },
      { email: "a@x.com", lastSeen: "2010-05-07T15:41" },
    ],
    [
      "numbers into text fields",
      { email: "a@x.com", phone: 5551234 },
      { email: "a@x.com", phone: "5551234" },
    ],
    ["id with updateOnly and lookupField id", { id: "12" }, { id: 12 }],
  ];
  for (const [name, lead, expected] of cases) {
    it(name, () => {
      const route: PreflightRoute = name.includes("updateOnly")
        ? { action: "updateOnly", lookupField: "id" }
        : {};
      const result = check(lead, route);
      assert.deepEqual(result.problems, []);
      assert.deepEqual({ ...result.lead }, expected);
    });
  }
});

describe("preflight: answers as Marketo would", () => {
  const cases: [string, Lead, PreflightRoute, [string, string, string][]][] = [
    [
      "1006 unknown field",
      { email: "a@x.com", role: "CEO" },
      {},
      [["1006", "role", "Field 'role' not found"]],
    ],
    [
      "1001 integer",
      { email: "a@x.com", numberOfEmployees: "twelve" },
      {},
      [["1001", "numberOfEmployees", "Invalid value 'twelve'. Required of type 'integer'"]],
    ],
    [
      "1001 integer with a decimal",
      { email: "a@x.com", numberOfEmployees: "4.5" },
      {},
      [["1001", "numberOfEmployees", "Invalid value '4.5'. Required of type 'integer'"]],
    ],
    [
      "1001 integer over 32 bits",
      { email: "a@x.com", numberOfEmployees: "3000000000" },
      {},
      [["1001", "numberOfEmployees", "Invalid value '3000000000'. Required of type 'integer'"]],
    ],
    [
      "1001 float",
      { email: "a@x.com", discount: "1,5" },
      {},
      [["1001", "discount", "Invalid value '1,5'. Required of type 'float'"]],
    ],
    [
      "1001 currency",
      { email: "a@x.com", annualRevenue: "$10" },
      {},
      [["1001", "annualRevenue", "Invalid value '$10'. Required of type 'currency'"]],
    ],
    [
      "1001 percent",
      { email: "a@x.com", share: "30%" },
      {},
      [["1001", "share", "Invalid value '30%'. Required of type 'percent'"]],
    ],
    [
      "1001 score",
      { email: "a@x.com", leadScore: "high" },
      {},
      [["1001", "leadScore", "Invalid value 'high'. Required of type 'score'"]],
    ],
    [
      "1001 boolean",
      { email: "a@x.com", unsubscribed: "maybe" },
      {},
      [["1001", "unsubscribed", "Invalid value 'maybe'. Required of type 'boolean'"]],
    ],
    [
      "1001 date",
      { email: "a@x.com", dateOfBirth: "2023-02-29" },
      {},
      [["1001", "dateOfBirth", "Invalid value '2023-02-29'. Required of type 'date'"]],
    ],
    [
      "1001 date in another format",
      { email: "a@x.com", dateOfBirth: "05/07/2010" },
      {},
      [["1001", "dateOfBirth", "Invalid value '05/07/2010'. Required of type 'date'"]],
    ],
    [
      "1001 datetime",
      { email: "a@x.com", lastSeen: "yesterday" },
      {},
      [["1001", "lastSeen", "Invalid value 'yesterday'. Required of type 'datetime'"]],
    ],
    [
      "1001 email",
      { email: "not-an-email" },
      {},
      [["1001", "email", "Invalid value 'not-an-email'. Required of type 'email'"]],
    ],
    [
      "1002 missing lookup field",
      { firstName: "Ann" },
      {},
      [["1002", "email", "Missing value for the required parameter 'email'"]],
    ],
    [
      "1002 missing custom lookup field",
      { email: "a@x.com" },
      { lookupField: "phone" },
      [["1002", "phone", "Missing value for the required parameter 'phone'"]],
    ],
    [
      "1002 missing required field",
      { email: "a@x.com" },
      { required: ["firstName"] },
      [["1002", "firstName", "Missing value for the required parameter 'firstName'"]],
    ],
    ["701 blank lookup field", { email: "  " }, {}, [["701", "email", "email cannot be blank"]]],
    [
      "1003 id with createOnly",
      { email: "a@x.com", id: 5 },
      { action: "createOnly" },
      [["1003", "id", "Invalid data"]],
    ],
    [
      "read-only createdAt",
      { email: "a@x.com", createdAt: "2020-01-01" },
      {},
      [["read-only", "createdAt", "Field 'createdAt' is read-only in Marketo"]],
    ],
    [
      "too long for the field",
      { email: "a@x.com", title: "Chief Executive" },
      {},
      [["too-long", "title", "Value of 'title' is 15 characters; the field holds at most 10"]],
    ],
    [
      "several at once",
      { role: "x", numberOfEmployees: "many" },
      {},
      [
        ["1006", "role", "Field 'role' not found"],
        ["1001", "numberOfEmployees", "Invalid value 'many'. Required of type 'integer'"],
        ["1002", "email", "Missing value for the required parameter 'email'"],
      ],
    ],
  ];
  for (const [name, lead, route, expected] of cases) {
    it(name, () => {
      const { problems } = check(lead, route);
      assert.deepEqual(
        problems.map((p) => [p.code, p.field, p.message]),
        expected,
      );
      for (const p of problems)
        assert.match(p.fix, new RegExp(p.field), `the fix names ${p.field}`);
    });
  }

  it("gives the catalog's fix naming the field, and a case hint", () => {
    const [p] = check({ email: "a@x.com", FirstName: "Ann" }).problems;
    assert.equal(p?.code, "1006");
    assert.match(p?.fix ?? "", /^'FirstName' is not a Marketo field: fix the field map/);
    assert.match(p?.fix ?? "", /Did you mean 'firstName'\?/);
    const [q] = check({ email: "a@x.com", numberOfEmployees: "twelve" }).problems;
    assert.match(
      q?.fix ?? "",
      /^Field 'numberOfEmployees': The value 'twelve' is not a valid 'integer'/,
    );
  });

  it("names the nearest real fields for a misspelt or partial name, and none for a far one", () => {
    const fixOf = (name: string) => check({ email: "a@x.com", [name]: "x" }).problems[0]?.fix ?? "";
    assert.match(fixOf("frstName"), /\(Nearest fields of this instance: 'firstName'\.\)$/);
    assert.match(fixOf("employees"), /Nearest fields of this instance: 'numberOfEmployees'/);
    assert.match(fixOf("phones"), /'phone'/);
    assert.doesNotMatch(fixOf("role"), /Nearest|Did you mean/);
  });

  it("createDuplicate does not need the lookup field", () => {
    assert.deepEqual(check({ firstName: "Ann" }, { action: "createDuplicate" }).problems, []);
  });
});

describe("preflight: the destination's marker field", () => {
  const described = (withMarker: boolean): MarketoLeadSchema => ({
    name: "leads",
    searchableFields: [["email"]],
    fields: [
      { name: "email", displayName: "Email", dataType: "email", updateable: true },
      { name: "firstName", displayName: "First", dataType: "string", updateable: true },
      ...(withMarker
        ? [{ name: "postoutId", displayName: "Postout", dataType: "string", updateable: true }]
        : []),
    ],
  });
  const prepare = (route: Route, withMarker: boolean) =>
    preparer({
      map: IDENTITY_MAP,
      route,
      schema: async () => described(withMarker),
      markerField: "postoutId",
    })({ email: "m@example.com", firstName: "M" });
  const createDuplicate: Route = { endpoint: "syncLeads", action: "createDuplicate" };

  it("a create route is refused before any call when the field is not in Marketo, naming it", async () => {
    const prepared = await prepare(createDuplicate, false);
    assert.ok("refused" in prepared && prepared.refused);
    assert.equal(prepared.refused.code, "1006");
    assert.match(
      prepared.refused.reason,
      /Field 'postoutId' not found \(the destination's markerField\)/,
    );
    assert.match(prepared.refused.fix, /Create a text field 'postoutId'/);
  });

  it("passes when the field exists, and an upsert route never needs it", async () => {
    assert.ok(!("refused" in (await prepare(createDuplicate, true))));
    const upsert: Route = { endpoint: "syncLeads", action: "createOrUpdate" };
    assert.ok(!("refused" in (await prepare(upsert, false))));
  });
});
