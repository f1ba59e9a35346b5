-- A PA asks a colleague to take one of their published shifts, or to swap one for one of the
-- colleague's; the colleague answers, then the team manager decides. Kept whole, never deleted.
CREATE TABLE swap_requests (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    roster_id TEXT NOT NULL REFERENCES rosters (id),
    roster_shift_id TEXT NOT NULL REFERENCES roster_shifts (id),
    requester_pa_id TEXT NOT NULL REFERENCES pa_profiles (id),
    colleague_pa_id TEXT NOT NULL REFERENCES pa_profiles (id),
    their_shift_id TEXT REFERENCES roster_shifts (id),
    status TEXT NOT NULL CHECK (status IN ('proposed', 'accepted', 'approved', 'declined', 'refused', 'withdrawn')),
    note TEXT,
    decision_reason TEXT,
    decided_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX swap_requests_roster ON swap_requests (roster_id, status);
CREATE INDEX swap_requests_requester ON swap_requests (requester_pa_id);
CREATE INDEX swap_requests_colleague ON swap_requests (colleague_pa_id);
-- One live request per shift and PA, even when two arrive at once.
CREATE UNIQUE INDEX swap_requests_live ON swap_requests (roster_shift_id, requester_pa_id)
    WHERE status IN ('proposed', 'accepted');
