-- What the Working Time Regulations need to know of a PA beyond their shifts: a cap on their
-- own hours, a written opt-out of the 48-hour average week (reg. 5) and when its withdrawal
-- takes effect, and whether they are a domestic worker in a private household (reg. 19: the
-- 48-hour average does not apply; rest does).
CREATE TABLE pa_working_time (
    pa_id TEXT PRIMARY KEY REFERENCES pa_profiles (id),
    max_minutes_per_week INTEGER,
    opted_out_on DATE,
    opt_out_withdrawn_on DATE,
    domestic_worker BOOLEAN NOT NULL,
    updated_by TEXT NOT NULL REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL
);
