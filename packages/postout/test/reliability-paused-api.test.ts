import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { UNTIL_RESUMED } from "../src/outcome.ts";
import { openApi, SYNC_ROUTE } from "./http-helpers.ts";

// Found by the faults scenario: while a destination was paused until a person resumes it, the
// API answered 500 (RangeError) for the lead list, because a lead held by that pause has
// next_at = UNTIL_RESUMED, which is past the largest date.
describe("reliability: the API while a destination is paused until resumed", () => {
  let api: Awaited<ReturnType<typeof openApi>>;
  before(async () => {
    api = await openApi();
  });
  after(() => api.close());

  it("lists and shows a lead held by the pause, its next attempt unknown (null)", async () => {
    await api.store.setDestinationPause(
      "sandbox",
      { until: UNTIL_RESUMED, code: "401", reason: "Bad client credentials" },
      Date.now(),
    );
    const r = await api.call("POST", "/v1/leads", {
      route: SYNC_ROUTE,
      leads: [{ email: "held@example.com" }],
    });
    assert.equal(r.status, 202, r.text);
    await api.drain();
    const list = await api.call("GET", "/v1/leads");
    assert.equal(list.status, 200, list.text);
    assert.equal(list.json.leads[0].status, "paused");
    assert.equal(list.json.leads[0].nextAt, null);
    const one = await api.call("GET", `/v1/leads/${r.json.ids[0]}`);
    assert.equal(one.status, 200, one.text);
  });
});
