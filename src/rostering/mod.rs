//! Rostering: a person's support pattern (weekly needs and one-off changes) turned into the
//! shifts to be staffed, in Europe/London. The roster generator, editing, publishing and the
//! PA's calendar build on these shifts.
//!
//! # Support patterns
//!
//! A person's weekly needs (`support_needs` on the budget holder) carry a day, local start and end
//! (crossing midnight when the end is not after the start), `kind` (`day`, `waking_night`,
//! `sleep_in`), `headcount` (2 for 2:1) and optional `from`/`until` dates. One-off changes
//! (`/api/v1/budget-holders/{id}/support-changes`) pause the pattern for whole days (a hospital stay,
//! a holiday) or add one extra shift; a change made in error is cancelled, never deleted.
//! `GET /api/v1/budget-holders/{id}/planned-shifts?from=&to=` lists the shifts that follow, each
//! with its real start, end and hours: the rules for the clock changes live in `src/time.rs` (a
//! 22:00–08:00 night is 11 hours on the last Sunday of October and 9 on the last Sunday of March; a
//! start in the spring gap moves forward by the gap; one in the repeated autumn hour is the first).
//!
//! # Rosters
//!
//! `POST /api/v1/rosters` (a team manager, for their people; an admin names them) generates a
//! draft for up to 42 days. Each person's planned shifts become tasks; the PAs allowed on each are
//! those the safety gate (`src/rostering/model/gate.rs`) allows on that shift's own dates: current
//! checks, every required competency with evidence valid through the shift's end and the person's
//! own clinical sign-off for delegated tasks, the level, travel distance, the do-not-match list,
//! weekly availability holding the whole shift, no leave (so a PA whose evidence expires mid-roster
//! still takes the earlier shifts). The optimiser (`src/rostering/solver.rs`, pure) never breaks a hard
//! rule: no double booking, with travel time between different people's homes (30 km/h and 10
//! minutes); 11 hours' rest between working periods (shifts under 11 h apart form one period, at most
//! 13 h long); an unbroken 24 h rest in every week (daily and weekly rest come from the dated rules
//! in `src/rules/data/uk_employment_rules.json`); each PA's weekly cap as an average over the roster; 2:1
//! shifts staffed by two different PAs or left open, never half; and the shifts the PA already works
//! on other published rosters (another manager's people), which are fixed in the problem so rest,
//! bookings and hours count them. Sleep-ins count as working time. Within
//! those it minimises, in one weighted score: open shifts, PA–person pairs (continuity), hours by PAs
//! outside the person's core team, hours over and under what each PA wants, the spread of nights and
//! weekends (sum of squares), travel and pay. It builds a first roster most-constrained shift first,
//! then improves it by late-acceptance hill climbing (reassign, fill, open and swap moves, scored
//! incrementally; for day-planned contracts such as the benchmark's, whole workers re-planned by
//! dynamic programming), restarting from the best roster with part of it taken apart and rebuilt when
//! 200,000 moves find nothing better, until the time limit, from a seed (with a move limit the same
//! seed on the same data gives the same roster; with a time limit it depends on the machine's speed). An open shift carries its reason (`no_qualified_pa`, `not_enough_for_two_to_one`,
//! `daily_rest`, `weekly_rest`, `weekly_hours`, `double_booking_or_travel`). The roster is stored
//! whole (shifts, assignments, score by goal) as a draft with version 1, returned as the `ETag`.
//!
//! The weekly cap (`GET`/`PUT /api/v1/pas/{id}/working-time`, set by the organisation's managers,
//! read by the PA too, audited): the 48-hour average of the Working Time Regulations (reg. 4) from
//! the dated rules, unless the PA has signed a written opt-out (reg. 5; the date it was signed, not
//! after today, and the date a withdrawal takes effect after the PA's notice) or is a domestic worker
//! employed in the person's own household (reg. 19: no 48-hour average, rest rules still apply); and
//! never more than the PA's own maximum hours. The generator, edits, swaps and open-shift
//! acceptance all take the cap from one place (`src/rostering/working_time.rs`). When an opt-out
//! starts or is withdrawn within a roster, the lower cap applies to the whole roster (the safe side).
//!
//! Long searches run as jobs: `POST /api/v1/roster-runs` (the same request, up to 4 minutes of search)
//! answers 202 with the run and a `Location`; `GET /api/v1/roster-runs/{id}` shows `queued`,
//! `running` (share of the time limit used, best score so far, moves tried: written about twice a
//! second by the job worker, which extends its job lease for the run's length), then `done` with the
//! roster's id, or `failed` with why (a person who is not the caller's, say). Only the manager who
//! started it (and admins) see a run. The job worker also sends e-mail, so a long run delays the
//! outbox on that instance by up to its length.
//!
//! `POST /api/v1/rosters/{id}/edits` changes a roster, draft or published: `assign` (exactly the PAs of a shift, two for
//! 2:1), `unassign` (open it), `swap` (two PAs between two shifts), `move` (a PA to a shift with a
//! place free; leaving half a 2:1 behind is refused). It needs `If-Match` with the ETag
//! read (428 without; 412 `stale_version` with the current ETag when someone changed it first, also
//! between two editors racing: the version moves by a conditional update). The safety gate judges
//! the touched shifts against the rest of the roster and everything the PAs work elsewhere before
//! anything is written; each broken rule is a 422 error (`not_eligible` for the rules about the PA
//! and the person, else `half_staffed`, `double_booking`, `daily_rest`, `weekly_rest`,
//! `weekly_hours`) whose message names the PA, the shift and the rule (`(rule competency:<id>)`). The answer carries the touched shifts, the new version
//! and the change in pay; the audit trail keeps who was on the shift before and after. On a
//! published roster the pay difference is committed to (or released from) the person's budget in the
//! same transaction, and only the PAs added to or taken off a shift are e-mailed.
//!
//! `POST /api/v1/rosters/{id}/publication` (with `If-Match`) makes a draft live in one transaction:
//! each staffed shift's pay (each PA's hourly pay for the real hours, plus holiday pay accrued at the
//! statutory rate in force that day) is committed to the person's approved budget covering the date
//! (409 `no_approved_budget` if there is none), and each PA with a shift is e-mailed their shifts
//! once through the outbox. Inside the same transaction, under each PA's row lock (taken in id order;
//! open-shift acceptance takes the same lock), the whole roster passes the safety gate again as
//! things stand now (evidence, checks, sign-offs, leave, the do-not-match list, shifts another
//! manager published since): anything broken is 409 `unsafe_roster` with `breaches` (shift, PA,
//! rule, words) and nothing goes live; the manager opens those shifts by an edit, then publishes.
//! Edits to a published roster (and approved swaps) ask the gate again under the same locks. Employer NI and pension are not yet in the commitment: they need each
//! PA's pay period, which arrives with payroll.
//!
//! `GET /api/v1/pas/me/shifts?from=&to=&changed_since=&limit=&cursor=` is the PA app's view: their
//! own shifts on published rosters (never a draft), in time order with a keyset cursor, with the
//! person's name and postcode district; `changed_since` (RFC 3339) returns only shifts on rosters
//! changed after that instant, for offline sync. `POST /api/v1/pas/me/calendar-feed` gives the PA a
//! secret, revocable address (`/api/v1/calendar-feeds/{token}`; only its SHA-256 is stored; a new one
//! or `DELETE /api/v1/pas/me/calendar-feed` ends the old) serving their shifts as iCalendar (RFC 5545:
//! CRLF, folded lines, a VTIMEZONE for Europe/London and `DTSTART;TZID=Europe/London` local times)
//! from two weeks back to twelve weeks ahead.
//!
//! Open shifts go to the market: `GET /api/v1/pas/me/open-shifts` lists, for the calling PA, the open
//! places on published rosters that the safety gate allows them (so nothing listed is then refused),
//! with the person's district and distance and nothing more about them. `POST
//! /api/v1/roster-shifts/{id}/acceptance` takes a place: acceptances of one roster's shifts run one at
//! a time under the roster's row lock, each re-checking the places left (a later one is 409
//! `already_taken`) and asking the gate (409 `not_eligible` with `breaches`); the place's pay is
//! committed to the budget. One place of a 2:1 shift with nobody on the other is held, not live
//! (`held_by_you`; other PAs see `held_places` 1, the manager `held_by`), until a second PA accepts
//! and the pair goes live together; a holder the gate no longer allows loses the hold. `POST
//! /api/v1/roster-shifts/{id}/decline` stops offering a shift to that PA (and lets go of a hold).
//!
//! The future is watched: a daily job asks the gate about every published shift of the next eight
//! weeks as things will stand then (evidence, DBS or right to work expiring, a sign-off withdrawn, a
//! do-not-match entry, leave); what it finds shows on the roster (`warnings` on each shift) and is
//! mailed to the team manager once per shift and PA. PAs are reminded at 60, 30 and 7 days before
//! their own evidence or checks expire; `GET /api/v1/organisations/{id}/expiring-items?within_days=`
//! lists what expires for the organisation's managers. `tests/api/safety_walk.rs` walks every door at
//! random (generate, edit, swap, accept, decline, publish) mixed with fact changes across two
//! managers, checking every published shift after each step with a checker written separately from
//! the gate; its long run is in Benchmarks.
//!
//! Swaps: a PA on a published shift asks a colleague to take it, or to swap it for one of the
//! colleague's shifts on the same roster (`POST /api/v1/roster-shifts/{id}/swap-requests`; one live
//! request per shift, held by a partial unique index). The colleague is e-mailed and answers
//! (`/api/v1/swap-requests/{id}/acceptance` or `/decline`); accepting checks every hard rule on the
//! roster as it would be (422 naming the rule) and e-mails the team manager, who decides
//! (`/api/v1/swap-requests/{id}/decision`: approve, or refuse with a reason). Approval re-checks every
//! rule on the roster as it is then and is an ordinary roster edit, in one transaction with the
//! request's new status: pay committed or released, the version moved on, only the two PAs told.
//! The asker may withdraw before the decision. PAs see their requests at
//! `GET /api/v1/pas/me/swap-requests`, the manager a roster's at `GET /api/v1/rosters/{id}/swap-requests`;
//! nobody else learns of them (404).
//!
//! PAs record their availability and dated leave on their own profile (`PATCH /api/v1/pas/me`); the
//! generator and offers honour both.

pub mod calendar;
pub mod cover;
pub mod dto;
pub mod edit;
pub mod generate;
pub mod handlers;
pub mod mine;
pub mod model;
pub mod open_shifts;
pub mod publish;
pub mod repo;
pub mod runs;
pub mod safety;
pub mod service;
pub mod solver;
pub mod swaps;
pub mod watch;
pub mod working_time;

pub use handlers::configure;
