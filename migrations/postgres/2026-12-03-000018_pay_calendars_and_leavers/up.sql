-- Employer pay calendars: an employer may pay on its own calendar (JSON, see
-- timesheets::model::PayCalendar) instead of the organisation's. Its pay periods carry its id;
-- the organisation's carry none. Each period has the date its pay is paid.
ALTER TABLE employers ADD COLUMN pay_calendar TEXT;
ALTER TABLE timesheet_policies ADD COLUMN pay_days_after_end INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pay_periods ADD COLUMN employer_id TEXT REFERENCES employers (id);
ALTER TABLE pay_periods ADD COLUMN pay_date DATE;
UPDATE pay_periods SET pay_date = ends_on;
ALTER TABLE pay_periods ALTER COLUMN pay_date SET NOT NULL;
ALTER TABLE pay_periods DROP CONSTRAINT pay_periods_organisation_id_starts_on_key;
CREATE UNIQUE INDEX pay_periods_organisation_calendar ON pay_periods (organisation_id, starts_on)
    WHERE employer_id IS NULL;
CREATE UNIQUE INDEX pay_periods_employer_calendar ON pay_periods (employer_id, starts_on)
    WHERE employer_id IS NOT NULL;

-- Leavers: an engagement ends on a date, for a reason; no work is paid or rostered after it.
ALTER TABLE engagements ADD COLUMN ends_on DATE;
ALTER TABLE engagements ADD COLUMN leaving_reason TEXT;
ALTER TABLE engagements ADD CONSTRAINT engagements_leaving_reason_known CHECK (
    leaving_reason IS NULL OR leaving_reason IN
        ('resigned', 'dismissed', 'end_of_contract', 'redundancy', 'retired', 'died', 'other'));
ALTER TABLE engagements ADD CONSTRAINT engagements_end_has_reason CHECK (
    (ends_on IS NULL) = (leaving_reason IS NULL));
-- The export that reported each leaver to the bureau (for the P45), and each export's leavers.
ALTER TABLE engagements ADD COLUMN leaver_export_id TEXT REFERENCES payroll_exports (id);
ALTER TABLE payroll_exports ADD COLUMN leavers TEXT NOT NULL DEFAULT '[]';
