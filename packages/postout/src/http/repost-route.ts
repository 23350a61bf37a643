import { createRoute, z } from "@hono/zod-openapi";
import { saveMapFile } from "../mapping/map-files.ts";
import { repostLeads } from "../repost.ts";
import type { LeadFilter } from "../store/store.ts";
import { type Api, type ApiDeps, SECURED } from "./deps.ts";
import { problem } from "./errors.ts";
import { fieldMapOf } from "./field-map.ts";
import { leadFilter } from "./filter.ts";
import { jsonResponse } from "./json-response.ts";
import { ErrorSchema, RepostBodySchema } from "./schemas.ts";

const repost = createRoute({
  method: "post",
  path: "/v1/repost",
  summary: "Send leads again, mapped anew from their raw input: by ids, by filter, or all",
  security: SECURED,
  request: {
    body: { required: true, content: { "application/json": { schema: RepostBodySchema } } },
  },
  responses: {
    200: jsonResponse(
      z.object({ reposted: z.number(), ids: z.array(z.number()) }),
      "how many leads were queued again, and their ids",
    ),
    400: jsonResponse(ErrorSchema, "no ids or filter (and not all), or a bad filter or map"),
    401: jsonResponse(ErrorSchema, "no or wrong API key"),
  },
});

/** Repost: re-map from the raw row with the current (or the given) field map and queue again. */
export function repostRoute(app: Api, deps: ApiDeps): void {
  app.openapi(repost, async (c) => {
    const body = c.req.valid("json");
    const filter: LeadFilter = {
      ...leadFilter(body.filter ?? {}),
      ...(body.ids ? { ids: body.ids } : {}),
    };
    if (Object.keys(filter).length === 0 && body.all !== true) {
      return problem(c, 400, "name the leads to repost", [
        {
          path: "filter",
          message: "give ids, a filter that narrows (status, code, …), or all: true",
        },
      ]);
    }
    const mapped = fieldMapOf(body.map);
    if ("issues" in mapped) return problem(c, 400, "invalid field map", mapped.issues);
    const ids = await repostLeads(deps.gateway, filter, {
      ...(body.map === undefined
        ? {}
        : deps.mapDir
          ? { mapPath: saveMapFile(deps.mapDir, body.map) }
          : { map: mapped.map }),
      now: deps.now,
    });
    return c.json({ reposted: ids.length, ids }, 200);
  });
}
