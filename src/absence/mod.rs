//! Absence and cover: a PA reports sick (or a manager records any absence), the shifts it
//! touches open at once, and cover is found by the safety gate and the matching score.
//!
//! # Absence
//!
//! **Reporting.** `POST /api/v1/pas/me/absences` (the PA, `Idempotency-Key` required, so the
//! app's offline queue may resend): sickness, an emergency or other, from today (or yesterday, for
//! a report queued overnight), with the last day if known and optionally the shifts named (each
//! must be the PA's, not started, within the dates). `POST /api/v1/absences` (team managers,
//! admins): any kind (annual leave taken, compassionate, parental, unpaid, training too), past or
//! coming, with a fit note's dates for sickness; `fit_note_needed` flags sickness past the seven
//! days a PA may certify themselves. `PUT /api/v1/absences/{id}` with `If-Match` corrects one;
//! nothing is deleted and the audit trail keeps each version. Absences of one PA never overlap
//! (422 `starts_on`); an end before the start is 422 `ends_on`.
//!
//! **What an absence does.** The PA counts as away for the safety gate on its days (with no end
//! yet, until one is given), so no door puts them on a shift then; each of their published shifts
//! in it that has not started and that they have not clocked in to is taken off them and opened
//! for cover (`rostering::cover`): with no end yet, those in the next seven days, the rest being
//! flagged by the daily look ahead until the end is known.
//!
//! **Cover.** See `rostering::cover`: the search offers the best PAs the gate allows, widening
//! from the person's team to PAs nearby to anyone eligible, by e-mail through the outbox, the
//! first round inside the report's own transaction; the team manager is told at once and reads
//! the ranked candidates (`GET /api/v1/cover-requests/{id}`) and may offer directly; the person
//! and their representative hear when it is taken, or that it is not yet, four hours before.
//! `GET /api/v1/cover-requests` lists what still needs cover, the soonest shift first, with the
//! time each took to reach its first offers.
//!
//! **Totals.** `GET /api/v1/absence-totals` gives each PA's days and spells away over a period,
//! sickness apart. Not a Bradford factor, on purpose: see `model::totals`.

pub mod dto;
pub mod handlers;
pub mod model;
pub mod repo;
pub mod service;

pub use handlers::configure;
