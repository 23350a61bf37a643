import type { Route } from "../../route.ts";
import type { AttemptRow, LeadRow, LeadStatus } from "../store.ts";

/** A row of `leads` as pg returns it (BIGINT parsed to number, see PostgresStore). */
export interface LeadRecord {
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
  test: boolean;
  created_at: number;
  updated_at: number;
}

/** A row of `attempts` as pg returns it. */
export interface AttemptRecordRow {
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

/** A column that may be NULL as an optional field. */
export const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

/** A lead as the read model answers it (JSON columns parsed). */
export function toLead(r: LeadRecord): LeadRow {
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
    test: r.test,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** A row of the post-out log as the read model answers it (JSON columns parsed). */
export function toAttempt(r: AttemptRecordRow): AttemptRow {
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

/** The lead of a joined row whose lead columns are prefixed `l_` (sql.ts LEAD_COLUMNS). */
export function prefixedLead(row: Record<string, unknown>): LeadRecord {
  return Object.fromEntries(
    Object.entries(row)
      .filter(([k]) => k.startsWith("l_"))
      .map(([k, v]) => [k.slice(2), v]),
  ) as unknown as LeadRecord;
}
