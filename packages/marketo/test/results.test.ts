import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { explainCode } from "../src/codes.ts";
import { ResponseLevelError } from "../src/errors.ts";
import { failed, fromItem, matchItems, merge } from "../src/results.ts";

describe("results", () => {
  test("items are matched by position for leads, by seq for custom objects", () => {
    const inputs = ["a", "b", "c", "d"];
    const byPosition = matchItems(
      [1, 3],
      inputs,
      [
        { id: 7, status: "created" },
        { id: 8, status: "updated" },
      ],
      "r1",
    );
    assert.deepEqual(
      byPosition.map((r) => [r.index, r.input, r.status, r.id]),
      [
        [1, "b", "created", 7],
        [3, "d", "updated", 8],
      ],
    );
    const bySeq = matchItems(
      [0, 2],
      inputs,
      [
        { seq: 1, status: "created", marketoGUID: "g2" },
        { seq: 0, status: "skipped", reasons: [{ code: "1004", message: "Lead not found" }] },
      ],
      "r2",
    );
    assert.deepEqual(
      bySeq.map((r) => [r.index, r.status, r.id]),
      [
        [0, "skipped", undefined],
        [2, "created", "g2"],
      ],
    );
    assert.equal(bySeq[0]?.reasons[0]?.entry?.code, "1004");
  });

  test("reasons come from reasons[] or errors[], with their catalog entries", () => {
    const r = fromItem(
      0,
      {},
      { status: "skipped", errors: [{ code: "1004", message: "Lead not found" }] },
      "x",
    );
    assert.equal(r.status, "skipped");
    assert.equal(r.reasons[0]?.code, "1004");
    assert.ok(r.reasons[0]?.entry);
    const push = fromItem(
      0,
      {},
      { id: 3525, reasons: [{ code: "1006", message: "Field 'role' not found" }] },
      "x",
    );
    assert.equal(push.status, "skipped", "Push Lead: reasons without status");
    assert.deepEqual(push.reasons[0]?.values, { field: "role" });
    assert.equal(fromItem(0, 1, { id: 1, status: "added" }, "x").status, "created");
  });

  test("a missing item is unknown, and merge gives one result per input in order", () => {
    const inputs = ["a", "b", "c"];
    const partial = matchItems([0, 1], inputs, [{ id: 1, status: "created" }], "r");
    assert.equal(partial[1]?.status, "unknown");
    const error = new ResponseLevelError({
      code: "603",
      message: "603 Access denied",
      errors: [explainCode("603", "Access denied")],
    });
    const merged = merge(inputs, [failed(2, "c", error), ...partial.reverse()], ["r", "r"]);
    assert.deepEqual(
      merged.results.map((r) => [r.index, r.status]),
      [
        [0, "created"],
        [1, "unknown"],
        [2, "failed"],
      ],
    );
    assert.deepEqual(merged.counts, { created: 1, updated: 0, skipped: 0, failed: 1, unknown: 1 });
    assert.deepEqual(merged.requestIds, ["r"]);
    assert.equal(merged.results[2]?.error, error);
    assert.equal(merged.results[2]?.reasons[0]?.code, "603");
  });
});
