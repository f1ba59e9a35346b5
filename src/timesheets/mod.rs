//! Timesheets from the PA's phone: clock events (offline-safe, each once), shift records with
//! breaks, mileage and expenses, approval into the budget ledger, amendments after approval,
//! exceptions for the team manager and pay periods that lock when closed.
//!
//! # Timesheets
//!
//! What a PA records is what they are paid and what the budget is charged, so nothing is lost,
//! doubled or quietly changed.
//!
//! **Recording.** `POST /api/v1/shifts/{id}/clock-in` and `/clock-out` (the PA on a published shift;
//! another PA gets 403) take the phone's time and, if the PA allows it, a location (latitude,
//! longitude, accuracy). Both times are kept: the phone's (`device_at`) and the server's
//! (`received_at`); the time that counts is the phone's, unless it is after the event reached us (a
//! fast phone clock). One rule (`timesheets::model::clock_instant`) bounds it for the direct call,
//! the offline queue and unrostered work alike: no earlier than the organisation's offline window
//! before arrival (`offline_sync_days` in the timesheet policy, 92 by default), no later than 24 h
//! after, and for a shift from 6 h before its start to 12 h after its end; anything else is 422 on
//! `device_time` (`started_at`/`ended_at` for unrostered work), so a wrong phone clock never
//! reaches pay. Pay the model still cannot calculate for one PA (a rate card with no version or no
//! price for a level on a worked date) blocks that PA's export line with the reason
//! (`not_calculable`), as a minimum-wage shortfall does; everyone else's pay closes. The distance from the person's home is recorded and, beyond the
//! organisation's radius (default 1 km: homes are located at their postcode sector's centroid), the
//! record is flagged `outside_radius` for the approver, never refused. Coordinates are kept to four
//! decimal places (about 10 m) on the event log; nothing else about the place is stored. With the
//! shift this holds the six elements of electronic visit verification: service, person supported,
//! date, location, PA, start and end.
//!
//! **Offline and retries.** Every mutating call from the app carries an `Idempotency-Key` (required
//! on clock events and unrostered work). The first answer is kept with the change, in the same
//! transaction (`src/idempotency.rs`, table `idempotency_keys`, per caller): a replay answers the
//! same status and body with `Idempotent-Replayed: true` and changes nothing; the same key with a
//! different body is 409 `idempotency_key_reused`. A retry runs into what the first try did (or
//! into the key's primary key, when two first tries race), is rolled back whole, and answers with
//! what was kept. Clock events go through the instance's batching writers (`src/timesheets/ingest.rs`):
//! each PA's events are applied in order by one writer, many PAs' events in one transaction, and
//! each is answered only after that transaction commits. `POST /api/v1/timesheets/sync` takes the
//! phone's queue (up to 500 events, in order, each with its own key) and answers per event with the
//! status and body its direct call would give; one failing event does not stop the rest. Events may
//! arrive in any order: a clock-out before its clock-in is kept (the record shows `no_clock_in` until
//! the clock-in arrives); a second clock-in for the same shift is 409 `already_clocked_in`; a clock-in
//! after the clock-out it belongs to is 422 on `device_time`. Each end of a record is set by a
//! conditional update, so two events can never both win. Every event is also kept, unchanged, in
//! `clock_events`.
//!
//! **Details.** `PATCH /api/v1/shift-records/{id}` (the PA, while the timesheet is a draft or
//! queried): breaks, business miles (between people's homes in the working day), expenses with a
//! receipt reference (required with an amount), minutes woken to work on a sleep-in (paid by the
//! hour; refused on other shifts), a note to the approver. Values replace what was
//! there, so a retry changes nothing. `POST /api/v1/budget-holders/{id}/unrostered-work` records work
//! with no rostered shift (an emergency extra hour: start, end, why) for a person the PA is on the
//! team of or rostered for; only the team manager (or an admin) may approve a timesheet holding it.
//!
//! **Timesheets and approval.** A timesheet is one PA's work for one person in one pay period (the
//! person is the employer for directly employed PAs), made as the first event lands. It moves
//! draft → submitted (the PA; every record needs both ends) → approved, or queried back to the PA
//! with a reason (e-mailed) and submitted again. Who approves is the organisation's choice in its
//! timesheet policy (`GET`/`PUT /api/v1/organisations/{id}/timesheet-policy`, admins; audited): the
//! team manager, the person or their representative, or either; anyone else is 403. Approval takes
//! `If-Match` (412 when the timesheet changed since it was read) and, in one transaction, posts each
//! record's actual cost to the person's budget ledger (the PA's hourly pay for the minutes worked,
//! holiday pay at the rate in force, mileage at HMRC's approved rates after the miles already
//! approved in the tax year, expenses) and releases what the roster committed for the shift.
//! `GET /api/v1/timesheets/{id}` shows planned against actual for every shift with its exceptions
//! and cost; `GET /api/v1/pas/me/timesheets` and `GET /api/v1/budget-holders/{id}/timesheets?status=`
//! list them. Durations are real elapsed time: a 22:00–08:00 night across the last Sunday of October
//! is paid 11 hours, across the last Sunday of March 9.
//!
//! **Exceptions.** `GET /api/v1/timesheet-exceptions?from=&to=` (a team manager's people; an admin's
//! organisation; up to 62 days) compares every staffed place on published rosters with what was
//! recorded: `late`, `left_early`, `overran`, `short` (with minutes, against the policy's
//! tolerances), `missed` (nothing recorded once the shift and the grace period are over),
//! `no_clock_out`, `no_clock_in`, `outside_radius` and `unrostered`. Every ten minutes the job worker
//! e-mails each PA still clocked in after their shift's end plus the grace period (default 60
//! minutes), once per record (`clock_out_reminders`).
//!
//! **After approval.** A change is an amendment (`POST /api/v1/shift-records/{id}/amendments`, the
//! person's team manager or an admin, with a reason): the record's new values, and the amendment
//! kept with who, when, before and after (`GET /api/v1/shift-records/{id}/amendments`) and in the
//! audit trail. Its cost difference goes to the ledger as an adjustment. The phone's events stay as
//! they arrived; the PA can no longer change the record (409 `timesheet_not_open`, or
//! `timesheet_approved` for a late clock event).
//!
//! **Pay periods.** Weekly, fortnightly, four-weekly (counted from an anchor date) or calendar
//! monthly, from the policy; made as work is first recorded in them (`GET /api/v1/pay-periods`).
//! `POST /api/v1/pay-periods/{id}/closure` (admins) closes one for payroll and it is locked from then
//! on: a timesheet approved after its period closed is paid in the next open period
//! (`paid_in_period_id`), an amendment to its records likewise (`pay_period_id`), and work first
//! recorded after the close lands on a timesheet of the next open period. Nothing delivered is
//! changed.

pub mod approval;
pub mod clock;
pub mod dto;
pub mod exceptions;
pub mod handlers;
pub mod ingest;
pub mod model;
pub mod periods;
pub mod repo;
pub mod service;

pub use handlers::configure;
