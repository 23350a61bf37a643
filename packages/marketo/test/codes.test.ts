import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  allCodes,
  explainCode,
  fixFor,
  lookupCode,
  matchMessage,
  nearestCodes,
  RECOVERIES,
} from "../src/index.ts";

// Every code of docs/marketo.md §13, by level.
const DOCUMENTED = {
  http: ["401", "413", "414", "500", "502"],
  response: [
    ...Array.from({ length: 16 }, (_, i) => String(601 + i)),
    ...["701", "702", "703", "704", "709", "710", "711", "712", "713", "714", "718", "719"],
  ],
  record: [
    ...Array.from({ length: 22 }, (_, i) => String(1001 + i)),
    ...["1025", "1026", "1027", "1028", "1029", "1035", "1036", "1037", "1042", "1048", "1049"],
    ...["1076", "1077", "1078", "1079", "1080"],
  ],
} as const;

// The codes a lead-posting platform's guide to Marketo responses lists as seen most often.
const MOST_COMMON = [
  "601",
  "602",
  "603",
  "604",
  "606",
  "607",
  "611",
  "615",
  "701",
  "1001",
  "1002",
  "1003",
  "1006",
  "1025",
];

describe("code catalog", () => {
  for (const [level, codes] of Object.entries(DOCUMENTED)) {
    it(`has every documented ${level}-level code with a meaning, a recovery and a fix`, () => {
      for (const code of codes) {
        const entry = lookupCode(code);
        assert.ok(entry, `code ${code} is missing`);
        assert.equal(entry.level, level, `level of ${code}`);
        assert.ok(entry.message.length > 0, `message of ${code}`);
        assert.ok(entry.meaning.length >= 20, `meaning of ${code}`);
        assert.ok(entry.fix.length >= 20, `fix of ${code}`);
        assert.ok(RECOVERIES.includes(entry.recovery), `recovery of ${code}`);
      }
    });
  }

  it("has every code that Adobe's error-code page lists", () => {
    // The code numbers of the page's tables (its address is in the file), nothing else.
    const page: { codes: string[] } = JSON.parse(
      readFileSync(new URL("fixtures/error-codes.json", import.meta.url), "utf8"),
    );
    assert.ok(page.codes.length >= 60, `the fixture holds only ${page.codes.length} codes`);
    for (const code of page.codes) assert.ok(lookupCode(code), `code ${code} is missing`);
  });

  it("marks exactly the codes of seed 003's most-common table as common", () => {
    const common = allCodes()
      .filter((e) => e.common)
      .map((e) => e.code);
    assert.deepEqual(common.sort(), [...MOST_COMMON].sort());
  });

  it("has one entry per code", () => {
    const codes = allCodes().map((e) => e.code);
    assert.equal(new Set(codes).size, codes.length);
  });

  it("maps the recoverable codes to their documented recovery", () => {
    const expected: Record<string, string> = {
      "601": "reauthenticate",
      "602": "reauthenticate",
      "604": "split-request",
      "606": "slow-down",
      "615": "slow-down",
      "607": "wait-for-quota-reset",
      "413": "split-request",
      "414": "post-with-method-get",
      "502": "retry-with-backoff",
      "608": "retry-with-backoff",
      "611": "retry-with-backoff",
      "713": "retry-with-backoff",
      "719": "retry-with-backoff",
      "1006": "none",
      "1025": "none",
      "401": "none",
      "603": "none",
    };
    for (const [code, recovery] of Object.entries(expected)) {
      assert.equal(lookupCode(code)?.recovery, recovery, code);
    }
  });

  it("says the asterisked codes do not count against the quota (§12)", () => {
    for (const code of ["601", "602", "604", "605", "608", "611"]) {
      assert.equal(lookupCode(code)?.counted, false, code);
    }
    assert.equal(lookupCode("1006")?.counted, null);
  });
});

describe("message templates", () => {
  const cases = [
    { code: "1006", message: "Field 'role' not found", values: { field: "role" } },
    { code: "1006", message: "Field ‘jobRole__c’ not found", values: { field: "jobRole__c" } },
    {
      code: "1001",
      message: "Invalid value 'twelve'. Required of type 'integer'",
      values: { value: "twelve", type: "integer" },
    },
    {
      code: "1002",
      message: "Missing value for the required parameter 'email'",
      values: { field: "email" },
    },
    {
      code: "1002",
      message: "Missing value for required parameter 'email'",
      values: { field: "email" },
    },
    { code: "701", message: "programName cannot be blank", values: { field: "programName" } },
    {
      code: "606",
      message: "Max rate limit '100' exceeded with in '20' secs",
      values: { limit: "100", seconds: "20" },
    },
    {
      code: "1008",
      message: "Access denied to partition 'Mexico'",
      values: { partition: "Mexico" },
    },
    { code: "1003", message: "Too many results match the filter", values: {} },
    { code: "601", message: "Unauthorized", values: {} },
  ];
  for (const c of cases) {
    it(`reads ${c.code} "${c.message}"`, () => {
      const explained = explainCode(c.code, c.message);
      assert.equal(explained.entry?.code, c.code);
      assert.deepEqual(explained.values, c.values);
    });
  }

  it("finds the code of a message given alone", () => {
    const [found, ...rest] = matchMessage("Field 'role' not found");
    assert.equal(found?.code, "1006");
    assert.deepEqual(found?.values, { field: "role" });
    assert.equal(rest.length, 0);
  });

  it("finds nothing in a message no template matches", () => {
    assert.deepEqual(matchMessage("The weather is fine"), []);
  });

  it("names the field in the suggested fix", () => {
    const { entry, values } = explainCode("1006", "Field 'role' not found");
    assert.ok(entry);
    const fix = fixFor(entry, values);
    assert.match(fix, /^'role' is not a Marketo field/);
    assert.match(fix, /create 'role' in Marketo/);
  });

  it("falls back to a plain noun when the message has no value", () => {
    const entry = lookupCode("1006");
    assert.ok(entry);
    assert.match(fixFor(entry), /^The field is not a Marketo field/);
  });

  it("reads a long hostile message without hanging", () => {
    const hostile = `Field '${"'a".repeat(50_000)}' not found`;
    const { entry } = explainCode("1006", hostile);
    assert.equal(entry?.code, "1006");
  });

  it("lists the nearest documented codes for an unknown one", () => {
    assert.deepEqual(
      nearestCodes("1023")
        .map((e) => e.code)
        .sort(),
      ["1021", "1022", "1025"].sort(),
    );
    assert.equal(lookupCode("1023"), undefined);
  });
});
