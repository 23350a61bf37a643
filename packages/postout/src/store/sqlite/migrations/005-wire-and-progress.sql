-- Exactly once: what a lead's delivery has done, and whether a call for it may be in Marketo.
-- done_step: the last step Marketo confirmed ('lead', 'list', 'customObject', 'activity'); a
--   retry starts after it, so a lead created by createDuplicate is never created again because
--   its static-list step failed.
-- wire_step, wire_at: a call for this step was handed to the network at wire_at (epoch ms) and
--   its answer is not recorded yet. After a crash only these leads are uncertain; a lead
--   without them never left and is simply sent.
ALTER TABLE leads ADD COLUMN done_step TEXT;
ALTER TABLE leads ADD COLUMN wire_step TEXT;
ALTER TABLE leads ADD COLUMN wire_at INTEGER;
UPDATE leads SET wire_step = 'lead', wire_at = updated_at WHERE uncertain = 1;
ALTER TABLE leads DROP COLUMN uncertain;
-- A lead Marketo created is attributed to one of our leads at most: verification looks the id up.
CREATE INDEX leads_marketo_id ON leads (destination, marketo_id) WHERE marketo_id IS NOT NULL;
