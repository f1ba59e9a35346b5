-- The marketplace: competency framework, PA and budget-holder profiles, teams.
-- Weekly windows and preferences are JSON text: read whole in Rust, never queried by part.

-- A counter per organisation, bumped in every transaction that changes a PA's profile, evidence
-- or sign-offs. Its row lock makes revisions commit in order, so an instance's in-memory
-- matching index catches up by reading the PAs changed since the revision it last saw.
CREATE TABLE market_revisions (
    organisation_id TEXT PRIMARY KEY NOT NULL REFERENCES organisations (id),
    revision BIGINT NOT NULL
);

CREATE TABLE competency_levels (
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    level INTEGER NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    PRIMARY KEY (organisation_id, level)
);

CREATE TABLE competencies (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    level INTEGER NOT NULL,
    description TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (organisation_id, code)
);

CREATE TABLE pa_profiles (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    -- the PA's login, when they use the app
    user_id TEXT UNIQUE REFERENCES users (id),
    display_name TEXT NOT NULL,
    phone TEXT,
    email TEXT,
    postcode TEXT NOT NULL,
    district TEXT NOT NULL,
    latitude REAL NOT NULL,
    longitude REAL NOT NULL,
    max_travel_km REAL NOT NULL,
    drives BOOLEAN NOT NULL,
    has_car BOOLEAN NOT NULL,
    smoker BOOLEAN NOT NULL,
    comfortable_with_pets BOOLEAN NOT NULL,
    languages TEXT NOT NULL,
    gender TEXT,
    availability TEXT NOT NULL,
    wanted_minutes_per_week INTEGER NOT NULL,
    min_hourly_pay_pence BIGINT NOT NULL,
    -- enhanced DBS with the adult barred list
    dbs_issued_on DATE,
    dbs_update_service BOOLEAN NOT NULL,
    dbs_verified_by TEXT REFERENCES users (id),
    dbs_verified_at TIMESTAMP,
    right_to_work_checked_on DATE,
    right_to_work_expires_on DATE,
    right_to_work_verified_by TEXT REFERENCES users (id),
    right_to_work_verified_at TIMESTAMP,
    active BOOLEAN NOT NULL,
    -- the organisation's market revision of the last change to the PA, their evidence or sign-offs
    revision BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX pa_profiles_revision ON pa_profiles (organisation_id, revision);
CREATE INDEX pa_profiles_location ON pa_profiles (organisation_id, latitude, longitude);
CREATE INDEX pa_profiles_district ON pa_profiles (organisation_id, district);
-- the farthest any PA travels bounds the search box for matching
CREATE INDEX pa_profiles_reach ON pa_profiles (organisation_id, max_travel_km);

CREATE TABLE pa_unavailability (
    id TEXT PRIMARY KEY NOT NULL,
    pa_id TEXT NOT NULL REFERENCES pa_profiles (id),
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL
);
CREATE INDEX pa_unavailability_pa ON pa_unavailability (pa_id, starts_on);

-- Evidence that a PA holds a competency. Expired, unverified or revoked evidence counts for nothing.
CREATE TABLE pa_competencies (
    id TEXT PRIMARY KEY NOT NULL,
    pa_id TEXT NOT NULL REFERENCES pa_profiles (id),
    competency_id TEXT NOT NULL REFERENCES competencies (id),
    trained_on DATE NOT NULL,
    expires_on DATE,
    evidence_reference TEXT,
    verified_by TEXT REFERENCES users (id),
    verified_at TIMESTAMP,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX pa_competencies_pa ON pa_competencies (pa_id);
CREATE INDEX pa_competencies_competency ON pa_competencies (competency_id, pa_id);

CREATE TABLE budget_holders (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    team_manager_id TEXT NOT NULL REFERENCES users (id),
    -- the person's own login and their representative's, when they have them
    user_id TEXT UNIQUE REFERENCES users (id),
    representative_user_id TEXT REFERENCES users (id),
    display_name TEXT NOT NULL,
    representative_name TEXT,
    postcode TEXT NOT NULL,
    district TEXT NOT NULL,
    latitude REAL NOT NULL,
    longitude REAL NOT NULL,
    funding TEXT NOT NULL,
    minimum_level INTEGER NOT NULL,
    support_needs TEXT NOT NULL,
    preferences TEXT NOT NULL,
    affordable_hourly_pay_pence BIGINT,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX budget_holders_manager ON budget_holders (team_manager_id);
CREATE INDEX budget_holders_location ON budget_holders (organisation_id, latitude, longitude);

CREATE TABLE budget_holder_requirements (
    budget_holder_id TEXT NOT NULL REFERENCES budget_holders (id),
    competency_id TEXT NOT NULL REFERENCES competencies (id),
    PRIMARY KEY (budget_holder_id, competency_id)
);

-- A delegating clinician's sign-off: one PA, one competency, one person.
CREATE TABLE clinical_signoffs (
    id TEXT PRIMARY KEY NOT NULL,
    pa_id TEXT NOT NULL REFERENCES pa_profiles (id),
    competency_id TEXT NOT NULL REFERENCES competencies (id),
    budget_holder_id TEXT NOT NULL REFERENCES budget_holders (id),
    clinician_name TEXT NOT NULL,
    clinician_role TEXT NOT NULL,
    signed_off_on DATE NOT NULL,
    expires_on DATE,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX clinical_signoffs_holder ON clinical_signoffs (budget_holder_id, pa_id);
CREATE INDEX clinical_signoffs_pa ON clinical_signoffs (pa_id);

-- Team membership and do-not-match entries keep their history: ending one sets removed_at.
CREATE TABLE team_members (
    id TEXT PRIMARY KEY NOT NULL,
    budget_holder_id TEXT NOT NULL REFERENCES budget_holders (id),
    pa_id TEXT NOT NULL REFERENCES pa_profiles (id),
    added_by TEXT NOT NULL REFERENCES users (id),
    added_at TIMESTAMP NOT NULL,
    removed_at TIMESTAMP
);
CREATE INDEX team_members_holder ON team_members (budget_holder_id);
CREATE INDEX team_members_pa ON team_members (pa_id);

CREATE TABLE do_not_match (
    id TEXT PRIMARY KEY NOT NULL,
    budget_holder_id TEXT NOT NULL REFERENCES budget_holders (id),
    pa_id TEXT NOT NULL REFERENCES pa_profiles (id),
    reason TEXT NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    recorded_at TIMESTAMP NOT NULL,
    removed_at TIMESTAMP
);
CREATE INDEX do_not_match_holder ON do_not_match (budget_holder_id);
CREATE INDEX do_not_match_pa ON do_not_match (pa_id);
