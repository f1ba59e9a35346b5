ALTER TABLE payroll_exports DROP COLUMN absences;
DROP TABLE cover_offers;
DROP TABLE cover_requests;
DROP TABLE absences;
