-- Absences: a PA off sick, on leave or otherwise away, reported by the PA or recorded by a
-- manager; corrected (version, audit trail), never deleted. An open-ended one has no end yet.
CREATE TABLE absences (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    pa_id TEXT NOT NULL REFERENCES pa_profiles (id),
    kind TEXT NOT NULL CHECK (kind IN ('sickness', 'emergency', 'other', 'annual_leave',
        'compassionate', 'parental', 'unpaid', 'training')),
    starts_on DATE NOT NULL,
    ends_on DATE,
    -- The last day the safety gate counts the PA away (absence::model::Span::away_through:
    -- the end, or a year on while there is none), kept so the gate's leave query needs no rule.
    away_through DATE NOT NULL,
    fit_note_from DATE,
    fit_note_to DATE,
    reported_by TEXT NOT NULL REFERENCES users (id),
    reported_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (ends_on IS NULL OR ends_on >= starts_on)
);
CREATE INDEX absences_pa ON absences (pa_id, starts_on);
CREATE INDEX absences_organisation ON absences (organisation_id, starts_on);

-- A place on a published shift opened by an absence, and the search for someone to cover it:
-- widening in rounds (the person's team, PAs nearby, anyone the safety gate allows) until it
-- is taken or the shift starts.
CREATE TABLE cover_requests (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    roster_shift_id TEXT NOT NULL REFERENCES roster_shifts (id),
    absence_id TEXT REFERENCES absences (id),
    absent_pa_id TEXT NOT NULL REFERENCES pa_profiles (id),
    status TEXT NOT NULL CHECK (status IN ('searching', 'covered', 'uncovered', 'withdrawn')),
    round INTEGER NOT NULL,
    opened_at TIMESTAMP NOT NULL,
    first_offers_at TIMESTAMP,
    covered_by TEXT REFERENCES pa_profiles (id),
    covered_at TIMESTAMP,
    UNIQUE (roster_shift_id, absent_pa_id)
);
CREATE INDEX cover_requests_status ON cover_requests (organisation_id, status);

-- Who was offered a cover request's shift, when, in which round and why.
CREATE TABLE cover_offers (
    cover_request_id TEXT NOT NULL REFERENCES cover_requests (id),
    pa_id TEXT NOT NULL REFERENCES pa_profiles (id),
    round INTEGER NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    reason TEXT NOT NULL,
    offered_by TEXT REFERENCES users (id),
    offered_at TIMESTAMP NOT NULL,
    PRIMARY KEY (cover_request_id, pa_id)
);

-- The absences each export told the payroll software of (JSON, payroll::dto::ExportAbsence).
ALTER TABLE payroll_exports ADD COLUMN absences TEXT NOT NULL DEFAULT '[]';
