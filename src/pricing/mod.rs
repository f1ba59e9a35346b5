//! Pricing support by competency: rate cards (personalised and social-care framework, versioned
//! by effective date) and the indicative budget for a support pattern.
//!
//! # Pricing
//!
//! UK rules are data, not code: `src/rules/data/uk_employment_rules.json` holds the National Minimum Wage /
//! National Living Wage by age band (2024/25 to 2026/27), employer National Insurance (rate and
//! secondary threshold), pension auto-enrolment (employer minimum on qualifying earnings), holiday
//! pay for irregular hours (12.07%), HMRC mileage rates and the working-time limits, each version
//! with the date it took effect; `src/rules/data/england_wales_bank_holidays.csv` the bank holidays to 2030.
//! A new rate is a new line with its date (`src/rules` picks the version in force on each date).
//!
//! A **rate card** (`/api/v1/rate-cards`) is `personalised` (competency-based) or
//! `social_care_framework` (a council's rate, kept for comparison), with versions by effective date.
//! A version is never changed: a new rate is a new version from a date after today, so nothing
//! already priced is repriced. Per level it holds the PA's hourly pay and the charge to the budget,
//! and premiums (night window, Saturday, Sunday, bank holiday, waking night, 2:1, short notice) in
//! basis points, a sleep-in's flat amounts, and the organisation's own on-costs (training, employer's
//! liability insurance, payroll fee, contingency). A card paying any level below the adult rate in
//! force on its date is refused (422 `below_minimum_wage`, naming `terms.levels[i].pay_pence`); a
//! quote reaching a date when a card's pay has fallen below a later rate is refused the same way.
//!
//! `POST /api/v1/pricing/quote` prices a weekly pattern (day, local start and end that may cross
//! midnight, kind `day` / `waking_night` / `sleep_in`, headcount, level, short notice, hours woken)
//! for 52 weeks (or 1–104) from a date, shift by shift in Europe/London, each shift under the card
//! version in force on the day it starts. The rules, stated once in `src/pricing/model.rs`: every
//! minute earns the level's base rate, plus the highest one *day* premium for that minute's local
//! date (bank holiday, else Sunday, else Saturday), plus one *time* premium (waking night for a
//! waking-night shift, else night inside the window), plus the 2:1 and short-notice premiums;
//! premiums add, never compound. A sleep-in earns its flat amount per PA and time woken at the base
//! rate. Each line is summed exactly and rounded once. On-costs: holiday pay on all pay, employer NI
//! and pension week by week per PA on weekly thresholds (the team shares the hours evenly;
//! `team_size`, or one PA per 37.5 hours), training, insurance and payroll fee pro rata, then
//! contingency. Named with a framework card, the same pattern is priced beside it with the difference
//! in words. A personalised price never comes from a framework card (422 `wrong_kind`).
//!
//! A night that crosses a clock change lasts what the clock says: 22:00–08:00 is 11 hours on the last
//! Sunday of October and 9 on the last Sunday of March. A local time that does not exist (01:30 as
//! the clocks go forward) moves forward by the gap to 02:30 BST; one that happens twice (01:30 as
//! they go back) is the first, BST.

pub mod dto;
pub mod handlers;
pub mod model;
pub mod repo;
pub mod service;

pub use handlers::configure;
