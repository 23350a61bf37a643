import { clip, MAX_CHARS, MAX_REASONS } from "./clip.ts";
import {
  type CodeEntry,
  type ExplainedCode,
  explainCode,
  lookupCode,
  type Recovery,
} from "./codes.ts";
import type { Endpoint } from "./options.ts";
import { nextQuotaReset } from "./quota-day.ts";
import { redactHeaders, redactText } from "./redact.ts";

/** An HTTP answer as it came off the wire: status, headers and the body as text (JSON, HTML or empty). */
export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /**
   * Set when the body was longer than the transport reads (`maxResponseBytes`): `body` holds
   * only the first this many bytes, and the rest was never read.
   */
  readonly cutAtBytes?: number;
}

/** The request an error belongs to, with credentials removed. */
export interface RequestSummary {
  readonly method: string;
  readonly url: string;
  /** Which call it was: `identity` for the token request that comes before a call. */
  readonly endpoint?: Endpoint;
}

/** One member of a response's `errors[]`, read through the catalog. */
export type ApiError = ExplainedCode;

/** Marketo's JSON envelope (§3) once it is known to be well formed. */
export interface Envelope<T = unknown> {
  readonly requestId: string | undefined;
  readonly success: boolean;
  readonly result: readonly T[];
  readonly errors: readonly ApiError[];
  readonly warnings: readonly unknown[];
  readonly nextPageToken: string | undefined;
  readonly moreResult: boolean;
}

interface ErrorInit {
  readonly code: string;
  readonly message: string;
  readonly raw?: RawResponse | undefined;
  readonly requestId?: string | undefined;
  readonly request?: RequestSummary | undefined;
  readonly cause?: unknown;
}

/**
 * The base of every error the client throws. Branch on `code`, on the class, or with
 * {@link isMarketoError}; never on `message`.
 */
export class MarketoError extends Error {
  override name = "MarketoError";
  /** The Marketo code (`"606"`), the HTTP status (`"413"`, `"307"`), or one of ours: `network`, `unreachable`, `timeout`, `invalid_response`, `response_too_large`. */
  readonly code: string;
  readonly requestId: string | undefined;
  /** The response as received, headers and body redacted, the body cut to `MAX_CHARS.body`. */
  readonly raw: RawResponse | undefined;
  /** The request, credentials removed. */
  readonly request: RequestSummary | undefined;
  readonly entry: CodeEntry | undefined;

  constructor(init: ErrorInit) {
    super(redactText(init.message), init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.requestId =
      init.requestId === undefined ? undefined : clip(init.requestId, MAX_CHARS.requestId);
    // Redacted before cut: a cut could leave a credential too short for its pattern to match.
    this.raw = init.raw && {
      ...init.raw,
      headers: redactHeaders(init.raw.headers),
      body: clip(redactText(init.raw.body), MAX_CHARS.body),
    };
    this.request = init.request && {
      method: init.request.method,
      url: redactText(init.request.url),
      ...(init.request.endpoint === undefined ? {} : { endpoint: init.request.endpoint }),
    };
    this.entry = lookupCode(init.code);
  }

  /** How to recover: the catalog's answer for the code. */
  get recovery(): Recovery {
    return this.entry?.recovery ?? "none";
  }
}

/**
 * A non-2xx HTTP status: 413, 414, 5xx, … (Marketo answers its own errors with 200), and any
 * redirect (3xx), which is never followed.
 */
export class HttpLevelError extends MarketoError {
  override name = "HttpLevelError";
  readonly status: number;
  constructor(init: ErrorInit & { readonly status: number }) {
    super(init);
    this.status = init.status;
  }
  override get recovery(): Recovery {
    // 503, 504 and other undocumented 5xx: a gateway or server in trouble, as 502 (§13.1).
    return this.entry?.recovery ?? (this.status >= 500 ? "retry-with-backoff" : "none");
  }
}

/** 401 from the identity endpoint: the client id or secret is wrong. Never retried. */
export class BadCredentialsError extends HttpLevelError {
  override name = "BadCredentialsError";
}

/** HTTP 200 with `success:false`: the whole request was refused. Carries every member of `errors[]`. */
export class ResponseLevelError extends MarketoError {
  override name = "ResponseLevelError";
  readonly errors: readonly ApiError[];
  constructor(init: ErrorInit & { readonly errors: readonly ApiError[] }) {
    super(init);
    this.errors = init.errors.map((e) => ({ ...e, message: redactText(e.message) }));
  }
}

/** 601 / 602: the access token is invalid or expired; re-authenticate and resend. */
export class AccessTokenError extends ResponseLevelError {
  override name = "AccessTokenError";
}

/** 603: authenticated, but the API user may not make this call. */
export class AccessDeniedError extends ResponseLevelError {
  override name = "AccessDeniedError";
}

/** 606 / 615: the instance's rate window or concurrency slots are used up. */
export class RateLimitError extends ResponseLevelError {
  override name = "RateLimitError";
}

/** 607: the daily quota is used up until midnight America/Chicago. */
export class DailyQuotaError extends ResponseLevelError {
  override name = "DailyQuotaError";
  /** When the quota resets: the next midnight in America/Chicago, daylight saving time included. */
  readonly resetsAt: Date;
  constructor(init: ErrorInit & { readonly errors: readonly ApiError[]; readonly now?: Date }) {
    super(init);
    this.resetsAt = nextQuotaReset(init.now ?? new Date());
  }
}

/**
 * HTTP 2xx whose body is not Marketo's JSON envelope: HTML, empty, truncated or garbage
 * (`invalid_response`), or longer than the client reads (`response_too_large`).
 */
export class InvalidResponseError extends MarketoError {
  override name = "InvalidResponseError";
  override get recovery(): Recovery {
    return "retry-with-backoff";
  }
}

/** The connection failed (reset, refused, DNS) before a full answer arrived. */
export class NetworkError extends MarketoError {
  override name = "NetworkError";
  override get recovery(): Recovery {
    return "retry-with-backoff";
  }
}

/**
 * The connection failed before the request was written: refused, the host name did not
 * resolve, no route to the host, the connect timed out, or a port fetch refuses to connect to.
 * Nothing reached the server, so nothing ran; resending is always safe.
 */
export class UnreachableError extends NetworkError {
  override name = "UnreachableError";
  /** `host:port` the connection was for, the port spelled out even when it is the scheme's default. */
  readonly host: string;
  /**
   * Why: the socket's code (`ECONNREFUSED`, `ENOTFOUND`, `EAI_AGAIN`, `EHOSTUNREACH`,
   * `ENETUNREACH`, `UND_ERR_CONNECT_TIMEOUT`) or `bad_port`.
   */
  readonly reason: string;
  constructor(init: ErrorInit & { readonly host: string; readonly reason: string }) {
    super(init);
    this.host = init.host;
    this.reason = init.reason;
  }
}

/** No answer within the endpoint's timeout. Whether a write ran is unknown. */
export class TimeoutError extends NetworkError {
  override name = "TimeoutError";
}

const NAMES = new Set([
  "MarketoError",
  "HttpLevelError",
  "BadCredentialsError",
  "ResponseLevelError",
  "AccessTokenError",
  "AccessDeniedError",
  "RateLimitError",
  "DailyQuotaError",
  "InvalidResponseError",
  "NetworkError",
  "UnreachableError",
  "TimeoutError",
]);

/** True for any error of this hierarchy, also across realms (checks `name` and `code`, as ky's guards do). */
export function isMarketoError(value: unknown): value is MarketoError {
  return (
    value instanceof MarketoError ||
    (value instanceof Error &&
      NAMES.has(value.name) &&
      typeof (value as { code?: unknown }).code === "string")
  );
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The first {@link MAX_REASONS} well-formed members of an `errors[]` or `reasons[]`. */
function readApiErrors(value: unknown): ApiError[] {
  if (!Array.isArray(value)) return [];
  const out: ApiError[] = [];
  for (const e of value) {
    if (out.length >= MAX_REASONS) break;
    if (isObject(e) && (typeof e.code === "string" || typeof e.code === "number")) {
      out.push(explainCode(e.code, typeof e.message === "string" ? e.message : ""));
    }
  }
  return out;
}

function snippet(body: string): string {
  // Cut before normalizing: the body can be megabytes long.
  const text = body.slice(0, 400).replace(/\s+/g, " ").trim();
  return text.length > 120 ? `${text.slice(0, 120)}…` : text || "(empty body)";
}

function requestIdOf(json: unknown): string | undefined {
  return isObject(json) && typeof json.requestId === "string"
    ? clip(json.requestId, MAX_CHARS.requestId)
    : undefined;
}

function responseLevelError(
  errors: readonly ApiError[],
  base: ErrorInit,
  now: Date | undefined,
): ResponseLevelError {
  const first = errors[0];
  const init = { ...base, errors, code: first?.code ?? "unknown" };
  switch (init.code) {
    case "601":
    case "602":
      return new AccessTokenError(init);
    case "603":
      return new AccessDeniedError(init);
    case "606":
    case "615":
      return new RateLimitError(init);
    case "607":
      return new DailyQuotaError(now ? { ...init, now } : init);
    default:
      return new ResponseLevelError(init);
  }
}

/**
 * The one factory from a raw HTTP answer to a typed error: `undefined` when the answer is a
 * well-formed envelope with `success:true`, otherwise the error that describes it. Never throws.
 */
export function errorFromResponse(
  raw: RawResponse,
  options: { readonly request?: RequestSummary; readonly now?: Date } = {},
): MarketoError | undefined {
  // A body cut short is never parsed: its first bytes can be well-formed JSON on their own.
  const json = raw.cutAtBytes === undefined ? parseJson(raw.body) : undefined;
  const requestId = requestIdOf(json);
  const base = { raw, requestId, request: options.request };

  if (raw.status === 401) {
    return new BadCredentialsError({
      ...base,
      code: "401",
      status: 401,
      message: "Marketo refused the client id or client secret (HTTP 401)",
    });
  }
  if (raw.status >= 300 && raw.status < 400) {
    // Never followed (see the catalog's 3xx entries): say where it pointed, redacted and cut.
    const location = raw.headers.location;
    const entry = lookupCode(raw.status);
    return new HttpLevelError({
      ...base,
      code: String(raw.status),
      status: raw.status,
      message: `HTTP ${raw.status}${entry ? ` ${entry.message}` : ""}, a redirect ${
        location === undefined ? "without a Location" : `to ${clip(location, MAX_CHARS.url)}`
      }: not followed; check the Marketo base URL`,
    });
  }
  if (raw.status < 200 || raw.status >= 300) {
    const entry = lookupCode(raw.status);
    return new HttpLevelError({
      ...base,
      code: String(raw.status),
      status: raw.status,
      message: `HTTP ${raw.status}${entry ? ` ${entry.message}` : ""}: ${snippet(raw.body)}`,
    });
  }
  if (raw.cutAtBytes !== undefined) {
    return new InvalidResponseError({
      ...base,
      code: "response_too_large",
      message: `HTTP ${raw.status} with a body over ${raw.cutAtBytes.toLocaleString("en-US")} bytes, the most Postout reads; the rest was not read: ${snippet(raw.body)}`,
    });
  }
  if (!isObject(json) || typeof json.success !== "boolean") {
    return new InvalidResponseError({
      ...base,
      code: "invalid_response",
      message: `HTTP ${raw.status} without a Marketo JSON envelope: ${snippet(raw.body)}`,
    });
  }
  if (json.success) return undefined;
  const errors = readApiErrors(json.errors);
  if (errors.length === 0) {
    return new InvalidResponseError({
      ...base,
      code: "invalid_response",
      message: "success:false without any errors[]",
    });
  }
  const message = errors.map((e) => `${e.code} ${e.message}`).join("; ");
  return responseLevelError(errors, { ...base, code: "", message }, options.now);
}

/** Reads a well-formed envelope, or throws the typed error {@link errorFromResponse} gives. */
export function readEnvelope<T = unknown>(
  raw: RawResponse,
  options: { readonly request?: RequestSummary; readonly now?: Date } = {},
): Envelope<T> {
  const error = errorFromResponse(raw, options);
  if (error) throw error;
  const json = JSON.parse(raw.body) as Record<string, unknown>;
  return {
    requestId: requestIdOf(json),
    success: true,
    result: Array.isArray(json.result) ? (json.result as T[]) : [],
    errors: [],
    warnings: Array.isArray(json.warnings) ? json.warnings : [],
    nextPageToken: typeof json.nextPageToken === "string" ? json.nextPageToken : undefined,
    moreResult: json.moreResult === true,
  };
}

/**
 * The 1xxx reasons of one record of `result[]`: `reasons[]` as Sync Leads sends them, or
 * `errors[]` as Add Custom Activities does (§10.2). Record-level reasons are data, not errors.
 */
export function recordReasons(item: unknown): ExplainedCode[] {
  if (!isObject(item)) return [];
  return [...readApiErrors(item.reasons), ...readApiErrors(item.errors)];
}
