-- "Email contains" from a table of its own. A lead's email is written there once, at intake; in
-- the leads table every change of a lead (its claim, its wire mark, its outcome) writes a new row
-- version into every index, and a trigram index takes about 25 entries an email. Moved here, the
-- claim, the mark and the record each cost a third less (bench/postgres.bench.ts).
CREATE TABLE lead_emails (
  lead_id BIGINT PRIMARY KEY,
  email   TEXT   NOT NULL
);
INSERT INTO lead_emails (lead_id, email) SELECT id, email FROM leads WHERE email IS NOT NULL;
CREATE INDEX lead_emails_trigram ON lead_emails USING gin (email gin_trgm_ops);
DROP INDEX leads_email_trigram;
