ALTER TABLE budget_holders DROP COLUMN representative_consent_on;
