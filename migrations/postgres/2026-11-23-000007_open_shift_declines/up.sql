-- A PA who declines an open shift is not offered it again.
CREATE TABLE open_shift_declines (
    roster_shift_id TEXT NOT NULL REFERENCES roster_shifts (id),
    pa_id TEXT NOT NULL REFERENCES pa_profiles (id),
    declined_at TIMESTAMP NOT NULL,
    PRIMARY KEY (roster_shift_id, pa_id)
);
