-- How many days a phone may queue clock events offline and still sync them: events older
-- than this on arrival are refused, naming device_time, so a wrong phone clock never reaches pay.
ALTER TABLE timesheet_policies ADD COLUMN offline_sync_days INTEGER NOT NULL DEFAULT 92;
