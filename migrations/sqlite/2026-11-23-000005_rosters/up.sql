-- Rosters: the generator's draft for a team manager's people over a date range, its shifts and
-- who is on each. `version` is the ETag: every change to a draft takes the next one.
CREATE TABLE rosters (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    team_manager_id TEXT NOT NULL REFERENCES users (id),
    from_date DATE NOT NULL,
    to_date DATE NOT NULL,
    -- draft or published
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    seed BIGINT NOT NULL,
    time_limit_ms BIGINT NOT NULL,
    -- the score broken down by goal, JSON
    score TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX rosters_by_manager ON rosters (team_manager_id, from_date);

CREATE TABLE roster_shifts (
    id TEXT PRIMARY KEY NOT NULL,
    roster_id TEXT NOT NULL REFERENCES rosters (id),
    budget_holder_id TEXT NOT NULL REFERENCES budget_holders (id),
    shift_date DATE NOT NULL,
    start_local TEXT NOT NULL,
    end_local TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    kind TEXT NOT NULL,
    headcount INTEGER NOT NULL,
    -- weekly or extra
    source TEXT NOT NULL,
    support_change_id TEXT REFERENCES support_changes (id),
    -- why it is open, when it is
    open_reason TEXT
);
CREATE INDEX roster_shifts_by_roster ON roster_shifts (roster_id, starts_at);

CREATE TABLE roster_assignments (
    id TEXT PRIMARY KEY NOT NULL,
    roster_id TEXT NOT NULL REFERENCES rosters (id),
    roster_shift_id TEXT NOT NULL REFERENCES roster_shifts (id),
    pa_id TEXT NOT NULL REFERENCES pa_profiles (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (roster_shift_id, pa_id)
);
CREATE INDEX roster_assignments_by_pa ON roster_assignments (pa_id, roster_id);
