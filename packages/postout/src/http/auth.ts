import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { DASHBOARD_HEADER, expectedSession, SESSION_COOKIE } from "./session.ts";

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

/** Compares a presented secret with the expected one in constant time (equal-length digests, so the length leaks nothing either). */
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

const READS = new Set(["GET", "HEAD"]);

/**
 * Whether the request is authorized: it presents the API key, or the dashboard's session
 * cookie — for a change (not GET/HEAD) only together with the dashboard's header.
 */
export function authorized(c: Context, apiKey: string, now: () => number): boolean {
  if (keyMatches(presentedKey(c.req.raw.headers), apiKey)) return true;
  const cookie = getCookie(c, SESSION_COOKIE);
  const expected = cookie === undefined ? undefined : expectedSession(cookie, apiKey, now());
  if (expected === undefined || !keyMatches(cookie, expected)) return false;
  return READS.has(c.req.method) || c.req.header(DASHBOARD_HEADER) === "1";
}

/** Refuses a request without the API key (or a dashboard session): 401 with a small JSON body and nothing else. */
export function requireApiKey(apiKey: string, now: () => number = Date.now): MiddlewareHandler {
  return async (c, next) => {
    if (!authorized(c, apiKey, now)) {
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
