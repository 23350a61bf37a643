import { createHmac } from "node:crypto";

/** The dashboard's session cookie: set by `POST /login`, sent back by the browser. */
export const SESSION_COOKIE = "postout_session";

/**
 * A request made by the dashboard's own scripts carries this header. A cookie alone does not
 * authorize a change (POST): another site can make the browser send the cookie, but it cannot
 * add a header without a CORS preflight, which this server never grants.
 */
export const DASHBOARD_HEADER = "x-postout-dashboard";

/**
 * The session value for an API key: an HMAC of a fixed label under the key. It proves the
 * browser was given the key once, without keeping the key itself in the cookie; changing the
 * key ends every session.
 */
export function sessionValue(apiKey: string): string {
  return createHmac("sha256", apiKey).update("postout dashboard session v1").digest("base64url");
}
