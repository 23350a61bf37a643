import { type Context, Hono } from "hono";
import type { Env } from "./bindings.ts";
import type { FaultSpec } from "./faults.ts";
import type { ForeignTrafficSpec } from "./foreign.ts";
import { nextQuotaReset, quotaDay } from "./quota-day.ts";

/**
 * `/_sandbox/…`: the sandbox's own controls, each acting on the instance the request is
 * for (the root or `/i/NNNN`). They are not Marketo calls: no token, no limits, not in the
 * call log. A bad request answers 400 `{error}`.
 */
export function controlApp(): Hono<Env> {
  const app = new Hono<Env>();
  const body = async (req: Request): Promise<unknown> => {
    const text = await req.text();
    return text.trim() === "" ? {} : JSON.parse(text);
  };
  app.onError((error, c) =>
    c.json({ error: error instanceof Error ? error.message : String(error) }, 400),
  );

  app.get("/faults", (c) => c.json(c.env.core.faults.list()));
  app.post("/faults", async (c) => {
    const spec = await body(c.req.raw);
    const specs = (Array.isArray(spec) ? spec : [spec]) as FaultSpec[];
    return c.json(specs.map((s) => c.env.core.faults.add(s)));
  });
  app.delete("/faults", (c) => {
    c.env.core.faults.clear();
    return c.json([]);
  });
  app.delete("/faults/:id", (c) =>
    c.env.core.faults.remove(Number(c.req.param("id")))
      ? c.json(c.env.core.faults.list())
      : c.json({ error: "no such fault" }, 404),
  );
  app.get("/state", (c) => c.json(c.env.core.state()));
  app.get("/records", (c) => c.json(c.env.core.records(c.req.query())));
  app.get("/calls", (c) => c.json(c.env.core.stats.calls()));
  app.post("/reset", (c) => {
    c.env.core.reset();
    return c.json(c.env.core.state());
  });
  // The root lists every instance with its credentials; an instance has no instances.
  app.get("/instances", (c) =>
    c.env.prefix === ""
      ? c.json(c.env.instances.list(new URL(c.req.url).origin))
      : c.json({ error: "unknown sandbox control" }, 404),
  );
  const clockView = (c: Context<Env>): Record<string, unknown> => {
    const { core } = c.env;
    const now = core.clock.now();
    return {
      now,
      frozen: core.clock.frozen,
      iso: new Date(now).toISOString(),
      quotaDay: quotaDay(now),
      quotaResetsAt: new Date(nextQuotaReset(now)).toISOString(),
    };
  };
  app.get("/clock", (c) => c.json(clockView(c)));
  app.post("/clock", async (c) => {
    const { core } = c.env;
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
    return c.json(clockView(c));
  });
  app.post("/revoke", (c) => {
    c.env.core.tokens.revokeAll();
    return c.json({ revoked: true });
  });
  app.post("/foreign-traffic", async (c) => {
    const { core } = c.env;
    core.foreign.apply((await body(c.req.raw)) as ForeignTrafficSpec, core.clock.now());
    return c.json(core.foreign.describe(core.clock.now()));
  });
  app.delete("/foreign-traffic", (c) => {
    const { core } = c.env;
    core.foreign.clear();
    return c.json(core.foreign.describe(core.clock.now()));
  });
  app.notFound((c) => c.json({ error: "unknown sandbox control" }, 404));
  return app;
}
