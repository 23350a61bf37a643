import type { TokenSource } from "./auth.ts";
import {
  AccessTokenError,
  DailyQuotaError,
  type Envelope,
  errorFromResponse,
  isMarketoError,
  type MarketoError,
  RateLimitError,
  type RawResponse,
  type RequestSummary,
  ResponseLevelError,
  readEnvelope,
} from "./errors.ts";
import type { Gate } from "./gate.ts";
import { delayMs, type RetryPolicy, shouldRetry } from "./retry.ts";
import { throttleCause } from "./throttle-cause.ts";
import { type MarketoRequest, mayHaveExecuted, type Transport } from "./transport.ts";

export interface CallOptions {
  /**
   * False for writes that must not be replayed when they may have run (createOnly,
   * createDuplicate, custom activities): a timeout is thrown to the caller to verify.
   * @default true
   */
  readonly replaySafe?: boolean;
  /** Throw 604 at once, so the batch layer can bisect instead of resending the same batch. */
  readonly bisect?: boolean;
  /**
   * Told of every try that was sent and failed, whether or not the call tries again; awaited
   * before the call goes on, so what it records is in place before the next try is sent.
   */
  readonly onFailedTry?: (failure: FailedTry) => unknown;
  /**
   * Awaited once a try holds its gate slot and token, just before it is handed to the network:
   * the last moment a caller can durably note that the request may reach Marketo. When it
   * throws, the try is not sent and the call fails with that error.
   */
  readonly onSend?: (attempt: number) => unknown;
}

/** One try of a call that reached the wire and ended in an error instead of a value. */
export interface FailedTry {
  readonly error: MarketoError;
  /** 1 for the first try of the call. */
  readonly attempt: number;
  /** From sending to the answer or the network failure; the wait for a gate slot not included. */
  readonly durationMs: number;
  /** True when the call goes on to try the same request again (after a backoff, a new token, a 414 switch). */
  readonly retried: boolean;
}

export interface CallerConfig {
  readonly transport: Transport;
  readonly auth: TokenSource;
  readonly gate: Gate;
  readonly retry: RetryPolicy;
  readonly windowMs: number;
  readonly now: () => number;
  readonly random: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Makes one logical call: token, gate slot, transport, classification, and every recovery that
 * does not change the request's content (new token, 414 switch, backoff, slow-down).
 */
export class Caller {
  readonly #c: CallerConfig;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(config: CallerConfig) {
    this.#c = config;
    this.#sleep = config.sleep ?? realSleep;
  }

  /** A call answered by Marketo's JSON envelope. */
  call<T>(request: MarketoRequest, options: CallOptions = {}): Promise<Envelope<T>> {
    return this.#run(request, options, (raw, summary) => {
      const error = this.#errorOf(raw, summary);
      return error ? { error } : { value: readEnvelope<T>(raw) };
    });
  }

  /** A call answered by a file (bulk failures/warnings): the body as text, unless it is an error. */
  text(request: MarketoRequest, options: CallOptions = {}): Promise<string> {
    return this.#run({ ...request, download: true }, options, (raw, summary) => {
      const looksLikeEnvelope = raw.body.trimStart().startsWith("{");
      const failed =
        raw.status < 200 || raw.status >= 300 || looksLikeEnvelope || raw.cutAtBytes !== undefined;
      const error = failed ? this.#errorOf(raw, summary) : undefined;
      return error ? { error } : { value: raw.body };
    });
  }

  /** The typed error an answer stands for, built from its redacted copy (see Transport.redact). */
  #errorOf(raw: RawResponse, summary: RequestSummary): MarketoError | undefined {
    const options = { request: summary, now: new Date(this.#c.now()) };
    // Redacting costs a pass over the body: only answers that become errors pay it.
    if (!errorFromResponse(raw, options)) return undefined;
    return errorFromResponse(this.#c.transport.redactRaw(raw), options);
  }

  async #run<V>(
    request: MarketoRequest,
    options: CallOptions,
    read: (raw: RawResponse, summary: RequestSummary) => { error: MarketoError } | { value: V },
  ): Promise<V> {
    const { transport, auth, gate, now } = this.#c;
    const started = now();
    let reauthenticated = false;
    let forceMethodGet = false;
    // Bounded by retry.maxAttempts (shouldRetry) plus at most one 414 switch.
    for (let attempt = 1; ; attempt++) {
      let token: string | undefined;
      let error: MarketoError;
      // Set once the request is handed to the transport: only tries that were sent are reported.
      let sentAt: number | undefined;
      let durationMs: number | undefined;
      try {
        const ticket = await gate.acquire();
        try {
          // The token is taken once the slot is granted: a call can wait a whole window for
          // its slot, and a token read before that wait may have expired by the time it is sent.
          token = await auth.token();
          await options.onSend?.(attempt);
          // The transport times answers with performance.now(); failures are timed the same way.
          sentAt = performance.now();
          const sent = await transport.send(request, { token, attempt, forceMethodGet });
          durationMs = sent.durationMs;
          const outcome = read(sent.raw, sent.request);
          const answer = "error" in outcome ? outcome.error : undefined;
          transport.answered(
            request,
            sent,
            attempt,
            answer?.code ?? "200",
            answer?.requestId ?? requestIdOf(sent.raw),
          );
          if (!("error" in outcome)) return outcome.value;
          error = outcome.error;
          if (error instanceof RateLimitError) {
            transport.emit({
              type: "throttled",
              endpoint: request.endpoint,
              code: error.code,
              cause: throttleCause(error.code, ticket),
              inWindow: ticket.inWindow,
              inFlight: ticket.inFlight,
            });
            // Before the slot is given back, so that no waiting call slips out in between.
            await gate.rateLimited(error.code);
          }
          if (error instanceof DailyQuotaError) await gate.quotaReached(error.resetsAt);
          // §12: calls answered 601/602/604/605/608/611 do not count against the quota.
          if (error.entry?.counted === false) await gate.uncount(ticket.startedAt);
        } finally {
          await gate.release(ticket);
        }
      } catch (thrown) {
        if (!isMarketoError(thrown)) throw thrown;
        error = thrown;
        // A network failure or timeout thrown by the transport: it ran from sentAt until now.
        if (sentAt !== undefined) durationMs ??= performance.now() - sentAt;
      }
      const failedTry = async (retried: boolean) => {
        if (sentAt === undefined || !options.onFailedTry) return;
        try {
          await options.onFailedTry({ error, attempt, durationMs: durationMs ?? 0, retried });
        } catch (hookError) {
          transport.logger?.warn?.("onFailedTry hook threw", { error: String(hookError) });
        }
      };

      // Any other answer of the API means the new token passed Marketo's token check: a later
      // 601/602 is a new revocation or expiry (say, while waiting out a 606 window), not a
      // token that a fresh one failed to cure, and it earns its own new token.
      if (error instanceof ResponseLevelError && !(error instanceof AccessTokenError)) {
        reauthenticated = false;
      }
      if (error instanceof DailyQuotaError) {
        await gate.quotaReached(error.resetsAt);
        await failedTry(false);
        throw error;
      }
      if (error instanceof AccessTokenError && token) auth.invalidate(token);
      if (error.code === "414" && !forceMethodGet && transport.usesMethodGet(request, true)) {
        // A 414 although the URI was under our limit: resend the read as POST _method=GET.
        forceMethodGet = true;
        await failedTry(true);
        continue;
      }
      const handBack =
        (options.bisect && error.code === "604") ||
        (options.replaySafe === false && mayHaveExecuted(error));
      if (handBack) {
        await failedTry(false);
        throw error;
      }

      const outcome = {
        code: error.code,
        recovery: error.recovery,
        elapsedMs: now() - started,
        reauthenticated,
        windowMs: this.#c.windowMs,
        now: now(),
      };
      if (!shouldRetry(outcome, attempt, this.#c.retry)) {
        await failedTry(false);
        throw error;
      }
      await failedTry(true);
      if (error.recovery === "reauthenticate") reauthenticated = true;
      const wait = delayMs(attempt, outcome, this.#c.retry, this.#c.random);
      transport.emit({
        type: "retry",
        endpoint: request.endpoint,
        code: error.code,
        attempt,
        delayMs: wait,
      });
      transport.logger?.info?.(`retrying ${request.endpoint} after ${error.code} in ${wait} ms`, {
        attempt,
      });
      if (wait > 0) await this.#sleep(wait);
    }
  }
}

function requestIdOf(raw: RawResponse): string | undefined {
  const match = /"requestId"\s*:\s*"([^"]{1,100})"/.exec(raw.body.slice(0, 400));
  return match?.[1];
}
