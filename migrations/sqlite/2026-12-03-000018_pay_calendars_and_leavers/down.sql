PRAGMA foreign_keys = OFF;
BEGIN;
ALTER TABLE payroll_exports DROP COLUMN leavers;
ALTER TABLE engagements DROP COLUMN leaver_export_id;
ALTER TABLE engagements DROP COLUMN leaving_reason;
ALTER TABLE engagements DROP COLUMN ends_on;
DELETE FROM pay_periods WHERE employer_id IS NOT NULL;
CREATE TABLE pay_periods_rebuilt (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    closed_by TEXT REFERENCES users (id),
    closed_at TIMESTAMP,
    UNIQUE (organisation_id, starts_on)
);
INSERT INTO pay_periods_rebuilt
    SELECT id, organisation_id, starts_on, ends_on, closed_by, closed_at FROM pay_periods;
DROP TABLE pay_periods;
ALTER TABLE pay_periods_rebuilt RENAME TO pay_periods;
ALTER TABLE timesheet_policies DROP COLUMN pay_days_after_end;
ALTER TABLE employers DROP COLUMN pay_calendar;
COMMIT;
PRAGMA foreign_keys = ON;
