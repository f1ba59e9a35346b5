-- A PA's calendar feed: a secret URL their phone's calendar polls. Only the token's SHA-256 is
-- kept; a new feed or a revocation ends the old one.
CREATE TABLE calendar_feeds (
    id TEXT PRIMARY KEY NOT NULL,
    pa_id TEXT NOT NULL REFERENCES pa_profiles (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX calendar_feeds_by_pa ON calendar_feeds (pa_id);
