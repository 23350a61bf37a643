-- Test leads' intake keys get their own namespace (gateway.ts intakeKey): a lead posted for real
-- after a test-integration of the same row is a new lead, not the test answered again.
UPDATE leads SET intake_key = 'test:' || intake_key
WHERE test = 1 AND intake_key IS NOT NULL AND intake_key NOT LIKE 'test:%';
