import type { Core } from "./core.ts";
import { ok } from "./envelope.ts";
import type { Route } from "./routes.ts";
import { lastDays } from "./stats.ts";

/** §12 usage statistics: today's and the last seven days' counted calls and errors. */
export function statsRoutes(core: Core): Route[] {
  const days = (n: number): string[] => lastDays(core.clock.now(), n);
  return [
    {
      method: "GET",
      pattern: /^\/rest\/v1\/stats\/usage\.json$/,
      body: "none",
      latency: "stats",
      handle: () => ok(core.stats.usage(days(1))),
    },
    {
      method: "GET",
      pattern: /^\/rest\/v1\/stats\/usage\/last7days\.json$/,
      body: "none",
      latency: "stats",
      handle: () => ok(core.stats.usage(days(7))),
    },
    {
      method: "GET",
      pattern: /^\/rest\/v1\/stats\/errors\.json$/,
      body: "none",
      latency: "stats",
      handle: () => ok(core.stats.errors(days(1))),
    },
    {
      method: "GET",
      pattern: /^\/rest\/v1\/stats\/errors\/last7days\.json$/,
      body: "none",
      latency: "stats",
      handle: () => ok(core.stats.errors(days(7))),
    },
  ];
}
