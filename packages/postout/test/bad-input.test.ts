import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { type IntakeItem, isIntakeError, readLeadFile } from "../src/intake/index.ts";
import {
  type FieldMap,
  FieldMapError,
  IDENTITY_MAP,
  type LeadValue,
  mapLead,
  parseFieldMap,
} from "../src/mapping/index.ts";

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "postout-bad-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(ext: string, content: string | Uint8Array): string {
  const path = join(dir, `${n++}.${ext}`);
  writeFileSync(path, content);
  return path;
}

interface Outcome {
  readonly items: IntakeItem[];
  readonly error?: { code: string; message: string };
}

/** Reads a file to the end; anything but an IntakeError is a crash and fails the test. */
async function outcome(path: string): Promise<Outcome> {
  const items: IntakeItem[] = [];
  try {
    for await (const item of readLeadFile(path)) items.push(item);
    return { items };
  } catch (error) {
    assert.ok(
      isIntakeError(error),
      `crash, not an IntakeError: ${String((error as Error)?.stack ?? error)}`,
    );
    assert.ok(error.message.startsWith(path), "the error names the file");
    assert.ok(!/\n\s+at /.test(error.message), "no stack trace in the message");
    return { items, error: { code: error.code, message: error.message } };
  }
}

/** What every outcome must satisfy: lines ascending (nothing read twice), reasons given, rows whole. */
function assertSound(o: Outcome, columns?: readonly string[], sameLine = false) {
  let last = 0;
  for (const item of o.items) {
    // Only a JSON array may hold several elements on one line.
    assert.ok(
      sameLine ? item.line >= last : item.line > last,
      `line ${item.line} after ${last}: a row read twice or out of order`,
    );
    last = item.line;
    if (item.kind === "rejected") assert.ok(item.reason.length > 10, "a rejected row has a reason");
    else if (columns)
      assert.deepEqual(Object.keys(item.fields), columns, "a row has exactly the header's columns");
  }
}

const csvQuote = (s: string) => `"${s.replaceAll('"', '""')}"`;

const PAYLOADS: readonly string[] = [
  "=cmd|' /C calc'!A0",
  '=HYPERLINK("http://evil","x")',
  "+1-1",
  "-2+3",
  "@SUM(1+1)",
  "\t=1+1",
  "<script>alert(1)</script>",
  '"><img src=x onerror=alert(1)>',
  "'; DROP TABLE leads;--",
  "1' OR '1'='1",
  "Robert'); DROP TABLE students;--",
  "{{7*7}}",
  ["$", "{jndi:ldap://x/a}"].join(""), // Log4Shell, kept out of a template literal
  "../../etc/passwd",
  "%00",
  "a\0b",
  "\0",
  '"',
  '""',
  '"quoted" text',
  'a"b',
  ",",
  "a,b,c",
  "line\nbreak",
  "cr\rbreak",
  "crlf\r\nbreak",
  "\u2028\u2029",
  "\u202Eevil",
  "\uFEFFbom inside",
  "\uFFFD replacement",
  "😀👍🏽 emoji",
  "x".repeat(70_000),
  "é".repeat(40_000),
  " ",
  "   padded   ",
];

describe("bad-input corpus", () => {
  const header = ["email", "firstName", "note"];

  it("CSV: each payload, correctly quoted, is read back exactly or rejected with a reason", async () => {
    for (const payload of PAYLOADS) {
      const path = file(
        "csv",
        `email,firstName,note\na@x.com,Ann,${csvQuote(payload)}\nb@x.com,Bob,ok\n`,
      );
      const o = await outcome(path);
      assert.equal(
        o.error,
        undefined,
        `${JSON.stringify(payload.slice(0, 30))}: ${o.error?.message}`,
      );
      assertSound(o, header);
      const [first, second] = o.items;
      if (first?.kind === "row") assert.equal(first.fields.note, payload);
      else assert.ok(first?.kind === "rejected" && /NUL|bytes/.test(first.reason));
      assert.deepEqual(second, {
        kind: "row",
        line: 3 + (payload.match(/\r\n|\r|\n/g)?.length ?? 0),
        fields: { email: "b@x.com", firstName: "Bob", note: "ok" },
      });
    }
  });

  it("CSV: each payload written raw (unquoted) is a row, a rejected row or a clear error", async () => {
    for (const payload of PAYLOADS) {
      const o = await outcome(
        file("csv", `email,firstName,note\na@x.com,Ann,${payload}\nb@x.com,Bob,ok\n`),
      );
      assertSound(o, header);
      if (o.error) assert.match(o.error.code, /malformed_csv|row_too_large/);
    }
  });

  it("JSONL and JSON: each payload as a string value is read back exactly or rejected", async () => {
    for (const payload of PAYLOADS) {
      const line = JSON.stringify({ email: "a@x.com", note: payload });
      for (const [ext, text] of [
        ["jsonl", `${line}\n{"email":"b@x.com"}\n`],
        ["json", `[${line},\n{"email":"b@x.com"}]`],
      ] as const) {
        const o = await outcome(file(ext, text));
        assert.equal(o.error, undefined);
        assertSound(o);
        const [first] = o.items;
        if (first?.kind === "row") assert.equal(first.fields.note, payload);
        else assert.ok(first?.kind === "rejected" && /NUL|bytes/.test(first.reason));
        assert.equal(o.items.length, 2);
      }
    }
  });

  it("JSONL: each payload spliced raw into JSON text is rejected or read, never a crash", async () => {
    for (const payload of PAYLOADS) {
      const o = await outcome(
        file("jsonl", `{"email":"a@x.com","note":"${payload}"}\n{"email":"b@x.com"}\n`),
      );
      assertSound(o);
      assert.equal(o.error, undefined);
      assert.deepEqual(o.items.at(-1)?.kind, "row", "the good line after it is still read");
    }
  });

  const BYTES: readonly [string, number[]][] = [
    ["lone continuation byte", [0x80]],
    ["0xFF", [0xff]],
    ["0xFE", [0xfe]],
    ["overlong slash", [0xc0, 0xaf]],
    ["overlong NUL", [0xc0, 0x80]],
    ["truncated 2-byte", [0xc3]],
    ["truncated 3-byte", [0xe2, 0x82]],
    ["truncated 4-byte", [0xf0, 0x9f, 0x98]],
    ["UTF-8 encoded high surrogate", [0xed, 0xa0, 0x80]],
    ["UTF-8 encoded low surrogate", [0xed, 0xb0, 0x80]],
    ["beyond U+10FFFF", [0xf4, 0x90, 0x80, 0x80]],
    ["5-byte form", [0xf8, 0x88, 0x80, 0x80, 0x80]],
    ["Latin-1 é", [0xe9]],
    ["Windows-1252 smart quotes", [0x93, 0x94]],
    ["UTF-16LE BOM mid-file", [0xff, 0xfe]],
  ];
  it("bytes that are not UTF-8, in CSV, JSONL and JSON: rejected row or clear error", async () => {
    for (const [name, bytes] of BYTES) {
      const bad = Buffer.from(bytes);
      const csv = await outcome(
        file(
          "csv",
          Buffer.concat([
            Buffer.from("email,note\na@x.com,x"),
            bad,
            Buffer.from("y\nb@x.com,ok\n"),
          ]),
        ),
      );
      assertSound(csv, ["email", "note"]);
      assert.deepEqual(
        csv.items.map((i) => (i.kind === "rejected" ? i.code : "row")),
        ["invalid_utf8", "row"],
        name,
      );
      const jsonl = await outcome(
        file(
          "jsonl",
          Buffer.concat([Buffer.from('{"note":"x'), bad, Buffer.from('"}\n{"email":"b@x.com"}\n')]),
        ),
      );
      assert.deepEqual(
        jsonl.items.map((i) => (i.kind === "rejected" ? i.code : "row")),
        ["invalid_utf8", "row"],
        name,
      );
      const json = await outcome(
        file("json", Buffer.concat([Buffer.from('[{"note":"x'), bad, Buffer.from('"}]')])),
      );
      assert.equal(json.error?.code, "invalid_utf8", name);
      const header = await outcome(
        file("csv", Buffer.concat([Buffer.from("email,n"), bad, Buffer.from("\na@x.com,x\n")])),
      );
      assert.equal(header.error?.code, "invalid_utf8", name);
    }
  });

  const STRUCTURE: readonly [string, string, string | Uint8Array][] = [
    ["csv", "only a BOM", "\uFEFF"],
    ["csv", "only newlines", "\n\r\n\n"],
    ["csv", "only commas", ",,,\n"],
    ["csv", "header of spaces", " , \n1,2\n"],
    ["csv", "UTF-16 BOM", "\uFEFF".length === 1 ? Buffer.from([0xff, 0xfe, 0x61, 0]) : ""],
    ["csv", "NUL header", "\0\0\0\n1\n"],
    ["csv", "quote in header", 'em"ail\nx\n'],
    ["csv", "unclosed quote in header", '"email\nx\n'],
    ["csv", "unclosed quote at the end", 'email\na@x.com\n"'],
    ["csv", "quote then text", 'email\n"a"b\n'],
    ["csv", "one huge unquoted line", `email\n${"x".repeat(1_100_000)}\n`],
    ["csv", "one huge unclosed quote", `email\n"${"x\n".repeat(600_000)}`],
    [
      "csv",
      "many columns",
      `${Array.from({ length: 2000 }, (_, i) => `c${i}`).join(",")}\n${"1,".repeat(1999)}1\n`,
    ],
    ["csv", "ragged rows", "a,b\n1\n1,2,3\n,\n1,2\n"],
    ["csv", "tabs instead of commas", "email\tname\na@x.com\tAnn\n"],
    ["csv", "semicolons", "email;name\na@x.com;Ann\n"],
    ["jsonl", "a bare array", "[]\n"],
    ["jsonl", "truncated object", '{"email":"a@x.com"'],
    ["jsonl", "two objects on a line", '{"a":1}{"b":2}\n'],
    ["jsonl", "trailing comma", '{"a":1,}\n'],
    ["jsonl", "single quotes", "{'a':1}\n"],
    ["jsonl", "NaN", '{"a":NaN}\n'],
    ["jsonl", "deep nesting", `${"[".repeat(5000)}${"]".repeat(5000)}\n`],
    ["jsonl", "huge number", `{"a":1e400}\n`],
    ["jsonl", "duplicate keys", '{"email":"a@x.com","email":"b@x.com"}\n'],
    ["jsonl", "__proto__ key", '{"__proto__":{"polluted":true}}\n{"__proto__":"x"}\n'],
    ["jsonl", "comment", "// leads\n{}\n"],
    ["jsonl", "a line of 2 MB", `{"n":"${"x".repeat(2_000_000)}"}\n{"email":"ok@x.com"}\n`],
    ["json", "a string", '"leads"'],
    ["json", "a number", "42"],
    ["json", "null", "null"],
    ["json", "nested arrays", "[[{}]]"],
    ["json", "unterminated", '[{"email":"a@x.com"}'],
    ["json", "BOM then array", '\uFEFF[{"email":"a@x.com"}]'],
    ["json", "array of nulls", "[null,null]"],
    ["json", "deep nesting", `${"[".repeat(10000)}${"]".repeat(10000)}`],
  ];
  it("structural damage: clear error or rejected rows", async () => {
    for (const [ext, name, content] of STRUCTURE) {
      const o = await outcome(file(ext, content));
      assertSound(o, undefined, ext === "json");
      assert.ok(o.error !== undefined || o.items.length > 0, name);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined, "no prototype pollution");
  });

  it("holds at least 200 malformed inputs", () => {
    const count = PAYLOADS.length * 5 + BYTES.length * 4 + STRUCTURE.length;
    assert.ok(count >= 200, `only ${count}`);
  });
});

// ── Properties ───────────────────────────────────────────────────────────────────────────────

/**
 * The properties run from a fixed seed, so `npm test` (and CI) checks the same cases every time.
 * To hunt for new failures, give another seed, or `random` for a new one each run; a failure
 * prints the seed and path that replay it (pass both to fc.assert to replay just that case):
 *
 *   FC_SEED=42 node --test test/bad-input.test.ts
 *   for s in $(seq 1 20); do FC_SEED=$s node --test test/bad-input.test.ts || echo "seed $s"; done
 *   FC_SEED=random node --test test/bad-input.test.ts
 */
const FC_SEED = process.env.FC_SEED ?? "20261123";
const seed = FC_SEED === "random" ? undefined : Number(FC_SEED);
if (seed !== undefined && !Number.isInteger(seed)) {
  throw new Error(`FC_SEED must be an integer or "random", not ${JSON.stringify(FC_SEED)}`);
}
/** fast-check parameters: `numRuns` cases from the seed above. */
const runs = (numRuns: number): fc.Parameters<unknown> =>
  seed === undefined ? { numRuns } : { numRuns, seed };

const cell = fc.string({
  unit: fc.constantFrom(
    "a",
    "B",
    "7",
    " ",
    ",",
    '"',
    "\n",
    "\r\n",
    "\r",
    "é",
    "😀",
    "=",
    "'",
    "\t",
    ";",
  ),
  maxLength: 12,
});
const names = fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/), {
  minLength: 1,
  maxLength: 5,
});
const breaks = (s: string) => s.match(/\r\n|\r|\n/g)?.length ?? 0;

describe("properties", () => {
  it("CSV written with RFC 4180 quoting reads back to the same rows and lines", async () => {
    await fc.assert(
      fc.asyncProperty(
        names.chain((cols) =>
          fc.record({
            cols: fc.constant(cols),
            rows: fc.array(fc.array(cell, { minLength: cols.length, maxLength: cols.length }), {
              minLength: 1,
              maxLength: 8,
            }),
            // One line ending for the file, or each line its own (files concatenated).
            eols: fc.oneof(
              fc.constantFrom("\n", "\r\n", "\r").map((eol) => Array<string>(9).fill(eol)),
              fc.array(fc.constantFrom("\n", "\r\n", "\r"), { minLength: 9, maxLength: 9 }),
            ),
            bom: fc.boolean(),
            quoteAll: fc.boolean(),
          }),
        ),
        async ({ cols, rows, eols, bom, quoteAll }) => {
          const q = (s: string) => (quoteAll || /[",\r\n]/.test(s) ? csvQuote(s) : s);
          let text = "";
          let eol = "";
          for (const [i, line] of [
            cols.join(","),
            ...rows.map((r) => r.map(q).join(",")),
          ].entries()) {
            // A blank line between a CR and an LF would make them one CRLF.
            eol = line === "" && eol === "\r" ? "\r" : (eols[i] as string);
            text += line + eol;
          }
          const o = await outcome(file("csv", (bom ? "\uFEFF" : "") + text));
          let line = 2;
          const expected = rows.flatMap((r): object[] => {
            const here = line;
            line += 1 + r.reduce((sum, v) => sum + breaks(v), 0);
            // One empty unquoted cell is a blank line, which CSV readers skip.
            if (r.length === 1 && r[0] === "" && !quoteAll) return [];
            return r.every((v) => v.trim() === "")
              ? [{ kind: "rejected", line: here, code: "empty_row" }]
              : [
                  {
                    kind: "row",
                    line: here,
                    fields: Object.fromEntries(cols.map((c, i) => [c, r[i]])),
                  },
                ];
          });
          assert.equal(
            o.error?.code,
            expected.length === 0 ? "no_leads" : undefined,
            o.error?.message,
          );
          assert.deepEqual(
            o.items.map((i) =>
              i.kind === "row" ? i : { kind: i.kind, line: i.line, code: i.code },
            ),
            expected,
          );
        },
      ),
      runs(200),
    );
  });

  it("any bytes never crash the reader, as CSV, JSONL or JSON", async () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc
        .array(fc.constantFrom(...'ab,"\n\r{}[]:0\\é\0\uFEFF'.split("")), { maxLength: 60 })
        .map((a) => Buffer.from(a.join(""))),
    );
    await fc.assert(
      fc.asyncProperty(bytes, fc.constantFrom("csv", "jsonl", "json"), async (content, ext) => {
        assertSound(await outcome(file(ext, content)), undefined, ext === "json");
      }),
      runs(300),
    );
  });

  const scalar: fc.Arbitrary<string | number | boolean | null> = fc.oneof(
    fc.string({ maxLength: 10 }),
    fc.constantFrom(" CA ", "ny", "Cali", "a@B.COM", " x@Y.org ", "jösé@x.com", "", "  "),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
  );
  const column = fc.oneof(
    fc.constantFrom("Email", "State", "email", "__proto__", "constructor", "x"),
    fc.string({ maxLength: 6 }),
  );
  const row = fc.dictionary(column, scalar, { maxKeys: 6 });
  const fieldName = fc.constantFrom("email", "state", "firstName", "company", "leadSource");
  const fieldMap: fc.Arbitrary<FieldMap> = fc
    .record({
      fields: fc.dictionary(column, fieldName, { maxKeys: 4 }),
      constants: fc.dictionary(
        fc.constantFrom("leadSource", "company"),
        fc.oneof(fc.string({ maxLength: 5 }), fc.integer()),
      ),
      values: fc.dictionary(
        fieldName,
        fc.record(
          {
            map: fc.dictionary(fc.constantFrom("CA", "NY", "x"), fc.string({ maxLength: 5 })),
            default: fc.option(fc.string({ maxLength: 4 }), { nil: undefined }),
          },
          { requiredKeys: ["map"] },
        ),
      ),
      unmapped: fc.constantFrom("drop", "keep", "reject"),
    })
    .map((m) => {
      try {
        return parseFieldMap(m);
      } catch {
        return IDENTITY_MAP; // a contradictory generated map; the identity map is still a map
      }
    });

  it("mapping never throws, sends only allowed fields, and is idempotent", () => {
    fc.assert(
      fc.property(row, fieldMap, (r, map) => {
        const result = mapLead(r, map);
        if (!result.ok) {
          assert.ok(result.problems.length > 0);
          for (const p of result.problems) assert.ok(p.message && p.fix);
          return;
        }
        const allowed = new Set([
          ...Object.values(map.fields),
          ...Object.keys(map.constants),
          ...(map.unmapped === "keep" ? Object.keys(r) : []),
        ]);
        for (const field of Object.keys(result.lead))
          assert.ok(allowed.has(field), `field ${field} not allowed`);
        for (const v of Object.values(result.lead) as LeadValue[]) {
          assert.ok(
            typeof v !== "string" || (v === v.trim() && v !== ""),
            "strings trimmed, blanks left out",
          );
        }
        const again = mapLead(result.lead, IDENTITY_MAP);
        assert.ok(again.ok);
        assert.deepEqual(again.lead, result.lead);
      }),
      runs(500),
    );
  });
});

describe("reserved names: refused with their line, never dropped", () => {
  const RESERVED = ["__proto__", "constructor", "prototype"];

  it("JSONL and JSON: a row naming __proto__, constructor or prototype is rejected with its line; the others are read exactly", async () => {
    const rows = [
      '{"email":"a@x.com"}',
      ...RESERVED.map((k) => `{"email":"b@x.com","${k}":"x"}`),
      '{"email":"c@x.com"}',
    ];
    for (const [ext, content] of [
      ["jsonl", `${rows.join("\n")}\n`],
      ["json", `[\n${rows.join(",\n")}\n]\n`],
    ] as const) {
      const o = await outcome(file(ext, content));
      assert.equal(o.error, undefined);
      const rejected = o.items.filter((i) => i.kind === "rejected");
      assert.deepEqual(
        rejected.map((r) => [r.line, r.code]),
        [
          [ext === "json" ? 3 : 2, "reserved_name"],
          [ext === "json" ? 4 : 3, "reserved_name"],
          [ext === "json" ? 5 : 4, "reserved_name"],
        ],
        ext,
      );
      RESERVED.forEach((k, i) => {
        assert.ok(rejected[i]?.kind === "rejected" && rejected[i].reason.includes(`"${k}"`));
      });
      assert.equal(o.items.filter((i) => i.kind === "row").length, 2);
    }
  });

  it("CSV: a header column named __proto__, constructor or prototype refuses the file, naming it", async () => {
    for (const k of RESERVED) {
      const path = file("csv", `email,${k}\na@x.com,x\n`);
      const o = await outcome(path);
      assert.equal(o.error?.code, "reserved_name", k);
      assert.ok(o.error?.message.includes(`"${k}"`), o.error?.message);
      assert.match(o.error?.message ?? "", /line 1/);
      assert.equal(o.items.length, 0);
    }
  });

  it("field maps: a reserved key anywhere, or a reserved target field, is a FieldMapError naming its path", () => {
    const cases: [unknown, string][] = [
      [JSON.parse('{"fields":{"__proto__":"email"}}'), "fields.__proto__"],
      [{ fields: { constructor: "email" } }, "fields.constructor"],
      [JSON.parse('{"values":{"state":{"map":{"__proto__":"x"}}}}'), "values.state.map.__proto__"],
      [{ fields: { Email: "prototype" } }, "fields.Email"],
      [{ constants: { constructor: "x" } }, "constants.constructor"],
    ];
    for (const [map, path] of cases) {
      assert.throws(
        () => parseFieldMap(map, "map.json"),
        (error: unknown) =>
          error instanceof FieldMapError && error.issues.some((i) => i.startsWith(`${path}: `)),
        path,
      );
    }
  });
});
