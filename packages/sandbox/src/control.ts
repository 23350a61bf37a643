import type { HttpBindings } from "@hono/node-server";
import { Hono } from "hono";
import type { Core } from "./core.ts";
import type { FaultSpec } from "./faults.ts";
import type { ForeignTrafficSpec } from "./foreign.ts";
import { nextQuotaReset, quotaDay } from "./quota-day.ts";
import { records } from "./records.ts";

/**
 * `/_sandbox/…`: the sandbox's own controls. They are not Marketo calls: no token, no
 * limits, not in the call log. A bad request answers 400 `{error}`.
 */
export function controlApp(core: Core): Hono<{ Bindings: HttpBindings }> {
  const app = new Hono<{ Bindings: HttpBindings }>();
  const body = async (req: Request): Promise<unknown> => {
    const text = await req.text();
    return text.trim() === "" ? {} : JSON.parse(text);
  };
  app.onError((error, c) =>
    c.json({ error: error instanceof Error ? error.message : String(error) }, 400),
  );

  app.get("/faults", (c) => c.json(core.faults.list()));
  app.post("/faults", async (c) => {
    const spec = await body(c.req.raw);
    const specs = (Array.isArray(spec) ? spec : [spec]) as FaultSpec[];
    return c.json(specs.map((s) => core.faults.add(s)));
  });
  app.delete("/faults", (c) => {
    core.faults.clear();
    return c.json([]);
  });
  app.delete("/faults/:id", (c) =>
    core.faults.remove(Number(c.req.param("id")))
      ? c.json(core.faults.list())
      : c.json({ error: "no such fault" }, 404),
  );
  app.get("/state", (c) => c.json(core.state()));
  app.get("/records", (c) => {
    core.tick(core.clock.now());
    return c.json(records(core.instance, c.req.query()));
  });
  app.get("/calls", (c) => c.json(core.stats.calls()));
  app.post("/reset", (c) => {
    core.reset();
    return c.json(core.state());
  });
  const clockView = (): Record<string, unknown> => {
    const now = core.clock.now();
    return {
      now,
      frozen: core.clock.frozen,
      iso: new Date(now).toISOString(),
      quotaDay: quotaDay(now),
      quotaResetsAt: new Date(nextQuotaReset(now)).toISOString(),
    };
  };
  app.get("/clock", (c) => c.json(clockView()));
  app.post("/clock", async (c) => {
    const spec = (await body(c.req.raw)) as {
      set?: number | string;
      advanceMs?: number;
      frozen?: boolean;
    };
    if (spec.frozen === true) core.clock.freeze();
    else if (spec.frozen === false) core.clock.resume();
    if (spec.set !== undefined)
      core.clock.set(typeof spec.set === "string" ? new Date(spec.set) : spec.set);
    if (spec.advanceMs !== undefined) core.clock.advance(spec.advanceMs);
    return c.json(clockView());
  });
  app.post("/revoke", (c) => {
    core.tokens.revokeAll();
    return c.json({ revoked: true });
  });
  app.post("/foreign-traffic", async (c) => {
    core.foreign.apply((await body(c.req.raw)) as ForeignTrafficSpec, core.clock.now());
    return c.json(core.foreign.describe(core.clock.now()));
  });
  app.delete("/foreign-traffic", (c) => {
    core.foreign.clear();
    return c.json(core.foreign.describe(core.clock.now()));
  });
  app.notFound((c) => c.json({ error: "unknown sandbox control" }, 404));
  return app;
}
