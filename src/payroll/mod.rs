//! Payroll: employers and the PAs they engage, gross pay per PA per pay period from approved
//! timesheets and the rate card, the minimum wage check, and the immutable exports payroll
//! providers pull (parota's CSV and JSON, BrightPay, Sage 50 Payroll and IRIS import files).
//!
//! # Payroll
//!
//! parota gives the payroll provider exact, checkable pay data; the provider runs PAYE (tax, NI
//! deductions, RTI). Code: `src/payroll/` (`model.rs` is the pay calculation, pure and unit-tested
//! with hand-worked payslips; `formats.rs` writes the exports).
//!
//! **Employers and engagements.** `POST /api/v1/employers` (admins): a budget holder employing PAs
//! directly (with their PAYE reference, checked as `123/AB45678`) or the organisation, naming the
//! payroll client that runs its PAYE (`POST /api/v1/payroll-clients`), the personalised rate card
//! that pays its PAs and whether travel time between people is paid.
//! `POST /api/v1/employers/{id}/engagements` (team managers, admins): the PA, their works number in
//! the payroll software (how every export line names them: no names, no NI numbers), date of birth
//! (kept only for the minimum wage age band, never shown back or put in the audit trail),
//! contracted hours (beyond which the card's `overtime_bp` premium is paid) and holiday basis. Work
//! for a person is paid by the person if they are an employer engaging the PA, else by the
//! organisation (`market::model::employment`, the one rule the safety gate and timesheets use too).
//!
//! **Pay calendars.** The organisation's timesheet policy is its pay calendar (weekly,
//! fortnightly, four-weekly or monthly, with the days after a period's end its pay is paid); an
//! employer may pay on its own (`PUT /api/v1/employers/{id}/pay-calendar`, `employment.rs`). Work
//! is put in the pay periods of whoever pays it, so each employer's periods are its pay reference
//! periods and its minimum wage check runs over them; closing one period exports only its
//! calendar's employers. How a calendar may change is `timesheets::periods::change_calendar`.
//!
//! **Leavers.** `POST /api/v1/engagements/{id}/end` records the last day and why. After it the
//! safety gate refuses the PA every shift that engagement covered, the clock and unrostered work
//! refuse new records (409 `engagement_ended`), and the export of the period holding the day lists
//! the leaver once (`leavers`) for the P45.
//!
//! **Pay.** For each engagement and closed period, from the approved records paid in it and the
//! card version in force on each shift's local start date, at the competency level the person
//! needs (their `minimum_level`):
//!
//! - time split exactly as pricing splits it (one shared function): basic, night, Saturday, Sunday,
//!   bank holiday (England and Wales, from data), waking night and 2:1 premiums; breaks come off the
//!   end of the shift; real elapsed time, so a night across the clocks going back is 11 hours;
//! - sleep-ins: the card's flat amount a night plus the minutes woken (`woken_minutes` on the
//!   record, set by the PA in `PATCH /shift-records/{id}`) at basic;
//! - overtime: minutes beyond the contracted hours in a Monday–Sunday week;
//! - travel between two people's homes: the gap between shifts (under three hours) capped by the
//!   estimated journey (30 km/h plus 10 minutes), paid at basic if the employer pays travel;
//! - mileage at HMRC's approved rates in force (45p, then 25p once the employer has paid 10,000
//!   miles in the tax year, counted from its earlier exports), expenses at face value;
//! - holiday pay for irregular-hours workers (`rolled_up`) at the rules' 12.07% of pay for work, on
//!   its own line; `taken` holiday is paid by adjustment (`POST /api/v1/payroll/adjustments`, also
//!   for corrections: paid in the next period to close);
//! - an amendment to a record an earlier export paid becomes an `amendment` line in the period the
//!   amendment names, worth the record's pay after less before (worked on that record alone).
//!
//! Each line is one PA, person, element and rate: hours to two decimals (minutes summed exactly,
//! then rounded) × rate, rounded once to the penny, half up, so payroll software importing
//! units × rate pays exactly the amount shown. Rates are pence to four decimal places.
//!
//! **Minimum wage.** Per PA per employer per pay period (the pay reference period): pay that counts
//! (basic, sleep-in allowance, time woken, travel, any top-up; not premiums, holiday pay, mileage or
//! expenses) against minutes that count (worked, woken, travelling; not asleep on a sleep-in), at
//! the rate for the PA's age band at the period's start, in force then. A shortfall blocks that
//! employer's export: `GET /api/v1/pay-periods/{id}/exports` shows each failure (minutes, pay, rate,
//! shortfall); `POST /api/v1/payroll/exports/{id}/minimum-wage-reviews` (team managers, admins)
//! either pays the shortfall as a `minimum_wage_top_up` line or records why none is due; with no
//! failure left the export is numbered and ready. Both are audited.
//!
//! **Exports.** Closing a period (`POST /api/v1/pay-periods/{id}/closure`) makes, in the same
//! transaction, one export per employer with pay in it; work no engagement pays refuses the close
//! (409 `engagement_missing`, nothing written). A ready export is numbered 1, 2, 3… per employer,
//! its lines and heading never change, and the SHA-256 of each format is fixed when it becomes
//! ready: every read gives the same bytes (`X-Checksum-SHA256`, also the `ETag`). Late approvals and
//! amendments go to the next period; nothing delivered changes. Every line names the timesheets (or
//! amendment, adjustment) it is paid from. Formats, by `?format=` or `Accept` (JSON by default),
//! each pinned by a reference file in `tests/fixtures/payroll/`:
//!
//! | format | what it is |
//! | --- | --- |
//! | `csv` | parota's CSV: `export_number, paye_reference, period_start, period_end, line, works_number, pa_id, budget_holder_id, element, description, quantity, unit_rate, amount, sources`; money in pounds, quantity in the element's unit (hours, nights, miles, or 1) |
//! | `json` | `{"export": {id, number, employer, PAYE reference, period, gross, line count, ready_at}, "lines": [...]}` with integer pence and hundredths |
//! | `brightpay` | BrightPay "Import Hourly Payments" CSV with a header row it matches: works number, description, rate per hour, normal hours (nights, miles and one-off amounts as units × rate) |
//! | `sage50` | Sage 50 Payroll timesheet import, one payment per row, no header: `2`, employee reference, payment number (1 basic, 2 night … 19 top-up: `payroll::model::ELEMENTS`), department, cost centre, hours or value, rate |
//! | `iris` | IRIS Cascade current-period element import, file format two, no header: employee id, pay element id (the element code in capitals), hours or amount, rate, `E` |
//!
//! **Payroll clients.** With a client-credentials token: `GET /api/v1/payroll/exports?status=ready&cursor=`
//! (its employers' exports, oldest first, paged), `GET /api/v1/payroll/exports/{id}` (streamed a
//! thousand lines at a time: memory does not grow with the export), `POST
//! /api/v1/payroll/exports/{id}/acknowledge` (saying so again changes nothing). Another client,
//! of this organisation or any other, gets 404 for an export it does not run.
//!
//! **The ledger.** Approval posts each record's estimated cost to the person's budget (the PA's own
//! hourly pay, see Timesheets); payroll pays the rate card with premiums, travel, overtime, top-ups
//! and adjustments. Closing a period enqueues a job (committed with the exports) that posts, per
//! person, the difference as one adjustment dated the period's last day (`source_type`
//! `pay_period`), so each budget has spent exactly what payroll pays; run again it posts only what
//! is missing. A minimum wage top-up enqueues it again.
//!
//! **For the budget statement.** `GET /api/v1/budget-holders/{id}/pay-periods/{period_id}/summary`
//! (whoever may read the person's statement): the period's pay for the person by element from its
//! exports, employer National Insurance and minimum pension contributions on it (the rules'
//! annual thresholds shared over the period's days), and the budget's remaining balance at the
//! period's end.
//!
//! Not yet: employer-specific pay calendars (periods are the organisation's), Sage payment numbers
//! and IRIS element ids set per employer (they are fixed), short-notice premiums in pay (roster
//! shifts do not record short notice), and mileage in an amendment line (priced at the higher rate). Employer on-costs (NI, pension) are
//! shown in the period summary, not posted to the ledger.

pub mod close;
pub mod codes;
pub mod dto;
pub mod employment;
pub mod formats;
pub mod handlers;
pub mod mapping;
pub mod model;
pub mod repo;
pub mod service;

pub use handlers::configure;
