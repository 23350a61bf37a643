// §2: the Identity service and the access tokens it issues.

interface TokenRecord {
  clientId: string;
  expiresAt: number;
  /** §2.2: only the first use after expiry answers 602; later ones 601. */
  expiryReported: boolean;
  revoked: boolean;
}

const maxExpiredKept = 1000;

/** Outcome of checking an access token on a REST call. */
export type TokenCheck = { ok: true } | { ok: false; code: "601" | "602" };

/** The token issued for a client, as the identity call answers it. */
export interface IssuedToken {
  access_token: string;
  token_type: "bearer";
  expires_in: number;
  scope: string;
}

/** Issues, reuses, expires and revokes access tokens. */
export class TokenStore {
  #tokens = new Map<string, TokenRecord>();
  #current = new Map<string, string>();
  readonly #lifetimeMs: number;
  readonly #scope: string;

  /** `lifetimeMs` is the real lifetime (already scaled by timeScale). */
  constructor(lifetimeMs: number, scope: string) {
    this.#lifetimeMs = lifetimeMs;
    this.#scope = scope;
  }

  /**
   * §2.2: while the client's token is valid the same token comes back with its remaining
   * lifetime; after expiry (or revocation) a new one is minted. The doc example shows 3599
   * for a fresh token, so `expires_in` is the whole seconds left, rounded down, minus the
   * current one.
   */
  issue(clientId: string, now: number): IssuedToken {
    let token = this.#current.get(clientId);
    let record = token === undefined ? undefined : this.#tokens.get(token);
    if (token === undefined || record === undefined || record.revoked || record.expiresAt <= now) {
      // §2.1: tokens look like `<uuid>:<pod>` (unverified as a rule); "sb" is our pod.
      token = `${crypto.randomUUID()}:sb`;
      record = {
        clientId,
        expiresAt: now + this.#lifetimeMs,
        expiryReported: false,
        revoked: false,
      };
      this.#forgetDead(now);
      this.#tokens.set(token, record);
      this.#current.set(clientId, token);
    }
    return {
      access_token: token,
      token_type: "bearer",
      expires_in: Math.max(0, Math.floor((record.expiresAt - now - 1) / 1000)),
      scope: this.#scope,
    };
  }

  /**
   * Drops tokens that can only answer 601 from now on (revoked, or expired and already
   * reported with 602): an unknown token answers 601 too, so the store stays as small as
   * the tokens that still mean something.
   */
  #forgetDead(now: number): void {
    let expired = 0;
    for (const [token, record] of this.#tokens) {
      if (record.revoked || (record.expiresAt <= now && record.expiryReported))
        this.#tokens.delete(token);
      else if (record.expiresAt <= now) expired++;
    }
    // Expired tokens never used again would pile up with a short lifetime; past this many
    // the oldest go, and answer 601 instead of their one 602.
    for (const [token, record] of this.#tokens) {
      if (expired <= maxExpiredKept) break;
      if (record.expiresAt > now) continue;
      this.#tokens.delete(token);
      expired--;
    }
  }

  /** §2.2: 601 for unknown, revoked or already-reported expired tokens; 602 once at expiry. */
  check(token: string | undefined, now: number): TokenCheck {
    if (token === undefined || token === "") return { ok: false, code: "601" };
    const record = this.#tokens.get(token);
    if (record === undefined || record.revoked) return { ok: false, code: "601" };
    if (record.expiresAt > now) return { ok: true };
    if (record.expiryReported) return { ok: false, code: "601" };
    record.expiryReported = true;
    return { ok: false, code: "602" };
  }

  /** Every issued token becomes invalid; its next use answers 601. */
  revokeAll(): void {
    for (const record of this.#tokens.values()) record.revoked = true;
    this.#current.clear();
  }

  /** Tokens issued and still within their lifetime. */
  live(now: number): number {
    let n = 0;
    for (const record of this.#tokens.values()) if (!record.revoked && record.expiresAt > now) n++;
    return n;
  }
}
