-- Destinations created at runtime (API, CLI). The client secret is sealed (AES-256-GCM under a
-- key kept outside the database); a removed entry keeps its row (removed_at) so its name can be
-- taken again. version: taken from the sequence at every change, under the catalog's write lock
-- (catalog.ts), so versions rise in commit order and max(version) tells every process cheaply
-- that the catalog changed.
CREATE SEQUENCE destination_catalog_version_seq;
CREATE TABLE destination_catalog (
  name          TEXT    PRIMARY KEY,
  base_url      TEXT    NOT NULL,
  client_id     TEXT    NOT NULL,
  sealed_secret TEXT    NOT NULL,
  calls_per_20s INTEGER,
  concurrency   INTEGER,
  daily_budget  INTEGER,
  marker_field  TEXT,
  created_at    BIGINT  NOT NULL,
  updated_at    BIGINT  NOT NULL,
  removed_at    BIGINT,
  version       BIGINT  NOT NULL
);
ALTER SEQUENCE destination_catalog_version_seq OWNED BY destination_catalog.version;
CREATE INDEX destination_catalog_version ON destination_catalog (version);
