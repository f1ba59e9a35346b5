//! Budgets: a person's money over a period, split between funding streams and profiled by
//! month, with an append-only ledger (allocations, commitments, actuals, adjustments and
//! reversals), statements that are always sums of the ledger, and threshold alerts by e-mail.
//!
//! # Budgets and the ledger
//!
//! A budget (`POST /api/v1/budget-holders/{id}/budgets`) has an amount, a period, the health
//! stream's share in basis points (CHC all health, integrated a split, social care none) and a
//! monthly profile that must add up to the amount (spread evenly by days when not given). It starts
//! as a draft; `POST /api/v1/budgets/{id}/approval` records who approved it and when, and allocates
//! the amount to the ledger by stream (health takes its share to the penny, social care the rest).
//!
//! The ledger (`/api/v1/budgets/{id}/entries`) is append-only: allocations, commitments (from
//! published rosters, when rostering arrives), actuals (approved timesheets, or spending recorded by
//! hand) and adjustments, each with a date, a stream, who and when; a correction is a reversal
//! (`…/entries/{entry_id}/reversal`, with a reason, at most once) or a new entry. Entries to one
//! budget are numbered 1, 2, 3… without gaps: each write first takes the budget's row lock. A hand
//! entry may carry an `Idempotency-Key`: a replay answers 200 with the first entry and
//! `Idempotent-Replayed: true`; the same key with another body is 409 `idempotency_key_reused`.
//!
//! `GET /api/v1/budget-holders/{id}/budget/statement?from=&to=&as_of=&budget_id=` gives, per stream
//! and in total: allocated, committed and spent in the range, remaining, profiled spend for the
//! range, variance against profile, and spend forecast to the period's end at the rate so far; then
//! month by month, and the alerts raised. Every figure is summed from entries, never stored.
//!
//! Alerts: after each write, committed and spent in the entry's month are compared with that month's
//! profile, and everything used with everything allocated; each threshold (80% and 100% unless the
//! budget says otherwise) fires once per month and once for the whole budget (a unique row), and
//! e-mails the team manager, the person and their representative. The e-mail is a row of the outbox
//! written in the same transaction; the job worker sends it with lettre, claiming each by a lease
//! (one worker wins, also across instances), marking it sent only while holding the lease, retrying
//! with back-off (30 s doubling, at most an hour, 8 attempts). Each message's `Message-ID` comes from
//! its outbox id, so the one case a crash can resend (after the hand-over, before the mark) is the
//! same message, not a second one.
//!
//! Who sees budgets: the person's team manager and admins run them; the person and their
//! representative read their own; commissioners read those of organisations in their area; nobody
//! else learns they exist.

pub mod dto;
pub mod handlers;
pub mod ledger;
pub mod model;
pub mod repo;
pub mod service;

pub use handlers::configure;
