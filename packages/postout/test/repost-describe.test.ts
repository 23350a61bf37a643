import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openApi } from "./http-helpers.ts";

type Api = Awaited<ReturnType<typeof openApi>>;

const SYNC_ROUTE = { endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" };

describe("repost refreshes a destination's schema once, not once per lead", () => {
  let api: Api;
  before(async () => {
    api = await openApi();
  });
  after(async () => {
    await api.close();
  });

  it("20 leads still refused with 1006 cost at most one describe call", async () => {
    const sandbox = api.gateway.sandbox;
    assert.ok(sandbox);
    const describes = () =>
      sandbox.calls().filter((c) => c.path === "/rest/v1/leads/describe2.json").length;
    const leads = Array.from({ length: 20 }, (_, i) => ({
      email: `r${i}@example.com`,
      role: "VP",
    }));
    const posted = await api.call("POST", "/v1/leads", { route: SYNC_ROUTE, leads });
    assert.equal(posted.status, 202, posted.text);
    const refused = await api.call("GET", "/v1/leads?code=1006&limit=100");
    assert.equal(
      refused.json.leads.length,
      20,
      "preflight refused every lead: role is not a field",
    );

    const before = describes();
    const repost = await api.call("POST", "/v1/repost", { filter: { code: ["1006"] } });
    assert.equal(repost.status, 200, repost.text);
    assert.equal(repost.json.reposted, 20);
    const again = await api.call("GET", "/v1/leads?code=1006&limit=100");
    assert.equal(again.json.leads.length, 20, "still refused: the map was not fixed");
    assert.ok(describes() - before <= 1, `${describes() - before} describe calls for one repost`);
  });
});
