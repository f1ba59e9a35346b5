ALTER TABLE roster_assignments DROP COLUMN given_at;
