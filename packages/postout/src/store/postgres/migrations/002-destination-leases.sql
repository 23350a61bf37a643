-- Many processes: each live worker (process) has a row renewed by its heartbeat; each
-- destination is leased to one worker at a time (see src/store/destination-leases.ts).
CREATE TABLE workers (
  id         TEXT   PRIMARY KEY,
  expires_at BIGINT NOT NULL  -- epoch ms; a worker not seen since is not counted alive
);
CREATE TABLE destination_leases (
  destination TEXT   PRIMARY KEY,
  owner       TEXT   NOT NULL,
  expires_at  BIGINT NOT NULL  -- epoch ms; past it, any worker may take the destination
);
CREATE INDEX destination_leases_owner ON destination_leases (owner);
-- No index for paused leads, unlike SQLite: leads_due (001) already holds paused leads, so the
-- scheduler's due query seeks the earliest waiting lead of a destination in it.
