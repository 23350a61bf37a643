-- Many processes: each live worker (process) has a row renewed by its heartbeat; each
-- destination is leased to one worker at a time (see src/store/destination-leases.ts).
CREATE TABLE workers (
  id         TEXT    PRIMARY KEY,
  expires_at INTEGER NOT NULL  -- epoch ms; a worker not seen since is not counted alive
);
CREATE TABLE destination_leases (
  destination TEXT    PRIMARY KEY,
  owner       TEXT    NOT NULL,
  expires_at  INTEGER NOT NULL  -- epoch ms; past it, any worker may take the destination
);
CREATE INDEX destination_leases_owner ON destination_leases (owner);
-- The scheduler's due query reads the earliest paused lead per destination (a pause that ended).
CREATE INDEX leads_paused ON leads (destination, next_at) WHERE status = 'paused';
