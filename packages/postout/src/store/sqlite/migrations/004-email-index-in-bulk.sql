-- The email trigram index (003) no longer follows inserts through a trigger: each lead's own
-- trigger run cost about 30 µs, half of durable intake's time per lead. Store.addLeads
-- indexes a chunk's new leads in one statement inside the same transaction instead (about
-- 5 µs a lead), so a committed lead is always found by "email contains". The delete and
-- update triggers stay: nothing deletes leads or changes their email today, and they are off
-- the intake path.
DROP TRIGGER leads_email_trigram_insert;
