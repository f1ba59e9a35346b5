ALTER TABLE payroll_exports DROP COLUMN gaps;
ALTER TABLE payroll_exports DROP COLUMN mapping;
ALTER TABLE employers DROP COLUMN payroll_mapping;
