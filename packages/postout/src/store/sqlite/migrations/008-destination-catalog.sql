-- Destinations created at runtime (API, CLI). The client secret is sealed (AES-256-GCM under a
-- key kept outside the database); a removed entry keeps its row (removed_at) so its name can be
-- taken again. version: raised at every change, so max(version) tells every process cheaply
-- that the catalog changed.
CREATE TABLE destination_catalog (
  name          TEXT    PRIMARY KEY,
  base_url      TEXT    NOT NULL,
  client_id     TEXT    NOT NULL,
  sealed_secret TEXT    NOT NULL,
  calls_per_20s INTEGER,
  concurrency   INTEGER,
  daily_budget  INTEGER,
  marker_field  TEXT,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  removed_at    INTEGER,
  version       INTEGER NOT NULL
);
CREATE INDEX destination_catalog_version ON destination_catalog (version);
