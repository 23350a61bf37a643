// zod as @hono/zod-openapi extends it: zod 4 gives each schema its methods when it is made, so
// schemas the API documents must be made after the extension, whoever imports this first.
import { z } from "@hono/zod-openapi";

/** A destination's name: safe in a URL path, a file name and a log line. */
export const destinationName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
    "a letter or digit, then letters, digits, '_', '.', '-' (1 to 64 in all)",
  );

const baseUrl = z
  .url({
    protocol: /^https?$/,
    error:
      "an http(s) URL, the REST API endpoint of Admin → Web Services, e.g. https://123-ABC-456.mktorest.com",
  })
  .max(2048)
  // A user name, password, query or fragment is never used to reach Marketo (the client sends
  // its own credentials), but would be stored, listed and shown in the clear.
  .refine((url) => {
    if (!URL.canParse(url)) return true; // z.url() has said what is wrong with it
    const u = new URL(url);
    return u.username === "" && u.password === "" && u.search === "" && u.hash === "";
  }, "the instance's address alone: no user name, password, query (?…) or fragment (#…)");
const clientId = z.string().trim().min(1, "the custom service's client id").max(255);
const clientSecret = z.string().trim().min(1, "the custom service's client secret").max(1024);
const callsPer20s = z
  .number({ error: "a whole number of calls" })
  .int("a whole number of calls")
  .min(1, "at least 1")
  .max(100, "at most 100: Marketo allows 100 calls per 20 s per instance, shared by every app");
const concurrency = z
  .number({ error: "a whole number of calls" })
  .int("a whole number of calls")
  .min(1, "at least 1")
  .max(10, "at most 10: Marketo allows 10 concurrent calls per instance, shared by every app");
const dailyBudget = z
  .number({ error: "a whole number of calls a day" })
  .int("a whole number of calls a day")
  .min(1, "at least 1 call a day (leave it out for no budget of Postout's own)")
  .max(100_000_000, "at most 100,000,000");
const markerField = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,99}$/, "a lead field's API name, e.g. postoutId");

/** A new destination: `POST /v1/destinations`, `postout destinations add`. */
export const DestinationCreateSchema = z.strictObject({
  name: destinationName,
  baseUrl,
  clientId,
  clientSecret,
  callsPer20s: callsPer20s.optional(),
  concurrency: concurrency.optional(),
  dailyBudget: dailyBudget.optional(),
  markerField: markerField.optional(),
});

/**
 * An edit: `PATCH /v1/destinations/{name}`. A field left out keeps its value (the secret too);
 * `null` clears a limit, the budget or the marker field.
 */
export const DestinationChangeSchema = z.strictObject({
  baseUrl: baseUrl.optional(),
  clientId: clientId.optional(),
  clientSecret: clientSecret.optional(),
  callsPer20s: callsPer20s.nullable().optional(),
  concurrency: concurrency.nullable().optional(),
  dailyBudget: dailyBudget.nullable().optional(),
  markerField: markerField.nullable().optional(),
});

/** A draft to test before it is saved: as a new destination, its name optional. */
export const DestinationDraftSchema = DestinationCreateSchema.extend({
  name: destinationName.optional(),
});

export type DestinationCreate = z.output<typeof DestinationCreateSchema>;
export type DestinationChange = z.output<typeof DestinationChangeSchema>;
export type DestinationDraft = z.output<typeof DestinationDraftSchema>;

/** Each problem of a parse, naming its field: `callsPer20s: at most 100 …`. */
export function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({
    path: i.path.map(String).join(".") || "body",
    message: i.message,
  }));
}
