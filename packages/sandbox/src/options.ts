import type { Instant } from "./clock.ts";
import type { FaultSpec } from "./faults.ts";
import { type DataType, dataTypes, type FieldSpec } from "./schema.ts";

/** §12: the rolling rate window. */
export interface RateLimitOptions {
  /** Calls allowed in the window. @default 100 */
  calls: number;
  /** Window length in ms (scaled by timeScale). @default 20000 */
  windowMs: number;
  /**
   * Whether calls refused with 606/607/615 still enter the window. Marketo does not say;
   * counting them is the safer reading for clients (a client that hammers stays locked out).
   * @default true
   */
  countRejected?: boolean;
}

/** Simulated server time per kind of endpoint, in ms (each scaled by timeScale). */
export interface LatencyOptions {
  /** `/identity/oauth/token`. @default 80 */
  identity: number;
  /** Sync Leads, Push Lead, custom object sync, custom activities: base time. @default 300 */
  write: number;
  /** Extra time per input record of a write. @default 1 */
  perRecord: number;
  /** Lead-database reads (leads by filter, lists, describe). @default 150 */
  read: number;
  /** Asset API calls (program and static list by name). @default 250 */
  asset: number;
  /** Bulk import create, status, failure and warning files. @default 400 */
  bulk: number;
  /** Usage statistics. @default 100 */
  stats: number;
  /** Calls refused before any work (601, 602, 606, 607, 615, faults). @default 20 */
  refusal: number;
}

/** §11: pace of the asynchronous bulk-import worker (both scaled by timeScale). */
export interface BulkPaceOptions {
  /** Time from Importing to the first row. @default 5000 */
  startupMs: number;
  /** Time per row. @default 5 */
  perRowMs: number;
}

/** A program status of a channel, in step order. */
export interface ChannelStatusSpec {
  name: string;
  /** Progression step; a lead cannot move to a lower step (§9.2: 1037). */
  step: number;
  /** Whether reaching it counts as program success. @default false */
  success?: boolean;
}

/** A program channel with its statuses. Plain strings take steps 0, 10, 20… */
export interface ChannelSpec {
  name: string;
  statuses: Array<string | ChannelStatusSpec>;
}

/** A program (§9). */
export interface ProgramSpec {
  /** @default assigned from 1001 */
  id?: number;
  name: string;
  channel: ChannelSpec;
  /** Program type as Get Program by Name shows it. @default "Default" */
  type?: string;
  /** @default "" */
  description?: string;
  /** @default "Default" */
  workspace?: string;
}

/** A static list (§8). */
export interface ListSpec {
  /** @default assigned from 1001 */
  id?: number;
  name: string;
  /** Program the list belongs to, if any. */
  programName?: string;
  /** @default "Default" */
  workspaceName?: string;
  /** @default "" */
  description?: string;
}

/** A custom object type (§10.1). */
export interface CustomObjectSpec {
  /** API name, e.g. `car_c`. */
  name: string;
  /** @default the name */
  displayName?: string;
  /** One to three dedupe fields (§10.1). */
  dedupeFields: string[];
  /** Fields; a `link` field named in `leadLink` must name an existing lead id. */
  fields: FieldSpec[];
  /** Name of the link field that points at a lead id, if any. */
  leadLink?: string;
}

/** A custom activity attribute (§10.2). */
export interface ActivityAttributeSpec {
  apiName: string;
  /** @default the apiName */
  name?: string;
  dataType: DataType;
}

/** A custom activity type (§10.2). */
export interface ActivityTypeSpec {
  /** Type id; examples use ≥ 100001. */
  id: number;
  apiName: string;
  name: string;
  /** Only approved types take activities. @default "approved" */
  status?: "approved" | "draft";
  primaryAttribute: ActivityAttributeSpec;
  /** Up to 20 secondary attributes (§10.2). @default [] */
  attributes?: ActivityAttributeSpec[];
}

/** A lead partition (§4). */
export interface PartitionSpec {
  /** @default assigned from 1 */
  id?: number;
  name: string;
  /** @default "" */
  description?: string;
}

/** Every option of the sandbox; all are optional. */
export interface SandboxOptions {
  /** TCP port; 0 picks a free one. @default 0 */
  port?: number;
  /** Interface to listen on. @default "127.0.0.1" */
  host?: string;
  /** Client id of the custom service. @default a random UUID */
  clientId?: string;
  /** Client secret of the custom service. @default a random 32-character string */
  clientSecret?: string;
  /** §12: 606 past `calls` in the rolling `windowMs`; false turns it off. @default { calls: 100, windowMs: 20000 } */
  rateLimit?: RateLimitOptions | false;
  /** §12: 615 past this many calls in flight; false turns it off. @default 10 */
  concurrency?: number | false;
  /** §12: 607 past this many counted calls per Chicago day; false turns it off. @default 50000 */
  dailyQuota?: number | false;
  /**
   * §12: HTTP 413 past this body size. Marketo says "1 MB"; we read it as 10^6 bytes, the
   * stricter of 10^6 and 2^20, so a client that fits here fits there.
   * @default 1000000
   */
  maxBodyBytes?: number;
  /** §11.4: HTTP 413 past this body size on bulk import. @default 10000000 */
  maxBulkBodyBytes?: number;
  /** §6.3: HTTP 414 past this many bytes of request target (path and query). @default 8192 */
  maxUriBytes?: number;
  /** §2.2: lifetime of a new access token, in seconds (scaled by timeScale). @default 3600 */
  tokenLifetimeSeconds?: number;
  /** Simulated latency per endpoint kind; false answers at once. @default see LatencyOptions */
  latency?: Partial<LatencyOptions> | false;
  /**
   * Multiplies every duration: rate window, latency, token lifetime, bulk pace, foreign
   * traffic. 0.01 makes a test 100× faster. The quota day is a calendar day and is not scaled.
   * @default 1
   */
  timeScale?: number;
  /** Start time of the sandbox clock. @default now */
  clock?: Instant;
  /**
   * Start with the clock frozen: it stands still until set, advanced or resumed, so tests
   * of windows, expiry and bulk progress do not depend on the machine's speed.
   * @default false
   */
  freezeClock?: boolean;
  /** Seed of the PRNG behind faults by rate. @default a random seed */
  seed?: number;
  /** Faults active from the start. @default [] */
  faults?: FaultSpec[];
  /**
   * §2.4: the `access_token` query parameter was removed on 2026-08-31; by default it is
   * treated as no token (601). true accepts it, for old clients.
   * @default false
   */
  acceptAccessTokenQuery?: boolean;
  /** Custom lead fields added to the standard ones (§7.4). @default [] */
  customFields?: FieldSpec[];
  /** Programs with their channels. @default a webinar and a content syndication program */
  programs?: ProgramSpec[];
  /** Static lists. @default two lists */
  lists?: ListSpec[];
  /** Custom object types. @default one type, `car_c` */
  customObjects?: CustomObjectSpec[];
  /** Custom activity types. @default one approved type and one draft */
  activityTypes?: ActivityTypeSpec[];
  /** Lead partitions. @default [{ id: 1, name: "Default" }] */
  partitions?: PartitionSpec[];
  /** Pace of bulk import processing. @default { startupMs: 5000, perRowMs: 5 } */
  bulkPace?: Partial<BulkPaceOptions>;
  /** API-only user of the custom service, shown as token `scope` and in usage stats. @default "postout-sandbox@example.com" */
  scope?: string;
  /** Entries kept in the call log (oldest dropped first). @default 10000 */
  callLogSize?: number;
  /**
   * Activities kept for Get Lead Activities; past this the oldest by activity date are
   * dropped, as Marketo purges old activities. About 35 MB at the default with two short
   * attributes each. @default 100000
   */
  keptActivities?: number;
  /**
   * More Marketo instances in the same process, each under its own path prefix
   * (`/i/0000`, `/i/0001`, …) with its own credentials, limits, quota, data, faults, clock
   * and controls; the root keeps serving the instance these options describe. A number N
   * gives N instances with these options and random credentials; an array gives one
   * instance per entry, its options over these. An instance's state is made on its first
   * request or control call, so many cost little until used.
   * @default 0
   */
  instances?: number | readonly InstanceOptions[];
}

/** The options of one instance in `instances`: any option but where the sandbox listens. */
export type InstanceOptions = Omit<SandboxOptions, "port" | "host" | "instances">;

/** The most instances one sandbox hosts. */
export const maxInstances = 100_000;

/** The resolved options: every member present. */
export type ResolvedOptions = Required<
  Omit<SandboxOptions, "latency" | "bulkPace" | "clock" | "rateLimit" | "instances">
> & {
  latency: LatencyOptions;
  bulkPace: BulkPaceOptions;
  clock: Instant | undefined;
  rateLimit: Required<RateLimitOptions> | false;
};

export const defaultLatency = {
  identity: 80,
  write: 300,
  perRecord: 1,
  read: 150,
  asset: 250,
  bulk: 400,
  stats: 100,
  refusal: 20,
} satisfies LatencyOptions;

const webinar: ChannelSpec = {
  name: "Webinar",
  statuses: [
    { name: "Not in Program", step: 0 },
    { name: "Invited", step: 10 },
    { name: "Registered", step: 20 },
    { name: "No Show", step: 30 },
    { name: "Attended", step: 30, success: true },
  ],
};

const contentSyndication: ChannelSpec = {
  name: "Content Syndication",
  statuses: [
    { name: "Not in Program", step: 0 },
    { name: "Engaged", step: 10 },
    { name: "Success", step: 20, success: true },
  ],
};

const defaults = {
  port: 0,
  host: "127.0.0.1",
  rateLimit: { calls: 100, windowMs: 20_000, countRejected: true },
  concurrency: 10,
  dailyQuota: 50_000,
  maxBodyBytes: 1_000_000,
  maxBulkBodyBytes: 10_000_000,
  maxUriBytes: 8192,
  tokenLifetimeSeconds: 3600,
  timeScale: 1,
  freezeClock: false,
  faults: [],
  acceptAccessTokenQuery: false,
  customFields: [],
  programs: [
    { id: 1001, name: "2026 Q3 Product Webinar", type: "Event", channel: webinar },
    {
      id: 1002,
      name: "2026 Content Syndication - TechTarget",
      type: "Default",
      channel: contentSyndication,
    },
  ],
  lists: [
    { id: 1001, name: "Newsletter Subscribers" },
    { id: 1002, name: "Webinar Invitees", programName: "2026 Q3 Product Webinar" },
  ],
  customObjects: [
    {
      name: "car_c",
      displayName: "Car",
      dedupeFields: ["vin"],
      leadLink: "leadId",
      fields: [
        { name: "vin", dataType: "string", displayName: "VIN" },
        { name: "make", dataType: "string" },
        { name: "model", dataType: "string" },
        { name: "year", dataType: "integer" },
        { name: "leadId", dataType: "link", displayName: "Lead" },
      ],
    },
  ],
  activityTypes: [
    {
      id: 100001,
      apiName: "visitedBooth_c",
      name: "Visited Trade Show Booth",
      status: "approved",
      primaryAttribute: { apiName: "boothName", name: "Booth Name", dataType: "string" },
      attributes: [
        { apiName: "uRL", name: "URL", dataType: "url" },
        { apiName: "minutes", name: "Minutes at Booth", dataType: "integer" },
      ],
    },
    {
      id: 100002,
      apiName: "draftActivity_c",
      name: "Draft Activity",
      status: "draft",
      primaryAttribute: { apiName: "label", name: "Label", dataType: "string" },
    },
  ],
  partitions: [{ id: 1, name: "Default", description: "Initial system lead partition" }],
  bulkPace: { startupMs: 5000, perRowMs: 5 },
  scope: "postout-sandbox@example.com",
  callLogSize: 10_000,
  keptActivities: 100_000,
} satisfies Omit<ResolvedOptions, "clientId" | "clientSecret" | "seed" | "latency" | "clock">;

function positive(name: string, value: unknown, integer = false): number {
  if (
    typeof value !== "number" ||
    !Number.isFinite(value) ||
    value <= 0 ||
    (integer && !Number.isInteger(value))
  ) {
    throw new TypeError(`${name} must be a positive ${integer ? "integer" : "number"}`);
  }
  return value;
}

function nonNegative(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${name} must be a number ≥ 0`);
  }
  return value;
}

/** A random 32-character client secret. */
export function randomSecret(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

/** Fills in defaults and checks every value; throws TypeError with the option's name. */
export function resolveOptions(options: SandboxOptions = {}): ResolvedOptions {
  const port = options.port ?? defaults.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError("port must be an integer from 0 to 65535");
  }
  const rate = options.rateLimit ?? defaults.rateLimit;
  const rateLimit =
    rate === false
      ? false
      : {
          calls: positive("rateLimit.calls", rate.calls, true),
          windowMs: positive("rateLimit.windowMs", rate.windowMs),
          countRejected: rate.countRejected ?? true,
        };
  const concurrency = options.concurrency ?? defaults.concurrency;
  const dailyQuota = options.dailyQuota ?? defaults.dailyQuota;
  const latency: LatencyOptions =
    options.latency === false
      ? {
          identity: 0,
          write: 0,
          perRecord: 0,
          read: 0,
          asset: 0,
          bulk: 0,
          stats: 0,
          refusal: 0,
        }
      : { ...defaultLatency, ...options.latency };
  for (const [key, value] of Object.entries(latency)) nonNegative(`latency.${key}`, value);
  const bulkPace = { ...defaults.bulkPace, ...options.bulkPace };
  nonNegative("bulkPace.startupMs", bulkPace.startupMs);
  nonNegative("bulkPace.perRowMs", bulkPace.perRowMs);
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  if (!Number.isInteger(seed)) throw new TypeError("seed must be an integer");
  for (const field of options.customFields ?? []) {
    if (!dataTypes.includes(field.dataType)) {
      throw new TypeError(`customFields: ${field.name} has unknown dataType ${field.dataType}`);
    }
  }
  return {
    port,
    host: options.host ?? defaults.host,
    clientId: options.clientId ?? crypto.randomUUID(),
    clientSecret: options.clientSecret ?? randomSecret(),
    rateLimit,
    concurrency: concurrency === false ? false : positive("concurrency", concurrency, true),
    dailyQuota: dailyQuota === false ? false : positive("dailyQuota", dailyQuota, true),
    maxBodyBytes: positive("maxBodyBytes", options.maxBodyBytes ?? defaults.maxBodyBytes, true),
    maxBulkBodyBytes: positive(
      "maxBulkBodyBytes",
      options.maxBulkBodyBytes ?? defaults.maxBulkBodyBytes,
      true,
    ),
    maxUriBytes: positive("maxUriBytes", options.maxUriBytes ?? defaults.maxUriBytes, true),
    tokenLifetimeSeconds: positive(
      "tokenLifetimeSeconds",
      options.tokenLifetimeSeconds ?? defaults.tokenLifetimeSeconds,
    ),
    latency,
    timeScale: positive("timeScale", options.timeScale ?? defaults.timeScale),
    clock: options.clock,
    freezeClock: options.freezeClock ?? defaults.freezeClock,
    seed,
    faults: options.faults ?? defaults.faults,
    acceptAccessTokenQuery: options.acceptAccessTokenQuery ?? defaults.acceptAccessTokenQuery,
    customFields: options.customFields ?? defaults.customFields,
    programs: options.programs ?? defaults.programs,
    lists: options.lists ?? defaults.lists,
    customObjects: options.customObjects ?? defaults.customObjects,
    activityTypes: options.activityTypes ?? defaults.activityTypes,
    partitions: options.partitions ?? defaults.partitions,
    bulkPace,
    scope: options.scope ?? defaults.scope,
    callLogSize: positive("callLogSize", options.callLogSize ?? defaults.callLogSize, true),
    keptActivities: positive(
      "keptActivities",
      options.keptActivities ?? defaults.keptActivities,
      true,
    ),
  };
}
