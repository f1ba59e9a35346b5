DROP TABLE roster_run_rosters;
