ALTER TABLE timesheet_policies DROP COLUMN offline_sync_days;
