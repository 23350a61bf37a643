-- The id of the key the catalog's client secrets are sealed with (the key itself is kept outside
-- the database): set by a key rotation in the transaction that re-seals them, or by the first
-- secret given. A secret sealed with another key (a process still on a key a rotation retired)
-- is refused (sqlite-store.ts). One row, none before the first secret.
CREATE TABLE catalog_key (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  key_id     TEXT    NOT NULL,
  updated_at INTEGER NOT NULL
);
-- A catalog with secrets already: the key most of them name (a sealed secret is
-- `v1:<key id>:…`), the most recently written on a tie.
INSERT INTO catalog_key (id, key_id, updated_at)
SELECT 1, substr(sealed_secret, 4, instr(substr(sealed_secret, 4), ':') - 1), max(updated_at)
FROM destination_catalog
WHERE sealed_secret LIKE 'v1:%:%'
GROUP BY 2
ORDER BY count(*) DESC, max(updated_at) DESC
LIMIT 1;
