-- "Email contains" from a table of its own. A lead's email is written there once, when the lead
-- is inserted; in the leads table every change of a lead (its claim, its wire mark, its outcome)
-- writes a new row version into every index, and a trigram index takes about 25 entries an
-- email. Moved here, the claim, the mark and the record no longer rewrite them.
CREATE TABLE lead_emails (
  lead_id BIGINT PRIMARY KEY,
  email   TEXT   NOT NULL
);
INSERT INTO lead_emails (lead_id, email) SELECT id, email FROM leads WHERE email IS NOT NULL;
CREATE INDEX lead_emails_trigram ON lead_emails USING gin (email gin_trgm_ops);
DROP INDEX leads_email_trigram;

-- Filled by the database itself, once per insert statement, whoever inserts: a process of an
-- earlier release still running during an upgrade writes leads that are found too.
CREATE FUNCTION lead_emails_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO lead_emails (lead_id, email) SELECT id, email FROM added WHERE email IS NOT NULL;
  RETURN NULL;
END
$$;
CREATE TRIGGER lead_emails_add AFTER INSERT ON leads REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION lead_emails_add();
