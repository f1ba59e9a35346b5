ALTER TABLE payroll_exports DROP COLUMN leavers;
ALTER TABLE engagements DROP COLUMN leaver_export_id;
ALTER TABLE engagements DROP CONSTRAINT engagements_end_has_reason;
ALTER TABLE engagements DROP CONSTRAINT engagements_leaving_reason_known;
ALTER TABLE engagements DROP COLUMN leaving_reason;
ALTER TABLE engagements DROP COLUMN ends_on;
DROP INDEX pay_periods_employer_calendar;
DROP INDEX pay_periods_organisation_calendar;
DELETE FROM pay_periods WHERE employer_id IS NOT NULL;
ALTER TABLE pay_periods ADD CONSTRAINT pay_periods_organisation_id_starts_on_key
    UNIQUE (organisation_id, starts_on);
ALTER TABLE pay_periods DROP COLUMN pay_date;
ALTER TABLE pay_periods DROP COLUMN employer_id;
ALTER TABLE timesheet_policies DROP COLUMN pay_days_after_end;
ALTER TABLE employers DROP COLUMN pay_calendar;
