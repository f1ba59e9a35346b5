-- A long roster generation runs as a background job: the request is kept, progress is written
-- as the search goes, and the roster is linked when it is stored.
CREATE TABLE roster_runs (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    requested_by TEXT NOT NULL REFERENCES users (id),
    request TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    time_limit_ms BIGINT NOT NULL,
    elapsed_ms BIGINT NOT NULL,
    best_score BIGINT,
    moves BIGINT NOT NULL,
    roster_id TEXT REFERENCES rosters (id),
    error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX roster_runs_requested_by ON roster_runs (requested_by, created_at);
