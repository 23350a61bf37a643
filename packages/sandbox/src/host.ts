import type { Http2Bindings, HttpBindings } from "@hono/node-server";
import type { Hono } from "hono";
import { getPath } from "hono/utils/url";
import type { Env } from "./bindings.ts";
import { toResponse } from "./http-answers.ts";
import type { Instances } from "./instances.ts";

/**
 * The server's fetch: finds the instance a request is for and hands the request to the app
 * with that instance and its own path. A prefix that names no instance answers 404, as a
 * Marketo host that does not exist would, and touches no instance.
 */
export function hostFetch(
  instances: Instances,
  app: Hono<Env>,
): (request: Request, bindings: HttpBindings | Http2Bindings) => Response | Promise<Response> {
  return (request, bindings) => {
    const routed = instances.route(getPath(request));
    if (routed === undefined) return toResponse({ kind: "http", status: 404 }, 0, 0).response;
    // The server is HTTP/1, never HTTP/2, so its bindings are always HttpBindings.
    return app.fetch(request, { ...(bindings as HttpBindings), ...routed, instances });
  };
}
