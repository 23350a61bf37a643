import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CLEAN_ENV, runPostout } from "../soak/processes.ts";
import { openApi, SYNC_ROUTE } from "./http-helpers.ts";

// "0 partial writes": a batch or a file with one bad lead in it writes nothing at all; the
// store is checked, not only the answer. (The reader corpus and the fast-check properties on
// intake and mapping are in bad-input.test.ts. A BOM before a JSON body is not here: it is
// read as JSON, which RFC 8259 §8.1 allows.)

const good = (i: number) => ({ email: `ok${i}@example.com`, firstName: `F${i}` });
const INJECTIONS = ["'; DROP TABLE leads;--", "=cmd|' /C calc'!A0", "<script>x</script>", "a\0b"];

/** One bad lead in the middle of nine good ones: the whole batch must be refused. */
const BAD_LEADS: readonly [string, unknown][] = [
  ["a nested object", { email: "x@y.com", extra: { a: 1 } }],
  ["an array value", { email: "x@y.com", tags: ["a"] }],
  ["a value past 65,536 characters", { email: "x@y.com", note: "x".repeat(70_000) }],
  ["a column name past 255 characters", { email: "x@y.com", ["k".repeat(300)]: "v" }],
  ["an empty column name", { email: "x@y.com", "": "v" }],
  ["a string instead of a lead", "x@y.com"],
  ["null instead of a lead", null],
  ["a number instead of a lead", 42],
  ["an array instead of a lead", [good(0)]],
  ...INJECTIONS.map((s): [string, unknown] => [
    `an object under the injection ${JSON.stringify(s)}`,
    { email: { [s]: s } },
  ]),
];

const BAD_BODIES: readonly [string, string][] = [
  ["invalid JSON", '{"route":{"endpoint":"syncLeads"},"leads":[{"email":"a@b.c"}'],
  ["trailing garbage", `${JSON.stringify({ route: SYNC_ROUTE, leads: [good(1)] })}}`],
  ["an empty body", ""],
  ["a JSON string", '"leads"'],
  ["a JSON array", JSON.stringify([good(1)])],
  ["no route", JSON.stringify({ leads: [good(1)] })],
  ["an unknown route endpoint", JSON.stringify({ route: { endpoint: "bulk" }, leads: [good(1)] })],
  [
    "an unknown action",
    JSON.stringify({ route: { ...SYNC_ROUTE, action: "upsert" }, leads: [good(1)] }),
  ],
  ["leads as an object", JSON.stringify({ route: SYNC_ROUTE, leads: good(1) })],
  ["no leads", JSON.stringify({ route: SYNC_ROUTE, leads: [] })],
  [
    "1,001 leads",
    JSON.stringify({ route: SYNC_ROUTE, leads: Array.from({ length: 1001 }, (_, i) => good(i)) }),
  ],
  ["an unknown member", JSON.stringify({ route: SYNC_ROUTE, leads: [good(1)], extra: 1 })],
  [
    "a field map that is not a map",
    JSON.stringify({ route: SYNC_ROUTE, map: { fields: 7 }, leads: [good(1)] }),
  ],
  [
    "__proto__ in the body",
    `{"route":${JSON.stringify(SYNC_ROUTE)},"leads":[{"email":"a@b.c"}],"__proto__":{"x":1}}`,
  ],
];

describe("reliability: bad input writes nothing", () => {
  let api: Awaited<ReturnType<typeof openApi>>;
  before(async () => {
    api = await openApi();
  });
  after(() => api.close());
  const stored = async () =>
    (await api.call("GET", "/v1/leads?limit=1")).json.counts as Record<string, number>;
  const total = async () => Object.values(await stored()).reduce((a, b) => a + b, 0);

  for (const [name, bad] of BAD_LEADS) {
    it(`a batch with ${name} among good leads: 400 naming the problem, no lead stored`, async () => {
      const before = await total();
      const leads = [good(1), good(2), good(3), good(4), bad, good(5), good(6), good(7), good(8)];
      const r = await api.call("POST", "/v1/leads", { route: SYNC_ROUTE, leads });
      assert.equal(r.status, 400, r.text);
      assert.ok(typeof r.json?.error === "string" && r.json.error.length > 5, r.text);
      assert.equal(await total(), before, "no partial write");
    });
  }
  for (const [name, body] of BAD_BODIES) {
    it(`a body with ${name}: a 4xx with a message, no lead stored`, async () => {
      const before = await total();
      const r = await api.call("POST", "/v1/leads", body);
      assert.ok(r.status >= 400 && r.status < 500, `${r.status} ${r.text}`);
      assert.ok(typeof r.json?.error === "string", r.text);
      assert.equal(await total(), before, "no partial write");
    });
  }
});

describe("reliability: a file that breaks halfway writes nothing", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "postout-bad-post-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const rows = Array.from({ length: 500 }, (_, i) => JSON.stringify(good(i)));
  const files: readonly [string, string, string | Uint8Array][] = [
    ["a JSON array cut short", "cut.json", `[${rows.join(",")}`],
    ["a JSON array with garbage after 500 leads", "garbage.json", `[${rows.join(",")}]x`],
    ["a JSON document that is not an array", "object.json", JSON.stringify({ leads: rows })],
    [
      "a CSV whose quote never closes",
      "quote.csv",
      `email,firstName\n${Array.from({ length: 500 }, (_, i) => `ok${i}@example.com,F${i}`).join("\n")}\n"open@example.com,never closed\n`,
    ],
  ];
  for (const [name, file, content] of files) {
    it(`postout post of ${name}: exit 2 naming the file, no database written`, async () => {
      writeFileSync(join(dir, file), content);
      const db = join(dir, `${file}.db`);
      const r = await runPostout(["post", file, "--db", db, "--json"], {
        cwd: dir,
        env: CLEAN_ENV,
        timeoutMs: 60_000,
      });
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, new RegExp(file.replace(".", "\\.")));
      if (file.endsWith(".csv")) assert.match(r.stderr, /none of its rows was posted/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
      const report = await runPostout(["report", "--db", db, "--json"], {
        cwd: dir,
        env: CLEAN_ENV,
        timeoutMs: 60_000,
      });
      assert.equal(report.code, 2, "no database was created, so nothing was accepted");
    });
  }
});
