import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** Compares a presented key with the API key in constant time (equal-length digests, so the length leaks nothing either). */
export function keyMatches(presented: string | undefined, apiKey: string): boolean {
  if (presented === undefined || presented === "") return false;
  return timingSafeEqual(digest(presented), digest(apiKey));
}

/** The key a request presents: `Authorization: Bearer <key>`, else `X-API-Key: <key>`. */
export function presentedKey(headers: {
  get(name: string): string | null | undefined;
}): string | undefined {
  const authorization = headers.get("authorization");
  const bearer = authorization ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization) : null;
  if (bearer?.[1]) return bearer[1];
  return headers.get("x-api-key")?.trim() || undefined;
}

/** Refuses a request without the API key: 401 with a small JSON body and nothing else. */
export function requireApiKey(apiKey: string): MiddlewareHandler {
  return async (c, next) => {
    if (!keyMatches(presentedKey(c.req.raw.headers), apiKey)) {
      c.header("WWW-Authenticate", 'Bearer realm="postout"');
      return c.json(
        {
          error: "unauthorized",
          message: "send the API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
        },
        401,
      );
    }
    await next();
  };
}
