import { clip, MAX_CHARS } from "./clip.ts";
import {
  HttpLevelError,
  InvalidResponseError,
  MarketoError,
  NetworkError,
  type RawResponse,
  type RequestSummary,
  TimeoutError,
  UnreachableError,
} from "./errors.ts";
import type { Endpoint } from "./options.ts";
import { readBounded } from "./read-body.ts";
import { redactText, redactValues } from "./redact.ts";
import type { ThrottleCause } from "./throttle-cause.ts";
import { hostPort, unreachableReason, unreachableWords } from "./unreachable.ts";

/** Receives log lines; every argument is already redacted. Any console-like object fits. */
export interface Logger {
  debug?(message: string, data?: Record<string, unknown>): void;
  info?(message: string, data?: Record<string, unknown>): void;
  warn?(message: string, data?: Record<string, unknown>): void;
  error?(message: string, data?: Record<string, unknown>): void;
}

/** One observable step of a call. URLs and bodies are redacted before an event is built. */
export type MarketoEvent =
  | {
      readonly type: "request";
      readonly endpoint: Endpoint;
      readonly method: string;
      readonly url: string;
      readonly attempt: number;
      readonly bodyBytes: number;
    }
  | {
      readonly type: "response";
      readonly endpoint: Endpoint;
      readonly method: string;
      readonly url: string;
      readonly attempt: number;
      readonly status: number | undefined;
      /** `"200"` on success, else the Marketo code, HTTP status, `network` or `timeout`. */
      readonly code: string;
      readonly requestId: string | undefined;
      readonly durationMs: number;
    }
  | {
      readonly type: "retry";
      readonly endpoint: Endpoint;
      readonly code: string;
      readonly attempt: number;
      readonly delayMs: number;
    }
  | {
      /**
       * A 606 or 615: `self` when this client's own calls alone fill Marketo's limit
       * (`inWindow` ≥ 100 for 606, `inFlight` ≥ 10 for 615, the refused call not counted),
       * `foreign` when other apps' calls on the instance must have made up the rest.
       */
      readonly type: "throttled";
      readonly endpoint: Endpoint;
      readonly code: string;
      readonly cause: ThrottleCause;
      readonly inWindow: number;
      readonly inFlight: number;
    }
  | { readonly type: "token"; readonly durationMs: number; readonly expiresInSeconds: number }
  | { readonly type: "gate"; readonly reason: string; readonly waitMs: number | undefined }
  | {
      readonly type: "split";
      readonly endpoint: Endpoint;
      readonly code: string;
      readonly records: number;
    };

export type EventHook = (event: MarketoEvent) => void;

export type QueryValue = string | number | boolean | readonly (string | number)[] | undefined;

/** A request before it is put on the wire; the body is serialized anew at each attempt. */
export interface MarketoRequest {
  readonly endpoint: Endpoint;
  readonly method: "GET" | "POST";
  /** Absolute path on the instance, e.g. `/rest/v1/leads.json`, or a full URL (identity). */
  readonly path: string;
  readonly query?: Readonly<Record<string, QueryValue>>;
  /** JSON body, or a function building multipart form data. */
  readonly body?: unknown;
  readonly form?: () => FormData;
  /** An `application/x-www-form-urlencoded` body: keeps values such as the client secret out of the URL. */
  readonly formFields?: Readonly<Record<string, string>>;
  /**
   * The answer is a file (bulk failures or warnings): read up to `maxDownloadBytes` instead
   * of `maxResponseBytes`.
   */
  readonly download?: boolean;
  /**
   * Whether a long GET may become POST `_method=GET` (§6.3). Asset APIs stopped accepting
   * `_method` in 2020 and allow 65 KiB URIs instead.
   * @default true for `/rest/v1` and `/bulk/v1`
   */
  readonly methodGet?: boolean;
}

export interface SendOptions {
  readonly token?: string | undefined;
  readonly attempt: number;
  /** Send a GET as POST with `_method=GET` whatever its length (after a 414). */
  readonly forceMethodGet?: boolean;
}

export interface Sent {
  readonly raw: RawResponse;
  readonly request: RequestSummary;
  readonly durationMs: number;
}

export interface TransportConfig {
  readonly baseUrl: string;
  readonly timeouts: Readonly<Record<Endpoint, number>>;
  readonly maxUriLength: number;
  /** The most bytes read of an answer; see MarketoClientOptions.maxResponseBytes. */
  readonly maxResponseBytes: number;
  /** The most bytes read of a downloaded file; see MarketoClientOptions.maxDownloadBytes. */
  readonly maxDownloadBytes: number;
  readonly fetch: typeof fetch;
  readonly secrets: readonly string[];
  readonly logger?: Logger | undefined;
  readonly onEvent?: EventHook | undefined;
}

const MAX_REMEMBERED_TOKENS = 8;

function queryString(query: Readonly<Record<string, QueryValue>> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    params.append(key, Array.isArray(value) ? value.join(",") : String(value));
  }
  return params.toString();
}

/** The byte length a URL has on the wire. */
export function uriBytes(url: string): number {
  return Buffer.byteLength(url, "utf8");
}

/** Puts requests on the wire: timeouts, the 414 switch, redaction and the log/event hooks. */
export class Transport {
  readonly #config: TransportConfig;
  /** Access tokens seen lately, removed by value wherever they turn up (a gateway page may echo one bare). */
  readonly #tokens: string[] = [];

  constructor(config: TransportConfig) {
    this.#config = config;
  }

  /** Removes credentials from any text before it leaves the process. */
  redact(text: string): string {
    return redactValues(redactText(text), [...this.#config.secrets, ...this.#tokens]);
  }

  /**
   * A copy of an answer whose body and headers are safe to put into an error: a header such as
   * `Location` can echo a credential anywhere in its query.
   */
  redactRaw(raw: RawResponse): RawResponse {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(raw.headers)) headers[name] = this.redact(value);
    return { ...raw, headers, body: this.redact(raw.body) };
  }

  /** Adds an access token to the values {@link redact} removes. */
  rememberToken(token: string): void {
    if (this.#tokens.includes(token)) return;
    this.#tokens.push(token);
    // Tokens live an hour; the last few cover every answer still on its way back.
    if (this.#tokens.length > MAX_REMEMBERED_TOKENS) this.#tokens.shift();
  }

  emit(event: MarketoEvent): void {
    try {
      this.#config.onEvent?.(event);
    } catch (error) {
      this.#config.logger?.warn?.("onEvent hook threw", { error: String(error) });
    }
  }

  get logger(): Logger | undefined {
    return this.#config.logger;
  }

  /** Whether this GET goes out as POST `_method=GET`: decided by the URI's byte length. */
  usesMethodGet(request: MarketoRequest, force = false): boolean {
    if (request.method !== "GET") return false;
    const allowed = request.methodGet ?? !request.path.startsWith("/rest/asset/");
    if (!allowed) return false;
    if (force) return true;
    const qs = queryString(request.query);
    return uriBytes(`${this.#url(request.path)}${qs ? `?${qs}` : ""}`) > this.#config.maxUriLength;
  }

  #url(path: string): string {
    return /^https?:\/\//.test(path) ? path : `${this.#config.baseUrl}${path}`;
  }

  /**
   * Sends once. Resolves with any HTTP answer, redirects included (never followed) and the body
   * read up to its bound; rejects only with NetworkError or TimeoutError.
   */
  async send(request: MarketoRequest, options: SendOptions): Promise<Sent> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let method: string = request.method;
    let url = this.#url(request.path);
    let body: string | FormData | undefined;
    const qs = queryString(request.query);

    if (this.usesMethodGet(request, options.forceMethodGet)) {
      // §6.3: POST to the same path with ?_method=GET, the query in a form body.
      method = "POST";
      url += "?_method=GET";
      body = qs;
      headers["content-type"] = "application/x-www-form-urlencoded";
    } else {
      if (qs) url += `?${qs}`;
      if (request.form) {
        body = request.form();
      } else if (request.formFields) {
        body = new URLSearchParams(request.formFields).toString();
        headers["content-type"] = "application/x-www-form-urlencoded";
      } else if (request.body !== undefined) {
        body = JSON.stringify(request.body);
        headers["content-type"] = "application/json";
      }
    }

    const summary: RequestSummary = { method, url: this.redact(url), endpoint: request.endpoint };
    const bodyBytes = typeof body === "string" ? Buffer.byteLength(body) : 0;
    const timeoutMs = this.#config.timeouts[request.endpoint];
    this.emit({
      type: "request",
      endpoint: request.endpoint,
      method,
      url: summary.url,
      attempt: options.attempt,
      bodyBytes,
    });
    this.#config.logger?.debug?.(`→ ${method} ${summary.url}`, {
      attempt: options.attempt,
      bodyBytes,
    });

    const started = performance.now();
    const init: RequestInit = {
      method,
      headers,
      // A redirect is answered, never followed: following it would send the body and the
      // credentials to another host and take its answer for Marketo's (see the 3xx entries).
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    };
    if (body !== undefined) init.body = body;
    const maxBytes = request.download
      ? this.#config.maxDownloadBytes
      : this.#config.maxResponseBytes;
    try {
      const response = await this.#config.fetch(url, init);
      const raw: RawResponse = {
        status: response.status,
        headers: Object.fromEntries(response.headers),
        ...(await readBounded(response, maxBytes)),
      };
      return { raw, request: summary, durationMs: performance.now() - started };
    } catch (error) {
      const durationMs = performance.now() - started;
      const failure = networkError(error, summary, timeoutMs);
      this.emit({
        type: "response",
        endpoint: request.endpoint,
        method,
        url: summary.url,
        attempt: options.attempt,
        status: undefined,
        code: failure.code,
        requestId: undefined,
        durationMs,
      });
      this.#config.logger?.warn?.(`✗ ${method} ${summary.url}: ${failure.message}`, { durationMs });
      throw failure;
    }
  }

  /** Reports a received answer to the hooks. */
  answered(
    request: MarketoRequest,
    sent: Sent,
    attempt: number,
    code: string,
    requestId: string | undefined,
  ): void {
    this.emit({
      type: "response",
      endpoint: request.endpoint,
      method: sent.request.method,
      url: sent.request.url,
      attempt,
      status: sent.raw.status,
      code,
      requestId,
      durationMs: sent.durationMs,
    });
    const line = `← ${sent.raw.status} ${code} ${sent.request.method} ${sent.request.url}`;
    const data = { requestId, durationMs: Math.round(sent.durationMs) };
    const location = sent.raw.headers.location;
    if (sent.raw.status >= 300 && sent.raw.status < 400) {
      // Redacted before cut, as errors are: a cut could leave a credential unrecognised.
      const to = location === undefined ? undefined : clip(this.redact(location), MAX_CHARS.url);
      this.#config.logger?.warn?.(`${line}: redirect not followed`, { ...data, location: to });
    } else {
      this.#config.logger?.debug?.(line, data);
    }
  }
}

function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  // Bounded walk down the cause chain (undici nests the socket error one or two levels deep).
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = current.cause;
  }
  return undefined;
}

function networkError(error: unknown, request: RequestSummary, timeoutMs: number): NetworkError {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return new TimeoutError({
      code: "timeout",
      message: `No answer within ${timeoutMs} ms`,
      request,
      cause: error,
    });
  }
  const code = causeCode(error);
  const url = URL.parse(request.url);
  const reason = url && unreachableReason(code, url);
  if (url && reason) {
    const host = hostPort(url);
    return new UnreachableError({
      code: "unreachable",
      message: `Cannot reach ${host}: ${unreachableWords(reason, url)}; nothing was sent`,
      request,
      cause: error,
      host,
      reason,
    });
  }
  return new NetworkError({
    code: "network",
    message: `Connection failed (${code ?? "unknown"})`,
    request,
    cause: error,
  });
}

/** Whether a failed call may still have been carried out by Marketo (so a blind replay could duplicate). */
export function mayHaveExecuted(error: unknown): boolean {
  // The token request comes before the call: when it failed, the call was never sent.
  if (error instanceof MarketoError && error.request?.endpoint === "identity") return false;
  // Refused, unresolved, blocked: the request never reached Marketo.
  if (error instanceof UnreachableError) return false;
  if (error instanceof TimeoutError) return true;
  // 502 is "likely a timeout" (§13.1): the gateway gave up, Marketo may have finished the work.
  if (error instanceof HttpLevelError) return error.status >= 500;
  // A 2xx whose body was not an envelope: the call ran, its answer is unreadable.
  if (error instanceof InvalidResponseError) return true;
  // Reset or closed mid-call: the request may have arrived.
  return error instanceof NetworkError;
}
