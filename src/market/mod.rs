//! The marketplace: the competency framework, PA and budget-holder profiles, teams, matching a
//! person with PAs by competency, location and availability, and workforce capacity by area.
//!
//! # Matching
//!
//! `GET /api/v1/budget-holders/{id}/matches` ranks the organisation's PAs for one person.
//! Hard rules are never traded away: a verified enhanced DBS that is on the update service or under
//! 36 months old; a verified, unexpired right-to-work check; every required competency held with
//! verified, unexpired evidence, and for delegated (level 3–4) tasks a clinician's sign-off for
//! *this* person; the person's minimum level reached for them; the person within the PA's own
//! travel distance; not on the do-not-match list; available at some time support is needed.
//! Then 100 points: distance 25, availability overlap 25, preferences met 15, continuity (already
//! in the team) 15, spare capacity against wanted hours 10, pay asked against what the budget
//! allows 10. Every result carries its rules and breakdown in words;
//! `/matches/{pa_id}` explains one PA, eligible or not.
//!
//! Postcodes are full postcodes, sectors (`BB11 2`) or districts (`BB11`), located offline at the
//! sector or district centroid; a malformed or unknown one is a 422 naming the field.
//!
//! Matching reads an in-memory index of each organisation's PAs (`src/market/index.rs`): a grid of
//! 0.1° cells, and per person the PAs a clinician has signed off for them. Every change to a PA,
//! their evidence or sign-offs takes the organisation's next *market revision* in its transaction;
//! before each match the instance reads the revision (one indexed row) and loads only the PAs
//! changed since, so several instances stay correct without talking to each other (a test changes
//! a PA through one instance and matches through another). PAs are visited in order of the best
//! score their distance still allows, and the search stops once no one left could enter the page;
//! the rules are judged without words for every candidate and in words only for the page returned.
//! The bound comes from a *score sketch* kept beside each PA's position in the grid, so the PAs who
//! cannot reach the page are never read.

pub mod capacity;
pub mod competencies;
pub mod dto;
pub mod handlers;
pub mod index;
pub mod matching;
pub mod model;
pub mod pas;
pub mod people;
pub mod repo;

pub use handlers::configure;
