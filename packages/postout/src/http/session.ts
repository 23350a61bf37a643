import { createHmac } from "node:crypto";

/** The dashboard's session cookie: set by `POST /login`, sent back by the browser. */
export const SESSION_COOKIE = "postout_session";

/**
 * A request made by the dashboard's own scripts carries this header. A cookie alone does not
 * authorize a change (POST): another site can make the browser send the cookie, but it cannot
 * add a header without a CORS preflight, which this server never grants.
 */
export const DASHBOARD_HEADER = "x-postout-dashboard";

/** How long a sign-in lasts: a working day, then the key is asked for again. */
export const SESSION_MAX_AGE_S = 12 * 60 * 60;

function mac(apiKey: string, issuedS: number): string {
  return createHmac("sha256", apiKey)
    .update(`postout dashboard session v2 ${issuedS}`)
    .digest("base64url");
}

/**
 * A session value for an API key: the time it was issued and an HMAC of that time under the
 * key. It proves the browser was given the key, without keeping the key in the cookie; it
 * ends after SESSION_MAX_AGE_S (a copied cookie is not a second key for good), and changing
 * the key ends every session.
 */
export function issueSession(apiKey: string, nowMs: number): string {
  const issuedS = Math.floor(nowMs / 1000);
  return `${issuedS}.${mac(apiKey, issuedS)}`;
}

/** The HMAC a presented session must carry, or undefined when it is malformed or expired. */
export function expectedSession(
  presented: string,
  apiKey: string,
  nowMs: number,
): string | undefined {
  const m = /^(\d{1,12})\.[\w-]{43}$/.exec(presented);
  if (!m) return undefined;
  const issuedS = Number(m[1]);
  const age = Math.floor(nowMs / 1000) - issuedS;
  if (age < 0 || age > SESSION_MAX_AGE_S) return undefined;
  return `${issuedS}.${mac(apiKey, issuedS)}`;
}
