import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cutBatches, halves, jsonBytes } from "../src/batch.ts";

const envelope = { action: "createOrUpdate", lookupField: "email" };

describe("cutBatches", () => {
  test("300 records make one batch, 301 make two", () => {
    const leads = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ email: `l${i}@example.com` }));
    const limits = { maxRecords: 300, maxBytes: 1_000_000 };
    assert.deepEqual(
      cutBatches(leads(300), limits, envelope).batches.map((b) => b.length),
      [300],
    );
    assert.deepEqual(
      cutBatches(leads(301), limits, envelope).batches.map((b) => b.length),
      [300, 1],
    );
    assert.deepEqual(cutBatches(leads(0), limits, envelope).batches, []);
  });

  test("cuts by serialized bytes so that every body stays within the limit", () => {
    const leads = Array.from({ length: 50 }, (_, i) => ({
      email: `l${i}@x.com`,
      note: "é".repeat(900 + i),
    }));
    const limits = { maxRecords: 300, maxBytes: 10_000 };
    const { batches, oversized } = cutBatches(leads, limits, envelope);
    assert.deepEqual(oversized, []);
    assert.ok(batches.length > 5);
    assert.deepEqual(
      batches.flat(),
      leads.map((_, i) => i),
      "every record once, in order",
    );
    for (const batch of batches) {
      const body = JSON.stringify({ ...envelope, input: batch.map((i) => leads[i]) });
      assert.ok(Buffer.byteLength(body) <= limits.maxBytes, `${Buffer.byteLength(body)} bytes`);
    }
    // and the batches are full: adding the next record would pass the limit
    const first = batches[0] ?? [];
    const next = leads[first.length];
    const fuller = JSON.stringify({ ...envelope, input: [...first.map((i) => leads[i]), next] });
    assert.ok(Buffer.byteLength(fuller) > limits.maxBytes);
  });

  test("a body of exactly the limit is allowed; one byte more is not", () => {
    const record = { email: "a@b.c" };
    const one = jsonBytes({ ...envelope, input: [record] });
    assert.equal(
      cutBatches([record, record], { maxRecords: 300, maxBytes: one }, envelope).batches.length,
      2,
    );
    const two = jsonBytes({ ...envelope, input: [record, record] });
    assert.equal(
      cutBatches([record, record], { maxRecords: 300, maxBytes: two }, envelope).batches.length,
      1,
    );
  });

  test("a record too big on its own is set aside, not sent", () => {
    const leads = [{ email: "a@x" }, { email: "b@x", blob: "x".repeat(2_000) }, { email: "c@x" }];
    const cut = cutBatches(leads, { maxRecords: 300, maxBytes: 1_000 }, envelope);
    assert.deepEqual(cut.oversized, [1]);
    assert.deepEqual(cut.batches, [[0, 2]]);
  });
});

test("halves give the odd record to the first half", () => {
  assert.deepEqual(halves([1, 2, 3]), [[1, 2], [3]]);
  assert.deepEqual(halves([1, 2, 3, 4]), [
    [1, 2],
    [3, 4],
  ]);
});
