import { clip } from "@postout/marketo";
import { type Route, requestContent, routeKey } from "../../route.ts";
import { redactedUrl } from "../database-url.ts";
import type {
  CatalogChange,
  CatalogEntry,
  NewCatalogEntry,
  RemoveResult,
} from "../destination-catalog.ts";
import type { DueDestination } from "../destination-leases.ts";
import { isStoreError, type StoreError } from "../errors.ts";
import { emailOf, programOf } from "../lead-fields.ts";
import { boundedText, ROW_BOUNDS } from "../row-bounds.ts";
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
  NewLead,
  RecordOptions,
  Requeue,
  Step,
  Store,
  TryRecord,
} from "../store.ts";
import { LEAD_STATUSES, LeaseLostError } from "../store.ts";
import * as catalog from "./catalog.ts";
import { Database, type DatabaseOptions } from "./database.ts";
import * as leases from "./leases.ts";
import { insertLog, type LogRow, logRow, refusalRow } from "./log-rows.ts";
import { migrate } from "./migrate.ts";
import {
  type AttemptRecordRow,
  type LeadRecord,
  opt,
  prefixedLead,
  toAttempt,
  toLead,
} from "./rows.ts";
import * as SQL from "./sql.ts";
import { ms, text } from "./values.ts";

/** How the store connects (see DatabaseOptions). */
export type PostgresStoreOptions = DatabaseOptions;

/** Groups items so that no key appears twice in a group, keeping order: an UPDATE … FROM touches a row once. */
function waves<T>(items: readonly T[], key: (item: T) => number): T[][] {
  const groups: T[][] = [];
  const seen = new Map<number, number>();
  for (const item of items) {
    const k = key(item);
    const wave = seen.get(k) ?? 0;
    seen.set(k, wave + 1);
    let group = groups[wave];
    if (!group) {
      group = [];
      groups.push(group);
    }
    group.push(item);
  }
  return groups;
}

/**
 * The store on a PostgreSQL server: any number of gateway processes share one database. Claims
 * lock rows with FOR UPDATE SKIP LOCKED, so two processes never send the same lead; the schema
 * is migrated at open under an advisory lock. Its statements are in sql.ts, its schema in the
 * numbered files of migrations/.
 */
/** The parameters $1–$11 of SQL.RECORD_OUTCOMES and SQL.RECORD_HELD: one outcome per record, by column. */
function outcomeColumns(records: readonly AttemptRecord[]): unknown[] {
  return [
    records.map((r) => r.leadId),
    records.map((r) => r.status),
    records.map((r) => (r.nextAt === undefined ? null : ms(r.nextAt))),
    records.map((r) =>
      r.statusCode === "200" ? null : text(clip(r.statusCode, ROW_BOUNDS.statusCode)),
    ),
    records.map((r) => text(boundedText(r.reason, ROW_BOUNDS.reason))),
    records.map((r) => text(boundedText(r.fix, ROW_BOUNDS.fix))),
    records.map((r) => r.marketoId ?? null),
    records.map((r) => r.status === "delivered" || r.status === "test"),
    records.map((r) => r.step),
    records.map((r) => r.uncertain === true),
    records.map((r) => ms(r.at)),
  ];
}

export class PostgresStore implements Store {
  readonly #db: Database;

  private constructor(db: Database) {
    this.#db = db;
  }

  /**
   * Connects to the database at `url` (`postgres://user:password@host:port/db`) and migrates its
   * schema. Rejects with a StoreError (`unreachable` …) when the server cannot be used; its
   * message shows the URL without the password.
   */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const db = new Database(url, redactedUrl(url), options);
    try {
      await db.session((client) => migrate(client, Date.now()));
    } catch (error) {
      await db.close().catch(() => {});
      throw error;
    }
    return new PostgresStore(db);
  }

  /**
   * Why the store cannot keep leads now, or `undefined` when it can: the last statement failed
   * for a fault of the server (unreachable, full, read-only) and a small write still does not
   * commit. With `probe`, the small write is tried even without a failure (the periodic check:
   * a server that went away is found before intake runs into it).
   */
  async health(options: { readonly probe?: boolean } = {}): Promise<StoreError | undefined> {
    if (this.#db.fault || options.probe) {
      try {
        await this.#db.transaction(
          async (query) => {
            await query(SQL.PROBE_WRITE);
            await query(SQL.PROBE_CLEAR);
          },
          { write: true },
        );
      } catch (error) {
        if (!isStoreError(error)) throw error;
      }
    }
    return this.#db.fault;
  }

  async addLeads(leads: readonly NewLead[], now: number): Promise<AddResult> {
    if (leads.length === 0) return { ids: [], duplicate: [], accepted: 0, duplicates: 0 };
    const at = ms(now);
    const column = <T>(get: (lead: NewLead) => T) => leads.map(get);
    // A chunk's leads usually share one route object: written out once.
    const routes = new Map<Route, { readonly json: string; readonly key: string }>();
    const route = (r: Route) => {
      let written = routes.get(r);
      if (!written) {
        written = { json: JSON.stringify(r), key: text(routeKey(r)) };
        routes.set(r, written);
      }
      return written;
    };
    const { rows } = await this.#db.write<{ ord: number; id: number; added: boolean }>(
      SQL.ADD_LEADS,
      [
        column((l) => text(l.destination)),
        column((l) => text(l.intakeKey)),
        column((l) => route(l.route).json),
        column((l) => route(l.route).key),
        column((l) => JSON.stringify(l.raw)),
        column((l) => (l.input === undefined ? null : JSON.stringify(l.input))),
        column((l) => text(emailOf(l))),
        column((l) => text(programOf(l.route))),
        column((l) => text(l.source)),
        column((l) => l.sourceLine ?? null),
        column((l) => text(l.mapPath)),
        column((l) => text(l.refused?.code)),
        column((l) => text(l.refused?.reason)),
        column((l) => text(l.refused?.fix)),
        column((l) =>
          l.refused ? JSON.stringify(requestContent(l.route, l.input ?? l.raw)) : null,
        ),
        column((l) => l.test === true),
        at,
      ],
    );
    const ids: number[] = [];
    const duplicate: boolean[] = [];
    const skipped: number[] = [];
    for (const row of rows) {
      const i = Number(row.ord) - 1;
      ids[i] = row.id;
      duplicate[i] = !row.added;
      if (!row.added) skipped.push(i);
    }
    if (skipped.length > 0) {
      // Accepted before, or by another process meanwhile, or earlier in this chunk: committed
      // now, so a new statement sees it.
      const found = await this.#db.read<{ ord: number; id: number }>(SQL.LEADS_BY_INTAKE_KEY, [
        skipped.map((i) => text((leads[i] as NewLead).destination)),
        skipped.map((i) => text((leads[i] as NewLead).intakeKey)),
        skipped,
      ]);
      for (const row of found.rows) ids[row.ord] = row.id;
    }
    const duplicates = skipped.length;
    return { ids, duplicate, accepted: leads.length - duplicates, duplicates };
  }

  async claimDue(
    destination: string,
    options: { now: number; limit: number; worker: string; leaseMs: number },
  ): Promise<ClaimedLead[]> {
    return (await this.claimDueMany([{ destination, limit: options.limit }], options))[0] ?? [];
  }

  async claimDueMany(
    requests: readonly { readonly destination: string; readonly limit: number }[],
    options: { readonly now: number; readonly worker: string; readonly leaseMs: number },
  ): Promise<ClaimedLead[][]> {
    if (requests.length === 0) return [];
    // A destination asked twice in one statement would be given the same leads twice.
    if (new Set(requests.map((r) => r.destination)).size !== requests.length)
      throw new RangeError("claimDueMany: each destination at most once");
    const { rows } = await this.#db.write<{
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
      test: boolean;
      created_at: number;
    }>(SQL.CLAIM_DUE, [
      text(options.worker),
      ms(options.now + options.leaseMs),
      ms(options.now),
      requests.map((r) => text(r.destination)),
      requests.map((r) => r.limit),
    ]);
    const byDestination = new Map<string, ClaimedLead[]>(requests.map((r) => [r.destination, []]));
    for (const r of rows.sort((a, b) => a.id - b.id))
      byDestination.get(r.destination)?.push({
        id: r.id,
        destination: r.destination,
        route: JSON.parse(r.route),
        routeKey: r.route_key,
        input: r.input === null ? {} : (JSON.parse(r.input) as Record<string, unknown>),
        attempts: r.attempts,
        done: opt(r.done_step),
        marketoId: opt(r.marketo_id),
        onWire:
          r.wire_step === null || r.wire_at === null
            ? undefined
            : { step: r.wire_step, at: r.wire_at },
        test: r.test,
        acceptedAt: r.created_at,
      });
    return requests.map((r) => byDestination.get(r.destination) ?? []);
  }

  async renewLeases(worker: string, leaseUntil: number): Promise<void> {
    await this.#db.write(SQL.RENEW_LEASES, [text(worker), ms(leaseUntil)]);
  }

  async markOnWire(
    leads: readonly { readonly id: number; readonly marketoId?: number }[],
    mark: { step: Step; done: Step | undefined; at: number; worker: string },
  ): Promise<void> {
    if (leads.length === 0) return;
    const ids = leads.map((l) => l.id);
    const { rows } = await this.#db.write<{ id: number }>(SQL.MARK_ON_WIRE, [
      mark.step,
      ms(mark.at),
      mark.done ?? null,
      ids,
      leads.map((l) => l.marketoId ?? null),
      text(mark.worker),
    ]);
    if (rows.length === new Set(ids).size) return;
    // Nothing was marked (all or none): no lead is marked for a call not sent.
    const held = await this.#db.read<{ id: number }>(SQL.STILL_CLAIMED, [ids, text(mark.worker)]);
    const still = new Set(held.rows.map((r) => r.id));
    const lost = ids.filter((id) => !still.has(id));
    throw new LeaseLostError(lost.length > 0 ? lost : ids);
  }

  async clearWire(leadIds: readonly number[], step: Step): Promise<void> {
    if (leadIds.length === 0) return;
    await this.#db.write(SQL.CLEAR_WIRE, [leadIds, step]);
  }

  async attributedIds(destination: string, marketoIds: readonly number[]): Promise<Set<number>> {
    if (marketoIds.length === 0) return new Set();
    const { rows } = await this.#db.read<{ marketo_id: number }>(SQL.ATTRIBUTED_IDS, [
      text(destination),
      marketoIds,
    ]);
    return new Set(rows.map((r) => r.marketo_id));
  }

  async recordAttempts(
    records: readonly AttemptRecord[],
    tries: readonly TryRecord[] = [],
    options: RecordOptions = {},
  ): Promise<void> {
    if (records.length === 0 && tries.length === 0) return;
    if (await this.#recordHeld(records, tries, options)) return;
    await this.#db.transaction(
      async (query) => {
        // A lead no longer claimed by the worker is not moved: its record is logged as a call
        // that did not decide (RecordOptions.worker).
        const leadIds = records.map((r) => r.leadId);
        const { worker } = options;
        const lost =
          worker === undefined ? undefined : await leases.lostClaims(query, leadIds, worker);
        // Each record's new attempt number and its lead's destination, in record order. A lead
        // with several records (one per step) is updated once per wave, in their order.
        const outcome: { attempts: number; destination: string }[] = [];
        const numbered = records.map((r, i) => ({ ...r, i })).filter((r) => !lost?.has(r.leadId));
        for (const wave of waves(numbered, (r) => r.leadId)) {
          const { rows } = await query<{ id: number; attempts: number; destination: string }>(
            SQL.RECORD_OUTCOMES,
            outcomeColumns(wave),
          );
          const byId = new Map(rows.map((row) => [row.id, row]));
          for (const r of wave) {
            const lead = byId.get(r.leadId);
            if (!lead) throw new Error(`lead ${r.leadId} does not exist`);
            outcome[r.i] = lead;
          }
        }
        // The calls sent again, by the attempt they belong to, so each lands before that attempt's row.
        const waiting = new Map<string, TryRecord[]>();
        for (const t of tries) {
          const key = `${t.leadId}:${t.n}`;
          const list = waiting.get(key);
          if (list) list.push(t);
          else waiting.set(key, [t]);
        }
        const log: LogRow[] = [];
        records.forEach((r, i) => {
          const other = lost?.get(r.leadId);
          if (other) {
            log.push(logRow(r, other.attempts, other.destination, "sending"));
            return;
          }
          const lead = outcome[i] as { attempts: number; destination: string };
          const key = `${r.leadId}:${lead.attempts}`;
          for (const t of waiting.get(key) ?? [])
            log.push(logRow(t, t.n, lead.destination, "sending"));
          waiting.delete(key);
          log.push(logRow(r, lead.attempts, lead.destination, r.status));
        });
        if (waiting.size > 0) {
          const leadIds = [
            ...new Set([...waiting.values()].map((l) => (l[0] as TryRecord).leadId)),
          ];
          const { rows } = await query<{ id: number; destination: string }>(SQL.DESTINATIONS_OF, [
            leadIds,
          ]);
          const destinationOf = new Map(rows.map((row) => [row.id, row.destination]));
          for (const list of waiting.values()) {
            const leadId = (list[0] as TryRecord).leadId;
            const destination = destinationOf.get(leadId);
            if (destination === undefined) throw new Error(`lead ${leadId} does not exist`);
            for (const t of list) log.push(logRow(t, t.n, destination, "sending"));
          }
        }
        await insertLog(query, log);
      },
      { write: true },
    );
  }

  /**
   * recordAttempts in one statement when it can (SQL.RECORD_HELD): a worker's round, one record
   * per lead, no call sent again, and the worker still holds every claim. Answers whether it did;
   * when not, nothing changed.
   */
  async #recordHeld(
    records: readonly AttemptRecord[],
    tries: readonly TryRecord[],
    options: RecordOptions,
  ): Promise<boolean> {
    const { worker } = options;
    if (worker === undefined || tries.length > 0 || records.length === 0) return false;
    const leadIds = records.map((r) => r.leadId);
    if (new Set(leadIds).size !== leadIds.length) return false;
    const log = records.map((r) => logRow(r, 0, "", r.status));
    const { rows } = await this.#db.write<{ ok: boolean }>(SQL.RECORD_HELD, [
      ...outcomeColumns(records),
      text(worker),
      log.map((l) => l.leadId),
      log.map((l) => l.at),
      log.map((l) => l.endpoint),
      log.map((l) => l.request),
      log.map((l) => l.response),
      log.map((l) => l.requestId),
      log.map((l) => l.statusCode),
      log.map((l) => l.reason),
      log.map((l) => l.durationMs),
    ]);
    return rows[0]?.ok === true;
  }

  async sendingWorkers(destination: string): Promise<string[]> {
    const { rows } = await this.#db.read<{ worker: string }>(SQL.SENDING_WORKERS, [
      text(destination),
    ]);
    return rows.map((r) => r.worker);
  }

  async releaseClaims(
    destination: string,
    options: { workers?: readonly string[]; expiredBefore?: number },
  ): Promise<number> {
    const { rowCount } = await this.#db.write(SQL.RELEASE_CLAIMS, [
      text(destination),
      (options.workers ?? []).map((w) => text(w)),
      options.expiredBefore === undefined ? -1 : ms(options.expiredBefore),
    ]);
    return rowCount ?? 0;
  }

  async nextDueAt(destination: string): Promise<number | undefined> {
    const { rows } = await this.#db.read<{ at: number | null }>(SQL.NEXT_DUE_AT, [
      text(destination),
    ]);
    return opt(rows[0]?.at ?? null);
  }

  async holdQueued(destination: string, until: number, now: number): Promise<number> {
    const { rowCount } = await this.#db.write(SQL.HOLD_QUEUED, [
      ms(until),
      ms(now),
      text(destination),
    ]);
    return rowCount ?? 0;
  }

  async resumeDestination(destination: string, now: number): Promise<number> {
    const { rowCount } = await this.#db.write(SQL.RESUME_DESTINATION, [ms(now), text(destination)]);
    return rowCount ?? 0;
  }

  async getDestination(name: string): Promise<DestinationState | undefined> {
    const { rows } = await this.#db.read<{
      name: string;
      paused_until: number | null;
      paused_code: string | null;
      paused_reason: string | null;
    }>(SQL.GET_DESTINATION, [text(name)]);
    const row = rows[0];
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
    await this.#db.write(SQL.SET_DESTINATION_PAUSE, [
      text(name),
      pause === undefined ? null : ms(pause.until),
      text(pause?.code),
      text(pause?.reason),
      ms(now),
    ]);
  }

  async listLeads(filter: LeadFilter, page: { limit: number; before?: number }): Promise<LeadPage> {
    // One snapshot for the page and the counts.
    return this.#db.transaction(
      async (query) => {
        const params = new SQL.Params();
        const where = SQL.filterSql(filter, params);
        const counted = params.values.slice();
        const pageSql = SQL.listPageSql(
          where,
          params,
          page.before ?? Number.MAX_SAFE_INTEGER,
          page.limit,
        );
        const leads = await query<LeadRecord>(pageSql, params.values);
        const counts = await query<{ status: LeadStatus; n: number }>(
          SQL.statusCountsSql(where),
          counted,
        );
        return { leads: leads.rows.map(toLead), counts: statusCounts(counts.rows) };
      },
      { write: false, begin: SQL.BEGIN_SNAPSHOT },
    );
  }

  async getLead(id: number): Promise<LeadRow | undefined> {
    const { rows } = await this.#db.read<LeadRecord>(SQL.GET_LEAD, [id]);
    return rows[0] && toLead(rows[0]);
  }

  async getAttempts(leadId: number): Promise<AttemptRow[]> {
    const { rows } = await this.#db.read<AttemptRecordRow>(SQL.GET_ATTEMPTS, [leadId]);
    return rows.map(toAttempt);
  }

  async countByStatus(filter: LeadFilter): Promise<Record<LeadStatus, number>> {
    const params = new SQL.Params();
    const where = SQL.filterSql(filter, params);
    const { rows } = await this.#db.read<{ status: LeadStatus; n: number }>(
      SQL.statusCountsSql(where),
      params.values,
    );
    return statusCounts(rows);
  }

  async countByCode(filter: LeadFilter): Promise<Record<string, number>> {
    const params = new SQL.Params();
    const where = SQL.filterSql(filter, params);
    const { rows } = await this.#db.read<{ code: string; n: number }>(
      SQL.codeCountsSql(where),
      params.values,
    );
    return Object.fromEntries(rows.map((r) => [r.code, r.n]));
  }

  async countCodesOverTime(range: {
    since: number;
    until: number;
    bucketMs: number;
    destination?: string;
  }): Promise<CodeBucket[]> {
    const { rows } = await this.#db.read<{ start: number; code: string; n: number }>(
      SQL.CODES_OVER_TIME,
      [ms(range.bucketMs), ms(range.since), ms(range.until), text(range.destination)],
    );
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
    let after = 0;
    for (;;) {
      const params = new SQL.Params();
      const where = SQL.filterSql(filter, params);
      const sql = SQL.attemptsPageSql(where, params, after, pageSize);
      const { rows } = await this.#db.read<AttemptRecordRow & Record<string, unknown>>(
        sql,
        params.values,
      );
      for (const row of rows) yield { ...toAttempt(row), lead: toLead(prefixedLead(row)) };
      const last = rows.at(-1);
      if (!last || rows.length < pageSize) return;
      after = last.id;
    }
  }

  async *iterateLeadReport(
    filter: LeadFilter,
    pageSize = 1000,
  ): AsyncIterable<{ lead: LeadRow; last: AttemptRow | undefined }> {
    let after = 0;
    for (;;) {
      const params = new SQL.Params();
      const where = SQL.filterSql(filter, params);
      const sql = SQL.leadsPageSql(where, params, after, pageSize);
      const { rows } = await this.#db.read<LeadRecord>(sql, params.values);
      const last = new Map<number, AttemptRow>();
      if (rows.length > 0) {
        const attempts = await this.#db.read<AttemptRecordRow>(SQL.LAST_ATTEMPTS, [
          rows.map((r) => r.id),
        ]);
        for (const a of attempts.rows) last.set(a.lead_id, toAttempt(a));
      }
      for (const row of rows) yield { lead: toLead(row), last: last.get(row.id) };
      const tail = rows.at(-1);
      if (!tail || rows.length < pageSize) return;
      after = tail.id;
    }
  }

  async *iterateLeads(filter: LeadFilter, pageSize = 1000): AsyncIterable<LeadRow> {
    let after = 0;
    for (;;) {
      const params = new SQL.Params();
      const where = SQL.filterSql(filter, params);
      const sql = SQL.leadsPageSql(where, params, after, pageSize);
      const { rows } = await this.#db.read<LeadRecord>(sql, params.values);
      for (const row of rows) yield toLead(row);
      const last = rows.at(-1);
      if (!last || rows.length < pageSize) return;
      after = last.id;
    }
  }

  async requeue(leads: readonly Requeue[], now: number): Promise<number> {
    if (leads.length === 0) return 0;
    const at = ms(now);
    return this.#db.transaction(
      async (query) => {
        let changed = 0;
        const log: LogRow[] = [];
        for (const wave of waves(leads, (l) => l.id)) {
          const { rows } = await query<{ id: number; attempts: number; destination: string }>(
            SQL.REQUEUE,
            [
              at,
              wave.map((l) => l.id),
              wave.map((l) => (l.input === undefined ? null : JSON.stringify(l.input))),
              wave.map((l) => JSON.stringify(l.route)),
              wave.map((l) => text(routeKey(l.route))),
              wave.map((l) => text(programOf(l.route))),
              wave.map((l) => text(l.mapPath)),
              wave.map((l) => (l.refused ? "needs_fix" : "queued")),
              wave.map((l) => (l.refused ? null : at)),
              wave.map((l) => text(l.refused?.code)),
              wave.map((l) => text(l.refused?.reason)),
              wave.map((l) => text(l.refused?.fix)),
              wave.map((l) => (l.refused ? 1 : 0)),
            ],
          );
          changed += rows.length;
          const byId = new Map(rows.map((row) => [row.id, row]));
          for (const lead of wave) {
            const row = byId.get(lead.id);
            if (!row || !lead.refused) continue;
            log.push(
              refusalRow(
                lead.id,
                row.attempts,
                at,
                row.destination,
                requestContent(lead.route, lead.input),
                lead.refused,
              ),
            );
          }
        }
        await insertLog(query, log);
        return changed;
      },
      { write: true },
    );
  }

  async close(): Promise<void> {
    await this.#db.close();
  }

  // The destination catalog (DestinationCatalog, migration 003): catalog.ts.

  listCatalog(): Promise<CatalogEntry[]> {
    return catalog.listCatalog(this.#db);
  }

  getCatalogEntry(name: string): Promise<CatalogEntry | undefined> {
    return catalog.getCatalogEntry(this.#db, name);
  }

  addCatalogEntry(entry: NewCatalogEntry, now: number): ReturnType<typeof catalog.addCatalogEntry> {
    return catalog.addCatalogEntry(this.#db, entry, now);
  }

  updateCatalogEntry(
    name: string,
    change: CatalogChange,
    now: number,
  ): ReturnType<typeof catalog.updateCatalogEntry> {
    return catalog.updateCatalogEntry(this.#db, name, change, now);
  }

  removeCatalogEntry(
    name: string,
    options: { waiting: "refuse" | "hold"; now: number; hold: { until: number; reason: string } },
  ): Promise<RemoveResult | undefined> {
    return catalog.removeCatalogEntry(this.#db, name, options);
  }

  catalogVersion(): Promise<number> {
    return catalog.catalogVersion(this.#db);
  }

  resealCatalog(
    to: { readonly keyId: string; readonly reseal: (name: string, sealedSecret: string) => string },
    now: number,
  ): Promise<number> {
    return catalog.resealCatalog(this.#db, to, now);
  }

  // Destination leases (DestinationLeases, migration 002): see leases.ts.

  heartbeat(worker: string, now: number, ttlMs: number): Promise<void> {
    return leases.heartbeat(this.#db, worker, now, ttlMs);
  }

  balance(
    worker: string,
    destinations: readonly string[],
    now: number,
    leaseMs: number,
    busy: readonly string[] = [],
  ): Promise<string[]> {
    return leases.balance(this.#db, worker, destinations, now, leaseMs, busy);
  }

  releaseWorker(worker: string): Promise<void> {
    return leases.releaseWorker(this.#db, worker);
  }

  leaseOwners(destinations: readonly string[]): Promise<string[]> {
    return leases.leaseOwners(this.#db, destinations);
  }

  dueDestinations(destinations: readonly string[]): Promise<DueDestination[]> {
    return leases.dueDestinations(this.#db, destinations);
  }
}

function statusCounts(rows: readonly { status: LeadStatus; n: number }[]) {
  const counts = Object.fromEntries(LEAD_STATUSES.map((s) => [s, 0])) as Record<LeadStatus, number>;
  for (const r of rows) counts[r.status] = r.n;
  return counts;
}
