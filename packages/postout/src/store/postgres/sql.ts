import type { LeadFilter } from "../store.ts";
import { text } from "./values.ts";

/**
 * Every statement of the PostgreSQL store (the schema is in migrations/). Batches travel as
 * arrays, one per column, and are opened with `unnest`: a chunk of 1,000 leads is one statement.
 * Times are epoch ms (BIGINT).
 */

export const BEGIN = "BEGIN";
/** The list's page and its counts from one snapshot. */
export const BEGIN_SNAPSHOT = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
export const COMMIT = "COMMIT";
export const ROLLBACK = "ROLLBACK";

/** Held while migrations run, so several processes starting at once migrate one after another. */
export const MIGRATION_LOCK = "SELECT pg_advisory_xact_lock(7370617011)";

export const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS postout_migrations (
  version    INTEGER PRIMARY KEY,
  name       TEXT    NOT NULL,
  applied_at BIGINT  NOT NULL
)`;

export const APPLIED_MIGRATIONS = "SELECT version FROM postout_migrations";

export const RECORD_MIGRATION =
  "INSERT INTO postout_migrations (version, name, applied_at) VALUES ($1, $2, $3)";

/**
 * Sequence values for `input`'s rows, paired with its ordinals in ascending order (nextval hands
 * them out in no promised order within a statement): rows are then numbered in input order.
 * `from` may narrow the rows that take one (e.g. only when a check passed).
 */
const orderedIds = (sequence: string, from = "input") => `ids AS MATERIALIZED (
  SELECT id, row_number() OVER (ORDER BY id) AS ord
  FROM (SELECT nextval('${sequence}') AS id FROM ${from}) s
)`;

/**
 * The leads of `ids` that `worker` still holds the claim of (both are parameters). Found by id
 * alone (`IS NOT DISTINCT FROM` is not indexable): matched on the claim, the planner would scan
 * every lead the worker has in flight through leads_sending.
 */
const heldBy = (ids: string, worker: string) =>
  `id = ANY (${ids}::bigint[]) AND status = 'sending' AND claimed_by IS NOT DISTINCT FROM ${worker}::text`;

/**
 * Intake in one statement: new leads numbered in input order (ids from the sequence, sorted), a lead whose intake key was
 * accepted before skipped, the preflight attempt of a lead refused at intake written beside it.
 * A lead of a paused destination waits as paused from the start (not written twice); the pause
 * is read under a share lock, so a resume (which updates that row, then resumes the paused
 * leads) waits for this intake to commit, and its second statement sees these leads.
 * Answers each input's ordinal, the id it was given and whether it was added. $17: now.
 */
export const ADD_LEADS = `WITH input AS (
  SELECT * FROM unnest(
    $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
    $8::text[], $9::text[], $10::int[], $11::text[], $12::text[], $13::text[], $14::text[],
    $15::text[], $16::boolean[]
  ) WITH ORDINALITY AS i (destination, intake_key, route, route_key, raw, input, email, program,
    source, source_line, map_path, refused_code, refused_reason, refused_fix, refused_request,
    test, ord)
),
${orderedIds("leads_id_seq")},
paused AS MATERIALIZED (
  SELECT name, paused_until FROM destinations
  WHERE name IN (SELECT destination FROM input) AND paused_until > $17::bigint
  FOR SHARE
),
added AS (
  INSERT INTO leads (id, destination, intake_key, route, route_key, raw, input, email, program,
    source, source_line, map_path, status, attempts, next_at, last_code, last_reason, fix, test,
    created_at, updated_at)
  SELECT ids.id, i.destination, i.intake_key, i.route, i.route_key, i.raw, i.input, i.email,
    i.program, i.source, i.source_line, i.map_path,
    CASE WHEN i.refused_code IS NOT NULL THEN 'needs_fix'
      WHEN d.paused_until IS NOT NULL THEN 'paused' ELSE 'queued' END,
    CASE WHEN i.refused_code IS NULL THEN 0 ELSE 1 END,
    CASE WHEN i.refused_code IS NULL THEN coalesce(d.paused_until, $17::bigint) END,
    i.refused_code, i.refused_reason, i.refused_fix, i.test, $17::bigint, $17::bigint
  FROM input i JOIN ids USING (ord)
  LEFT JOIN paused d ON d.name = i.destination
  -- In key order, whatever the input order: two intakes of the same keys wait for each other
  -- instead of deadlocking (a deadlock is still run again, see database.ts).
  ORDER BY i.destination, i.intake_key
  ON CONFLICT (destination, intake_key) WHERE intake_key IS NOT NULL DO NOTHING
  RETURNING id
),
refusals AS (
  INSERT INTO attempts (lead_id, n, at, destination, endpoint, request, response, request_id,
    status_code, reason, outcome, duration_ms)
  SELECT added.id, 1, $17::bigint, i.destination, 'preflight', i.refused_request, NULL, NULL,
    i.refused_code, i.refused_reason, 'needs_fix', 0
  FROM added JOIN ids USING (id) JOIN input i USING (ord)
  WHERE i.refused_code IS NOT NULL
)
SELECT ids.ord, ids.id, added.id IS NOT NULL AS added
FROM ids LEFT JOIN added USING (id)
ORDER BY ids.ord`;

/** The leads accepted before under these (destination, intake key) pairs, by the asker's ordinal. */
export const LEADS_BY_INTAKE_KEY = `SELECT k.ord, l.id
FROM unnest($1::text[], $2::text[], $3::int[]) AS k (destination, intake_key, ord)
JOIN leads l ON l.destination = k.destination AND l.intake_key = k.intake_key`;

/**
 * The claim of several destinations' due leads, one statement: for each destination $4[i], up to
 * $5[i] due leads are locked, skipping those another transaction holds (so two processes never
 * claim the same lead and neither waits for the other), and marked sending; nothing of a
 * destination while its pause lasts. $1 worker, $2 lease until, $3 now.
 */
export const CLAIM_DUE = `UPDATE leads SET status = 'sending', claimed_by = $1, lease_until = $2, updated_at = $3
WHERE id IN (
  SELECT due.id FROM unnest($4::text[], $5::int[]) AS d (destination, lim)
  CROSS JOIN LATERAL (
    SELECT id FROM leads
    WHERE destination = d.destination AND status IN ('queued', 'retrying', 'paused') AND next_at <= $3
      AND NOT EXISTS (SELECT 1 FROM destinations WHERE name = d.destination AND paused_until > $3)
    ORDER BY next_at, id
    LIMIT d.lim
    FOR UPDATE SKIP LOCKED) AS due)
RETURNING id, destination, route, route_key, input, attempts, done_step, marketo_id, wire_step,
  wire_at, test, created_at`;

export const RENEW_LEASES =
  "UPDATE leads SET lease_until = $2 WHERE status = 'sending' AND claimed_by = $1";

/**
 * The wire mark on leads $4 (with their Marketo ids $5) at time $2, all or none: only when worker
 * $6 still holds the claim of every one (locked first) and the lease of its destination unexpired
 * at $2, else nothing changes and no row is answered. The lease is the fence: a worker paused past
 * it (GC, SIGSTOP) must not put a call on the wire that the lease's new owner may be making. One
 * statement, so one round trip and one commit a call; the lease is one primary-key probe per lead.
 * The first call of a step keeps its time: a create is looked for from the earliest call that may
 * have made it.
 */
export const MARK_ON_WIRE = `WITH v AS (SELECT * FROM unnest($4::bigint[], $5::bigint[]) AS v (id, marketo_id)),
held AS (
  SELECT id FROM leads l
  WHERE ${heldBy("$4", "$6")}
    AND EXISTS (SELECT 1 FROM destination_leases d
      WHERE d.destination = l.destination AND d.owner = $6::text AND d.expires_at > $2::bigint)
  FOR UPDATE OF l),
whole AS (SELECT count(*) = (SELECT count(DISTINCT id) FROM v) AS ok FROM held)
UPDATE leads l SET
  wire_at = CASE WHEN l.wire_step IS NOT DISTINCT FROM $1::text THEN coalesce(l.wire_at, $2::bigint) ELSE $2::bigint END,
  wire_step = $1::text, done_step = $3::text, marketo_id = coalesce(v.marketo_id, l.marketo_id)
FROM v, whole
WHERE whole.ok AND l.id = ANY ($4::bigint[]) AND l.id = v.id
RETURNING l.id`;

/** Of leads $1, those worker $2 still holds the claim of (to name the lost ones). */
export const STILL_CLAIMED = `SELECT id FROM leads WHERE ${heldBy("$1", "$2")}`;

export const CLEAR_WIRE = `UPDATE leads SET wire_at = NULL, wire_step = NULL
WHERE id = ANY ($1::bigint[]) AND wire_step = $2`;

export const ATTRIBUTED_IDS = `SELECT DISTINCT marketo_id FROM leads
WHERE destination = $1 AND marketo_id = ANY ($2::bigint[])`;

/**
 * The outcome of one attempt per lead (a lead appears once per statement): the attempt counted,
 * the status moved, a delivered step marked done, the wire mark kept only while uncertain or on
 * another step. Answers each lead's new attempt count and its destination.
 */
const OUTCOMES = `unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[],
  $7::bigint[], $8::boolean[], $9::text[], $10::boolean[], $11::bigint[])
  AS v (id, status, next_at, last_code, last_reason, fix, marketo_id, done, step, uncertain, at)`;

/** What an outcome `v` (one row of OUTCOMES) does to its lead `l`. */
const OUTCOME_SET = `attempts = l.attempts + 1, status = v.status,
  next_at = v.next_at, last_code = v.last_code, last_reason = v.last_reason, fix = v.fix,
  marketo_id = coalesce(v.marketo_id, l.marketo_id),
  done_step = CASE WHEN v.done THEN v.step ELSE l.done_step END,
  wire_at = CASE WHEN v.uncertain OR l.wire_step IS DISTINCT FROM v.step THEN l.wire_at END,
  wire_step = CASE WHEN v.uncertain OR l.wire_step IS DISTINCT FROM v.step THEN l.wire_step END,
  claimed_by = NULL, lease_until = NULL, updated_at = v.at`;

export const RECORD_OUTCOMES = `UPDATE leads l SET ${OUTCOME_SET}
FROM ${OUTCOMES}
WHERE l.id = v.id
RETURNING l.id, l.attempts, l.destination`;

/**
 * A round's record in one statement, the usual case (a worker's claim on every lead, one record
 * per lead, no call sent again): all or none. Locks the leads of $1 in id order; only when worker
 * $12 still holds the claim of every one, moves them as RECORD_OUTCOMES does ($1–$11) and writes
 * their rows of the post-out log as INSERT_ATTEMPTS does ($13–$21, in record order, numbered by
 * the attempt count it set). Answers whether it did; when not, nothing changed and the store
 * records through the transaction that handles lost claims. One round trip instead of five.
 */
export const RECORD_HELD = `WITH v AS (SELECT * FROM ${OUTCOMES}),
held AS (SELECT id FROM leads WHERE ${heldBy("$1", "$12")} ORDER BY id FOR UPDATE),
whole AS (SELECT count(*) = cardinality($1::bigint[]) AS ok FROM held),
moved AS (
  UPDATE leads l SET ${OUTCOME_SET}
  FROM v, whole
  WHERE whole.ok AND l.id = ANY ($1::bigint[]) AND l.id = v.id
  RETURNING l.id, l.attempts, l.destination
),
input AS (
  SELECT * FROM unnest($13::bigint[], $14::bigint[], $15::text[], $16::text[], $17::text[],
    $18::text[], $19::text[], $20::text[], $21::int[])
    WITH ORDINALITY AS i (lead_id, at, endpoint, request, response, request_id, status_code,
      reason, duration_ms, ord)
),
${orderedIds("attempts_id_seq", "input, whole WHERE whole.ok")},
logged AS (
  INSERT INTO attempts (id, lead_id, n, at, destination, endpoint, request, response, request_id,
    status_code, reason, outcome, duration_ms)
  SELECT ids.id, i.lead_id, m.attempts, i.at, m.destination, i.endpoint, i.request, i.response,
    i.request_id, i.status_code, i.reason, v.status, i.duration_ms
  FROM input i JOIN ids USING (ord) JOIN moved m ON m.id = i.lead_id JOIN v ON v.id = i.lead_id
)
SELECT ok FROM whole`;

export const DESTINATIONS_OF = "SELECT id, destination FROM leads WHERE id = ANY ($1::bigint[])";

/** Rows of the post-out log, numbered in the order given: a lead's rows read back in it. */
export const INSERT_ATTEMPTS = `WITH input AS (
  SELECT * FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::text[], $5::text[], $6::text[],
    $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::int[])
    WITH ORDINALITY AS i (lead_id, n, at, destination, endpoint, request, response, request_id,
      status_code, reason, outcome, duration_ms, ord)
),
${orderedIds("attempts_id_seq")}
INSERT INTO attempts (id, lead_id, n, at, destination, endpoint, request, response, request_id,
  status_code, reason, outcome, duration_ms)
SELECT ids.id, i.lead_id, i.n, i.at, i.destination, i.endpoint, i.request, i.response,
  i.request_id, i.status_code, i.reason, i.outcome, i.duration_ms
FROM input i JOIN ids USING (ord)`;

export const SENDING_WORKERS = `SELECT DISTINCT claimed_by AS worker FROM leads
WHERE destination = $1 AND status = 'sending' AND claimed_by IS NOT NULL`;

/** $1 destination, $2 dead workers, $3 leases that ended before this are expired. */
export const RELEASE_CLAIMS = `UPDATE leads SET status = 'queued', claimed_by = NULL, lease_until = NULL,
  next_at = coalesce(next_at, updated_at)
WHERE destination = $1 AND status = 'sending'
  AND (claimed_by = ANY ($2::text[]) OR lease_until < $3)`;

export const NEXT_DUE_AT = `SELECT min(next_at) AS at FROM leads
WHERE destination = $1 AND status IN ('queued', 'retrying', 'paused') AND next_at IS NOT NULL`;

export const HOLD_QUEUED = `UPDATE leads SET status = 'paused', next_at = $1, updated_at = $2
WHERE destination = $3 AND status = 'queued'`;

export const RESUME_DESTINATION = `UPDATE leads SET next_at = $1, updated_at = $1
WHERE destination = $2 AND status = 'paused'`;

export const GET_DESTINATION = `SELECT name, paused_until, paused_code, paused_reason
FROM destinations WHERE name = $1`;

export const SET_DESTINATION_PAUSE = `INSERT INTO destinations (name, paused_until, paused_code, paused_reason, updated_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (name) DO UPDATE SET paused_until = excluded.paused_until,
  paused_code = excluded.paused_code, paused_reason = excluded.paused_reason,
  updated_at = excluded.updated_at`;

/**
 * A repost of one lead per statement's row: re-mapped input, back in line (or needs_fix again
 * with one more attempt). A lead being sent, or whose cut-off call is still to be looked for,
 * is left alone. $1 now.
 */
export const REQUEUE = `UPDATE leads l SET input = v.input, route = v.route, route_key = v.route_key,
  program = v.program, map_path = coalesce(v.map_path, l.map_path), status = v.status,
  next_at = v.next_at, last_code = v.last_code, last_reason = v.last_reason, fix = v.fix,
  attempts = l.attempts + v.add, updated_at = $1::bigint,
  done_step = CASE WHEN l.status IN ('delivered', 'test') THEN NULL ELSE l.done_step END,
  wire_at = NULL, wire_step = NULL
FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
  $9::bigint[], $10::text[], $11::text[], $12::text[], $13::int[])
  AS v (id, input, route, route_key, program, map_path, status, next_at, last_code, last_reason,
    fix, add)
WHERE l.id = v.id AND l.status <> 'sending' AND (l.wire_at IS NULL OR l.status = 'needs_fix')
RETURNING l.id, l.attempts, l.destination`;

/** The health probe's write: a row put and taken away in one transaction. */
export const PROBE_WRITE =
  "INSERT INTO store_probe (id, pad) VALUES (1, repeat('x', 8192)) ON CONFLICT (id) DO UPDATE SET pad = excluded.pad";
export const PROBE_CLEAR = "DELETE FROM store_probe";

export const GET_LEAD = "SELECT * FROM leads WHERE id = $1";

export const GET_ATTEMPTS = "SELECT * FROM attempts WHERE lead_id = $1 ORDER BY n, id";

/** Parameters of a statement, numbered as they are added. */
export class Params {
  readonly values: unknown[] = [];

  /** The placeholder of a new parameter. */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** "Contains" as a LIKE pattern: the part's own %, _ and \ are literal. */
function containsPattern(part: string): string {
  return `%${part.replace(/[\\%_]/g, "\\$&")}%`;
}

/**
 * The WHERE clause of a filter on `leads` aliased `l`, its values added to `params`. An email
 * part of 3 characters or more is found through the trigram index of lead_emails (migration 004).
 */
export function filterSql(filter: LeadFilter, params: Params): string {
  const clauses: string[] = [];
  if (filter.ids) clauses.push(`l.id = ANY (${params.add(filter.ids)}::bigint[])`);
  if (filter.status && filter.status.length > 0)
    clauses.push(`l.status = ANY (${params.add(filter.status)}::text[])`);
  if (filter.code && filter.code.length > 0)
    clauses.push(`l.last_code = ANY (${params.add(filter.code.map((c) => text(c)))}::text[])`);
  // The index attempts_code_at (status_code, at) finds the calls.
  if (filter.attemptCode && filter.attemptCode.length > 0)
    clauses.push(
      `l.id IN (SELECT a.lead_id FROM attempts a WHERE a.status_code = ANY (${params.add(filter.attemptCode.map((c) => text(c)))}::text[]))`,
    );
  if (filter.destination !== undefined)
    clauses.push(`l.destination = ${params.add(text(filter.destination))}`);
  if (filter.program !== undefined) clauses.push(`l.program = ${params.add(text(filter.program))}`);
  if (filter.since !== undefined)
    clauses.push(`l.updated_at >= ${params.add(filter.since)}::bigint`);
  if (filter.until !== undefined)
    clauses.push(`l.updated_at <= ${params.add(filter.until)}::bigint`);
  if (filter.email !== undefined)
    clauses.push(
      `l.id IN (SELECT e.lead_id FROM lead_emails e WHERE e.email LIKE ${params.add(text(containsPattern(filter.email.toLowerCase())))} ESCAPE '\\')`,
    );
  return clauses.length > 0 ? clauses.join(" AND ") : "true";
}

/** A page of the filter's leads, newest first, before the cursor. */
export function listPageSql(where: string, params: Params, before: number, limit: number): string {
  return `SELECT l.* FROM leads l WHERE ${where} AND l.id < ${params.add(before)}::bigint
ORDER BY l.id DESC LIMIT ${params.add(limit)}`;
}

export function statusCountsSql(where: string): string {
  return `SELECT l.status, count(*) AS n FROM leads l WHERE ${where} GROUP BY l.status`;
}

export function codeCountsSql(where: string): string {
  return `SELECT a.status_code AS code, count(*) AS n
FROM attempts a JOIN leads l ON l.id = a.lead_id
WHERE ${where} GROUP BY a.status_code ORDER BY a.status_code`;
}

/** Buckets aligned to the epoch by integer division; the covering index attempts_at answers it. */
export const CODES_OVER_TIME = `SELECT (a.at / $1::bigint) * $1::bigint AS start, a.status_code AS code, count(*) AS n
FROM attempts a
WHERE a.at >= $2::bigint AND a.at <= $3::bigint AND ($4::text IS NULL OR a.destination = $4::text)
GROUP BY 1, 2 ORDER BY 1, 2`;

/** The lead columns of a joined row are prefixed `l_`. */
export const LEAD_COLUMNS = [
  "id",
  "destination",
  "route",
  "raw",
  "input",
  "email",
  "program",
  "source",
  "source_line",
  "map_path",
  "status",
  "attempts",
  "next_at",
  "last_code",
  "last_reason",
  "fix",
  "marketo_id",
  "test",
  "created_at",
  "updated_at",
] as const;

/** A page of the filter's attempts, each with its lead, in the order they were written. */
export function attemptsPageSql(where: string, params: Params, after: number, limit: number) {
  const lead = LEAD_COLUMNS.map((c) => `l.${c} AS l_${c}`).join(", ");
  return `SELECT a.*, ${lead} FROM attempts a JOIN leads l ON l.id = a.lead_id
WHERE ${where} AND a.id > ${params.add(after)}::bigint ORDER BY a.id LIMIT ${params.add(limit)}`;
}

/** A page of the filter's leads, oldest first, after the cursor. */
export function leadsPageSql(where: string, params: Params, after: number, limit: number) {
  return `SELECT l.* FROM leads l WHERE ${where} AND l.id > ${params.add(after)}::bigint
ORDER BY l.id LIMIT ${params.add(limit)}`;
}

/** The latest attempt of each of these leads. */
export const LAST_ATTEMPTS = `SELECT DISTINCT ON (lead_id) * FROM attempts
WHERE lead_id = ANY ($1::bigint[]) ORDER BY lead_id, id DESC`;

// ── The destination catalog (DestinationCatalog, migration 003; logic in catalog.ts) ──────────

/**
 * Taken first by every transaction that writes the catalog, held until it ends: writers go one
 * at a time, so each takes its version after the last one committed and versions rise in commit
 * order (a poller that saw version n has seen every change up to n). Readers are not blocked.
 */
export const LOCK_CATALOG = "LOCK TABLE destination_catalog IN SHARE ROW EXCLUSIVE MODE";

/** Names in byte order, as SQLite orders them, whatever the database's collation. */
export const LIST_CATALOG = `SELECT * FROM destination_catalog WHERE removed_at IS NULL
ORDER BY name COLLATE "C"`;

export const GET_CATALOG_ENTRY =
  "SELECT * FROM destination_catalog WHERE name = $1 AND removed_at IS NULL";

/** The row of a name, removed or not. */
export const CATALOG_REMOVED_AT =
  "SELECT removed_at, base_url FROM destination_catalog WHERE name = $1";

/** The leads of a destination held paused (by its removal). */
export const COUNT_PAUSED_LEADS =
  "SELECT count(*)::int AS n FROM leads WHERE destination = $1 AND status = 'paused'";

/** A new entry, or a removed name taken again (a new entry in the old row). $9: now. */
export const ADD_CATALOG_ENTRY = `INSERT INTO destination_catalog (name, base_url, client_id,
  sealed_secret, calls_per_20s, concurrency, daily_budget, marker_field, created_at, updated_at,
  removed_at, version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::bigint, $9::bigint, NULL,
  nextval('destination_catalog_version_seq'))
ON CONFLICT (name) DO UPDATE SET base_url = excluded.base_url, client_id = excluded.client_id,
  sealed_secret = excluded.sealed_secret, calls_per_20s = excluded.calls_per_20s,
  concurrency = excluded.concurrency, daily_budget = excluded.daily_budget,
  marker_field = excluded.marker_field, created_at = excluded.created_at,
  updated_at = excluded.updated_at, removed_at = NULL, version = excluded.version
RETURNING *`;

/** Ends the pause a removal put on the destination (its leads: RESUME_DESTINATION). $2: now. */
export const END_REMOVED_PAUSE = `UPDATE destinations SET paused_until = NULL, paused_code = NULL,
  paused_reason = NULL, updated_at = $2
WHERE name = $1 AND paused_code = 'removed'`;

/**
 * An edit: a text field given (not null) replaces the stored one; an optional number or the
 * marker field is set (null clears it) when its flag is true. $1 name, $13 now.
 */
export const UPDATE_CATALOG_ENTRY = `UPDATE destination_catalog SET
  base_url = coalesce($2::text, base_url),
  client_id = coalesce($3::text, client_id),
  sealed_secret = coalesce($4::text, sealed_secret),
  calls_per_20s = CASE WHEN $5::boolean THEN $6::integer ELSE calls_per_20s END,
  concurrency = CASE WHEN $7::boolean THEN $8::integer ELSE concurrency END,
  daily_budget = CASE WHEN $9::boolean THEN $10::integer ELSE daily_budget END,
  marker_field = CASE WHEN $11::boolean THEN $12::text ELSE marker_field END,
  updated_at = $13::bigint, version = nextval('destination_catalog_version_seq')
WHERE name = $1 AND removed_at IS NULL
RETURNING *`;

/**
 * Taken by an edit that moves a destination to another Marketo instance, before it counts the
 * leads waiting (WAITING_LEADS): an intake in flight commits first and is counted, one that
 * starts later waits for the edit's commit. Every write of leads waits for those milliseconds;
 * moving a destination is a person's rare act.
 */
export const LOCK_LEADS_WRITES = "LOCK TABLE leads IN SHARE MODE";

/** The leads a removal must not drop, counted by status. */
export const WAITING_LEADS = `SELECT status, count(*) AS n FROM leads
WHERE destination = $1 AND status IN ('queued', 'retrying', 'sending', 'paused')
GROUP BY status`;

/**
 * A removal holds the waiting leads paused until $1; a claim is given back, and a lead whose
 * call may be in Marketo keeps its wire mark, so it is verified before anything is sent again.
 */
export const HOLD_WAITING_LEADS = `UPDATE leads SET status = 'paused', next_at = $1, claimed_by = NULL,
  lease_until = NULL, updated_at = $2
WHERE destination = $3 AND status IN ('queued', 'retrying', 'sending', 'paused')`;

export const MARK_CATALOG_REMOVED = `UPDATE destination_catalog SET removed_at = $2, updated_at = $2,
  version = nextval('destination_catalog_version_seq')
WHERE name = $1`;

/** Cheap at every poll: the version index's last entry. */
export const CATALOG_VERSION =
  "SELECT coalesce(max(version), 0) AS version FROM destination_catalog";

/** Every entry's secret, removed ones too, in name order (key rotation). */
export const CATALOG_SECRETS = `SELECT name, sealed_secret FROM destination_catalog
ORDER BY name COLLATE "C"`;

/**
 * The id of the key the catalog's secrets are sealed with (migration 005), taking $1 (at $2)
 * when it has none yet: the key of the first secret given. One row, whichever it is.
 */
export const CATALOG_KEY = `WITH adopted AS (
  INSERT INTO catalog_key (id, key_id, updated_at) VALUES (1, $1, $2)
  ON CONFLICT (id) DO NOTHING
  RETURNING key_id
)
SELECT key_id FROM adopted
UNION ALL
SELECT key_id FROM catalog_key WHERE id = 1`;

/** The catalog's key is now $1 (a rotation's reseal), at $2. */
export const SET_CATALOG_KEY = `INSERT INTO catalog_key (id, key_id, updated_at) VALUES (1, $1, $2)
ON CONFLICT (id) DO UPDATE SET key_id = excluded.key_id, updated_at = excluded.updated_at`;

/** New sealed secrets, one per name, each a change with its own version. $3: now. */
export const RESEAL_CATALOG = `UPDATE destination_catalog c SET sealed_secret = v.sealed_secret,
  updated_at = $3::bigint, version = nextval('destination_catalog_version_seq')
FROM unnest($1::text[], $2::text[]) AS v (name, sealed_secret)
WHERE c.name = v.name`;
// ---------------------------------------------------------------------------------------------
// Destination leases (DestinationLeases; migration 002) and the claim check of recordAttempts.
// A balance locks lease rows in destination order, so processes balancing at once wait for each
// other instead of deadlocking.
// ---------------------------------------------------------------------------------------------

/** Marks worker $1 alive until $2. */
export const HEARTBEAT = `INSERT INTO workers (id, expires_at) VALUES ($1, $2)
ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at`;

/**
 * Forgets the workers gone quiet by $1 (not counted alive anyway). Skips the rows another
 * transaction holds: after an outage every process's heartbeat finds the others expired, and
 * each waiting for the other's row would deadlock.
 */
export const FORGET_QUIET_WORKERS = `DELETE FROM workers WHERE id IN (
  SELECT id FROM workers WHERE expires_at <= $1 FOR UPDATE SKIP LOCKED)`;

/**
 * The first statement of a balance: locks, in destination order, the leases of $1 (names) that
 * worker $2 owns or that are expired at $3 (those it may renew, give up or take), and answers
 * them with their owner as they stand once locked.
 */
export const LOCK_LEASES = `SELECT destination, owner FROM destination_leases
WHERE destination = ANY ($1::text[]) AND (owner = $2 OR expires_at <= $3)
ORDER BY destination
FOR UPDATE`;

/** Renews worker $1's leases on $2 (names) to $3. */
export const RENEW_DESTINATION_LEASES = `UPDATE destination_leases SET expires_at = $3
WHERE owner = $1 AND destination = ANY ($2::text[])`;

/** Workers other than $1 alive at $2. */
export const LIVE_WORKERS = `SELECT count(*)::int AS n FROM workers WHERE expires_at > $2 AND id <> $1`;

/** Gives up worker $1's leases on $2 (names). */
export const GIVE_UP_LEASES = `DELETE FROM destination_leases
WHERE owner = $1 AND destination = ANY ($2::text[])`;

/** Of $1 (names), the first $3 by name that nobody holds a lease on at $2. */
export const FREE_DESTINATIONS = `SELECT d.destination FROM unnest($1::text[]) AS d (destination)
WHERE NOT EXISTS (
  SELECT 1 FROM destination_leases l WHERE l.destination = d.destination AND l.expires_at > $2)
ORDER BY d.destination
LIMIT $3`;

/**
 * Worker $2 takes the leases on $1 (names) until $3, in name order; a lease is taken only while
 * it is still free or expired at $4 (another process may have taken it since it was read). The
 * previous owner's sends were its own only while it held the lease: the lead claims other
 * workers hold on a destination taken go back now, not when their own (longer) lease runs out;
 * their wire marks stay. Answers the destinations taken.
 */
export const TAKE_LEASES = `WITH taken AS (
  INSERT INTO destination_leases (destination, owner, expires_at)
  SELECT d.destination, $2::text, $3::bigint FROM unnest($1::text[]) AS d (destination)
  ORDER BY d.destination
  ON CONFLICT (destination) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
  WHERE destination_leases.expires_at <= $4::bigint
  RETURNING destination
),
handed_back AS (
  UPDATE leads SET status = 'queued', claimed_by = NULL, lease_until = NULL,
    next_at = coalesce(next_at, updated_at)
  WHERE destination IN (SELECT destination FROM taken) AND status = 'sending' AND claimed_by <> $2::text
)
SELECT destination FROM taken`;

/** Claims whose own lease ran out by $2 (a round that failed) on $1 (names) go back in line. */
export const RELEASE_EXPIRED_CLAIMS = `UPDATE leads SET status = 'queued', claimed_by = NULL, lease_until = NULL,
  next_at = coalesce(next_at, updated_at)
WHERE destination = ANY ($1::text[]) AND status = 'sending' AND lease_until < $2`;

/** Gives up every lease of worker $1 (locked in destination order) and forgets it. */
export const RELEASE_WORKER = `WITH released AS (
  DELETE FROM destination_leases WHERE destination IN (
    SELECT destination FROM destination_leases WHERE owner = $1 ORDER BY destination FOR UPDATE)
)
DELETE FROM workers WHERE id = $1`;

/** The workers holding a lease on any of $1 (names). */
export const LEASE_OWNERS = `SELECT DISTINCT owner FROM destination_leases
WHERE destination = ANY ($1::text[])`;

/**
 * Of $1 (names), those with leads waiting (queued, retrying or paused) and the earliest time
 * one is due, in the order given: one seek in leads_due per destination.
 */
export const DUE_DESTINATIONS = `SELECT d.destination, due.at AS "dueAt"
FROM unnest($1::text[]) WITH ORDINALITY AS d (destination, ord)
CROSS JOIN LATERAL (
  SELECT min(l.next_at) AS at FROM leads l
  WHERE l.destination = d.destination AND l.status IN ('queued', 'retrying', 'paused')
) due
WHERE due.at IS NOT NULL
ORDER BY d.ord`;

/**
 * recordAttempts' claim check: locks the leads of $1 in id order and answers, for each, whether
 * worker $2 still holds its claim, with the attempt number and destination a row logged for a
 * lead it no longer holds takes.
 */
export const CLAIMS_HELD = `SELECT id, status = 'sending' AND claimed_by IS NOT DISTINCT FROM $2 AS held,
  attempts + 1 AS attempts, destination
FROM leads WHERE id = ANY ($1::bigint[])
ORDER BY id
FOR UPDATE`;

/**
 * The statements of the delivery path, run thousands of times a second with many destinations:
 * prepared once per connection under these names, so the server parses and plans each once
 * instead of on every call. Each names its columns (no `SELECT *`), so a migration that adds a
 * column does not invalidate a prepared statement of a process still running. MARK_ON_WIRE is
 * not among them: its generic plan took 718 ms for a round's 3,000 leads, planned each time 174.
 */
export const PREPARED: ReadonlyMap<string, string> = new Map([
  [ADD_LEADS, "postout_add_leads"],
  [CLAIM_DUE, "postout_claim_due"],
  [CLEAR_WIRE, "postout_clear_wire"],
  [RECORD_HELD, "postout_record_held"],
  [RECORD_OUTCOMES, "postout_record_outcomes"],
  [INSERT_ATTEMPTS, "postout_insert_attempts"],
  [CLAIMS_HELD, "postout_claims_held"],
  [GET_DESTINATION, "postout_get_destination"],
  [DUE_DESTINATIONS, "postout_due_destinations"],
  [RENEW_LEASES, "postout_renew_leases"],
]);
