import type { z } from "@hono/zod-openapi";

/** An OpenAPI response with a JSON body. */
export function jsonResponse(schema: z.ZodType, description: string) {
  return { content: { "application/json": { schema } }, description };
}
