import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { type ReportRow, spreadsheetSafe, writeReport } from "../src/cli/report-command.ts";

const row = (over: Partial<ReportRow>): ReportRow => ({
  LeadId: 1,
  Email: "ann@example.com",
  Destination: "main",
  Endpoint: "/rest/v1/leads.json",
  Program: null,
  RequestContent: '{"input":{"email":"ann@example.com"}}',
  ResponseStatusCode: "200",
  ResponseReason: "created",
  Status: "delivered",
  Attempts: 1,
  MarketoId: 7,
  UpdatedAt: "2026-11-23T12:00:00.000Z",
  Fix: null,
  ...over,
});

async function* rows(list: ReportRow[]) {
  yield* list;
}

async function render(list: ReportRow[], format: string): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  await writeReport(rows(list), format, out, false);
  return Buffer.concat(chunks).toString("utf8");
}

describe("the report", () => {
  it("defuses spreadsheet formulas in CSV cells (CSV injection)", () => {
    for (const evil of ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]) {
      assert.equal(spreadsheetSafe(row({ Email: evil })).Email, `'${evil}`);
    }
    assert.equal(spreadsheetSafe(row({})).Email, "ann@example.com");
    assert.equal(spreadsheetSafe(row({ MarketoId: -1 })).MarketoId, -1, "numbers are not text");
  });

  it("writes CSV with the documented header and a defused formula", async () => {
    const csv = await render([row({ Email: "=cmd|' /C calc'!A0@x.com" })], "csv");
    const [header, line] = csv.trim().split("\n");
    assert.match(
      header ?? "",
      /^LeadId,Email,Destination,Endpoint,Program,RequestContent,ResponseStatusCode,ResponseReason,Status,Attempts,MarketoId,UpdatedAt,Fix$/,
    );
    assert.match(line ?? "", /^1,'=cmd\|' \/C calc'!A0@x\.com,/);
  });

  it("writes JSON as a well-formed array, also when empty", async () => {
    assert.deepEqual(JSON.parse(await render([], "json")), []);
    const two = JSON.parse(await render([row({}), row({ LeadId: 2 })], "json"));
    assert.deepEqual(
      two.map((r: ReportRow) => r.LeadId),
      [1, 2],
    );
    assert.equal(two[0].Email, "ann@example.com", "JSON is for machines: values are not altered");
  });

  it("writes the header alone when nothing matches", async () => {
    const csv = await render([], "csv");
    assert.equal(
      csv,
      "LeadId,Email,Destination,Endpoint,Program,RequestContent,ResponseStatusCode,ResponseReason,Status,Attempts,MarketoId,UpdatedAt,Fix\n",
    );
  });
});
