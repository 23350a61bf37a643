-- The schema of the SQLite store (its migrations 001–007) on PostgreSQL. Times are epoch ms in
-- BIGINT; JSON is kept as the text it was written (TEXT, not jsonb: the raw row stays exactly
-- as received, key order and all, and no JSON the gateway accepted is refused here).

-- "Email contains" finds any substring of 3 characters or more through a trigram index.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Leads: the raw input as received, the mapped Marketo input, and the derived delivery state.
CREATE SEQUENCE leads_id_seq;
CREATE TABLE leads (
  -- Ids are taken from the sequence by the store in input order (PostgresStore.addLeads).
  id          BIGINT  PRIMARY KEY DEFAULT nextval('leads_id_seq'),
  destination TEXT    NOT NULL,
  -- Idempotency key of the intake (e.g. file digest + row): the same row posted twice is accepted
  -- once. Test leads' keys start with 'test:' (gateway.ts intakeKey).
  intake_key  TEXT,
  route       TEXT    NOT NULL,  -- JSON: endpoint, action, lookupField, programName, ...
  route_key   TEXT    NOT NULL,  -- canonical JSON of route, for grouping into batches
  raw         TEXT    NOT NULL,  -- JSON of the source row exactly as received
  input       TEXT,              -- JSON of the mapped Marketo fields; NULL when mapping failed
  email       TEXT,              -- lower case
  program     TEXT,
  source      TEXT,              -- where it came from: a file name, "api", "demo"
  source_line INTEGER,
  map_path    TEXT,              -- the field map file it was mapped with; repost re-reads it
  status      TEXT    NOT NULL,  -- queued | sending | delivered | retrying | needs_fix | paused | test
  attempts    INTEGER NOT NULL DEFAULT 0,
  next_at     BIGINT,            -- when a queued, retrying or paused lead is due
  last_code   TEXT,
  last_reason TEXT,
  fix         TEXT,
  marketo_id  BIGINT,
  -- The last step Marketo confirmed ('lead', 'list', 'customObject', 'activity'); a retry
  -- starts after it.
  done_step   TEXT,
  -- A call for this step was handed to the network at wire_at and its answer is not recorded
  -- yet: after a crash only these leads are uncertain.
  wire_step   TEXT,
  wire_at     BIGINT,
  claimed_by  TEXT,
  lease_until BIGINT,
  test        BOOLEAN NOT NULL DEFAULT false,
  created_at  BIGINT  NOT NULL,
  updated_at  BIGINT  NOT NULL
);
ALTER SEQUENCE leads_id_seq OWNED BY leads.id;
CREATE UNIQUE INDEX leads_intake_key ON leads (destination, intake_key) WHERE intake_key IS NOT NULL;
-- The claim's own predicate: a paused lead is claimed once its pause is over.
CREATE INDEX leads_due ON leads (destination, next_at, id)
  WHERE status IN ('queued', 'retrying', 'paused');
CREATE INDEX leads_sending ON leads (destination, claimed_by) WHERE status = 'sending';
CREATE INDEX leads_status ON leads (status, id);
-- Partial where the column is often empty (a new lead has no code; a Sync Leads lead no
-- program): intake does not pay for index entries no filter reads.
CREATE INDEX leads_code ON leads (last_code, id) WHERE last_code IS NOT NULL;
CREATE INDEX leads_program ON leads (program, status) WHERE program IS NOT NULL;
CREATE INDEX leads_updated ON leads (updated_at, status);
CREATE INDEX leads_email_trigram ON leads USING gin (email gin_trgm_ops);
-- A lead Marketo created is attributed to one of our leads at most: verification looks the id up.
CREATE INDEX leads_marketo_id ON leads (destination, marketo_id) WHERE marketo_id IS NOT NULL;

-- One row per lead per call: what was sent for that lead and what Marketo answered for it.
CREATE SEQUENCE attempts_id_seq;
CREATE TABLE attempts (
  -- Ids are taken by the store in the order the rows are written: a lead's rows read back in
  -- that order (n, id).
  id          BIGINT  PRIMARY KEY DEFAULT nextval('attempts_id_seq'),
  lead_id     BIGINT  NOT NULL REFERENCES leads (id),
  n           INTEGER NOT NULL,  -- attempt number of this lead, from 1
  at          BIGINT  NOT NULL,
  destination TEXT    NOT NULL,
  endpoint    TEXT    NOT NULL,
  request     TEXT    NOT NULL,  -- JSON: routing section + input, secrets removed
  response    TEXT,              -- JSON: Marketo's answer for this lead
  request_id  TEXT,
  status_code TEXT    NOT NULL,  -- "200" on success, else the Marketo code: "1006", "606", "413" ...
  reason      TEXT,
  outcome     TEXT    NOT NULL,  -- the lead status this attempt led to
  duration_ms INTEGER
);
ALTER SEQUENCE attempts_id_seq OWNED BY attempts.id;
CREATE INDEX attempts_lead ON attempts (lead_id, n, id);
CREATE INDEX attempts_code_at ON attempts (status_code, at);
-- Attempts over time (GET /v1/stats/codes): a range on `at`, counted by destination and code
-- from the index alone.
CREATE INDEX attempts_at ON attempts (at, destination, status_code);

-- Destination-wide state: a pause (607 until the quota reset, bad credentials, 603).
CREATE TABLE destinations (
  name          TEXT PRIMARY KEY,
  paused_until  BIGINT,
  paused_code   TEXT,
  paused_reason TEXT,
  updated_at    BIGINT NOT NULL
);

-- The store's health check writes one row here and deletes it in the same transaction: proof
-- that the database takes writes (a full disk or a read-only server makes it fail).
CREATE TABLE store_probe (
  id  INTEGER PRIMARY KEY CHECK (id = 1),
  pad TEXT
);
