DROP TABLE roster_runs;
