import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { findCreated, lookupKey } from "../src/lookup.ts";
import { rigsClosedAfter } from "./helpers.ts";

/**
 * findCreated: the proof that a lost create made a lead — the lookup value, created after the
 * call went out, the fields sent, not attributed elsewhere. Against the sandbox over HTTP.
 */
describe("findCreated: which lead a lost create made", () => {
  const open = rigsClosedAfter();

  /** Creates leads as if ten minutes ago (the sandbox's clock set back), then puts the clock back. */
  async function createdEarlier(
    r: Awaited<ReturnType<typeof open>>,
    leads: Record<string, unknown>[],
  ) {
    r.sb.clock.set(new Date(Date.now() - 600_000));
    await r.client.syncLeads(leads, { action: "createDuplicate" });
    r.sb.clock.set(new Date());
  }

  test("the lead created after the call with the fields sent, not the older one with its email", async () => {
    const r = await open();
    await createdEarlier(r, [{ email: "ann@example.com", firstName: "Old" }]);
    const sentAt = Date.now();
    const made = await r.client.syncLeads([{ email: "ann@example.com", firstName: "New" }], {
      action: "createDuplicate",
    });
    const found = await findCreated(r.client, "email", [
      { input: { email: " ANN@example.com", firstName: "New" }, sentAt },
      { input: { email: "ann@example.com", firstName: "Someone else" }, sentAt },
    ]);
    assert.equal(found[0]?.id, made.results[0]?.id);
    assert.match(found[0]?.createdAt ?? "", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    assert.equal(found[1], undefined, "other fields: not this call's lead");
  });

  test("a lead created before the call went out (less the skew) is not the call's", async () => {
    const r = await open();
    await createdEarlier(r, [{ email: "bo@example.com", firstName: "Bo" }]);
    const [none] = await findCreated(r.client, "email", [
      { input: { email: "bo@example.com", firstName: "Bo" }, sentAt: Date.now() },
    ]);
    assert.equal(none, undefined);
    const [withSkew] = await findCreated(
      r.client,
      "email",
      [{ input: { email: "bo@example.com", firstName: "Bo" }, sentAt: Date.now() }],
      { skewMs: 700_000 },
    );
    assert.equal(typeof withSkew?.id, "number", "inside a skew of 700 s it counts");
  });

  test("two records with one email get one lead each; a lead already attributed is never taken", async () => {
    const r = await open();
    const sentAt = Date.now();
    const made = await r.client.syncLeads(
      [
        { email: "twin@example.com", firstName: "Cy" },
        { email: "twin@example.com", firstName: "Cy" },
      ],
      { action: "createDuplicate" },
    );
    const ids = made.results.map((x) => x.id as number);
    const probe = { input: { email: "twin@example.com", firstName: "Cy" }, sentAt };
    const both = await findCreated(r.client, "email", [probe, probe]);
    assert.deepEqual(both.map((f) => f?.id).sort(), [...ids].sort());
    const taken = await findCreated(r.client, "email", [probe, probe], {
      taken: () => new Set([ids[0] as number]),
    });
    assert.deepEqual(
      taken.map((f) => f?.id),
      [ids[1], undefined],
    );
  });

  test("no lookup value, no read: nothing can be proven", async () => {
    const r = await open();
    const calls = r.sb.calls().length;
    assert.deepEqual(
      await findCreated(r.client, "email", [{ input: { firstName: "X" }, sentAt: Date.now() }]),
      [undefined],
    );
    assert.equal(r.sb.calls().length, calls);
  });

  test("lookupKey: strings trimmed and case-folded, numbers as written, nothing else", () => {
    assert.equal(lookupKey(" A@B.com "), "a@b.com");
    assert.equal(lookupKey(42), "42");
    assert.equal(lookupKey(""), undefined);
    assert.equal(lookupKey(null), undefined);
    assert.equal(lookupKey(Number.NaN), undefined);
  });
});
