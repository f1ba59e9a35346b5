-- One place of a 2:1 shift accepted while nobody holds the other: held, not live, until a
-- second PA accepts and the two go live together.
CREATE TABLE shift_holds (
    roster_shift_id TEXT NOT NULL REFERENCES roster_shifts (id),
    pa_id TEXT NOT NULL REFERENCES pa_profiles (id),
    held_at TIMESTAMP NOT NULL,
    PRIMARY KEY (roster_shift_id, pa_id)
);
CREATE INDEX shift_holds_pa ON shift_holds (pa_id);

-- Published shifts whose PA will not be safe by then, as the daily look ahead last found them:
-- each rule, in words. Cleared when the look ahead no longer finds it.
CREATE TABLE shift_warnings (
    roster_shift_id TEXT NOT NULL REFERENCES roster_shifts (id),
    pa_id TEXT NOT NULL REFERENCES pa_profiles (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    rule TEXT NOT NULL,
    explanation TEXT NOT NULL,
    found_at TIMESTAMP NOT NULL,
    PRIMARY KEY (roster_shift_id, pa_id, rule)
);
CREATE INDEX shift_warnings_organisation ON shift_warnings (organisation_id);
