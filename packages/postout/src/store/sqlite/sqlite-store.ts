import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { clip } from "@postout/marketo";
import Database from "better-sqlite3";
import { type Route, requestContent, routeKey } from "../../route.ts";
import type {
  CatalogChange,
  CatalogEntry,
  NewCatalogEntry,
  OtherKey,
  RemoveResult,
  SealedSecret,
  WaitingLeads,
} from "../destination-catalog.ts";
import type { DueDestination } from "../destination-leases.ts";
import { isStoreError, type StoreError } from "../errors.ts";
import { emailOf, programOf } from "../lead-fields.ts";
import { boundedResponse, boundedText, ROW_BOUNDS } from "../row-bounds.ts";
import type {
  AddResult,
  AttemptRecord,
  AttemptRow,
  ClaimedLead,
  CodeBucket,
  DestinationState,
  LeadFilter,
  LeadPage,
  LeadRow,
  LeadStatus,
  LoggedCall,
  NewLead,
  RecordOptions,
  Requeue,
  Step,
  Store,
  TryRecord,
} from "../store.ts";
import { LEAD_STATUSES, LeaseLostError } from "../store.ts";
import { DatabaseFile } from "./database-file.ts";
import { ProcessLock } from "./process-lock.ts";
import { storeFaultOf } from "./sqlite-fault.ts";

const MIGRATIONS = new URL("./migrations/", import.meta.url);

export interface SqliteStoreOptions {
  /**
   * Take the file's process lock for this command line (e.g. `postout serve`): a second
   * dispatching process on the same file is refused with StoreLockedError. Reading commands
   * leave it out.
   * @default undefined (no lock)
   */
  readonly lockFor?: string;
}

interface LeadRecord {
  id: number;
  destination: string;
  route: string;
  raw: string;
  input: string | null;
  email: string | null;
  program: string | null;
  source: string | null;
  source_line: number | null;
  map_path: string | null;
  status: LeadStatus;
  attempts: number;
  next_at: number | null;
  last_code: string | null;
  last_reason: string | null;
  fix: string | null;
  marketo_id: number | null;
  test: number;
  created_at: number;
  updated_at: number;
}

interface AttemptRecordRow {
  id: number;
  lead_id: number;
  n: number;
  at: number;
  destination: string;
  endpoint: string;
  request: string;
  response: string | null;
  request_id: string | null;
  status_code: string;
  reason: string | null;
  outcome: LeadStatus;
  duration_ms: number | null;
}

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

interface CatalogRecord {
  name: string;
  base_url: string;
  client_id: string;
  sealed_secret: string;
  calls_per_20s: number | null;
  concurrency: number | null;
  daily_budget: number | null;
  marker_field: string | null;
  created_at: number;
  updated_at: number;
}

function toCatalogEntry(r: CatalogRecord): CatalogEntry {
  return {
    name: r.name,
    baseUrl: r.base_url,
    clientId: r.client_id,
    sealedSecret: r.sealed_secret,
    callsPer20s: opt(r.calls_per_20s),
    concurrency: opt(r.concurrency),
    dailyBudget: opt(r.daily_budget),
    markerField: opt(r.marker_field),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function catalogParams(e: NewCatalogEntry) {
  return {
    name: e.name,
    baseUrl: e.baseUrl,
    clientId: e.clientId,
    sealedSecret: e.secret.sealed,
    callsPer20s: e.callsPer20s ?? null,
    concurrency: e.concurrency ?? null,
    dailyBudget: e.dailyBudget ?? null,
    markerField: e.markerField ?? null,
  };
}

/** The catalog's next version: one above every row's, inside the writing transaction. */
const NEXT_VERSION = "(SELECT coalesce(max(version), 0) + 1 FROM destination_catalog)";

function toLead(r: LeadRecord): LeadRow {
  return {
    id: r.id,
    destination: r.destination,
    route: JSON.parse(r.route) as Route,
    raw: JSON.parse(r.raw) as Record<string, unknown>,
    input: r.input === null ? undefined : (JSON.parse(r.input) as Record<string, unknown>),
    email: opt(r.email),
    program: opt(r.program),
    source: opt(r.source),
    sourceLine: opt(r.source_line),
    mapPath: opt(r.map_path),
    status: r.status,
    attempts: r.attempts,
    nextAt: opt(r.next_at),
    lastCode: opt(r.last_code),
    lastReason: opt(r.last_reason),
    fix: opt(r.fix),
    marketoId: opt(r.marketo_id),
    test: r.test === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toAttempt(r: AttemptRecordRow): AttemptRow {
  return {
    id: r.id,
    leadId: r.lead_id,
    n: r.n,
    at: r.at,
    destination: r.destination,
    endpoint: r.endpoint,
    request: JSON.parse(r.request),
    response: r.response === null ? undefined : JSON.parse(r.response),
    requestId: opt(r.request_id),
    statusCode: r.status_code,
    reason: opt(r.reason),
    outcome: r.outcome,
    durationMs: opt(r.duration_ms),
  };
}

/** The MATCH phrase of an "email contains" part, when it is long enough for the trigram index. */
function emailPhrase(filter: LeadFilter): string | undefined {
  if (filter.email === undefined) return undefined;
  const part = filter.email.toLowerCase();
  // A quoted phrase is literal.
  return [...part].length >= 3 ? `"${part.replaceAll('"', '""')}"` : undefined;
}

/**
 * WHERE clause and parameters for a filter, on the `leads` table aliased `l`. With
 * `emailMatched`, the email part's leads are already in temp.email_matches (see listLeads).
 */
function where(filter: LeadFilter, emailMatched = false): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (filter.ids) {
    clauses.push("l.id IN (SELECT value FROM json_each(?))");
    params.push(JSON.stringify(filter.ids));
  }
  if (filter.status && filter.status.length > 0) {
    clauses.push("l.status IN (SELECT value FROM json_each(?))");
    params.push(JSON.stringify(filter.status));
  }
  if (filter.code && filter.code.length > 0) {
    clauses.push("l.last_code IN (SELECT value FROM json_each(?))");
    params.push(JSON.stringify(filter.code));
  }
  if (filter.attemptCode && filter.attemptCode.length > 0) {
    // The index attempts_code_at (status_code, at) finds the calls.
    clauses.push(
      "l.id IN (SELECT a.lead_id FROM attempts a WHERE a.status_code IN (SELECT value FROM json_each(?)))",
    );
    params.push(JSON.stringify(filter.attemptCode));
  }
  if (filter.destination !== undefined) {
    clauses.push("l.destination = ?");
    params.push(filter.destination);
  }
  if (filter.program !== undefined) {
    clauses.push("l.program = ?");
    params.push(filter.program);
  }
  if (filter.since !== undefined) {
    clauses.push("l.updated_at >= ?");
    params.push(filter.since);
  }
  if (filter.until !== undefined) {
    clauses.push("l.updated_at <= ?");
    params.push(filter.until);
  }
  if (filter.email !== undefined) {
    const phrase = emailPhrase(filter);
    if (emailMatched) {
      clauses.push("l.id IN (SELECT id FROM temp.email_matches)");
    } else if (phrase !== undefined) {
      // The trigram index (migration 003) finds the substring.
      clauses.push(
        "l.id IN (SELECT rowid FROM leads_email_trigram WHERE leads_email_trigram MATCH ?)",
      );
      params.push(phrase);
    } else {
      // Shorter than one trigram: read every email.
      clauses.push("l.email LIKE ? ESCAPE '\\'");
      params.push(`%${filter.email.toLowerCase().replace(/[\\%_]/g, "\\$&")}%`);
    }
  }
  return { sql: clauses.length > 0 ? clauses.join(" AND ") : "1 = 1", params };
}

/**
 * The embedded store: one SQLite file in WAL mode. Every statement of the gateway's SQLite
 * storage is in this file; migrations are the numbered files beside it.
 */
export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #path: string;
  /** The opened file, to tell when it was deleted or replaced; none in memory. */
  readonly #file: DatabaseFile | undefined;
  readonly #lock: ProcessLock | undefined;
  /** The last write that failed for a fault of the file or the disk, until a write succeeds. */
  #fault: StoreError | undefined;

  constructor(given: string, options: SqliteStoreOptions = {}) {
    // Absolute: the health checks stat it, and messages name it, whatever the working folder.
    const path = given === ":memory:" ? given : resolve(given);
    this.#path = path;
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.#lock =
      options.lockFor === undefined || path === ":memory:"
        ? undefined
        : ProcessLock.acquire(path, options.lockFor);
    try {
      this.#db = new Database(path);
    } catch (error) {
      this.#lock?.release();
      throw storeFaultOf(error, path) ?? error;
    }
    this.#db.pragma("journal_mode = WAL");
    // NORMAL in WAL mode: a commit survives a process crash (kill -9); only an OS crash may lose the last commits.
    this.#db.pragma("synchronous = NORMAL");
    this.#db.pragma("foreign_keys = ON");
    this.#db.pragma("busy_timeout = 5000");
    this.#migrate();
    // The leads of a list's "email contains" part, looked up once for its page and its counts.
    this.#db.pragma("temp_store = MEMORY");
    this.#db.exec("CREATE TEMP TABLE email_matches (id INTEGER PRIMARY KEY)");
    this.#file = path === ":memory:" ? undefined : new DatabaseFile(path);
  }

  /**
   * Why the store cannot keep leads now, or `undefined` when it can: the opened file was deleted,
   * replaced or made unwritable (checked at the path), or the last write failed for lack of
   * space or an I/O error and a small write still does not commit. With `probe`, a small write
   * is tried even without a failed one (the periodic check: a full disk is found before intake
   * runs into it).
   */
  async health(options: { readonly probe?: boolean } = {}): Promise<StoreError | undefined> {
    const moved = this.#file?.check();
    if (moved) return moved;
    if (this.#fault || options.probe) {
      try {
        this.#write(() => this.#probe());
      } catch (error) {
        if (!isStoreError(error)) throw error;
      }
    }
    return this.#fault;
  }

  /**
   * Limits the database to about `bytes` (SQLite's max_page_count on this connection): a write
   * beyond it fails as a full disk does (507 at intake). For a quota below the disk's size.
   */
  setSizeLimit(bytes: number): void {
    const pageSize = this.#db.pragma("page_size", { simple: true }) as number;
    this.#db.pragma(`max_page_count = ${Math.max(1, Math.floor(bytes / pageSize))}`);
  }

  /** A write that needs a new page and commits, leaving nothing behind (migration 006). */
  #probe(): void {
    const pageSize = this.#db.pragma("page_size", { simple: true }) as number;
    this.#db.transaction(() => {
      this.#db
        .prepare("INSERT OR REPLACE INTO store_probe (id, pad) VALUES (1, zeroblob(?))")
        .run(pageSize);
      this.#db.prepare("DELETE FROM store_probe").run();
    })();
  }

  /**
   * Runs a write: a fault of the file or the disk becomes a StoreError (and the store's health
   * until a write succeeds); any other error is rethrown as it is.
   */
  #write<T>(write: () => T): T {
    try {
      const result = write();
      this.#fault = undefined;
      return result;
    } catch (error) {
      const fault = storeFaultOf(error, this.#path);
      if (!fault) throw error;
      this.#fault = fault;
      throw fault;
    }
  }

  #migrate(): void {
    const current = this.#db.pragma("user_version", { simple: true }) as number;
    const files = readdirSync(MIGRATIONS)
      .filter((f) => /^\d{3}-.+\.sql$/.test(f))
      .sort();
    for (const file of files) {
      const version = Number(file.slice(0, 3));
      if (version <= current) continue;
      const sql = readFileSync(new URL(file, MIGRATIONS), "utf8");
      this.#db
        .transaction(() => {
          this.#db.exec(sql);
          this.#db.pragma(`user_version = ${version}`);
        })
        .immediate();
    }
  }

  /**
   * Refuses with a StoreError, storing nothing, when the opened file was deleted, replaced or made
   * unwritable; a fault of the disk while writing is a StoreError too. Checked again after the
   * commit: leads written to a file that vanished meanwhile are not reported as kept.
   */
  async addLeads(leads: readonly NewLead[], now: number): Promise<AddResult> {
    const before = this.#file?.check();
    if (before) throw before;
    const result = this.#write(() => this.#insertLeads(leads, now));
    const after = this.#file?.check();
    if (after) throw after;
    return result;
  }

  #insertLeads(leads: readonly NewLead[], now: number): AddResult {
    const insert = this.#db.prepare(
      `INSERT OR IGNORE INTO leads
         (destination, intake_key, route, route_key, raw, input, email, program, source, source_line,
          map_path, status, attempts, next_at, last_code, last_reason, fix, test, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertAttempt = this.#attemptInsert();
    const existing = this.#db.prepare(
      "SELECT id FROM leads WHERE destination = ? AND intake_key = ?",
    );
    // A lead accepted while its destination is paused waits as paused from the start, instead of
    // being written queued and again paused by the dispatcher (a 607 pause lasts until midnight).
    const pauseOf = this.#db.prepare(
      "SELECT paused_until FROM destinations WHERE name = ? AND paused_until > ?",
    );
    const pauses = new Map<string, number | undefined>();
    const pausedUntil = (destination: string) => {
      if (!pauses.has(destination)) {
        const row = pauseOf.get(destination, now) as { paused_until: number } | undefined;
        pauses.set(destination, row?.paused_until);
      }
      return pauses.get(destination);
    };
    // New leads join the email trigram index (migration 003) in one statement inside the same
    // transaction, so a committed lead is found by "email contains" at once; 003's per-row
    // insert trigger (dropped by migration 004) cost about six times as much and halved intake.
    const indexEmails = this.#db.prepare(
      `INSERT INTO leads_email_trigram (rowid, email)
       SELECT id, email FROM leads WHERE id IN (SELECT value FROM json_each(?))`,
    );
    const ids: number[] = [];
    const duplicate: boolean[] = [];
    const added: number[] = [];
    this.#db.transaction(() => {
      for (const lead of leads) {
        const refused = lead.refused;
        const until = refused ? undefined : pausedUntil(lead.destination);
        const info = insert.run(
          lead.destination,
          lead.intakeKey ?? null,
          JSON.stringify(lead.route),
          routeKey(lead.route),
          JSON.stringify(lead.raw),
          lead.input === undefined ? null : JSON.stringify(lead.input),
          emailOf(lead),
          programOf(lead.route),
          lead.source ?? null,
          lead.sourceLine ?? null,
          lead.mapPath ?? null,
          refused ? "needs_fix" : until === undefined ? "queued" : "paused",
          refused ? 1 : 0,
          refused ? null : (until ?? now),
          refused?.code ?? null,
          refused?.reason ?? null,
          refused?.fix ?? null,
          lead.test ? 1 : 0,
          now,
          now,
        );
        if (info.changes === 0) {
          const before = existing.get(lead.destination, lead.intakeKey ?? null) as { id: number };
          ids.push(before.id);
          duplicate.push(true);
          continue;
        }
        const id = Number(info.lastInsertRowid);
        ids.push(id);
        added.push(id);
        duplicate.push(false);
        if (refused) {
          insertAttempt.run(
            id,
            1,
            now,
            lead.destination,
            "preflight",
            JSON.stringify(requestContent(lead.route, lead.input ?? lead.raw)),
            null,
            null,
            refused.code,
            refused.reason,
            "needs_fix",
            0,
          );
        }
      }
      if (added.length > 0) indexEmails.run(JSON.stringify(added));
    })();
    const duplicates = duplicate.filter(Boolean).length;
    return { ids, duplicate, accepted: ids.length - duplicates, duplicates };
  }

  #attemptInsert() {
    return this.#db.prepare(
      `INSERT INTO attempts
         (lead_id, n, at, destination, endpoint, request, response, request_id, status_code, reason, outcome, duration_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  async claimDue(
    destination: string,
    options: { now: number; limit: number; worker: string; leaseMs: number },
  ): Promise<ClaimedLead[]> {
    return this.#claimDue(destination, options);
  }

  /** One destination's claim: one statement, so no other writer claims the same rows in between. */
  #claimDue(
    destination: string,
    options: { now: number; limit: number; worker: string; leaseMs: number },
  ): ClaimedLead[] {
    const rows = this.#db
      .prepare(
        `UPDATE leads SET status = 'sending', claimed_by = ?, lease_until = ?, updated_at = ?
         WHERE id IN (
           SELECT id FROM leads
           WHERE destination = ? AND status IN ('queued', 'retrying', 'paused') AND next_at <= ?
             AND NOT EXISTS (SELECT 1 FROM destinations WHERE name = ? AND paused_until > ?)
           ORDER BY next_at, id LIMIT ?)
         RETURNING id, destination, route, route_key, input, attempts, done_step, marketo_id,
           wire_step, wire_at, test, created_at`,
      )
      .all(
        options.worker,
        options.now + options.leaseMs,
        options.now,
        destination,
        options.now,
        destination,
        options.now,
        options.limit,
      ) as {
      id: number;
      destination: string;
      route: string;
      route_key: string;
      input: string | null;
      attempts: number;
      done_step: Step | null;
      marketo_id: number | null;
      wire_step: Step | null;
      wire_at: number | null;
      test: number;
      created_at: number;
    }[];
    return rows
      .sort((a, b) => a.id - b.id)
      .map((r) => ({
        id: r.id,
        destination: r.destination,
        route: JSON.parse(r.route) as Route,
        routeKey: r.route_key,
        input: r.input === null ? {} : (JSON.parse(r.input) as Record<string, unknown>),
        attempts: r.attempts,
        done: opt(r.done_step),
        marketoId: opt(r.marketo_id),
        onWire:
          r.wire_step === null || r.wire_at === null
            ? undefined
            : { step: r.wire_step, at: r.wire_at },
        test: r.test === 1,
        acceptedAt: r.created_at,
      }));
  }

  async claimDueMany(
    requests: readonly { readonly destination: string; readonly limit: number }[],
    options: { readonly now: number; readonly worker: string; readonly leaseMs: number },
  ): Promise<ClaimedLead[][]> {
    if (new Set(requests.map((r) => r.destination)).size !== requests.length)
      throw new RangeError("claimDueMany: each destination at most once");
    // One transaction, all or none: a claim that fails after another destination's committed
    // would leave that destination's leads sending, handed to no round (its caller is told the
    // claim failed), their lease renewed by the worker's other rounds until the process ends.
    return this.#db
      .transaction(() =>
        requests.map(({ destination, limit }) =>
          this.#claimDue(destination, { ...options, limit }),
        ),
      )
      .immediate();
  }

  async renewLeases(worker: string, leaseUntil: number): Promise<void> {
    this.#db
      .prepare("UPDATE leads SET lease_until = ? WHERE status = 'sending' AND claimed_by = ?")
      .run(leaseUntil, worker);
  }

  async markOnWire(
    leads: readonly { readonly id: number; readonly marketoId?: number }[],
    mark: { step: Step; done: Step | undefined; at: number; worker: string },
  ): Promise<void> {
    // The first call of a step keeps its time: a create is looked for from the earliest call
    // that may have made it. Only a lead the worker claims, on a destination whose lease it holds
    // at the mark's time (the fence: a worker paused past its lease must not send).
    const update = this.#db.prepare(
      `UPDATE leads SET
         wire_at = CASE WHEN wire_step IS @step THEN coalesce(wire_at, @at) ELSE @at END,
         wire_step = @step, done_step = @done, marketo_id = coalesce(@marketoId, marketo_id)
       WHERE id = @id AND status = 'sending' AND claimed_by = @worker
         AND EXISTS (SELECT 1 FROM destination_leases d
           WHERE d.destination = leads.destination AND d.owner = @worker AND d.expires_at > @at)`,
    );
    this.#db.transaction(() => {
      const lost: number[] = [];
      for (const lead of leads) {
        const { changes } = update.run({
          step: mark.step,
          at: mark.at,
          done: mark.done ?? null,
          marketoId: lead.marketoId ?? null,
          id: lead.id,
          worker: mark.worker,
        });
        if (changes === 0) lost.push(lead.id);
      }
      // Thrown inside the transaction: it rolls back, so no lead is marked for a call not sent.
      if (lost.length > 0) throw new LeaseLostError(lost);
    })();
  }

  async clearWire(leadIds: readonly number[], step: Step): Promise<void> {
    this.#db
      .prepare(
        `UPDATE leads SET wire_at = NULL, wire_step = NULL
         WHERE id IN (SELECT value FROM json_each(?)) AND wire_step = ?`,
      )
      .run(JSON.stringify(leadIds), step);
  }

  async attributedIds(destination: string, marketoIds: readonly number[]): Promise<Set<number>> {
    const rows = this.#db
      .prepare(
        `SELECT DISTINCT marketo_id FROM leads
         WHERE destination = ? AND marketo_id IN (SELECT value FROM json_each(?))`,
      )
      .pluck()
      .all(destination, JSON.stringify(marketoIds)) as number[];
    return new Set(rows);
  }

  async recordAttempts(
    records: readonly AttemptRecord[],
    tries: readonly TryRecord[] = [],
    options: RecordOptions = {},
  ): Promise<void> {
    const update = this.#db.prepare(
      `UPDATE leads SET attempts = attempts + 1, status = ?, next_at = ?, last_code = ?, last_reason = ?,
         fix = ?, marketo_id = coalesce(?, marketo_id),
         done_step = CASE WHEN ? THEN ? ELSE done_step END,
         wire_at = CASE WHEN ? OR wire_step IS NOT ? THEN wire_at END,
         wire_step = CASE WHEN ? OR wire_step IS NOT ? THEN wire_step END,
         claimed_by = NULL, lease_until = NULL, updated_at = ?
       WHERE id = ?
       RETURNING attempts, destination`,
    );
    // A lead taken over by another worker: the row is logged as that worker's next attempt would
    // number it, as a call that did not decide (see RecordOptions.worker).
    const unclaimed = this.#db.prepare(
      "SELECT attempts + 1 AS attempts, destination FROM leads WHERE id = ?",
    );
    const worker = options.worker ?? null;
    const claimedBy = this.#db
      .prepare(
        `SELECT id FROM leads WHERE id IN (SELECT value FROM json_each(?))
           AND status = 'sending' AND claimed_by = ?`,
      )
      .pluck();
    const destinationOf = this.#db.prepare("SELECT destination FROM leads WHERE id = ?").pluck();
    const insert = this.#attemptInsert();
    // The calls sent again, by the attempt they belong to, so each lands before that attempt's row.
    const waiting = new Map<string, TryRecord[]>();
    for (const t of tries) {
      const key = `${t.leadId}:${t.n}`;
      const list = waiting.get(key);
      if (list) list.push(t);
      else waiting.set(key, [t]);
    }
    // One row of the post-out log: a call sent again reads `sending`, a decisive one the status it set.
    const logRow = (call: LoggedCall, n: number, destination: string, outcome: string) =>
      insert.run(
        call.leadId,
        n,
        call.at,
        destination,
        call.endpoint,
        JSON.stringify(call.request),
        boundedResponse(call.response),
        boundedText(call.requestId, ROW_BOUNDS.requestId),
        clip(call.statusCode, ROW_BOUNDS.statusCode),
        boundedText(call.reason, ROW_BOUNDS.reason),
        outcome,
        Math.round(call.durationMs),
      );
    const insertTries = (list: readonly TryRecord[], destination: string) => {
      for (const t of list) logRow(t, t.n, destination, "sending");
    };
    this.#db.transaction(() => {
      // A lead may have several records in a round (its lead step, then a list step): the claim
      // is checked once, as it stood before any of them moved the lead.
      const held =
        worker === null
          ? undefined
          : new Set(
              claimedBy.all(JSON.stringify(records.map((r) => r.leadId)), worker) as number[],
            );
      for (const r of records) {
        if (held && !held.has(r.leadId)) {
          const other = unclaimed.get(r.leadId) as
            | { attempts: number; destination: string }
            | undefined;
          if (!other) throw new Error(`lead ${r.leadId} does not exist`);
          logRow(r, other.attempts, other.destination, "sending");
          continue;
        }
        const lead = update.get(
          r.status,
          r.nextAt ?? null,
          r.statusCode === "200" ? null : clip(r.statusCode, ROW_BOUNDS.statusCode),
          boundedText(r.reason, ROW_BOUNDS.reason),
          boundedText(r.fix, ROW_BOUNDS.fix),
          r.marketoId ?? null,
          r.status === "delivered" || r.status === "test" ? 1 : 0,
          r.step,
          r.uncertain ? 1 : 0,
          r.step,
          r.uncertain ? 1 : 0,
          r.step,
          r.at,
          r.leadId,
        ) as { attempts: number; destination: string } | undefined;
        if (!lead) throw new Error(`lead ${r.leadId} does not exist`);
        const key = `${r.leadId}:${lead.attempts}`;
        const before = waiting.get(key);
        if (before) {
          insertTries(before, lead.destination);
          waiting.delete(key);
        }
        logRow(r, lead.attempts, lead.destination, r.status);
      }
      for (const list of waiting.values()) {
        const leadId = (list[0] as TryRecord).leadId;
        const destination = destinationOf.get(leadId) as string | undefined;
        if (destination === undefined) throw new Error(`lead ${leadId} does not exist`);
        insertTries(list, destination);
      }
    })();
  }

  async sendingWorkers(destination: string): Promise<string[]> {
    const rows = this.#db
      .prepare(
        "SELECT DISTINCT claimed_by AS worker FROM leads WHERE destination = ? AND status = 'sending'",
      )
      .all(destination) as { worker: string | null }[];
    return rows.flatMap((r) => (r.worker === null ? [] : [r.worker]));
  }

  async releaseClaims(
    destination: string,
    options: { workers?: readonly string[]; expiredBefore?: number },
  ): Promise<number> {
    const info = this.#db
      .prepare(
        `UPDATE leads SET status = 'queued', claimed_by = NULL, lease_until = NULL,
           next_at = coalesce(next_at, updated_at)
         WHERE destination = ? AND status = 'sending'
           AND (claimed_by IN (SELECT value FROM json_each(?)) OR lease_until < ?)`,
      )
      .run(destination, JSON.stringify(options.workers ?? []), options.expiredBefore ?? -1);
    return info.changes;
  }

  async nextDueAt(destination: string): Promise<number | undefined> {
    const row = this.#db
      .prepare(
        `SELECT min(next_at) AS at FROM leads
         WHERE destination = ? AND status IN ('queued', 'retrying', 'paused') AND next_at IS NOT NULL`,
      )
      .get(destination) as { at: number | null };
    return opt(row.at);
  }

  async holdQueued(destination: string, until: number, now: number): Promise<number> {
    return this.#db
      .prepare(
        "UPDATE leads SET status = 'paused', next_at = ?, updated_at = ? WHERE destination = ? AND status = 'queued'",
      )
      .run(until, now, destination).changes;
  }

  async resumeDestination(destination: string, now: number): Promise<number> {
    return this.#db
      .prepare(
        "UPDATE leads SET next_at = ?, updated_at = ? WHERE destination = ? AND status = 'paused'",
      )
      .run(now, now, destination).changes;
  }

  async getDestination(name: string): Promise<DestinationState | undefined> {
    const row = this.#db.prepare("SELECT * FROM destinations WHERE name = ?").get(name) as
      | {
          name: string;
          paused_until: number | null;
          paused_code: string | null;
          paused_reason: string | null;
        }
      | undefined;
    return (
      row && {
        name: row.name,
        pausedUntil: opt(row.paused_until),
        pausedCode: opt(row.paused_code),
        pausedReason: opt(row.paused_reason),
      }
    );
  }

  async setDestinationPause(
    name: string,
    pause: { until: number; code: string; reason: string } | undefined,
    now: number,
  ): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO destinations (name, paused_until, paused_code, paused_reason, updated_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET paused_until = excluded.paused_until,
           paused_code = excluded.paused_code, paused_reason = excluded.paused_reason,
           updated_at = excluded.updated_at`,
      )
      .run(name, pause?.until ?? null, pause?.code ?? null, pause?.reason ?? null, now);
  }

  async listLeads(filter: LeadFilter, page: { limit: number; before?: number }): Promise<LeadPage> {
    const phrase = emailPhrase(filter);
    // One snapshot for the page and the counts. A common email part ("company.example") costs
    // a long walk of the trigram index: its leads are looked up once, into a temp table, and
    // the page and the counts read that instead of walking the index twice.
    return this.#db.transaction(() => {
      if (phrase !== undefined) {
        this.#db.prepare("DELETE FROM temp.email_matches").run();
        this.#db
          .prepare(
            `INSERT INTO temp.email_matches
             SELECT rowid FROM leads_email_trigram WHERE leads_email_trigram MATCH ?`,
          )
          .run(phrase);
      }
      const w = where(filter, phrase !== undefined);
      const rows = this.#db
        // The page's ids first, then their rows: when an index finds the filter's leads in
        // another order (program, time, email), only ids are sorted, not whole rows.
        .prepare(
          `SELECT * FROM leads WHERE id IN (
             SELECT l.id FROM leads l WHERE ${w.sql} AND l.id < ? ORDER BY l.id DESC LIMIT ?)
           ORDER BY id DESC`,
        )
        .all(...w.params, page.before ?? Number.MAX_SAFE_INTEGER, page.limit) as LeadRecord[];
      const counts = this.#statusCounts(w);
      if (phrase !== undefined) this.#db.prepare("DELETE FROM temp.email_matches").run();
      return { leads: rows.map(toLead), counts };
    })();
  }

  async getLead(id: number): Promise<LeadRow | undefined> {
    const row = this.#db.prepare("SELECT * FROM leads WHERE id = ?").get(id) as
      | LeadRecord
      | undefined;
    return row && toLead(row);
  }

  async getAttempts(leadId: number): Promise<AttemptRow[]> {
    const rows = this.#db
      .prepare("SELECT * FROM attempts WHERE lead_id = ? ORDER BY n, id")
      .all(leadId) as AttemptRecordRow[];
    return rows.map(toAttempt);
  }

  async countByStatus(filter: LeadFilter): Promise<Record<LeadStatus, number>> {
    return this.#statusCounts(where(filter));
  }

  #statusCounts(w: { sql: string; params: unknown[] }): Record<LeadStatus, number> {
    const rows = this.#db
      .prepare(
        `SELECT l.status AS status, count(*) AS n FROM leads l WHERE ${w.sql} GROUP BY l.status`,
      )
      .all(...w.params) as { status: LeadStatus; n: number }[];
    const counts = Object.fromEntries(LEAD_STATUSES.map((s) => [s, 0])) as Record<
      LeadStatus,
      number
    >;
    for (const r of rows) counts[r.status] = r.n;
    return counts;
  }

  async countByCode(filter: LeadFilter): Promise<Record<string, number>> {
    const w = where(filter);
    const rows = this.#db
      .prepare(
        `SELECT a.status_code AS code, count(*) AS n FROM attempts a JOIN leads l ON l.id = a.lead_id
         WHERE ${w.sql} GROUP BY a.status_code ORDER BY a.status_code`,
      )
      .all(...w.params) as { code: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.code, r.n]));
  }

  async countCodesOverTime(range: {
    since: number;
    until: number;
    bucketMs: number;
    destination?: string;
  }): Promise<CodeBucket[]> {
    // The bucket's start by integer division (a bound JS number is a REAL, hence the CAST);
    // the covering index attempts_at answers it without reading the table.
    const rows = this.#db
      .prepare(
        `SELECT (a.at / CAST(@bucket AS INTEGER)) * CAST(@bucket AS INTEGER) AS start, a.status_code AS code, count(*) AS n FROM attempts a
         WHERE a.at >= @since AND a.at <= @until AND (@destination IS NULL OR a.destination = @destination)
         GROUP BY start, a.status_code ORDER BY start, a.status_code`,
      )
      .all({
        bucket: range.bucketMs,
        since: range.since,
        until: range.until,
        destination: range.destination ?? null,
      }) as { start: number; code: string; n: number }[];
    const buckets: { start: number; counts: Record<string, number> }[] = [];
    for (const r of rows) {
      let last = buckets.at(-1);
      if (last?.start !== r.start) {
        last = { start: r.start, counts: {} };
        buckets.push(last);
      }
      last.counts[r.code] = r.n;
    }
    return buckets;
  }

  async *iterateAttempts(
    filter: LeadFilter,
    pageSize = 1000,
  ): AsyncIterable<AttemptRow & { lead: LeadRow }> {
    const w = where(filter);
    const statement = this.#db.prepare(
      `SELECT a.*, l.id AS l_id, l.destination AS l_destination, l.route AS l_route, l.raw AS l_raw,
         l.input AS l_input, l.email AS l_email, l.program AS l_program, l.source AS l_source,
         l.source_line AS l_source_line, l.map_path AS l_map_path, l.status AS l_status, l.attempts AS l_attempts,
         l.next_at AS l_next_at, l.last_code AS l_last_code, l.last_reason AS l_last_reason,
         l.fix AS l_fix, l.marketo_id AS l_marketo_id, l.test AS l_test,
         l.created_at AS l_created_at, l.updated_at AS l_updated_at
       FROM attempts a JOIN leads l ON l.id = a.lead_id
       WHERE ${w.sql} AND a.id > ? ORDER BY a.id LIMIT ?`,
    );
    let after = 0;
    for (;;) {
      const rows = statement.all(...w.params, after, pageSize) as (AttemptRecordRow &
        Record<string, unknown>)[];
      for (const row of rows) {
        const lead = Object.fromEntries(
          Object.entries(row)
            .filter(([k]) => k.startsWith("l_"))
            .map(([k, v]) => [k.slice(2), v]),
        ) as unknown as LeadRecord;
        yield { ...toAttempt(row), lead: toLead(lead) };
      }
      const last = rows.at(-1);
      if (!last || rows.length < pageSize) return;
      after = last.id;
    }
  }

  async *iterateLeadReport(
    filter: LeadFilter,
    pageSize = 1000,
  ): AsyncIterable<{ lead: LeadRow; last: AttemptRow | undefined }> {
    const w = where(filter);
    const leads = this.#db.prepare(
      `SELECT * FROM leads l WHERE ${w.sql} AND l.id > ? ORDER BY l.id LIMIT ?`,
    );
    const lastAttempts = this.#db.prepare(
      `SELECT a.* FROM attempts a
       WHERE a.id IN (SELECT max(id) FROM attempts WHERE lead_id IN (SELECT value FROM json_each(?)) GROUP BY lead_id)`,
    );
    let after = 0;
    for (;;) {
      const rows = leads.all(...w.params, after, pageSize) as LeadRecord[];
      const last = new Map<number, AttemptRow>();
      if (rows.length > 0) {
        const attempts = lastAttempts.all(
          JSON.stringify(rows.map((r) => r.id)),
        ) as AttemptRecordRow[];
        for (const a of attempts) last.set(a.lead_id, toAttempt(a));
      }
      for (const row of rows) yield { lead: toLead(row), last: last.get(row.id) };
      const tail = rows.at(-1);
      if (!tail || rows.length < pageSize) return;
      after = tail.id;
    }
  }

  async *iterateLeads(filter: LeadFilter, pageSize = 1000): AsyncIterable<LeadRow> {
    const w = where(filter);
    const statement = this.#db.prepare(
      `SELECT * FROM leads l WHERE ${w.sql} AND l.id > ? ORDER BY l.id LIMIT ?`,
    );
    let after = 0;
    for (;;) {
      const rows = statement.all(...w.params, after, pageSize) as LeadRecord[];
      for (const row of rows) yield toLead(row);
      const last = rows.at(-1);
      if (!last || rows.length < pageSize) return;
      after = last.id;
    }
  }

  async requeue(leads: readonly Requeue[], now: number): Promise<number> {
    const queue = this.#db.prepare(
      `UPDATE leads SET input = ?, route = ?, route_key = ?, program = ?, map_path = coalesce(?, map_path),
         status = ?, next_at = ?,
         last_code = ?, last_reason = ?, fix = ?, attempts = attempts + ?, updated_at = ?,
         done_step = CASE WHEN status IN ('delivered', 'test') THEN NULL ELSE done_step END,
         wire_at = NULL, wire_step = NULL
       WHERE id = ? AND status <> 'sending' AND (wire_at IS NULL OR status = 'needs_fix')
       RETURNING attempts, destination`,
    );
    // A lead whose cut-off call is still to be looked for is left alone: the lookup compares
    // Marketo's record with the input that call sent, which a re-map would replace. A lead that
    // needs a fix with its mark (the lookups gave up) is reposted by a person who checked.
    const insertAttempt = this.#attemptInsert();
    let changed = 0;
    this.#db.transaction(() => {
      for (const lead of leads) {
        const refused = lead.refused;
        const row = queue.get(
          lead.input === undefined ? null : JSON.stringify(lead.input),
          JSON.stringify(lead.route),
          routeKey(lead.route),
          programOf(lead.route),
          lead.mapPath ?? null,
          refused ? "needs_fix" : "queued",
          refused ? null : now,
          refused?.code ?? null,
          refused?.reason ?? null,
          refused?.fix ?? null,
          refused ? 1 : 0,
          now,
          lead.id,
        ) as { attempts: number; destination: string } | undefined;
        if (!row) continue;
        changed += 1;
        if (refused) {
          insertAttempt.run(
            lead.id,
            row.attempts,
            now,
            row.destination,
            "preflight",
            JSON.stringify(requestContent(lead.route, lead.input)),
            null,
            null,
            refused.code,
            refused.reason,
            "needs_fix",
            0,
          );
        }
      }
    })();
    return changed;
  }

  async close(): Promise<void> {
    this.#db.close();
    this.#lock?.release();
  }

  // Destination leases (DestinationLeases): one process per file, so with one worker alive
  // balance owns every destination; the same path runs as on a shared database.

  async heartbeat(worker: string, now: number, ttlMs: number): Promise<void> {
    this.#db.transaction(() => {
      this.#db
        .prepare(
          `INSERT INTO workers (id, expires_at) VALUES (?, ?)
           ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at`,
        )
        .run(worker, now + ttlMs);
      // Workers gone quiet are not counted alive anyway; their rows need not pile up.
      this.#db.prepare("DELETE FROM workers WHERE expires_at <= ?").run(now);
    })();
  }

  async balance(
    worker: string,
    destinations: readonly string[],
    now: number,
    leaseMs: number,
    busy: readonly string[] = [],
  ): Promise<string[]> {
    const inFlight = new Set(busy);
    const names = JSON.stringify([...new Set(destinations)].sort());
    const until = now + leaseMs;
    const db = this.#db;
    return db
      .transaction(() => {
        db.prepare(
          `UPDATE destination_leases SET expires_at = ?
           WHERE owner = ? AND destination IN (SELECT value FROM json_each(?))`,
        ).run(until, worker, names);
        const live = db
          .prepare("SELECT count(*) FROM workers WHERE expires_at > ? AND id <> ?")
          .pluck()
          .get(now, worker) as number;
        const total = (JSON.parse(names) as string[]).length;
        const share = Math.ceil(total / (live + 1));
        const owned = db
          .prepare(
            `SELECT destination FROM destination_leases
             WHERE owner = ? AND destination IN (SELECT value FROM json_each(?))
             ORDER BY destination`,
          )
          .pluck()
          .all(worker, names) as string[];
        if (owned.length > share) {
          const idle = owned.filter((d) => !inFlight.has(d));
          const extra = new Set(idle.slice(Math.max(0, idle.length - (owned.length - share))));
          db.prepare(
            `DELETE FROM destination_leases
             WHERE owner = ? AND destination IN (SELECT value FROM json_each(?))`,
          ).run(worker, JSON.stringify([...extra]));
          return owned.filter((d) => !extra.has(d));
        } else if (owned.length < share) {
          const free = db
            .prepare(
              `SELECT value FROM json_each(?) AS d
               WHERE NOT EXISTS (
                 SELECT 1 FROM destination_leases l WHERE l.destination = d.value AND l.expires_at > ?)
               ORDER BY value LIMIT ?`,
            )
            .pluck()
            .all(names, now, share - owned.length) as string[];
          // Only a lease that is still free or expired is taken: the WHERE of the upsert.
          const take = db.prepare(
            `INSERT INTO destination_leases (destination, owner, expires_at) VALUES (?, ?, ?)
             ON CONFLICT (destination) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
             WHERE destination_leases.expires_at <= ?`,
          );
          // The previous owner's sends were its own only while it held the lease: its claims
          // go back now, not when their own (longer) lease runs out. Wire marks stay.
          const handBack = db.prepare(
            `UPDATE leads SET status = 'queued', claimed_by = NULL, lease_until = NULL,
               next_at = coalesce(next_at, updated_at)
             WHERE destination = ? AND status = 'sending' AND claimed_by <> ?`,
          );
          for (const destination of free) {
            if (take.run(destination, worker, until, now).changes === 0) continue;
            handBack.run(destination, worker);
            owned.push(destination);
          }
          owned.sort();
        }
        // Claims of its own whose lease ran out (a round that failed) go back in line.
        db.prepare(
          `UPDATE leads SET status = 'queued', claimed_by = NULL, lease_until = NULL,
             next_at = coalesce(next_at, updated_at)
           WHERE destination IN (SELECT value FROM json_each(?)) AND status = 'sending'
             AND lease_until < ?`,
        ).run(JSON.stringify(owned), now);
        return owned;
      })
      .immediate();
  }

  async releaseWorker(worker: string): Promise<void> {
    this.#db.transaction(() => {
      this.#db.prepare("DELETE FROM destination_leases WHERE owner = ?").run(worker);
      this.#db.prepare("DELETE FROM workers WHERE id = ?").run(worker);
    })();
  }

  async leaseOwners(destinations: readonly string[]): Promise<string[]> {
    return this.#db
      .prepare(
        `SELECT DISTINCT owner FROM destination_leases
         WHERE destination IN (SELECT value FROM json_each(?))`,
      )
      .pluck()
      .all(JSON.stringify(destinations)) as string[];
  }

  async dueDestinations(destinations: readonly string[]): Promise<DueDestination[]> {
    // One index seek per destination (leads_due, leads_paused), not a scan of all waiting leads.
    const rows = this.#db
      .prepare(
        `SELECT destination, dueAt FROM (
           SELECT d.value AS destination, min(
             coalesce((SELECT min(next_at) FROM leads
                       WHERE destination = d.value AND status IN ('queued', 'retrying')), 9e18),
             coalesce((SELECT min(next_at) FROM leads
                       WHERE destination = d.value AND status = 'paused'), 9e18)) AS dueAt
           FROM json_each(?) AS d)
         WHERE dueAt < 9e18`,
      )
      .all(JSON.stringify(destinations)) as DueDestination[];
    return rows;
  }

  // The destination catalog (DestinationCatalog, migration 008).

  async listCatalog(): Promise<CatalogEntry[]> {
    const rows = this.#db
      .prepare("SELECT * FROM destination_catalog WHERE removed_at IS NULL ORDER BY name")
      .all() as CatalogRecord[];
    return rows.map(toCatalogEntry);
  }

  async getCatalogEntry(name: string): Promise<CatalogEntry | undefined> {
    const row = this.#db
      .prepare("SELECT * FROM destination_catalog WHERE name = ? AND removed_at IS NULL")
      .get(name) as CatalogRecord | undefined;
    return row && toCatalogEntry(row);
  }

  async addCatalogEntry(
    entry: NewCatalogEntry,
    now: number,
  ): Promise<
    | { entry: CatalogEntry; resumed: number }
    | { taken: true }
    | { heldFor: { baseUrl: string; leads: number } }
    | OtherKey
  > {
    return this.#write(() =>
      this.#db
        .transaction(() => {
          const before = this.#db
            .prepare("SELECT removed_at, base_url FROM destination_catalog WHERE name = ?")
            .get(entry.name) as { removed_at: number | null; base_url: string } | undefined;
          if (before && before.removed_at === null) return { taken: true as const };
          if (before && before.base_url !== entry.baseUrl) {
            const leads = this.#db
              .prepare("SELECT count(*) FROM leads WHERE destination = ? AND status = 'paused'")
              .pluck()
              .get(entry.name) as number;
            if (leads > 0) return { heldFor: { baseUrl: before.base_url, leads } };
          }
          // Last: a refusal above changes nothing, not even the catalog's first key.
          const other = this.#otherKey(entry.secret, now);
          if (other) return other;
          this.#db
            .prepare(
              `INSERT INTO destination_catalog (name, base_url, client_id, sealed_secret, calls_per_20s,
                 concurrency, daily_budget, marker_field, created_at, updated_at, removed_at, version)
               VALUES (@name, @baseUrl, @clientId, @sealedSecret, @callsPer20s, @concurrency,
                 @dailyBudget, @markerField, @now, @now, NULL, ${NEXT_VERSION})
               ON CONFLICT (name) DO UPDATE SET base_url = excluded.base_url,
                 client_id = excluded.client_id, sealed_secret = excluded.sealed_secret,
                 calls_per_20s = excluded.calls_per_20s, concurrency = excluded.concurrency,
                 daily_budget = excluded.daily_budget, marker_field = excluded.marker_field,
                 created_at = excluded.created_at, updated_at = excluded.updated_at,
                 removed_at = NULL, version = excluded.version`,
            )
            .run({ ...catalogParams(entry), now });
          let resumed = 0;
          if (before) {
            // The name was removed with its leads held paused: they are this destination's again.
            this.#db
              .prepare(
                `UPDATE destinations SET paused_until = NULL, paused_code = NULL, paused_reason = NULL,
                   updated_at = ? WHERE name = ? AND paused_code = 'removed'`,
              )
              .run(now, entry.name);
            resumed = this.#db
              .prepare(
                "UPDATE leads SET next_at = ?, updated_at = ? WHERE destination = ? AND status = 'paused'",
              )
              .run(now, now, entry.name).changes;
          }
          return { entry: this.#catalogRow(entry.name) as CatalogEntry, resumed };
        })
        .immediate(),
    );
  }

  async updateCatalogEntry(
    name: string,
    change: CatalogChange,
    now: number,
  ): Promise<
    | { entry: CatalogEntry }
    | { waitingFor: { baseUrl: string; leads: number } }
    | OtherKey
    | undefined
  > {
    const keep = (v: unknown) => (v === undefined ? 0 : 1);
    return this.#write(() =>
      this.#db
        .transaction(() => {
          if (change.baseUrl !== undefined || change.secret) {
            const before = this.#catalogRow(name);
            // An unknown name changes nothing, not even the catalog's first key.
            if (!before) return undefined;
            if (change.baseUrl !== undefined && change.baseUrl !== before.baseUrl) {
              const leads = this.#db
                .prepare(
                  `SELECT count(*) FROM leads
                   WHERE destination = ? AND status IN ('queued', 'retrying', 'sending', 'paused')`,
                )
                .pluck()
                .get(name) as number;
              if (leads > 0) return { waitingFor: { baseUrl: before.baseUrl, leads } };
            }
            const other = change.secret && this.#otherKey(change.secret, now);
            if (other) return other;
          }
          const { changes } = this.#db
            .prepare(
              `UPDATE destination_catalog SET
                 base_url = coalesce(@baseUrl, base_url),
                 client_id = coalesce(@clientId, client_id),
                 sealed_secret = coalesce(@sealedSecret, sealed_secret),
                 calls_per_20s = CASE WHEN @setCalls THEN @callsPer20s ELSE calls_per_20s END,
                 concurrency = CASE WHEN @setConcurrency THEN @concurrency ELSE concurrency END,
                 daily_budget = CASE WHEN @setBudget THEN @dailyBudget ELSE daily_budget END,
                 marker_field = CASE WHEN @setMarker THEN @markerField ELSE marker_field END,
                 updated_at = @now, version = ${NEXT_VERSION}
               WHERE name = @name AND removed_at IS NULL`,
            )
            .run({
              name,
              now,
              baseUrl: change.baseUrl ?? null,
              clientId: change.clientId ?? null,
              sealedSecret: change.secret?.sealed ?? null,
              setCalls: keep(change.callsPer20s),
              callsPer20s: change.callsPer20s ?? null,
              setConcurrency: keep(change.concurrency),
              concurrency: change.concurrency ?? null,
              setBudget: keep(change.dailyBudget),
              dailyBudget: change.dailyBudget ?? null,
              setMarker: keep(change.markerField),
              markerField: change.markerField ?? null,
            });
          const entry = changes === 0 ? undefined : this.#catalogRow(name);
          return entry && { entry };
        })
        .immediate(),
    );
  }

  async removeCatalogEntry(
    name: string,
    options: {
      waiting: "refuse" | "hold";
      now: number;
      hold: { until: number; reason: string };
    },
  ): Promise<RemoveResult | undefined> {
    const { now, hold } = options;
    return this.#write(() =>
      this.#db
        .transaction((): RemoveResult | undefined => {
          if (!this.#catalogRow(name)) return undefined;
          const counts = this.#db
            .prepare(
              `SELECT status, count(*) AS n FROM leads
               WHERE destination = ? AND status IN ('queued', 'retrying', 'sending', 'paused')
               GROUP BY status`,
            )
            .all(name) as { status: keyof WaitingLeads; n: number }[];
          const waiting = { queued: 0, retrying: 0, sending: 0, paused: 0 };
          for (const c of counts) waiting[c.status] = c.n;
          const total = counts.reduce((sum, c) => sum + c.n, 0);
          if (total > 0 && options.waiting === "refuse") return { removed: false, waiting, total };
          // Held paused until the name is created again; a lead whose call may be in Marketo
          // keeps its wire mark, so it is verified before anything is sent again.
          const held = this.#db
            .prepare(
              `UPDATE leads SET status = 'paused', next_at = ?, claimed_by = NULL, lease_until = NULL,
                 updated_at = ?
               WHERE destination = ? AND status IN ('queued', 'retrying', 'sending', 'paused')`,
            )
            .run(hold.until, now, name).changes;
          this.#db
            .prepare(
              `INSERT INTO destinations (name, paused_until, paused_code, paused_reason, updated_at)
               VALUES (?, ?, 'removed', ?, ?)
               ON CONFLICT (name) DO UPDATE SET paused_until = excluded.paused_until,
                 paused_code = excluded.paused_code, paused_reason = excluded.paused_reason,
                 updated_at = excluded.updated_at`,
            )
            .run(name, hold.until, hold.reason, now);
          this.#db
            .prepare(
              `UPDATE destination_catalog SET removed_at = ?, updated_at = ?, version = ${NEXT_VERSION}
               WHERE name = ?`,
            )
            .run(now, now, name);
          return { removed: true, held };
        })
        .immediate(),
    );
  }

  async catalogVersion(): Promise<number> {
    return this.#db
      .prepare("SELECT coalesce(max(version), 0) FROM destination_catalog")
      .pluck()
      .get() as number;
  }

  async resealCatalog(
    to: { readonly keyId: string; readonly reseal: (name: string, sealedSecret: string) => string },
    now: number,
  ): Promise<number> {
    return this.#write(() =>
      this.#db
        .transaction(() => {
          const rows = this.#db
            .prepare("SELECT name, sealed_secret FROM destination_catalog ORDER BY name")
            .all() as { name: string; sealed_secret: string }[];
          const update = this.#db.prepare(
            `UPDATE destination_catalog SET sealed_secret = ?, updated_at = ?, version = ${NEXT_VERSION}
             WHERE name = ?`,
          );
          for (const row of rows) update.run(to.reseal(row.name, row.sealed_secret), now, row.name);
          this.#db
            .prepare(
              `INSERT INTO catalog_key (id, key_id, updated_at) VALUES (1, ?, ?)
               ON CONFLICT (id) DO UPDATE SET key_id = excluded.key_id, updated_at = excluded.updated_at`,
            )
            .run(to.keyId, now);
          return rows.length;
        })
        .immediate(),
    );
  }

  /**
   * Inside a catalog transaction: OtherKey when `secret` is not sealed with the catalog's key
   * (migration 010; the catalog takes its key when it has none yet), else `undefined`.
   */
  #otherKey(secret: SealedSecret, now: number): OtherKey | undefined {
    this.#db
      .prepare("INSERT OR IGNORE INTO catalog_key (id, key_id, updated_at) VALUES (1, ?, ?)")
      .run(secret.keyId, now);
    const catalogKey = this.#db
      .prepare("SELECT key_id FROM catalog_key WHERE id = 1")
      .pluck()
      .get() as string;
    return catalogKey === secret.keyId ? undefined : { catalogKey };
  }

  /** An entry not removed (inside the catalog's transactions). */
  #catalogRow(name: string): CatalogEntry | undefined {
    const row = this.#db
      .prepare("SELECT * FROM destination_catalog WHERE name = ? AND removed_at IS NULL")
      .get(name) as CatalogRecord | undefined;
    return row && toCatalogEntry(row);
  }
}
