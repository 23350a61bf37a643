/** The shapes the gateway's /v1 API answers (packages/postout/src/http/lead-view.ts and friends). */

/** One problem with a request, naming the field, as the gateway answers it. */
export interface Issue {
  readonly path: string;
  readonly message: string;
}

export const STATUSES = [
  "queued",
  "sending",
  "delivered",
  "retrying",
  "needs_fix",
  "paused",
  "test",
] as const;
export type LeadStatus = (typeof STATUSES)[number];

export interface Route {
  readonly endpoint: "syncLeads" | "pushLeads";
  readonly [key: string]: unknown;
}

export interface Lead {
  readonly id: number;
  readonly destination: string;
  readonly email: string | null;
  readonly program: string | null;
  readonly status: LeadStatus;
  readonly attempts: number;
  readonly lastCode: string | null;
  readonly lastReason: string | null;
  readonly fix: string | null;
  readonly marketoId: number | null;
  readonly test: boolean;
  readonly source: string | null;
  readonly sourceLine: number | null;
  readonly nextAt: string | null;
  readonly createdAt: string | null;
  readonly updatedAt: string | null;
  readonly route: Route;
  readonly raw: Readonly<Record<string, unknown>>;
  readonly input: Readonly<Record<string, unknown>> | null;
}

export interface Attempt {
  readonly n: number;
  readonly at: string | null;
  readonly endpoint: string;
  readonly request: unknown;
  readonly response: unknown;
  readonly requestId: string | null;
  readonly responseStatusCode: string;
  readonly responseReason: string | null;
  readonly outcome: LeadStatus;
  readonly durationMs: number | null;
}

export interface Explanation {
  readonly code: string;
  readonly known: boolean;
  readonly level?: string;
  readonly recovery?: string;
  readonly meaning: string | null;
  readonly fix: string | null;
}

export interface LeadPage {
  readonly leads: Lead[];
  readonly nextCursor: string | null;
  readonly counts: Partial<Record<LeadStatus, number>>;
}

export interface LeadDetail {
  readonly lead: Lead;
  readonly attempts: Attempt[];
  readonly explanation: Explanation | null;
  /** The field map the lead was posted with; null for the identity map. */
  readonly map?: Readonly<Record<string, unknown>> | null;
}

export interface QuotaForecast {
  readonly used: number;
  readonly limit: number;
  readonly pacePerHour: number;
  readonly runsOutAt: string | null;
  readonly resetsAt: string;
}

/** Where a destination is defined: the config file or environment (read-only here), or the API. */
export type DestinationSource = "config" | "api";

export interface Destination {
  readonly name: string;
  readonly source: DestinationSource;
  /** The REST base URL; never the client secret, which the API does not return. */
  readonly baseUrl: string | null;
  readonly clientId: string | null;
  /** Postout's share of the instance's limits; null for all of it (100 calls per 20 s, 10 at once). */
  readonly limits: { readonly callsPer20s: number | null; readonly concurrency: number | null };
  readonly dailyBudget: number | null;
  readonly markerField: string | null;
  readonly paused: { code: string | null; reason: string | null; until: string | null } | null;
  readonly calls: Readonly<Record<string, number>>;
  readonly quota: QuotaForecast;
  readonly gate: { inFlight: number; inWindow: number; share: number; pausedUntil: string | null };
  readonly queue: Partial<Record<LeadStatus, number>>;
  readonly throttled?: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export interface CodeStats {
  readonly bucket: string;
  /** The range's start as the gateway read it (ISO 8601). */
  readonly since: string;
  readonly buckets: { readonly start: string; readonly counts: Readonly<Record<string, number>> }[];
}

export interface TestIntegrationResult {
  readonly leadId: number;
  readonly status: LeadStatus | undefined;
  readonly endpoint: string | undefined;
  readonly request: unknown;
  readonly response: unknown;
  readonly responseStatusCode: string | undefined;
  readonly responseReason: string | null;
  readonly fix: string | null;
}

/** What "Test connection" found: connected (with what it read), or the problem in words. */
export type ConnectionReport =
  | {
      readonly ok: true;
      readonly message: string;
      readonly leadFields: number;
      readonly quotaUsedToday?: number | null;
    }
  | {
      readonly ok: false;
      readonly message: string;
      readonly problem:
        | "bad-credentials"
        | "access-denied"
        | "unreachable"
        | "not-marketo"
        | "quota"
        | "marketo-error";
      readonly code?: string | null;
    };

/** The answer to a removal refused because leads wait: how many, by status. */
export interface LeadsWaiting {
  readonly error: string;
  readonly total: number;
  readonly waiting: Readonly<Record<"queued" | "retrying" | "sending" | "paused", number>>;
}
