-- Pricing, budgets and the ledger, and the e-mail outbox.

-- A rate card (personalised or a council's social-care framework) and its versions. A version
-- is never changed once saved; a new rate is a new version from a later date.
CREATE TABLE rate_cards (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (organisation_id, name)
);

CREATE TABLE rate_card_versions (
    id TEXT PRIMARY KEY NOT NULL,
    rate_card_id TEXT NOT NULL REFERENCES rate_cards (id),
    effective_from DATE NOT NULL,
    -- RateTerms as JSON: read whole, never queried by part
    terms TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (rate_card_id, effective_from)
);

-- A budget for one person over a period. Allocated, committed and spent are never stored here:
-- they are always sums of the ledger. `ledger_sequence` numbers the budget's entries; bumping it
-- takes the row lock, so entries to one budget are written one at a time.
CREATE TABLE budgets (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    budget_holder_id TEXT NOT NULL REFERENCES budget_holders (id),
    name TEXT NOT NULL,
    amount_pence BIGINT NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    -- the health stream's share in basis points; the rest is social care
    health_share_bp INTEGER NOT NULL,
    -- expected spend per month, JSON [{"month":"2027-04","amount_pence":…}]
    profile TEXT NOT NULL,
    -- percentages of profile that raise an alert, JSON [80,100]
    alert_thresholds TEXT NOT NULL,
    status TEXT NOT NULL,
    approved_by TEXT REFERENCES users (id),
    approved_at TIMESTAMP,
    ledger_sequence BIGINT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX budgets_by_holder ON budgets (budget_holder_id, period_start);

-- Append-only: nothing is updated or deleted; a correction is a new entry.
CREATE TABLE ledger_entries (
    id TEXT PRIMARY KEY NOT NULL,
    budget_id TEXT NOT NULL REFERENCES budgets (id),
    sequence BIGINT NOT NULL,
    -- allocation, commitment, actual, adjustment
    kind TEXT NOT NULL,
    -- health or social_care
    stream TEXT NOT NULL,
    amount_pence BIGINT NOT NULL,
    -- the date the money belongs to (for the profile and date ranges)
    entry_date DATE NOT NULL,
    description TEXT NOT NULL,
    reason TEXT,
    -- what caused it: manual, budget_approval, roster, timesheet, reversal
    source_type TEXT NOT NULL,
    source_id TEXT,
    reverses_entry_id TEXT REFERENCES ledger_entries (id),
    -- the client's Idempotency-Key and a hash of its request, for replays
    idempotency_key TEXT,
    request_hash TEXT,
    created_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (budget_id, sequence),
    UNIQUE (budget_id, idempotency_key)
);
CREATE INDEX ledger_entries_by_date ON ledger_entries (budget_id, entry_date);
CREATE INDEX ledger_entries_reversing ON ledger_entries (reverses_entry_id);

-- Each threshold fires once per scope (a month of the profile, or the whole budget).
CREATE TABLE budget_alerts (
    id TEXT PRIMARY KEY NOT NULL,
    budget_id TEXT NOT NULL REFERENCES budgets (id),
    scope TEXT NOT NULL,
    threshold_percent INTEGER NOT NULL,
    used_pence BIGINT NOT NULL,
    profile_pence BIGINT NOT NULL,
    raised_at TIMESTAMP NOT NULL,
    UNIQUE (budget_id, scope, threshold_percent)
);

-- Transactional outbox: written in the same transaction as the event, sent by a worker.
CREATE TABLE outbox_emails (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT REFERENCES organisations (id),
    dedupe_key TEXT NOT NULL UNIQUE,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL,
    leased_by TEXT,
    lease_expires_at TIMESTAMP,
    sent_at TIMESTAMP,
    failed_at TIMESTAMP,
    last_error TEXT
);
CREATE INDEX outbox_emails_due ON outbox_emails (sent_at, next_attempt_at);

-- The ledger is append-only in the database itself, not only in the code that writes it.
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are append-only');
END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are append-only');
END;
