-- A representative acts for the person only with consent recorded: the date it was given.
ALTER TABLE budget_holders ADD COLUMN representative_consent_on DATE;
