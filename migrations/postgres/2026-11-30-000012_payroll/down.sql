ALTER TABLE shift_records DROP COLUMN woken_minutes;
DROP TABLE minimum_wage_reviews;
DROP TABLE payroll_export_lines;
DROP TABLE payroll_exports;
DROP INDEX timesheets_paid_in;
DROP TABLE payroll_adjustments;
DROP TABLE engagements;
DROP TABLE employers;
