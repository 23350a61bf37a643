import { createHash } from "node:crypto";
import { errorFromResponse, InvalidResponseError } from "./errors.ts";
import type { Transport } from "./transport.ts";

interface CachedToken {
  readonly token: string;
  /** When Marketo stops accepting it (by our clock). */
  readonly expiresAt: number;
  /** When we ask for a new one. */
  readonly refreshAt: number;
}

export interface AuthConfig {
  readonly identityUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshMarginMs: number;
  readonly now: () => number;
  readonly transport: Transport;
}

// Tokens belong to a custom service (client id), not to a client object (§2.2): clients of one
// service in one process share the token. The key holds a hash of the secret, never the secret.
const cache = new Map<string, CachedToken>();
const inFlight = new Map<string, Promise<CachedToken>>();

/** The access token of one custom service: cached, refreshed ahead of expiry, one refresh at a time. */
export class TokenSource {
  readonly #config: AuthConfig;
  readonly #key: string;

  constructor(config: AuthConfig) {
    this.#config = config;
    const secretHash = createHash("sha256").update(config.clientSecret).digest("hex").slice(0, 16);
    this.#key = `${config.identityUrl}|${config.clientId}|${secretHash}`;
  }

  /** A token to send now. Waits for the one refresh in flight, or starts it. */
  async token(): Promise<string> {
    const cached = cache.get(this.#key);
    if (cached && this.#config.now() < cached.refreshAt) return cached.token;
    return (await this.#refresh()).token;
  }

  /**
   * Forgets `token` after Marketo refused it (601/602). Only that token: when twenty calls get
   * 602 for the same token, the first forgets it and the others reuse the one new token.
   */
  invalidate(token: string): void {
    if (cache.get(this.#key)?.token === token) cache.delete(this.#key);
  }

  #refresh(): Promise<CachedToken> {
    const running = inFlight.get(this.#key);
    if (running) return running;
    const refresh = this.#fetchToken().finally(() => inFlight.delete(this.#key));
    inFlight.set(this.#key, refresh);
    return refresh;
  }

  async #fetchToken(): Promise<CachedToken> {
    const { transport, now } = this.#config;
    const previous = cache.get(this.#key);
    // §2.1 accepts GET or POST. A form-encoded POST keeps the secret out of the URL, where
    // proxies and server logs would keep it; the transport never follows a redirect with it.
    const request = {
      endpoint: "identity" as const,
      method: "POST" as const,
      path: `${this.#config.identityUrl}/oauth/token`,
      formFields: {
        grant_type: "client_credentials",
        client_id: this.#config.clientId,
        client_secret: this.#config.clientSecret,
      },
    };
    const started = now();
    const sent = await transport.send(request, { attempt: 1 });
    const error = errorFromResponse(transport.redactRaw(sent.raw), { request: sent.request });
    // The identity answer is not an envelope: only HTTP-level errors (401) apply to it.
    if (error && !(error instanceof InvalidResponseError)) {
      transport.answered(request, sent, 1, error.code, error.requestId);
      throw error;
    }
    const body = parse(sent.raw.body);
    if (!body) {
      transport.answered(request, sent, 1, "invalid_response", undefined);
      throw new InvalidResponseError({
        code: "invalid_response",
        message: `The identity endpoint answered HTTP ${sent.raw.status} without an access token`,
        raw: { ...sent.raw, body: transport.redact(sent.raw.body) },
        request: sent.request,
      });
    }
    transport.rememberToken(body.token);
    transport.answered(request, sent, 1, "200", undefined);
    transport.emit({
      type: "token",
      durationMs: sent.durationMs,
      expiresInSeconds: body.expiresIn,
    });

    const lifetimeMs = Math.max(0, body.expiresIn * 1000);
    const expiresAt = started + lifetimeMs;
    // Renew ahead of expiry, but never sooner than half the lifetime (a short-lived token would
    // otherwise be refreshed at every call).
    let refreshAt = expiresAt - Math.min(this.#config.refreshMarginMs, lifetimeMs / 2);
    // Marketo hands back the same token with its remaining life while it is valid (§2.2): asking
    // again early is pointless, so keep it until it has really expired.
    if (previous?.token === body.token) refreshAt = expiresAt;
    const fresh = { token: body.token, expiresAt, refreshAt };
    // `expires_in` of 0: the token is stale on arrival. Use it for the callers waiting now
    // (a 602 sends them back here once) but do not cache it.
    if (lifetimeMs > 0) cache.set(this.#key, fresh);
    return fresh;
  }
}

function parse(text: string): { token: string; expiresIn: number } | undefined {
  try {
    const json = JSON.parse(text) as { access_token?: unknown; expires_in?: unknown };
    if (typeof json.access_token !== "string" || json.access_token === "") return undefined;
    const expiresIn = Number(json.expires_in);
    return { token: json.access_token, expiresIn: Number.isFinite(expiresIn) ? expiresIn : 0 };
  } catch {
    return undefined;
  }
}

/** Forgets every cached token (tests). */
export function clearTokenCache(): void {
  cache.clear();
}
