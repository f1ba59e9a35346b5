DROP TABLE roster_assignments;
DROP TABLE roster_shifts;
DROP TABLE rosters;
