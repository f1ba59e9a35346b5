-- Payroll: who employs each PA, what each pay period pays them, and the immutable exports that
-- payroll providers pull.

-- An employer for payroll: a budget holder employing PAs directly (with their own PAYE
-- reference) or the organisation itself. Each names the payroll client that runs its PAYE and
-- the rate card that pays its PAs.
CREATE TABLE employers (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    kind TEXT NOT NULL CHECK (kind IN ('budget_holder', 'organisation')),
    budget_holder_id TEXT REFERENCES budget_holders (id),
    name TEXT NOT NULL,
    paye_reference TEXT NOT NULL,
    payroll_client_id TEXT NOT NULL REFERENCES users (id),
    rate_card_id TEXT NOT NULL REFERENCES rate_cards (id),
    -- Whether travel between people is paid; it counts as working time for the minimum wage
    -- either way.
    pays_travel_time BOOLEAN NOT NULL,
    -- The number of the last export made; exports are numbered 1, 2, 3… per employer.
    export_sequence BIGINT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    CHECK ((kind = 'budget_holder') = (budget_holder_id IS NOT NULL))
);
CREATE UNIQUE INDEX employers_budget_holder ON employers (budget_holder_id);
CREATE INDEX employers_client ON employers (payroll_client_id);

-- A PA's employment with one employer. The date of birth is kept for the minimum wage age band
-- and nothing else.
CREATE TABLE engagements (
    id TEXT PRIMARY KEY,
    employer_id TEXT NOT NULL REFERENCES employers (id),
    pa_id TEXT NOT NULL REFERENCES pa_profiles (id),
    works_number TEXT NOT NULL,
    date_of_birth DATE NOT NULL,
    -- Hours a week beyond which the card's overtime premium applies; none: no overtime.
    contracted_minutes_per_week INTEGER,
    holiday_basis TEXT NOT NULL CHECK (holiday_basis IN ('rolled_up', 'taken')),
    starts_on DATE NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (employer_id, pa_id),
    UNIQUE (employer_id, works_number)
);
CREATE INDEX engagements_pa ON engagements (pa_id);

-- Pay added by hand: holiday taken, corrections, paid in the next period to close.
CREATE TABLE payroll_adjustments (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    engagement_id TEXT NOT NULL REFERENCES engagements (id),
    budget_holder_id TEXT NOT NULL REFERENCES budget_holders (id),
    pay_period_id TEXT NOT NULL REFERENCES pay_periods (id),
    kind TEXT NOT NULL CHECK (kind IN ('holiday_taken', 'correction')),
    amount_pence BIGINT NOT NULL,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX payroll_adjustments_period ON payroll_adjustments (pay_period_id);

-- What a closing period pays, PA by PA.
CREATE INDEX timesheets_paid_in ON timesheets (paid_in_period_id, pa_id);

-- One export per employer per closed period. Blocked while a PA's pay is below the minimum
-- wage and unreviewed; numbered and checksummed when ready; never changed after.
CREATE TABLE payroll_exports (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    employer_id TEXT NOT NULL REFERENCES employers (id),
    pay_period_id TEXT NOT NULL REFERENCES pay_periods (id),
    status TEXT NOT NULL CHECK (status IN ('blocked', 'ready', 'acknowledged')),
    number BIGINT,
    -- JSON: the minimum wage failures awaiting review (empty once ready).
    blockers TEXT NOT NULL,
    -- JSON: the SHA-256 of each format's bytes, fixed when it became ready.
    checksums TEXT,
    gross_pence BIGINT NOT NULL,
    line_count INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    ready_at TIMESTAMP,
    acknowledged_at TIMESTAMP,
    UNIQUE (employer_id, pay_period_id),
    UNIQUE (employer_id, number)
);
CREATE INDEX payroll_exports_status ON payroll_exports (status, id);

-- The lines of an export, in order: one per PA, person, element and rate. The PA and person
-- are copied facts of a delivered export, not checked against their tables: tens of thousands
-- of lines are written at a close, and each check costs as much as the write.
CREATE TABLE payroll_export_lines (
    export_id TEXT NOT NULL REFERENCES payroll_exports (id),
    line_no INTEGER NOT NULL,
    pa_id TEXT NOT NULL,
    works_number TEXT NOT NULL,
    budget_holder_id TEXT NOT NULL,
    element TEXT NOT NULL,
    description TEXT NOT NULL,
    -- Hundredths of the unit (hours, miles, nights or items).
    quantity_hundredths BIGINT NOT NULL,
    -- Pence per unit to four decimal places, times 10,000.
    unit_rate_e4 BIGINT NOT NULL,
    amount_pence BIGINT NOT NULL,
    -- Space-separated timesheet ids the line is paid from; amendment ids for adjustments.
    sources TEXT NOT NULL,
    PRIMARY KEY (export_id, line_no)
);

-- A manager's answer to a minimum wage failure: a top-up paid in the export, or why none is due.
CREATE TABLE minimum_wage_reviews (
    export_id TEXT NOT NULL REFERENCES payroll_exports (id),
    pa_id TEXT NOT NULL REFERENCES pa_profiles (id),
    outcome TEXT NOT NULL CHECK (outcome IN ('top_up', 'not_due')),
    top_up_pence BIGINT NOT NULL,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (export_id, pa_id)
);

-- Minutes of a sleep-in the PA was woken to work, paid by the hour and counted for the minimum wage.
ALTER TABLE shift_records ADD COLUMN woken_minutes INTEGER NOT NULL DEFAULT 0;
