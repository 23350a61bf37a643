import assert from "node:assert/strict";
import { test } from "node:test";
import {
  changeBody,
  createBody,
  EMPTY_FIELDS,
  fieldErrorsOf,
  wholeNumber,
} from "../src/destination-input.ts";

const FILLED = {
  ...EMPTY_FIELDS,
  name: " acme ",
  baseUrl: "https://123-ABC-456.mktorest.com ",
  clientId: "client",
};

test("a whole number as people type it; empty is none; anything else names the problem", () => {
  assert.equal(wholeNumber("50"), 50);
  assert.equal(wholeNumber("20,000"), 20_000);
  assert.equal(wholeNumber(" 20 000 "), 20_000);
  assert.equal(wholeNumber(""), null);
  assert.deepEqual(wholeNumber("5.5"), { error: "a whole number, e.g. 50" });
  assert.deepEqual(wholeNumber("fifty"), { error: "a whole number, e.g. 50" });
});

test("create: trimmed values, empty optional fields left out so the gateway's defaults apply", () => {
  assert.deepEqual(createBody(FILLED, "s3cret"), {
    body: {
      name: "acme",
      baseUrl: "https://123-ABC-456.mktorest.com",
      clientId: "client",
      clientSecret: "s3cret",
    },
  });
  const limited = createBody({ ...FILLED, callsPer20s: "50", dailyBudget: "10,000" }, "s");
  assert.deepEqual(
    "body" in limited && [limited.body.callsPer20s, limited.body.dailyBudget],
    [50, 10_000],
  );
});

test("a draft to test may have no name yet: it is left out, not sent empty", () => {
  const draft = createBody({ ...FILLED, name: "" }, "s");
  assert.ok("body" in draft && !("name" in draft.body));
});

test("edit: no secret typed keeps the stored one; an emptied setting is cleared (null)", () => {
  const kept = changeBody({ ...FILLED, callsPer20s: "40", concurrency: "" }, "");
  assert.ok("body" in kept);
  assert.equal("clientSecret" in kept.body, false);
  assert.equal(kept.body.callsPer20s, 40);
  assert.equal(kept.body.concurrency, null);
  assert.equal(kept.body.markerField, null);
  const replaced = changeBody(FILLED, "new-secret");
  assert.ok("body" in replaced && replaced.body.clientSecret === "new-secret");
});

test("numbers that are not whole numbers stop at their own field, before any request", () => {
  assert.deepEqual(createBody({ ...FILLED, concurrency: "ten" }, "s"), {
    errors: { concurrency: "a whole number, e.g. 50" },
  });
});

test("the gateway's issues go to their fields; the rest, and a bare message, to the form", () => {
  assert.deepEqual(
    fieldErrorsOf("invalid body", [
      { path: "callsPer20s", message: "at most 100" },
      { path: "clientSecret", message: "required" },
    ]),
    { callsPer20s: "at most 100", clientSecret: "required" },
  );
  assert.deepEqual(
    fieldErrorsOf("invalid body", [{ path: "body", message: "Unrecognized key: extra" }]),
    { form: "invalid body — Unrecognized key: extra" },
  );
  assert.deepEqual(fieldErrorsOf("the gateway is busy", []), { form: "the gateway is busy" });
});
