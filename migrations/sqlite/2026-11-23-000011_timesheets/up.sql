-- Timesheets from the PA's app: what was worked, as recorded at the door, approved, and amended
-- only by recorded amendments.

-- How an organisation runs timesheets: pay periods, who approves, the visit radius and the
-- tolerances that make an exception. Absent: the defaults in code.
CREATE TABLE timesheet_policies (
    organisation_id TEXT PRIMARY KEY REFERENCES organisations (id),
    pay_frequency TEXT NOT NULL CHECK (pay_frequency IN ('weekly', 'fortnightly', 'four_weekly', 'monthly')),
    period_anchor DATE NOT NULL,
    approver TEXT NOT NULL CHECK (approver IN ('team_manager', 'budget_holder', 'either')),
    radius_m INTEGER NOT NULL,
    late_minutes INTEGER NOT NULL,
    left_early_minutes INTEGER NOT NULL,
    overrun_minutes INTEGER NOT NULL,
    short_minutes INTEGER NOT NULL,
    clock_out_grace_minutes INTEGER NOT NULL,
    updated_by TEXT NOT NULL REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL
);

-- Pay periods, made when first needed; a closed one is locked.
CREATE TABLE pay_periods (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    closed_by TEXT REFERENCES users (id),
    closed_at TIMESTAMP,
    UNIQUE (organisation_id, starts_on)
);

-- One PA's work for one person in one pay period.
CREATE TABLE timesheets (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    pa_id TEXT NOT NULL REFERENCES pa_profiles (id),
    budget_holder_id TEXT NOT NULL REFERENCES budget_holders (id),
    pay_period_id TEXT NOT NULL REFERENCES pay_periods (id),
    status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'approved', 'queried')),
    version BIGINT NOT NULL,
    submitted_at TIMESTAMP,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP,
    query_reason TEXT,
    -- The period whose payroll pays it: its own, or the next open one when approved late.
    paid_in_period_id TEXT REFERENCES pay_periods (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (pa_id, budget_holder_id, pay_period_id)
);
CREATE INDEX timesheets_holder ON timesheets (budget_holder_id, status);

-- A PA's work on one shift (or unrostered work), as recorded and as amended.
CREATE TABLE shift_records (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    timesheet_id TEXT NOT NULL REFERENCES timesheets (id),
    pa_id TEXT NOT NULL REFERENCES pa_profiles (id),
    budget_holder_id TEXT NOT NULL REFERENCES budget_holders (id),
    roster_shift_id TEXT REFERENCES roster_shifts (id),
    work_date DATE NOT NULL,
    unrostered_reason TEXT,
    clock_in_at TIMESTAMP,
    clock_in_device_at TIMESTAMP,
    clock_in_received_at TIMESTAMP,
    clock_in_distance_m INTEGER,
    clock_out_at TIMESTAMP,
    clock_out_device_at TIMESTAMP,
    clock_out_received_at TIMESTAMP,
    clock_out_distance_m INTEGER,
    outside_radius BOOLEAN NOT NULL,
    break_minutes INTEGER NOT NULL,
    mileage_tenths INTEGER NOT NULL,
    expenses_pence BIGINT NOT NULL,
    expense_receipt TEXT,
    note TEXT,
    reminded_at TIMESTAMP,
    amendments INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- One record per PA per shift, even when two events arrive at once.
CREATE UNIQUE INDEX shift_records_place ON shift_records (roster_shift_id, pa_id);
CREATE INDEX shift_records_timesheet ON shift_records (timesheet_id);
CREATE INDEX shift_records_unfinished ON shift_records (clock_in_at) WHERE clock_out_at IS NULL;

-- Every clock event as it arrived: the evidence behind a record, never changed.
CREATE TABLE clock_events (
    id TEXT PRIMARY KEY,
    shift_record_id TEXT NOT NULL REFERENCES shift_records (id),
    kind TEXT NOT NULL CHECK (kind IN ('clock_in', 'clock_out')),
    device_at TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    accuracy_m INTEGER,
    distance_m INTEGER,
    created_by TEXT NOT NULL REFERENCES users (id)
);
CREATE INDEX clock_events_record ON clock_events (shift_record_id);

-- A change after approval: who, when, why, before and after, and the period that pays it.
CREATE TABLE shift_record_amendments (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    shift_record_id TEXT NOT NULL REFERENCES shift_records (id),
    reason TEXT NOT NULL,
    before_json TEXT NOT NULL,
    after_json TEXT NOT NULL,
    cost_change_pence BIGINT NOT NULL,
    pay_period_id TEXT NOT NULL REFERENCES pay_periods (id),
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX shift_record_amendments_record ON shift_record_amendments (shift_record_id);
CREATE INDEX shift_record_amendments_period ON shift_record_amendments (pay_period_id);

-- What a mutating call answered, by caller and Idempotency-Key, so a replay answers the same.
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
