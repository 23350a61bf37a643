-- Attempts over time (GET /v1/stats/codes): a range on `at`, counted by destination and code
-- from the index alone.
CREATE INDEX attempts_at ON attempts (at, destination, status_code);
