import type { Route } from "../route.ts";
import type { DestinationCatalog } from "./destination-catalog.ts";
import type { DestinationLeases } from "./destination-leases.ts";
import type { StoreError } from "./errors.ts";

/** How a round's attempts are recorded (Store.recordAttempts). */
export interface RecordOptions {
  /**
   * The worker that claimed the leads. A record for a lead no longer claimed by it (its
   * destination was taken over after a pause longer than the lease) does not move the lead:
   * its row is still logged, as a call that did not decide (outcome `sending`), so the log keeps
   * what Marketo answered while the new owner's own outcome stands.
   * @default none: the claim is not checked
   */
  readonly worker?: string;
}

/** Where a lead is on its way. A lead's status follows from its attempts; the store keeps it beside them. */
export type LeadStatus =
  | "queued"
  | "sending"
  | "delivered"
  | "retrying"
  | "needs_fix"
  | "paused"
  | "test";

export const LEAD_STATUSES: readonly LeadStatus[] = [
  "queued",
  "sending",
  "delivered",
  "retrying",
  "needs_fix",
  "paused",
  "test",
];

/** A lead as intake hands it to the store. */
export interface NewLead {
  readonly destination: string;
  readonly route: Route;
  /** The source row exactly as received; repost re-maps from it. */
  readonly raw: Readonly<Record<string, unknown>>;
  /** The mapped Marketo input, or `undefined` when mapping or preflight failed. */
  readonly input: Readonly<Record<string, unknown>> | undefined;
  /** Idempotency key: a second lead with the same destination and key is not accepted again. */
  readonly intakeKey?: string;
  readonly source?: string;
  readonly sourceLine?: number;
  /** The field map file the lead was mapped with; repost maps the raw row again with its current content. */
  readonly mapPath?: string;
  readonly test?: boolean;
  /** Set when mapping or preflight refused the lead: it is stored as needs_fix with this attempt. */
  readonly refused?: RefusedAtIntake;
}

/** Why intake refused to send a lead (no call was spent): recorded as its first attempt. */
export interface RefusedAtIntake {
  readonly code: string;
  readonly reason: string;
  readonly fix: string;
}

export interface AddResult {
  /** The id of each lead, in input order: new, or the one accepted before under the same intake key. */
  readonly ids: readonly number[];
  /** Per input: true when the lead had been accepted before and was not stored again. */
  readonly duplicate: readonly boolean[];
  readonly accepted: number;
  readonly duplicates: number;
}

/**
 * One call of a lead's delivery, in route order: the lead itself (Sync Leads or Push Lead),
 * then its follow-ups (static list, custom object, custom activity).
 */
export type Step = "lead" | "list" | "customObject" | "activity";

/** A call for a lead that may have reached Marketo and whose answer was never recorded. */
export interface OnWire {
  readonly step: Step;
  /** Epoch ms the first such call was handed to the network. */
  readonly at: number;
}

/** A lead claimed for sending. */
export interface ClaimedLead {
  readonly id: number;
  readonly destination: string;
  readonly route: Route;
  readonly routeKey: string;
  readonly input: Readonly<Record<string, unknown>>;
  readonly attempts: number;
  /** The last step Marketo confirmed for this delivery; the round starts after it. */
  readonly done: Step | undefined;
  /** The lead's Marketo id, once its lead step is done. */
  readonly marketoId: number | undefined;
  /** Set when a call for the lead may be in Marketo (the process died, or its answer was lost): verify before sending again. */
  readonly onWire: OnWire | undefined;
  readonly test: boolean;
  /** Epoch ms the lead was accepted: the date of its custom activity, the same on every resend. */
  readonly acceptedAt: number;
}

/** One call that carried a lead, as a row of its post-out log holds it. */
export interface LoggedCall {
  readonly leadId: number;
  readonly at: number;
  readonly endpoint: string;
  readonly request: unknown;
  readonly response: unknown;
  readonly requestId: string | undefined;
  /** "200" on success, else the Marketo code, HTTP status, `network` or `timeout`. */
  readonly statusCode: string;
  readonly reason: string | undefined;
  readonly durationMs: number;
}

/** The result of one attempt for one lead, as the dispatcher records it. */
export interface AttemptRecord extends LoggedCall {
  /** The step the attempt was for; a delivered (or test) attempt marks the step done. */
  readonly step: Step;
  /** The status the lead moves to. */
  readonly status: Exclude<LeadStatus, "queued" | "sending">;
  /** When a retrying or paused lead is due again. */
  readonly nextAt?: number;
  readonly marketoId?: number;
  readonly fix?: string;
  /**
   * Whether the call may have reached Marketo is still unknown: the lead's wire mark (see
   * Store.markOnWire) stays, and the next round verifies before it sends. Otherwise a mark on
   * this attempt's step is cleared (the answer is known); a mark on another step stays (a
   * later step of the same round may have a call out whose answer was lost).
   */
  readonly uncertain?: boolean;
}

/**
 * A call that carried a lead but did not decide its outcome: the client sent the lead again
 * (after a backoff, a new token, a split or a lookup). Kept in the post-out log as history; the
 * lead's status and attempt count do not move (the row's outcome reads `sending`).
 * Recorded with the round's attempts (Store.recordAttempts).
 */
export interface TryRecord extends LoggedCall {
  /** The lead's attempt this call belongs to: the one its decisive call is then recorded as. */
  readonly n: number;
}

/** Filters shared by the list, the report and repost. */
export interface LeadFilter {
  readonly ids?: readonly number[];
  readonly status?: readonly LeadStatus[];
  /** The lead's last ResponseStatusCode (a delivered lead has none: its last answer was 200). */
  readonly code?: readonly string[];
  /**
   * A ResponseStatusCode any of the lead's logged calls was answered, a call tried again among
   * them: finds the leads an outage's 503 touched although their last code is another.
   */
  readonly attemptCode?: readonly string[];
  readonly destination?: string;
  readonly program?: string;
  /** Epoch ms, inclusive, on the lead's last update. */
  readonly since?: number;
  readonly until?: number;
  /** Substring of the email. */
  readonly email?: string;
}

export interface LeadPage {
  readonly leads: LeadRow[];
  readonly counts: Record<LeadStatus, number>;
}

export interface LeadRow {
  readonly id: number;
  readonly destination: string;
  readonly route: Route;
  readonly raw: Readonly<Record<string, unknown>>;
  readonly input: Readonly<Record<string, unknown>> | undefined;
  readonly email: string | undefined;
  readonly program: string | undefined;
  readonly source: string | undefined;
  readonly sourceLine: number | undefined;
  readonly mapPath: string | undefined;
  readonly status: LeadStatus;
  readonly attempts: number;
  readonly nextAt: number | undefined;
  readonly lastCode: string | undefined;
  readonly lastReason: string | undefined;
  readonly fix: string | undefined;
  readonly marketoId: number | undefined;
  readonly test: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface AttemptRow {
  readonly id: number;
  readonly leadId: number;
  readonly n: number;
  readonly at: number;
  readonly destination: string;
  readonly endpoint: string;
  readonly request: unknown;
  readonly response: unknown;
  readonly requestId: string | undefined;
  readonly statusCode: string;
  readonly reason: string | undefined;
  readonly outcome: LeadStatus;
  readonly durationMs: number | undefined;
}

export interface DestinationState {
  readonly name: string;
  readonly pausedUntil: number | undefined;
  readonly pausedCode: string | undefined;
  readonly pausedReason: string | undefined;
}

/** Attempts per ResponseStatusCode in one time bucket. */
export interface CodeBucket {
  /** Epoch ms the bucket starts at: a multiple of the bucket size (UTC hours and days). */
  readonly start: number;
  /** Attempts by their status code ("200" for success). */
  readonly counts: Readonly<Record<string, number>>;
}

/** A repost: the lead's input re-mapped from its raw row by the current mapping. */
export interface Requeue {
  readonly id: number;
  readonly input: Readonly<Record<string, unknown>> | undefined;
  readonly route: Route;
  readonly mapPath?: string;
  /** Set when the current mapping still refuses the lead. */
  readonly refused?: RefusedAtIntake;
}

/**
 * The delivery queue: intake, claims, wire marks, attempts, leases and destination pauses. The
 * dispatcher is its only writer of delivery state; intake and repost add and requeue leads.
 */
export interface DeliveryQueue extends DestinationLeases, DestinationCatalog {
  /**
   * Stores leads in one transaction: when it resolves, they are durably stored. Rejects with a
   * StoreError when the database cannot keep them (deleted, full, unreachable …), storing
   * nothing; only a connection lost during the commit leaves that unknown, and posting the same
   * leads again is then answered by their intake keys.
   */
  addLeads(leads: readonly NewLead[], now: number): Promise<AddResult>;
  /**
   * Claims up to `limit` due leads of a destination (queued, retrying, or paused with its pause
   * over: next_at ≤ now), oldest first, and marks them sending. A lead is claimed by one worker
   * at a time, whichever process asks. Claims nothing while the destination's pause lasts
   * (paused_until > now): the dispatcher reads the pause only when a claim comes back empty.
   */
  claimDue(
    destination: string,
    options: {
      readonly now: number;
      readonly limit: number;
      readonly worker: string;
      readonly leaseMs: number;
    },
  ): Promise<ClaimedLead[]>;
  /**
   * claimDue for several destinations at once (all different), one limit each: what each
   * claimed, in the order asked. One statement on a server: a process's rounds that start
   * together claim together.
   */
  claimDueMany(
    requests: readonly { readonly destination: string; readonly limit: number }[],
    options: { readonly now: number; readonly worker: string; readonly leaseMs: number },
  ): Promise<ClaimedLead[][]>;
  /** Extends the lease of the leads a worker is sending. */
  renewLeases(worker: string, leaseUntil: number): Promise<void>;
  /**
   * Notes durably, before a call leaves, that it may put these leads' `step` into Marketo
   * (the wire mark; the first call of a step keeps its time). `done` is the step before, now
   * confirmed, and `marketoId` the lead's id once known. Throws LeaseLostError, and nothing
   * is marked, when a lead is no longer claimed by `worker`, or when `worker` does not hold its
   * destination's lease (DestinationLeases) unexpired at `at`: the call must not be sent.
   */
  markOnWire(
    leads: readonly { readonly id: number; readonly marketoId?: number }[],
    mark: {
      readonly step: Step;
      readonly done: Step | undefined;
      readonly at: number;
      readonly worker: string;
    },
  ): Promise<void>;
  /** Takes back the wire mark of leads whose call Marketo answered without carrying it out (606, 413 …). */
  clearWire(leadIds: readonly number[], step: Step): Promise<void>;
  /** Of these Marketo ids, those already recorded for a lead of the destination. */
  attributedIds(destination: string, marketoIds: readonly number[]): Promise<Set<number>>;
  /**
   * Records attempts and moves each lead to its new status, in one transaction, with the calls
   * the client sent again: each is written just before the row of the attempt it belongs to
   * (same lead and number), or after the records when that attempt is not among them.
   */
  recordAttempts(
    records: readonly AttemptRecord[],
    tries?: readonly TryRecord[],
    options?: RecordOptions,
  ): Promise<void>;
  /** Workers that hold leads in `sending` for a destination. */
  sendingWorkers(destination: string): Promise<string[]>;
  /**
   * Gives back the leads a dead worker (or an expired lease) left in `sending`: they are
   * queued again; those with a wire mark are verified before anything is sent again.
   */
  releaseClaims(
    destination: string,
    options: { readonly workers?: readonly string[]; readonly expiredBefore?: number },
  ): Promise<number>;
  /** The earliest time a queued or retrying lead of the destination is due. */
  nextDueAt(destination: string): Promise<number | undefined>;
  /** Marks the queued leads of a paused destination paused, due when the pause ends. Returns how many. */
  holdQueued(destination: string, until: number, now: number): Promise<number>;
  /** Puts every lead of a paused destination back in line when the pause ends. */
  resumeDestination(destination: string, now: number): Promise<number>;
  getDestination(name: string): Promise<DestinationState | undefined>;
  setDestinationPause(
    name: string,
    pause: { readonly until: number; readonly code: string; readonly reason: string } | undefined,
    now: number,
  ): Promise<void>;
  /**
   * Queues leads again with their re-mapped input; history is kept. A delivered lead starts
   * over from its lead step; any other keeps the steps Marketo confirmed. A lead being sent,
   * or whose cut-off call is still to be looked for (a wire mark, not needs_fix), is left
   * alone; a needs_fix lead's wire mark is dropped (the person reposting has checked Marketo).
   * Returns how many were requeued.
   */
  requeue(leads: readonly Requeue[], now: number): Promise<number>;
}

/** The read model: the lead list, the post-out log, the report, counts and stats. It writes nothing. */
export interface ReadModel {
  /**
   * A page of the leads matching the filter, newest first, after the cursor (a lead id), and
   * the counts by status over the whole filter, read together.
   */
  listLeads(
    filter: LeadFilter,
    page: { readonly limit: number; readonly before?: number },
  ): Promise<LeadPage>;
  getLead(id: number): Promise<LeadRow | undefined>;
  /** A lead's attempts in the order they were made (a retried call before its attempt's last). */
  getAttempts(leadId: number): Promise<AttemptRow[]>;
  countByStatus(filter: LeadFilter): Promise<Record<LeadStatus, number>>;
  /** Attempts per code over the filter's leads (for the report summary). */
  countByCode(filter: LeadFilter): Promise<Record<string, number>>;
  /**
   * Attempts per status code in buckets of `bucketMs` (aligned to the epoch, so to UTC hours
   * and days), over attempts made in [since, until]; only buckets holding attempts, oldest first.
   */
  countCodesOverTime(range: {
    readonly since: number;
    readonly until: number;
    readonly bucketMs: number;
    readonly destination?: string;
  }): Promise<CodeBucket[]>;
  /** Every attempt of the leads matching the filter, oldest first, in pages (for the report). */
  iterateAttempts(
    filter: LeadFilter,
    pageSize?: number,
  ): AsyncIterable<AttemptRow & { readonly lead: LeadRow }>;
  /** Every lead matching the filter with its latest attempt, oldest first, in pages (the report). */
  iterateLeadReport(
    filter: LeadFilter,
    pageSize?: number,
  ): AsyncIterable<{ readonly lead: LeadRow; readonly last: AttemptRow | undefined }>;
  /** Every lead matching the filter, oldest first, in pages. */
  iterateLeads(filter: LeadFilter, pageSize?: number): AsyncIterable<LeadRow>;
}

/**
 * Everything the gateway keeps: the delivery queue and the read model over the same leads. Two
 * implementations, SQLite (embedded, one dispatching process per file) and PostgreSQL (many
 * processes, claims with FOR UPDATE SKIP LOCKED), pass the same suite (test/store-suite.ts);
 * each keeps all its SQL in its own folder.
 */
export interface Store extends DeliveryQueue, ReadModel {
  /**
   * Why the store cannot keep leads now (a StoreError naming the cause), or `undefined`. With
   * `probe`, a small write proves the database takes writes (for a periodic check).
   */
  health(options?: { readonly probe?: boolean }): Promise<StoreError | undefined>;

  close(): Promise<void>;
}

/**
 * A lead's claim, or its destination's lease, passed to another worker (or ran out): this worker
 * must not send it.
 */
export class LeaseLostError extends Error {
  override readonly name = "LeaseLostError";
  readonly leadIds: readonly number[];

  constructor(leadIds: readonly number[]) {
    super(`lead(s) ${leadIds.slice(0, 10).join(", ")} are no longer claimed by this worker`);
    this.leadIds = leadIds;
  }
}
