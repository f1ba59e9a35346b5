-- Employer pay calendars: an employer may pay on its own calendar (JSON, see
-- timesheets::model::PayCalendar) instead of the organisation's. Its pay periods carry its id;
-- the organisation's carry none. Each period has the date its pay is paid.
-- Leavers: an engagement ends on a date, for a reason; no work is paid or rostered after it.
PRAGMA foreign_keys = OFF;
BEGIN;
ALTER TABLE employers ADD COLUMN pay_calendar TEXT;
ALTER TABLE timesheet_policies ADD COLUMN pay_days_after_end INTEGER NOT NULL DEFAULT 0;
CREATE TABLE pay_periods_rebuilt (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    closed_by TEXT REFERENCES users (id),
    closed_at TIMESTAMP,
    employer_id TEXT REFERENCES employers (id),
    pay_date DATE NOT NULL
);
INSERT INTO pay_periods_rebuilt
    SELECT id, organisation_id, starts_on, ends_on, closed_by, closed_at, NULL, ends_on
    FROM pay_periods;
DROP TABLE pay_periods;
ALTER TABLE pay_periods_rebuilt RENAME TO pay_periods;
CREATE UNIQUE INDEX pay_periods_organisation_calendar ON pay_periods (organisation_id, starts_on)
    WHERE employer_id IS NULL;
CREATE UNIQUE INDEX pay_periods_employer_calendar ON pay_periods (employer_id, starts_on)
    WHERE employer_id IS NOT NULL;
ALTER TABLE engagements ADD COLUMN ends_on DATE;
ALTER TABLE engagements ADD COLUMN leaving_reason TEXT CHECK (
    leaving_reason IS NULL OR leaving_reason IN
        ('resigned', 'dismissed', 'end_of_contract', 'redundancy', 'retired', 'died', 'other'));
-- The export that reported each leaver to the bureau (for the P45), and each export's leavers.
ALTER TABLE engagements ADD COLUMN leaver_export_id TEXT REFERENCES payroll_exports (id);
ALTER TABLE payroll_exports ADD COLUMN leavers TEXT NOT NULL DEFAULT '[]';
COMMIT;
PRAGMA foreign_keys = ON;
