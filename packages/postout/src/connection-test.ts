import {
  AccessDeniedError,
  BadCredentialsError,
  DailyQuotaError,
  HttpLevelError,
  InvalidResponseError,
  isMarketoError,
  MarketoClient,
  type MarketoError,
  type MarketoEvent,
  NetworkError,
  TimeoutError,
  UnreachableError,
} from "@postout/marketo";

/** What stands between Postout and a Marketo instance, as a closed set callers may branch on. */
export type ConnectionProblem =
  | "bad-credentials"
  | "access-denied"
  | "unreachable"
  | "not-marketo"
  | "quota"
  | "marketo-error";

export type ConnectionReport =
  | {
      readonly ok: true;
      readonly message: string;
      /** Lead fields the API user can see (Describe Lead). */
      readonly leadFields: number;
      /** Calls Marketo counted today (usage stats); `undefined` when the user may not read them. */
      readonly quotaUsedToday: number | undefined;
    }
  | {
      readonly ok: false;
      readonly problem: ConnectionProblem;
      readonly message: string;
      /** The code Marketo or the network gave: `401`, `603`, `ECONNREFUSED`, `404` … */
      readonly code: string | undefined;
    };

export interface ConnectionTestOptions {
  readonly baseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /**
   * How long each call may take before the instance counts as unreachable.
   * @default 15_000
   */
  readonly timeoutMs?: number;
  /** Client options for tests (e.g. `fetch`). */
  readonly fetch?: typeof globalThis.fetch;
}

const EXAMPLE = "e.g. https://123-ABC-456.mktorest.com (Admin → Web Services → REST API endpoint)";

/**
 * "Test connection": gets a token and reads Describe Lead with the given credentials, and says in
 * words what is wrong, from the error's class and code only. Never puts the secret in a message.
 */
export async function testConnection(options: ConnectionTestOptions): Promise<ConnectionReport> {
  let url: URL;
  try {
    url = new URL(options.baseUrl);
  } catch {
    return fail("not-marketo", `the base URL is not a URL; give ${EXAMPLE}`, undefined);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return fail(
      "not-marketo",
      `the base URL is not http(s) (${url.protocol}); give ${EXAMPLE}`,
      undefined,
    );
  }
  const where = hostPort(url);
  const timeoutMs = options.timeoutMs ?? 15_000;
  // Whether a token was had (issued now, or cached from an earlier call): tells an answer of the
  // REST API from one of the identity endpoint without reading any message.
  let pastIdentity = false;
  const client = new MarketoClient({
    baseUrl: options.baseUrl,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    retry: { maxAttempts: 1 },
    timeouts: { identity: timeoutMs, describeLeads: timeoutMs, usage: timeoutMs },
    ...(options.fetch ? { fetch: options.fetch } : {}),
    onEvent: (event: MarketoEvent) => {
      if (event.type === "token" || (event.type === "request" && event.endpoint !== "identity"))
        pastIdentity = true;
    },
  });
  let fields: number;
  try {
    fields = (await client.describeLeads()).fields.length;
  } catch (error) {
    if (!isMarketoError(error)) throw error;
    return explain(error, where, pastIdentity ? "/rest/v1/leads/describe2.json" : IDENTITY);
  }
  let quotaUsedToday: number | undefined;
  try {
    quotaUsedToday = (await client.usage()).usage.total;
  } catch (error) {
    // The usage stats need their own permission; the connection works without them.
    if (!isMarketoError(error)) throw error;
  }
  return {
    ok: true,
    leadFields: fields,
    quotaUsedToday,
    message: `connected to ${where}: a token, and ${fields} lead fields readable${
      quotaUsedToday === undefined
        ? ""
        : `; ${quotaUsedToday} call${quotaUsedToday === 1 ? "" : "s"} used today`
    }`,
  };
}

const IDENTITY = "/identity/oauth/token";

function fail(
  problem: ConnectionProblem,
  message: string,
  code: string | undefined,
): ConnectionReport {
  return { ok: false, problem, message, code };
}

/** `host:port`, the port spelled out even when it is the scheme's default. */
function hostPort(url: URL): string {
  return `${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}`;
}

/** The error code of a failed connection (ECONNREFUSED, ENOTFOUND …), down its cause chain. */
function socketCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && code !== "network") return code;
    current = current.cause;
  }
  return undefined;
}

/** Whether a 401's body is the identity endpoint's own (`{"error":"invalid_client", …}`). */
function isIdentityRefusal(error: MarketoError): boolean {
  try {
    const body = JSON.parse(error.raw?.body ?? "") as { error?: unknown };
    return typeof body.error === "string";
  } catch {
    return false;
  }
}

function explain(error: MarketoError, where: string, path: string): ConnectionReport {
  if (error instanceof TimeoutError) {
    return fail("unreachable", `${where} did not answer in time (at ${path})`, "timeout");
  }
  if (error instanceof NetworkError) {
    const code = error instanceof UnreachableError ? error.reason : socketCode(error.cause);
    const why =
      code === "ECONNREFUSED"
        ? "refused the connection: nothing listens there"
        : code === "ENOTFOUND" || code === "EAI_AGAIN"
          ? "is not found: the host name does not resolve (DNS)"
          : code === "bad_port"
            ? "cannot be reached: fetch refuses to connect to that port (a blocked port); give Marketo's https URL"
            : `cannot be reached (${code ?? "connection failed"})`;
    return fail("unreachable", `${where} ${why}`, code ?? "network");
  }
  if (error instanceof BadCredentialsError) {
    return isIdentityRefusal(error)
      ? fail(
          "bad-credentials",
          `Marketo at ${where} refused the client id or client secret (identity answered 401): copy both again from Admin → LaunchPoint → View Details`,
          "401",
        )
      : fail(
          "not-marketo",
          `${where} answered 401 at ${path} without Marketo's identity answer: not a Marketo REST endpoint; give ${EXAMPLE}`,
          "401",
        );
  }
  if (error instanceof AccessDeniedError) {
    return fail(
      "access-denied",
      `the credentials work, but the API user may not read leads (603 Access denied): give its role the Read-Only Lead or Read-Write Lead permission`,
      "603",
    );
  }
  if (error instanceof DailyQuotaError) {
    return fail(
      "quota",
      `the credentials work, but the instance's daily quota is used up (607) until midnight America/Chicago`,
      "607",
    );
  }
  if (error instanceof HttpLevelError) {
    return error.status >= 500
      ? fail(
          "unreachable",
          `${where} answered HTTP ${error.status} at ${path}: the server or a gateway before it is in trouble; try again later`,
          error.code,
        )
      : fail(
          "not-marketo",
          `${where} answered HTTP ${error.status} at ${path}: not a Marketo REST endpoint; give ${EXAMPLE}`,
          error.code,
        );
  }
  if (error instanceof InvalidResponseError) {
    return fail(
      "not-marketo",
      `${where} answered at ${path}, but not as Marketo does (no Marketo JSON: HTML, empty or other): give ${EXAMPLE}`,
      error.code,
    );
  }
  const meaning = error.entry?.message;
  return fail(
    "marketo-error",
    `Marketo at ${where} answered ${error.code}${meaning ? ` (${meaning})` : ""} at ${path}`,
    error.code,
  );
}
