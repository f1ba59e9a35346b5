-- An organisation-wide roster run makes one draft roster per team manager: every roster a run
-- made, so the run can name them all (a team's run names its one).
CREATE TABLE roster_run_rosters (
    run_id TEXT NOT NULL REFERENCES roster_runs (id),
    roster_id TEXT NOT NULL REFERENCES rosters (id),
    PRIMARY KEY (run_id, roster_id)
);
