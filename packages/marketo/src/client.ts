import { type Activity, type ActivityQuery, leadActivities, pagingToken } from "./activities.ts";
import { TokenSource } from "./auth.ts";
import { defaultIdentityUrl, restBase } from "./base-url.ts";
import {
  type BatchWrite,
  type BatchWriterConfig,
  type WriteOptions,
  writeBatches,
} from "./batch-write.ts";
import {
  type ImportFile,
  type ImportJob,
  type ImportOptions,
  type ImportRow,
  ImportRunner,
} from "./bulk-import.ts";
import { Caller } from "./call.ts";
import { isMarketoError, type MarketoError } from "./errors.ts";
import { Gate, type GateSnapshot, MemoryGateStore } from "./gate.ts";
import { type FindCreatedOptions, type FoundCreate, findCreated, lookupKey } from "./lookup.ts";
import {
  DEFAULT_GATE,
  DEFAULT_RETRY,
  DEFAULT_TIMEOUTS,
  DEFAULTS,
  type Endpoint,
  type MarketoClientOptions,
} from "./options.ts";
import { quotaDay } from "./quota-day.ts";
import { type BatchResult, type RecordResult, unknown } from "./results.ts";
import { Transport } from "./transport.ts";

/** A lead as Marketo's REST API names its fields. */
export type Lead = Record<string, unknown>;

export type SyncAction = "createOnly" | "updateOnly" | "createOrUpdate" | "createDuplicate";

export interface SyncLeadsOptions extends WriteOptions {
  /**
   * @default "createOrUpdate"
   */
  action?: SyncAction;
  /**
   * The dedupe field; every input record must carry it.
   * @default "email"
   */
  lookupField?: string;
  /** Lead partition (createOnly / createOrUpdate only). */
  partitionName?: string;
  /**
   * After a lost createOnly/createDuplicate answer, look the records up at once (findCreated)
   * and settle what is proven. A caller that runs other writes at the same time and keeps its
   * own record of which leads are whose turns it off: the records come back `unknown`, to be
   * looked up once every concurrent call is answered.
   * @default true
   */
  lookUpLostCreates?: boolean;
}

export interface PushLeadsOptions extends WriteOptions {
  /** The program the "Push Lead to Marketo" activity is attributed to. */
  programName: string;
  /** Free text on the activity, usable as a trigger constraint. */
  source?: string;
  /** Free text on the activity, usable as a trigger constraint. */
  reason?: string;
  /** @default "email" */
  lookupField?: string;
  partitionName?: string;
  programStatus?: string;
}

export interface LeadFilter {
  /** A searchable field (`email`, `id`, a custom string field …). */
  filterType: string;
  /** Any number of values; sent in queries of at most 300. */
  filterValues: readonly (string | number)[];
  /** Fields to return; Marketo's default set when omitted. */
  fields?: readonly string[];
  /**
   * Records per page.
   * @default 300
   */
  batchSize?: number;
}

export interface LeadSchema {
  readonly name: string;
  readonly searchableFields: readonly (readonly string[])[];
  readonly fields: readonly {
    readonly name: string;
    readonly displayName: string;
    readonly dataType: string;
    readonly length?: number;
    readonly updateable: boolean;
    readonly crmManaged?: boolean;
  }[];
}

export interface UsageReport {
  /** Marketo's count of today's calls (America/Chicago day), per API user. */
  readonly usage: {
    readonly date: string;
    readonly total: number;
    readonly users: readonly unknown[];
  };
  /** Marketo's count of today's errors, per code. */
  readonly errors: {
    readonly date: string;
    readonly total: number;
    readonly errors: readonly unknown[];
  };
  /** This client's own count for today before reconciling. */
  readonly counted: number;
  /** The gate's count after reconciling (the higher of the two: other apps count too). */
  readonly reconciled: number;
}

export interface CustomObjectOptions extends WriteOptions {
  /** @default "createOrUpdate" */
  action?: "createOnly" | "updateOnly" | "createOrUpdate";
  /** @default "dedupeFields" */
  dedupeBy?: "dedupeFields" | "idField";
}

export interface CustomActivity {
  leadId: number;
  activityDate: string;
  activityTypeId: number;
  primaryAttributeValue: string;
  attributes: readonly { name?: string; apiName?: string; value: unknown }[];
}

/**
 * A Marketo REST client. Every answer becomes a typed outcome: a value, a typed error
 * ({@link MarketoError} and subclasses), or — for batch writes — one {@link RecordResult} per
 * input, in input order. Batch writes do not throw for Marketo errors: partial success is the
 * normal case, and each record says what happened to it.
 */
export class MarketoClient {
  readonly #caller: Caller;
  readonly #gate: Gate;
  readonly #writer: BatchWriterConfig;
  readonly #imports: ImportRunner;
  readonly #now: () => number;
  readonly #verifyOptions: FindCreatedOptions;

  constructor(options: MarketoClientOptions) {
    const base = new URL(options.baseUrl);
    const baseUrl = restBase(base);
    const now = options.now ?? Date.now;
    const gateOptions = { ...DEFAULT_GATE, ...options.gate };
    const transport = new Transport({
      baseUrl,
      timeouts: { ...DEFAULT_TIMEOUTS, ...options.timeouts },
      maxUriLength: options.maxUriLength ?? DEFAULTS.maxUriLength,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULTS.maxResponseBytes,
      maxDownloadBytes: options.maxDownloadBytes ?? DEFAULTS.maxDownloadBytes,
      fetch: options.fetch ?? globalThis.fetch,
      secrets: [options.clientSecret],
      logger: options.logger,
      onEvent: options.onEvent,
    });
    const auth = new TokenSource({
      // The secret goes to the base URL's origin only, never to its query (see defaultIdentityUrl).
      identityUrl: (options.identityUrl ?? defaultIdentityUrl(base)).replace(/\/+$/, ""),
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      refreshMarginMs: options.tokenRefreshMarginMs ?? DEFAULTS.tokenRefreshMarginMs,
      now,
      transport,
    });
    this.#gate = new Gate({
      ...gateOptions,
      store: options.gate?.store ?? new MemoryGateStore(),
      now,
      onWait: (reason, waitMs) => transport.emit({ type: "gate", reason, waitMs }),
    });
    this.#caller = new Caller({
      transport,
      auth,
      gate: this.#gate,
      retry: { ...DEFAULT_RETRY, ...options.retry },
      windowMs: gateOptions.windowMs,
      now,
      random: options.random ?? Math.random,
    });
    this.#writer = {
      caller: this.#caller,
      transport,
      maxRecords: options.maxBatchRecords ?? DEFAULTS.maxBatchRecords,
      maxBytes: options.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
      bisectFloor: options.bisectFloor ?? DEFAULTS.bisectFloor,
      now,
    };
    this.#imports = new ImportRunner({
      caller: this.#caller,
      maxFileBytes: options.maxImportBytes ?? DEFAULTS.maxImportBytes,
    });
    this.#now = now;
    this.#verifyOptions = { skewMs: options.createdSkewMs ?? DEFAULTS.createdSkewMs };
  }

  /** Sync Leads (§4): create or update any number of leads; one result per lead, in order. */
  syncLeads<L extends Lead>(
    leads: readonly L[],
    options: SyncLeadsOptions = {},
  ): Promise<BatchResult<L>> {
    const action = options.action ?? "createOrUpdate";
    const lookupField = options.lookupField ?? "email";
    const envelope: Record<string, unknown> = { action, lookupField };
    if (options.partitionName !== undefined) envelope.partitionName = options.partitionName;
    // createOnly / createDuplicate: a replay after a lost answer could create twice (or report a
    // misleading 1005), so such a batch is looked up by its lookup field before anything is resent.
    const replaySafe = action === "createOrUpdate" || action === "updateOnly";
    const write: BatchWrite<L> = {
      endpoint: "syncLeads",
      path: "/rest/v1/leads.json",
      inputs: leads,
      envelope,
      replaySafe,
      ...observed(options),
      ...(replaySafe || options.lookUpLostCreates === false
        ? {}
        : {
            verify: (batch, inputs, _error, sentAt) =>
              this.#verifyCreated(batch, inputs, lookupField, action === "createOnly", sentAt),
          }),
    };
    return writeBatches(this.#writer, write);
  }

  /** Push Lead to Marketo (§5.1): upsert leads and record a "Push Lead" activity on a program. */
  pushLeads<L extends Lead>(
    leads: readonly L[],
    options: PushLeadsOptions,
  ): Promise<BatchResult<L>> {
    const envelope: Record<string, unknown> = { programName: options.programName };
    for (const key of [
      "source",
      "reason",
      "lookupField",
      "partitionName",
      "programStatus",
    ] as const) {
      if (options[key] !== undefined) envelope[key] = options[key];
    }
    // Push is always an upsert, so a resend cannot create a second lead; but each push writes a
    // "Push Lead to Marketo" activity and may fire the program's campaigns, so a push that may
    // have run is not replayed: its records come back `unknown` for the caller to look for.
    return writeBatches(this.#writer, {
      endpoint: "pushLeads",
      path: "/rest/v1/leads/push.json",
      inputs: leads,
      envelope,
      replaySafe: false,
      ...observed(options),
    });
  }

  /**
   * Get Leads by Filter Type (§6.2), one page at a time. More than 300 values are sent as
   * several queries; a long query goes as POST `_method=GET`.
   * @example for await (const page of client.getLeadsByFilter({ filterType: "email", filterValues })) …
   */
  async *getLeadsByFilter<L extends Lead = Lead>(
    filter: LeadFilter,
  ): AsyncGenerator<L[], void, undefined> {
    const values = filter.filterValues;
    for (let start = 0; start < values.length; start += 300) {
      let nextPageToken: string | undefined;
      // Bounded by Marketo's cap of 1,000 matches per query (more is 1003): at most 4 pages of 300.
      for (let page = 0; page < 1_000; page++) {
        const envelope = await this.#caller.call<L>({
          endpoint: "getLeadsByFilter",
          method: "GET",
          path: "/rest/v1/leads.json",
          query: {
            filterType: filter.filterType,
            filterValues: values.slice(start, start + 300),
            fields: filter.fields,
            batchSize: filter.batchSize,
            nextPageToken,
          },
        });
        if (envelope.result.length > 0) yield [...envelope.result];
        nextPageToken = envelope.nextPageToken;
        if (!nextPageToken || envelope.result.length === 0) break;
      }
    }
  }

  /** Describe Lead2 (§7.2), or Describe Lead (§7.1) read into the same shape where describe2 is missing. */
  async describeLeads(): Promise<LeadSchema> {
    try {
      const envelope = await this.#caller.call<LeadSchema>({
        endpoint: "describeLeads",
        method: "GET",
        path: "/rest/v1/leads/describe2.json",
      });
      const schema = envelope.result[0];
      if (schema) return schema;
    } catch (error) {
      if (!isMarketoError(error) || error.code !== "610") throw error;
    }
    const legacy = await this.#caller.call<{
      displayName: string;
      dataType: string;
      length?: number;
      rest?: { name: string; readOnly: boolean };
    }>({ endpoint: "describeLeads", method: "GET", path: "/rest/v1/leads/describe.json" });
    const fields = legacy.result.flatMap((f) =>
      f.rest
        ? [
            {
              name: f.rest.name,
              displayName: f.displayName,
              dataType: f.dataType,
              ...(f.length === undefined ? {} : { length: f.length }),
              updateable: !f.rest.readOnly,
            },
          ]
        : [],
    );
    return { name: "API Lead", searchableFields: [], fields };
  }

  /** Add to List (§8.1): one result per lead id ("added" reads as `created`). */
  addToList(
    listId: number,
    leadIds: readonly number[],
    options: WriteOptions = {},
  ): Promise<BatchResult<number>> {
    return this.#writeIds("addToList", `/rest/v1/lists/${listId}/leads.json`, leadIds, {}, options);
  }

  /** Get Lists (§8.3) by exact name; `undefined` when there is none. */
  async getListByName(name: string): Promise<Record<string, unknown> | undefined> {
    const envelope = await this.#caller.call<Record<string, unknown>>({
      endpoint: "getListByName",
      method: "GET",
      path: "/rest/v1/lists.json",
      query: { name },
    });
    // Exact name only: a near match would send leads to the wrong list.
    return envelope.result.find((list) => list.name === name);
  }

  /** Get Program by Name (§9.1); `undefined` when Marketo finds none. */
  async getProgramByName(
    name: string,
    options: { includeTags?: boolean; includeCosts?: boolean } = {},
  ): Promise<Record<string, unknown> | undefined> {
    try {
      const envelope = await this.#caller.call<Record<string, unknown>>({
        endpoint: "getProgramByName",
        method: "GET",
        path: "/rest/asset/v1/program/byName.json",
        query: { name, includeTags: options.includeTags, includeCosts: options.includeCosts },
      });
      return envelope.result[0];
    } catch (error) {
      // 702 "No data found" is how some Asset endpoints say "no such program" (unverified).
      if (isMarketoError(error) && error.code === "702") return undefined;
      throw error;
    }
  }

  /** Change Lead Program Status (§9.2) for existing members. */
  changeProgramStatus(
    programId: number,
    status: string,
    leadIds: readonly number[],
  ): Promise<BatchResult<number>> {
    return this.#writeIds(
      "changeProgramStatus",
      `/rest/v1/leads/programs/${programId}/status.json`,
      leadIds,
      {
        status,
      },
    );
  }

  /** Sync Custom Objects (§10.1); results are matched by `seq`. */
  syncCustomObjects<R extends Record<string, unknown>>(
    apiName: string,
    records: readonly R[],
    options: CustomObjectOptions = {},
  ): Promise<BatchResult<R>> {
    const action = options.action ?? "createOrUpdate";
    return writeBatches(this.#writer, {
      endpoint: "syncCustomObjects",
      path: `/rest/v1/customobjects/${encodeURIComponent(apiName)}.json`,
      inputs: records,
      envelope: { action, dedupeBy: options.dedupeBy ?? "dedupeFields" },
      // createOnly: a replay reports "already exists" for what the lost call created.
      replaySafe: action !== "createOnly",
      ...observed(options),
    });
  }

  /** Add Custom Activities (§10.2). Activities are write-once, so a lost answer is `unknown`, never replayed. */
  addCustomActivities(
    activities: readonly CustomActivity[],
    options: WriteOptions = {},
  ): Promise<BatchResult<CustomActivity>> {
    return writeBatches(this.#writer, {
      endpoint: "addCustomActivities",
      path: "/rest/v1/activities/external.json",
      inputs: activities,
      envelope: {},
      replaySafe: false,
      ...observed(options),
    });
  }

  /**
   * Bulk Import Leads (§11): uploads CSV files of at most 10 MB and resolves as soon as the jobs
   * exist, so their batch ids can be stored before polling with `job.wait()`.
   */
  importLeads(rows: readonly ImportRow[], options: ImportOptions = {}): Promise<ImportJob> {
    return this.#imports.start(rows, options);
  }

  /** Resumes an import from stored batch ids (after a restart). */
  resumeImport(
    stored: readonly number[] | readonly Pick<ImportFile, "batchId" | "start" | "end">[],
    rows?: readonly ImportRow[],
    options: ImportOptions = {},
  ): ImportJob {
    return this.#imports.resume(stored, rows, options);
  }

  /** Today's usage and error statistics (§12), and the gate's quota count reconciled with them. */
  async usage(): Promise<UsageReport> {
    const day = quotaDay(new Date(this.#now()));
    const usage = await this.#caller.call<UsageReport["usage"]>({
      endpoint: "usage",
      method: "GET",
      path: "/rest/v1/stats/usage.json",
    });
    const errors = await this.#caller.call<UsageReport["errors"]>({
      endpoint: "usage",
      method: "GET",
      path: "/rest/v1/stats/errors.json",
    });
    const counted = (await this.#gate.snapshot()).quotaUsed;
    const today = usage.result[0] ?? { date: day, total: 0, users: [] };
    await this.#gate.reconcile(day, today.total);
    return {
      usage: today,
      errors: errors.result[0] ?? { date: day, total: 0, errors: [] },
      counted,
      reconciled: (await this.#gate.snapshot()).quotaUsed,
    };
  }

  /** The gate's state now: calls in flight and in the window, quota used, pause, share. */
  gateState(): Promise<GateSnapshot> {
    return this.#gate.snapshot();
  }

  #writeIds(
    endpoint: Endpoint,
    path: string,
    ids: readonly number[],
    envelope: Record<string, unknown>,
    options: WriteOptions = {},
  ): Promise<BatchResult<number>> {
    return writeBatches(this.#writer, {
      endpoint,
      path,
      inputs: ids,
      envelope,
      replaySafe: true,
      wire: (id) => ({ id }),
      ...observed(options),
    });
  }

  /**
   * After a lost createOnly/createDuplicate answer: the leads the call is proven to have created
   * (see findCreated), and which records can be resent. A createOnly with a lookup value can
   * be resent: Marketo refuses (1005) what already exists. A createDuplicate not found may still be on
   * its way in Marketo and is left `unknown` for the caller to verify later.
   */
  async #verifyCreated<L extends Lead>(
    batch: readonly number[],
    inputs: readonly L[],
    lookupField: string,
    resendMissing: boolean,
    sentAt: number,
  ): Promise<{ settled: RecordResult<L>[]; resend: number[] }> {
    const settled: RecordResult<L>[] = [];
    const keyed: number[] = [];
    for (const index of batch) {
      // Without a lookup value Marketo has nothing to match on: a createOnly creates again too.
      if (lookupKey(inputs[index]?.[lookupField]) !== undefined) keyed.push(index);
      else
        settled.push(
          unknown(
            index,
            inputs[index] as L,
            `The call's answer was lost and the lead has no ${lookupField} to look it up by; verify it.`,
          ),
        );
    }
    let found: (FoundCreate | undefined)[];
    try {
      found = await findCreated(
        this,
        lookupField,
        keyed.map((i) => ({ input: inputs[i] as L, sentAt })),
        this.#verifyOptions,
      );
    } catch {
      for (const index of keyed) {
        settled.push(
          unknown(
            index,
            inputs[index] as L,
            "The call's answer was lost and the lookup failed; verify this lead.",
          ),
        );
      }
      return { settled, resend: [] };
    }
    const resend: number[] = [];
    keyed.forEach((index, i) => {
      const lead = found[i];
      if (lead) settled.push(createdByLostCall(index, inputs[index] as L, lead.id));
      else if (resendMissing) resend.push(index);
      else
        settled.push(
          unknown(
            index,
            inputs[index] as L,
            `The call's answer was lost and no lead it created is in Marketo yet; the call may still be running. Not resent (createDuplicate); verify it.`,
          ),
        );
    });
    return { settled, resend };
  }

  /** Get Paging Token: the token Get Lead Activities starts from, for activities since `since`. */
  getPagingToken(since: Date): Promise<string> {
    return pagingToken(this.#caller, since);
  }

  /**
   * Get Lead Activities since a time, page by page until Marketo has no more; each call goes
   * through the gate, and a URI past 8 KB is sent as POST `_method=GET` (§6.3).
   * @example for await (const page of client.getLeadActivities({ activityTypeIds: [145], leadIds, since })) …
   */
  getLeadActivities(query: ActivityQuery): AsyncGenerator<Activity[], void, undefined> {
    return leadActivities(this.#caller, query);
  }
}

/** A record a lost create call is proven to have created (see findCreated). */
function createdByLostCall<I>(index: number, input: I, id: number): RecordResult<I> {
  return {
    index,
    input,
    status: "created",
    id,
    marketoStatus: "created",
    reasons: [],
    requestId: undefined,
  };
}

export type { MarketoError };

/** The write's hooks, without undefined members (exactOptionalPropertyTypes). */
function observed(options: WriteOptions): WriteOptions {
  return {
    ...(options.onRetriedCall ? { onRetriedCall: options.onRetriedCall } : {}),
    ...(options.onSending ? { onSending: options.onSending } : {}),
  };
}
