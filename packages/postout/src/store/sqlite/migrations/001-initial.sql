-- Leads: the raw input as received, the mapped Marketo input, and the derived delivery state.
CREATE TABLE leads (
  id          INTEGER PRIMARY KEY,
  destination TEXT    NOT NULL,
  -- Idempotency key of the intake (e.g. file digest + row): the same row posted twice is accepted once.
  intake_key  TEXT,
  route       TEXT    NOT NULL,  -- JSON: endpoint, action, lookupField, programName, ...
  route_key   TEXT    NOT NULL,  -- canonical JSON of route, for grouping into batches
  raw         TEXT    NOT NULL,  -- JSON of the source row exactly as received
  input       TEXT,              -- JSON of the mapped Marketo fields; NULL when mapping failed
  email       TEXT,
  program     TEXT,
  source      TEXT,              -- where it came from: a file name, "api", "demo"
  source_line INTEGER,
  map_path    TEXT,              -- the field map file it was mapped with; repost re-reads it
  status      TEXT    NOT NULL,  -- queued | sending | delivered | retrying | needs_fix | paused | test
  attempts    INTEGER NOT NULL DEFAULT 0,
  next_at     INTEGER,           -- epoch ms when a queued or retrying lead is due
  last_code   TEXT,
  last_reason TEXT,
  fix         TEXT,
  marketo_id  INTEGER,
  -- 1 when a send was interrupted and its outcome is unknown: verify before sending again.
  uncertain   INTEGER NOT NULL DEFAULT 0,
  claimed_by  TEXT,
  lease_until INTEGER,
  test        INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX leads_intake_key ON leads (destination, intake_key) WHERE intake_key IS NOT NULL;
CREATE INDEX leads_due ON leads (destination, next_at) WHERE status IN ('queued', 'retrying');
CREATE INDEX leads_sending ON leads (destination, claimed_by) WHERE status = 'sending';
CREATE INDEX leads_status ON leads (status, id);
CREATE INDEX leads_email ON leads (email);
CREATE INDEX leads_code ON leads (last_code, id);

-- One row per lead per call: what was sent for that lead and what Marketo answered for it.
CREATE TABLE attempts (
  id          INTEGER PRIMARY KEY,
  lead_id     INTEGER NOT NULL REFERENCES leads (id),
  n           INTEGER NOT NULL,  -- attempt number of this lead, from 1
  at          INTEGER NOT NULL,
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
CREATE INDEX attempts_lead ON attempts (lead_id, n);
CREATE INDEX attempts_code_at ON attempts (status_code, at);

-- Destination-wide state: a pause (607 until the quota reset, bad credentials, 603).
CREATE TABLE destinations (
  name          TEXT PRIMARY KEY,
  paused_until  INTEGER,
  paused_code   TEXT,
  paused_reason TEXT,
  updated_at    INTEGER NOT NULL
);
