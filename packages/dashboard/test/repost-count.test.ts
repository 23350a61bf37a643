import assert from "node:assert/strict";
import { test } from "node:test";
import { repostableCount } from "../src/repost-count.ts";

const COUNTS = { queued: 2, sending: 3, delivered: 10, needs_fix: 4, test: 1 };

test("all matching counts every status repost queues again, never the leads being sent", () => {
  assert.equal(repostableCount(COUNTS, undefined), 2 + 10 + 4 + 1);
});

test("a status filter counts its statuses only, and sending alone counts none", () => {
  assert.equal(repostableCount(COUNTS, "needs_fix"), 4);
  assert.equal(repostableCount(COUNTS, "needs_fix, queued"), 6);
  assert.equal(repostableCount(COUNTS, "sending"), 0);
  assert.equal(repostableCount(COUNTS, "sending,queued"), 2);
});
