-- One-off changes to a person's weekly support pattern: a pause (hospital stay, holiday) or
-- extra cover. Never deleted: a change made in error is cancelled, with who and when.
CREATE TABLE support_changes (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    budget_holder_id TEXT NOT NULL REFERENCES budget_holders (id),
    -- pause or extra
    kind TEXT NOT NULL,
    -- a pause covers shifts starting from_date to to_date (inclusive); extra cover is one
    -- shift starting on from_date (= to_date)
    from_date DATE NOT NULL,
    to_date DATE NOT NULL,
    start_time TEXT,
    end_time TEXT,
    shift_kind TEXT,
    headcount INTEGER,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    cancelled_by TEXT REFERENCES users (id),
    cancelled_at TIMESTAMP
);
CREATE INDEX support_changes_by_holder ON support_changes (budget_holder_id, from_date);
