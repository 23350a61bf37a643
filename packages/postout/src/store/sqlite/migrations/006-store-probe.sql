-- The store's health check writes one row here and deletes it in the same transaction: proof
-- that a write needing a new page commits (a full disk or size limit makes it fail).
CREATE TABLE store_probe (
  id  INTEGER PRIMARY KEY CHECK (id = 1),
  pad BLOB
);
