import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FieldValue } from "../src/intake/index.ts";
import {
  type FieldMap,
  FieldMapError,
  IDENTITY_MAP,
  loadFieldMap,
  mapLead,
  parseFieldMap,
} from "../src/mapping/index.ts";

function issuesOf(input: unknown): readonly string[] {
  try {
    parseFieldMap(input);
  } catch (error) {
    assert.ok(error instanceof FieldMapError);
    return error.issues;
  }
  assert.fail("expected a FieldMapError");
}

describe("parseFieldMap", () => {
  it("fills defaults: no fields → unmapped keep; named fields → unmapped drop", () => {
    assert.deepEqual(parseFieldMap({}), IDENTITY_MAP);
    assert.equal(parseFieldMap({ fields: { E: "email" } }).unmapped, "drop");
    assert.equal(parseFieldMap({ fields: { E: "email" }, unmapped: "keep" }).unmapped, "keep");
  });

  const invalid: [string, unknown, string[]][] = [
    [
      "a field target that is not a string",
      { fields: { Email: 42 } },
      ["fields.Email: expected a string"],
    ],
    [
      "a field target that is not a Marketo name",
      { fields: { Email: "e mail" } },
      ["fields.Email: not a Marketo field name (a letter, then letters, digits or _)"],
    ],
    ["fields that is an array", { fields: ["email"] }, ["fields: expected a record"]],
    ["an unknown top-level key", { field: {} }, ["(top level): unknown key 'field'"]],
    [
      "a bad unmapped value",
      { unmapped: "ignore" },
      ['unmapped: expected one of "drop", "keep", "reject"'],
    ],
    [
      "a constant that is an object",
      { constants: { leadSource: { a: 1 } } },
      ["constants.leadSource: expected a string, a number or a boolean"],
    ],
    [
      "a value mapper without map",
      { values: { state: { default: "x" } } },
      ["values.state.map: expected a record"],
    ],
    [
      "a value mapper entry that is a number",
      { values: { state: { map: { CA: 1 } } } },
      ["values.state.map.CA: expected a string"],
    ],
    [
      "an unknown value mapper key",
      { values: { state: { map: {}, fallback: "x" } } },
      ["values.state: unknown key 'fallback'"],
    ],
    [
      "a constant for a mapped field",
      { fields: { Src: "leadSource" }, constants: { leadSource: "Web" } },
      ["constants.leadSource: 'leadSource' is also mapped from fields.Src; keep one"],
    ],
    [
      "case-insensitive keys that collide",
      { values: { state: { map: { CA: "California", ca: "Cal" }, caseInsensitive: true } } },
      ["values.state.map: 'CA' and 'ca' are the same ignoring case"],
    ],
    ["not an object", "fields", ["(top level): expected an object"]],
  ];
  for (const [name, input, expected] of invalid) {
    it(`refuses ${name}, naming the path`, () => assert.deepEqual(issuesOf(input), expected));
  }

  describe("loadFieldMap", () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), "postout-map-"));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("reads a valid file", async () => {
      const path = join(dir, "map.json");
      writeFileSync(path, JSON.stringify({ fields: { "Email Address": "email" } }));
      assert.deepEqual((await loadFieldMap(path)).fields, { "Email Address": "email" });
    });
    it("names a missing file and invalid JSON", async () => {
      await assert.rejects(
        loadFieldMap(join(dir, "none.json")),
        /none\.json: invalid field map\n {2}no such file/,
      );
      const bad = join(dir, "bad.json");
      writeFileSync(bad, "{ fields: }");
      await assert.rejects(loadFieldMap(bad), /bad\.json: invalid field map\n {2}not valid JSON/);
    });
  });
});

const MAP: FieldMap = parseFieldMap({
  fields: {
    "Email Address": "email",
    First: "firstName",
    "E-mail": "email",
    State: "state",
    Size: "numberOfEmployees",
  },
  constants: { leadSource: "Webinar" },
  values: {
    state: { map: { CA: "California", NY: "New York" }, caseInsensitive: true },
    numberOfEmployees: { map: { small: "10" }, default: "0" },
  },
});

describe("mapLead", () => {
  const cases: [string, Record<string, FieldValue>, FieldMap, unknown][] = [
    [
      "renames columns and adds constants",
      { "Email Address": "a@x.com", First: "Ann" },
      MAP,
      { email: "a@x.com", firstName: "Ann", leadSource: "Webinar" },
    ],
    [
      "trims strings",
      { "Email Address": "  a@x.com ", First: "\tAnn  " },
      MAP,
      { email: "a@x.com", firstName: "Ann", leadSource: "Webinar" },
    ],
    [
      "leaves out empty strings and null",
      { "Email Address": "a@x.com", First: "   ", State: null },
      MAP,
      { email: "a@x.com", leadSource: "Webinar" },
    ],
    [
      "lowercases the email domain only",
      { "Email Address": "Ann.Lee@Example.COM" },
      MAP,
      { email: "Ann.Lee@example.com", leadSource: "Webinar" },
    ],
    [
      "maps list values, ignoring case when asked",
      { "Email Address": "a@x.com", State: "ca" },
      MAP,
      { email: "a@x.com", state: "California", leadSource: "Webinar" },
    ],
    [
      "uses the value mapper's default",
      { "Email Address": "a@x.com", Size: "huge" },
      MAP,
      { email: "a@x.com", numberOfEmployees: "0", leadSource: "Webinar" },
    ],
    [
      "maps numbers through value mappers as text",
      { "Email Address": "a@x.com", Size: 7 },
      MAP,
      { email: "a@x.com", numberOfEmployees: "0", leadSource: "Webinar" },
    ],
    [
      "drops unmapped columns when the map names fields",
      { "Email Address": "a@x.com", Notes: "x" },
      MAP,
      { email: "a@x.com", leadSource: "Webinar" },
    ],
    [
      "two columns with the same value for one field",
      { "Email Address": "a@x.com", "E-mail": "a@X.COM" },
      MAP,
      { email: "a@x.com", leadSource: "Webinar" },
    ],
    [
      "identity: keeps every column, JSON types kept",
      { email: "a@x.com", age: 42, vip: true, fax: null },
      IDENTITY_MAP,
      { email: "a@x.com", age: 42, vip: true },
    ],
    [
      "identity: a column named __proto__ stays a field",
      JSON.parse('{"__proto__":"x","email":"a@x.com"}'),
      IDENTITY_MAP,
      JSON.parse('{"__proto__":"x","email":"a@x.com"}'),
    ],
    [
      "constants win over a kept column",
      { email: "a@x.com", leadSource: "File" },
      parseFieldMap({ constants: { leadSource: "Webinar" } }),
      { email: "a@x.com", leadSource: "Webinar" },
    ],
  ];
  for (const [name, row, map, expected] of cases) {
    it(name, () => {
      const result = mapLead(row, map);
      assert.ok(result.ok, JSON.stringify(result));
      assert.deepEqual({ ...result.lead }, expected);
    });
  }

  const failing: [string, Record<string, FieldValue>, FieldMap, [string, string, string][]][] = [
    [
      "a value with no mapping and no default",
      { "Email Address": "a@x.com", State: "Cali" },
      MAP,
      [["no-value-mapping", "state", "state: no mapping for 'Cali' (known: CA, NY)"]],
    ],
    [
      "a non-ASCII email",
      { "Email Address": "jösé@example.com" },
      MAP,
      [
        [
          "email-not-ascii",
          "email",
          "email: 'jösé@example.com' has non-ASCII characters; Marketo allows only ASCII in email",
        ],
      ],
    ],
    [
      "two columns disagreeing",
      { "Email Address": "a@x.com", "E-mail": "b@x.com" },
      MAP,
      [
        [
          "conflicting-values",
          "email",
          "email: columns 'Email Address' and 'E-mail' give different values ('a@x.com', 'b@x.com')",
        ],
      ],
    ],
    [
      "an unmapped column with unmapped reject",
      { email: "a@x.com", Notes: "x" },
      parseFieldMap({ fields: { email: "email" }, unmapped: "reject" }),
      [["unmapped-column", "Notes", "column 'Notes' is not in the field map"]],
    ],
  ];
  for (const [name, row, map, expected] of failing) {
    it(`reports ${name}`, () => {
      const result = mapLead(row, map);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.deepEqual(
        result.problems.map((p) => [p.code, p.field, p.message]),
        expected,
      );
      for (const p of result.problems) assert.ok(p.fix.length > 0);
    });
  }

  it("names the fix for a missing value mapping", () => {
    const result = mapLead({ "Email Address": "a@x.com", State: "Cali" }, MAP);
    assert.ok(!result.ok);
    assert.equal(
      result.problems[0]?.fix,
      "Add 'Cali' to values.state.map or set values.state.default in the field map, then repost.",
    );
  });

  it("a non-ASCII email: the fix names the part that is wrong", () => {
    const local = mapLead({ "Email Address": "jösé@example.com" }, MAP);
    assert.ok(!local.ok);
    assert.match(local.problems[0]?.fix ?? "", /^The part before the @ has non-ASCII characters/);
    assert.doesNotMatch(local.problems[0]?.fix ?? "", /domain/);
    const domain = mapLead({ "Email Address": "ann@bücher.example" }, MAP);
    assert.ok(!domain.ok);
    assert.match(domain.problems[0]?.fix ?? "", /^Write the domain in its ASCII form \(xn--…/);
  });

  it("an unmapped empty column is not a problem with unmapped reject", () => {
    const result = mapLead(
      { email: "a@x.com", Notes: " " },
      parseFieldMap({ fields: { email: "email" }, unmapped: "reject" }),
    );
    assert.ok(result.ok);
  });
});
