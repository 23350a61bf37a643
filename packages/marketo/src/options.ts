import type { GateStore } from "./gate.ts";
import type { EventHook, Logger } from "./transport.ts";

/** The endpoints the client calls, each with its own timeout (§12). */
export type Endpoint =
  | "identity"
  | "syncLeads"
  | "pushLeads"
  | "getLeadsByFilter"
  | "describeLeads"
  | "addToList"
  | "getListByName"
  | "getProgramByName"
  | "changeProgramStatus"
  | "syncCustomObjects"
  | "addCustomActivities"
  | "importLeads"
  | "importStatus"
  | "usage"
  | "getPagingToken"
  | "getLeadActivities";

// Marketo answers 604 when its own timeout passes; ours waits a little longer so that the
// server's answer (retryable, and known not to have executed) arrives before we give up.
const GRACE_MS = 5_000;

/** Per-endpoint timeouts: Marketo's documented server timeout (§12) plus a 5 s grace. */
export const DEFAULT_TIMEOUTS = {
  identity: 30_000 + GRACE_MS,
  syncLeads: 90_000 + GRACE_MS,
  pushLeads: 90_000 + GRACE_MS,
  getLeadsByFilter: 60_000 + GRACE_MS,
  describeLeads: 30_000 + GRACE_MS,
  addToList: 30_000 + GRACE_MS,
  getListByName: 30_000 + GRACE_MS,
  getProgramByName: 300_000 + GRACE_MS, // Asset APIs: 300 s
  changeProgramStatus: 30_000 + GRACE_MS,
  syncCustomObjects: 120_000 + GRACE_MS,
  addCustomActivities: 90_000 + GRACE_MS,
  // Bulk import timeouts are not documented (unverified): a 10 MB upload gets the longest
  // documented timeout, so that a slow upload is not abandoned and then replayed.
  importLeads: 300_000 + GRACE_MS,
  importStatus: 30_000 + GRACE_MS,
  usage: 30_000 + GRACE_MS,
  getPagingToken: 300_000 + GRACE_MS,
  getLeadActivities: 30_000 + GRACE_MS,
} as const satisfies Record<Endpoint, number>;

/** How the client retries transient failures. */
export interface RetryOptions {
  /**
   * Attempts per request, the first included.
   * @default 6
   */
  maxAttempts?: number;
  /**
   * The first backoff ceiling; doubled at each attempt, then capped.
   * @default 1000
   */
  baseDelayMs?: number;
  /**
   * The largest backoff ceiling.
   * @default 30000
   */
  maxDelayMs?: number;
  /**
   * No retry starts once this much time has passed since the first attempt.
   * @default 300000
   */
  maxTotalMs?: number;
}

/** The call gate's limits: Marketo's per-instance limits, or the share of them this client may use. */
export interface GateOptions {
  /**
   * Calls allowed in any rolling window (Marketo: 100 per 20 s per instance, shared by every app).
   * @default 100
   */
  calls?: number;
  /**
   * The rolling window's length.
   * @default 20000
   */
  windowMs?: number;
  /**
   * Calls in flight at once (Marketo: 10 per instance).
   * @default 10
   */
  concurrency?: number;
  /**
   * Extra time added to the window, because Marketo starts counting a call when it arrives,
   * a little after we send it.
   * @default 250
   */
  windowMarginMs?: number;
  /**
   * The instance's daily quota. The client always counts calls; it refuses them locally only
   * when this is set, because an instance may have more than the typical 50,000 and a wrong
   * local limit would stop calls Marketo would take. A 607 from Marketo always stops calls.
   * @default Infinity
   */
  dailyQuota?: number;
  /**
   * The lowest share the gate falls to after 606/615 caused by other apps.
   * @default 0.1
   */
  minShare?: number;
  /**
   * How much share comes back per window since the last 606/615 (from half to all in 5 windows).
   * @default 0.1
   */
  recoveryPerWindow?: number;
  /**
   * Where the gate keeps its state; share one store between clients of one instance.
   * @default a new in-memory store
   */
  store?: GateStore;
}

/** Options of {@link MarketoClient}. Only `baseUrl`, `clientId` and `clientSecret` are required. */
export interface MarketoClientOptions {
  /**
   * The instance's base URL, without `/rest`: the REST API endpoint of Admin → Integration →
   * Web Services. Its query and fragment, if any, are dropped, and so is a trailing `/rest`;
   * any other path is kept (an instance behind a gateway, or one of the sandbox's `instances`).
   * @example "https://284-RPR-133.mktorest.com"
   */
  baseUrl: string;
  /** The custom service's client id (LaunchPoint). */
  clientId: string;
  /** The custom service's client secret. Never logged, never put into an error. */
  clientSecret: string;
  /**
   * Identity base URL. The client secret is sent here, in the body of a form-encoded POST.
   * The default is the base URL with its path, less a trailing `/rest`, plus `/identity`,
   * always on the base URL's origin and never with its query: Marketo's own
   * `https://<munchkin>.mktorest.com/identity`, or `http://127.0.0.1:PORT/i/0007/identity`
   * for an instance under a path (the sandbox's `instances`).
   * @default `${baseUrl without query, fragment and trailing /rest}/identity`
   * @example "https://284-RPR-133.mktorest.com/identity"
   */
  identityUrl?: string;
  /**
   * Per-endpoint timeouts in milliseconds; missing ones keep their default.
   * @default DEFAULT_TIMEOUTS (§12 plus 5 s)
   */
  timeouts?: Partial<Record<Endpoint, number>>;
  /** Retry policy. */
  retry?: RetryOptions;
  /** Call gate limits. */
  gate?: GateOptions;
  /**
   * The token is renewed this long before `expires_in` runs out.
   * @default 60000
   */
  tokenRefreshMarginMs?: number;
  /**
   * A GET whose URI is longer than this many bytes is sent as POST with `_method=GET` (§6.3).
   * @default 8192
   */
  maxUriLength?: number;
  /**
   * The most bytes read of one answer. A longer body is not read further (the connection is
   * dropped) and the call fails with `response_too_large`. Marketo's largest JSON answers,
   * a page of 300 leads with every field, stay far below it.
   * @default 16777216 (16 MiB)
   */
  maxResponseBytes?: number;
  /**
   * The most bytes read of a downloaded bulk file (import failures or warnings). Such a file
   * repeats the rows of one import (at most `maxImportBytes`) with a reason added to each.
   * @default 67108864 (64 MiB)
   */
  maxDownloadBytes?: number;
  /**
   * Records per batch write (§12: 300).
   * @default 300
   */
  maxBatchRecords?: number;
  /**
   * Serialized body bytes per batch write. "1 MB" read as 10^6, the stricter reading.
   * @default 1000000
   */
  maxBodyBytes?: number;
  /**
   * File bytes per bulk import (10 MB, read as 10^7).
   * @default 10000000
   */
  maxImportBytes?: number;
  /**
   * A batch answered with 604 is halved down to this many records; a batch this small that
   * still gets 604 is retried with backoff, then reported.
   * @default 25
   */
  bisectFloor?: number;
  /**
   * How far Marketo's clock may lag ours when a lost create is looked for: a lead created (by
   * its `createdAt`) up to this long before the call went out still counts as the call's.
   * @default 5000
   */
  createdSkewMs?: number;
  /**
   * Receives log lines (already redacted).
   * @default no logging
   */
  logger?: Logger;
  /**
   * Receives one event per request, response, retry, token refresh and gate wait (already redacted).
   * @default none
   */
  onEvent?: EventHook;
  /**
   * The clock used for token expiry, the gate and the quota day.
   * @default Date.now
   */
  now?: () => number;
  /**
   * The fetch implementation.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /**
   * Random numbers in [0, 1) for backoff jitter.
   * @default Math.random
   */
  random?: () => number;
}

export const DEFAULT_RETRY = {
  maxAttempts: 6,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxTotalMs: 300_000,
} satisfies Required<RetryOptions>;

export const DEFAULT_GATE = {
  calls: 100,
  windowMs: 20_000,
  concurrency: 10,
  windowMarginMs: 250,
  dailyQuota: Number.POSITIVE_INFINITY,
  minShare: 0.1,
  recoveryPerWindow: 0.1,
} satisfies Omit<Required<GateOptions>, "store">;

export const DEFAULTS = {
  tokenRefreshMarginMs: 60_000,
  maxUriLength: 8_192,
  maxResponseBytes: 16 * 1024 * 1024,
  maxDownloadBytes: 64 * 1024 * 1024,
  maxBatchRecords: 300,
  maxBodyBytes: 1_000_000,
  maxImportBytes: 10_000_000,
  bisectFloor: 25,
  createdSkewMs: 5_000,
} satisfies Partial<MarketoClientOptions>;
