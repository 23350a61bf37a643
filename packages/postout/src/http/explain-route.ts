import { createRoute, z } from "@hono/zod-openapi";
import { explainCode, fixFor, lookupCode, meaningFor, nearestCodes } from "@postout/marketo";
import { ownCode } from "../own-codes.ts";
import { type Api, SECURED } from "./deps.ts";
import { jsonResponse } from "./json-response.ts";
import { ErrorSchema } from "./schemas.ts";

const explain = createRoute({
  method: "get",
  path: "/v1/explain/{code}",
  summary:
    "The catalog's entry for a Marketo code (with ?message= the fix names the field), or for one of Postout's own codes (too-long, uncertain …)",
  security: SECURED,
  request: {
    params: z.object({
      code: z
        .string()
        .regex(
          /^(\d{3,4}|[a-z][a-z_-]{1,39})$/,
          "a Marketo code such as 1006, or one of Postout's such as too-long",
        )
        .openapi({ param: { name: "code", in: "path" }, example: "1006" }),
    }),
    query: z.object({
      message: z.string().max(2000).optional().openapi({ example: "Field 'role' not found" }),
    }),
  },
  responses: {
    200: jsonResponse(z.record(z.string(), z.unknown()), "the entry"),
    400: jsonResponse(ErrorSchema, "not a code"),
    401: jsonResponse(ErrorSchema, "no or wrong API key"),
    404: jsonResponse(
      ErrorSchema.extend({ nearest: z.array(z.string()) }),
      "Marketo does not document this code; the nearest ones",
    ),
  },
});

/** Explain a code (and the message Marketo sent with it). */
export function explainRoute(app: Api): void {
  app.openapi(explain, (c) => {
    const { code } = c.req.valid("param");
    const { message } = c.req.valid("query");
    const own = ownCode(code);
    if (own) return c.json({ ...own, marketo: false }, 200);
    const entry = lookupCode(code);
    if (!entry) {
      return c.json(
        {
          error: `Marketo does not document the code ${code}`,
          nearest: nearestCodes(code).map((e) => e.code),
        },
        404,
      );
    }
    const values = message === undefined ? {} : explainCode(code, message).values;
    return c.json(
      {
        code: entry.code,
        level: entry.level,
        message: entry.message,
        meaning: meaningFor(entry, values),
        fix: fixFor(entry, values),
        recovery: entry.recovery,
        counted: entry.counted,
        common: entry.common,
        values,
      },
      200,
    );
  });
}
