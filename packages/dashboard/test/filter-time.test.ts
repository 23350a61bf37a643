import assert from "node:assert/strict";
import { test } from "node:test";
import { timeProblem } from "../src/filter-time.ts";

test("a date or an ISO 8601 time is no problem, nor is an empty field", () => {
  for (const v of [
    undefined,
    "",
    "2026-11-23",
    "2026-11-23T18:00Z",
    "2026-11-23T18:00:00.000+01:00",
  ])
    assert.equal(timeProblem("Since", v), undefined, String(v));
});

test("anything else is named with its field, its value and how to write one", () => {
  for (const v of ["yesterday", "23/11/2026", "2026-13-45", "2026-11-23Tnoon"]) {
    const problem = timeProblem("Since", v);
    assert.match(problem ?? "", /^Since: '.*' is not a valid time\. Write it as 2026-11-23/, v);
    assert.ok(problem?.includes(v));
  }
});
