-- Accounts, tenancy, authentication, audit and the background job queue.
-- Ids are UUIDv7 text; instants are UTC TIMESTAMP; the postgres folder mirrors this one.

CREATE TABLE organisations (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    -- 'provider' (employs or organises PAs) or 'commissioner' (an ICB or council overseeing an area)
    kind TEXT NOT NULL,
    -- the commissioning area (ICB code) the organisation works in; commissioners see their area
    area_code TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    deactivated_at TIMESTAMP
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    role TEXT NOT NULL,
    -- people log in by e-mail (stored lower-cased); payroll clients by client id
    email TEXT UNIQUE,
    client_id TEXT UNIQUE,
    display_name TEXT NOT NULL,
    -- argon2id PHC string of the password or client secret
    secret_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (email IS NOT NULL OR client_id IS NOT NULL)
);
CREATE INDEX users_organisation ON users (organisation_id, id);

CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    -- every token rotated from one login shares a family; reuse of a spent token revokes it all
    family_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    -- SHA-256 of the token; the token itself is never stored
    token_hash TEXT NOT NULL UNIQUE,
    issued_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

-- Failed logins per account or address, keyed by a hash so no e-mail or IP is stored.
CREATE TABLE login_throttles (
    key_hash TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    window_started_at TIMESTAMP NOT NULL,
    last_failure_at TIMESTAMP NOT NULL
);

-- Who changed what: written in the same transaction as the change.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT REFERENCES organisations (id),
    actor_user_id TEXT REFERENCES users (id),
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    request_id TEXT,
    occurred_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_organisation ON audit_events (organisation_id, id);
CREATE INDEX audit_events_entity ON audit_events (entity_type, entity_id);

-- Background work, claimed by lease so several instances never run one job twice.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    -- at most one pending job per key (e.g. one maintenance run per hour across all instances)
    dedupe_key TEXT UNIQUE,
    payload TEXT NOT NULL,
    run_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    leased_by TEXT,
    lease_expires_at TIMESTAMP,
    last_error TEXT,
    finished_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX jobs_due ON jobs (finished_at, run_at);
