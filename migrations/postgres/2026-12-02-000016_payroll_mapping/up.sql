-- Each employer's payroll software and its codes for parota's pay elements (JSON, see
-- payroll::mapping); an export keeps the mapping it was closed with, and what the software
-- still needs before it can take the export.
ALTER TABLE employers ADD COLUMN payroll_mapping TEXT NOT NULL DEFAULT '{"software":"none","elements":{}}';
ALTER TABLE payroll_exports ADD COLUMN mapping TEXT NOT NULL DEFAULT '{"software":"none","elements":{}}';
ALTER TABLE payroll_exports ADD COLUMN gaps TEXT NOT NULL DEFAULT '[]';
