import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEMO_MAP_JSON, runDemo } from "../src/demo.ts";
import { openApi } from "./http-helpers.ts";

type Api = Awaited<ReturnType<typeof openApi>>;

describe("demo leads carry their field map (in process, built-in sandbox)", () => {
  let api: Api;
  before(async () => {
    api = await openApi();
  });
  after(async () => {
    await api.close();
  });

  it("the 1006 lead is fixed by editing the map it shows (Job Role → title) and reposting: delivered", async () => {
    await runDemo(api.gateway, { mapDir: api.mapDir });
    const listed = await api.call("GET", "/v1/leads?code=1006");
    assert.equal(listed.status, 200);
    const lead = listed.json.leads.find(
      (l: { raw: Record<string, string> }) => l.raw["Job Role"] === "VP Marketing",
    );
    assert.ok(lead, "the demo's VP Marketing lead is refused with 1006");
    assert.equal(lead.status, "needs_fix");

    const detail = await api.call("GET", `/v1/leads/${lead.id}`);
    assert.deepEqual(detail.json.map, DEMO_MAP_JSON, "the demo's map, as saved");
    assert.equal(detail.json.map.fields["Job Role"], "role");

    const map = {
      ...detail.json.map,
      fields: { ...detail.json.map.fields, "Job Role": "title" },
    };
    const repost = await api.call("POST", "/v1/repost", { ids: [lead.id], map });
    assert.deepEqual(repost.json, { reposted: 1, ids: [lead.id] });
    await api.drain();

    const fixed = await api.call("GET", `/v1/leads/${lead.id}`);
    assert.equal(fixed.json.lead.status, "delivered");
    assert.equal(fixed.json.lead.input.title, "VP Marketing");
    assert.equal(fixed.json.lead.input.role, undefined);
    assert.equal(
      fixed.json.map.fields["Job Role"],
      "title",
      "the lead now remembers the edited map",
    );
    assert.deepEqual(
      fixed.json.attempts.map((a: { responseStatusCode: string }) => a.responseStatusCode),
      ["1006", "200"],
    );
  });
});
