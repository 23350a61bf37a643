import { createRoute, z } from "@hono/zod-openapi";
import { type Api, type ApiDeps, SECURED } from "./deps.ts";
import { problem } from "./errors.ts";
import { jsonResponse } from "./json-response.ts";
import { ErrorSchema, StatsQuerySchema } from "./schemas.ts";

const BUCKET_MS = { hour: 3_600_000, day: 86_400_000 } as const;
const DEFAULT_RANGE_MS = 24 * 3_600_000;
/** At most this many buckets in one answer: 41 days by hour, or 2.7 years by day. */
export const MAX_BUCKETS = 1000;

const CodeBucketSchema = z
  .object({
    start: z.string().openapi({ example: "2026-11-23T10:00:00.000Z" }),
    counts: z.record(z.string(), z.number()).openapi({ example: { "200": 118, "1006": 3 } }),
  })
  .openapi("CodeBucket");

const codes = createRoute({
  method: "get",
  path: "/v1/stats/codes",
  summary:
    "Attempts by ResponseStatusCode over time, a bucket per hour or day (default: the last 24 h by hour)",
  security: SECURED,
  request: { query: StatsQuerySchema },
  responses: {
    200: jsonResponse(
      z.object({
        bucket: z.enum(["hour", "day"]),
        since: z.string(),
        until: z.string(),
        buckets: z.array(CodeBucketSchema),
      }),
      "every bucket from the one holding since to the one holding until, oldest first (empty ones too)",
    ),
    400: jsonResponse(
      ErrorSchema,
      `bad time, since after until, or more than ${MAX_BUCKETS} buckets`,
    ),
    401: jsonResponse(ErrorSchema, "no or wrong API key"),
  },
});

/** Errors by code over time, for the dashboard's chart. */
export function statsRoutes(app: Api, deps: ApiDeps): void {
  app.openapi(codes, async (c) => {
    const query = c.req.valid("query");
    const bucketMs = BUCKET_MS[query.bucket];
    const until = query.until === undefined ? deps.now() : Date.parse(query.until);
    const since = query.since === undefined ? until - DEFAULT_RANGE_MS : Date.parse(query.since);
    if (since > until)
      return problem(c, 400, "invalid query", [
        { path: "query.since", message: "must not be after until" },
      ]);
    const first = Math.floor(since / bucketMs) * bucketMs;
    const last = Math.floor(until / bucketMs) * bucketMs;
    const count = (last - first) / bucketMs + 1;
    if (count > MAX_BUCKETS)
      return problem(c, 400, "invalid query", [
        {
          path: "query.since",
          message: `${new Date(since).toISOString()} to ${new Date(until).toISOString()} spans ${count} ${query.bucket} buckets; at most ${MAX_BUCKETS}: narrow the range${query.bucket === "hour" ? " or use bucket=day" : ""}`,
        },
      ]);
    const found = new Map(
      (
        await deps.store.countCodesOverTime({
          since,
          until,
          bucketMs,
          ...(query.destination === undefined ? {} : { destination: query.destination }),
        })
      ).map((b) => [b.start, b.counts]),
    );
    const buckets = Array.from({ length: count }, (_, i) => {
      const start = first + i * bucketMs;
      return { start: new Date(start).toISOString(), counts: found.get(start) ?? {} };
    });
    return c.json(
      {
        bucket: query.bucket,
        since: new Date(since).toISOString(),
        until: new Date(until).toISOString(),
        buckets,
      },
      200,
    );
  });
}
