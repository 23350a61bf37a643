-- The lead list's filters on a large table (bench/http.bench.ts, 250,000 leads): each filter
-- finds its rows from an index, and the counts by status over it read the index alone.
CREATE INDEX leads_program ON leads (program, status);
CREATE INDEX leads_updated ON leads (updated_at, status);

-- "Email contains": a trigram index finds any substring of 3 characters or more without
-- reading every row. It follows the leads table through these triggers.
CREATE VIRTUAL TABLE leads_email_trigram USING fts5 (
  email, content = 'leads', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO leads_email_trigram (leads_email_trigram) VALUES ('rebuild');
CREATE TRIGGER leads_email_trigram_insert AFTER INSERT ON leads BEGIN
  INSERT INTO leads_email_trigram (rowid, email) VALUES (new.id, new.email);
END;
CREATE TRIGGER leads_email_trigram_delete AFTER DELETE ON leads BEGIN
  INSERT INTO leads_email_trigram (leads_email_trigram, rowid, email) VALUES ('delete', old.id, old.email);
END;
CREATE TRIGGER leads_email_trigram_update AFTER UPDATE OF email ON leads BEGIN
  INSERT INTO leads_email_trigram (leads_email_trigram, rowid, email) VALUES ('delete', old.id, old.email);
  INSERT INTO leads_email_trigram (rowid, email) VALUES (new.id, new.email);
END;
