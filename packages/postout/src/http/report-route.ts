import { PassThrough, Readable } from "node:stream";
import { createRoute, z } from "@hono/zod-openapi";
import { reportRows, writeReport } from "../cli/report-command.ts";
import { type Api, type ApiDeps, SECURED } from "./deps.ts";
import { leadFilter } from "./filter.ts";
import { jsonResponse } from "./json-response.ts";
import { ErrorSchema, ReportQuerySchema } from "./schemas.ts";

const report = createRoute({
  method: "get",
  path: "/v1/report",
  summary:
    "The post-out log report, streamed as CSV or JSON: one row per lead, or per attempt with attempts=true",
  security: SECURED,
  request: { query: ReportQuerySchema },
  responses: {
    200: {
      description: "the report rows (CSV cells that would run as formulas are defused)",
      content: {
        "text/csv": { schema: z.string() },
        "application/json": { schema: z.array(z.record(z.string(), z.unknown())) },
      },
    },
    400: jsonResponse(ErrorSchema, "bad filter or format"),
    401: jsonResponse(ErrorSchema, "no or wrong API key"),
  },
});

/** The report, written by the CLI's own writer into the response as it is read from the store. */
export function reportRoute(app: Api, deps: ApiDeps): void {
  app.openapi(report, (c) => {
    const { format, attempts, ...query } = c.req.valid("query");
    const perAttempt = attempts === "true";
    const out = new PassThrough();
    writeReport(
      reportRows(deps.store, leadFilter(query), perAttempt),
      format,
      out,
      perAttempt,
    ).then(
      () => out.end(),
      (error: Error) => out.destroy(error),
    );
    const body = Readable.toWeb(out) as ReadableStream<Uint8Array>;
    const headers =
      format === "csv"
        ? {
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="postout-report.csv"',
          }
        : { "Content-Type": "application/json; charset=utf-8" };
    return c.body(body, 200, headers) as never;
  });
}
