/**
 * The one redaction function. Every request or response that is logged, stored or put into an
 * error passes through here first, so credentials never leave the process.
 */

const SECRET_PARAMS = ["access_token", "client_secret"] as const;
const SECRET_HEADERS = new Set(["authorization", "cookie", "set-cookie", "x-mkto-user-token"]);
export const REDACTED = "[REDACTED]";

// Bounded, non-nested quantifiers only: the input can be attacker-controlled (a URL Marketo
// echoed back, a lead field), so each pattern must run in linear time.
// Also after whitespace or a line start: a message can quote a query string ("… access_token=…").
const QUERY_SECRET = new RegExp(
  `((?:^|[?&;\\s])(?:${SECRET_PARAMS.join("|")})=)[^&#\\s"']*`,
  "gim",
);
const JSON_SECRET = new RegExp(`("(?:${SECRET_PARAMS.join("|")})"\\s{0,8}:\\s{0,8}")[^"]*`, "gi");
const FORM_SECRET = new RegExp(`(^|&)((?:${SECRET_PARAMS.join("|")})=)[^&]*`, "gi");
const BEARER = /(Bearer\s{1,8})[^\s"',]+/gi;

/** Removes access tokens and client secrets from a URL, a query string, a JSON or form body, or any text. */
export function redactText(text: string): string {
  return text
    .replace(QUERY_SECRET, `$1${REDACTED}`)
    .replace(JSON_SECRET, `$1${REDACTED}`)
    .replace(FORM_SECRET, `$1$2${REDACTED}`)
    .replace(BEARER, `$1${REDACTED}`);
}

/** A copy of the headers with credential-bearing ones replaced. */
export function redactHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = SECRET_HEADERS.has(name.toLowerCase()) ? REDACTED : redactText(value);
  }
  return out;
}

/**
 * Removes known secret values wherever they appear, for text that may hold them in an
 * unexpected place (e.g. a token Marketo echoed back in an error message).
 */
export function redactValues(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  return out;
}
