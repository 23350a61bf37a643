import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openApi, SYNC_ROUTE } from "./http-helpers.ts";

type Api = Awaited<ReturnType<typeof openApi>>;

describe("606/615 self-caused or foreign: /v1/destinations and /metrics (in process, built-in sandbox)", () => {
  let api: Api;
  before(async () => {
    api = await openApi();
  });
  after(async () => {
    await api.close();
  });

  it("start at zero for both codes and both causes", async () => {
    const res = await api.call("GET", "/v1/destinations");
    assert.deepEqual(res.json.destinations[0].throttled, {
      "606": { self: 0, foreign: 0 },
      "615": { self: 0, foreign: 0 },
    });
  });

  it("a 606 after another app filled the window counts as foreign, in both", async () => {
    // One delivered lead first, so the schema is cached and intake makes no call.
    await api.call("POST", "/v1/leads", {
      route: SYNC_ROUTE,
      leads: [{ email: "t0@example.com" }],
    });
    await api.drain();
    api.gateway.sandbox?.foreignTraffic({ calls: 100 }); // the instance's 20 s window is full
    const res = await api.call("POST", "/v1/leads", {
      route: SYNC_ROUTE,
      leads: [{ email: "t1@example.com" }, { email: "t2@example.com" }],
    });
    await api.drain();
    const lead = await api.call("GET", `/v1/leads/${res.json.ids[0]}`);
    assert.equal(lead.json.lead.lastCode, "606");

    const [d] = (await api.call("GET", "/v1/destinations")).json.destinations;
    assert.equal(d.calls["606"], 1);
    assert.deepEqual(d.throttled, {
      "606": { self: 0, foreign: 1 },
      "615": { self: 0, foreign: 0 },
    });

    const metrics = (await api.call("GET", "/metrics")).text;
    assert.match(
      metrics,
      /^postout_marketo_throttled\{destination="sandbox",code="606",cause="foreign"\} 1$/m,
    );
    assert.match(
      metrics,
      /^postout_marketo_throttled\{destination="sandbox",code="606",cause="self"\} 0$/m,
    );
    assert.match(
      metrics,
      /^postout_marketo_throttled\{destination="sandbox",code="615",cause="foreign"\} 0$/m,
    );
  });
});
