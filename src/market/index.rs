//! An in-memory read model of each organisation's PAs, for matching in milliseconds.
//!
//! The database stays the truth. Every change to a PA, their evidence or their sign-offs takes
//! the organisation's next market revision in the same transaction; before each match the index
//! reads the current revision (one indexed row) and, if it moved, loads only the PAs stamped
//! since. Revisions commit in order (the counter's row lock), so nothing is skipped, and several
//! instances behind a load balancer each keep their own index without talking to each other.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard};

use crate::db::DbConnection;
use crate::error::AppResult;
use crate::geo::Location;
use crate::market::model::{Candidate, PersonNeeds, ScoreSketch};
use crate::market::repo;

/// Grid cells of a tenth of a degree (about 11 km north–south, 7 km east–west in England).
const CELL_DEGREES: f64 = 0.1;

type Cell = (i32, i32);

fn cell_of(location: Location) -> Cell {
    (
        (location.latitude / CELL_DEGREES).floor() as i32,
        (location.longitude / CELL_DEGREES).floor() as i32,
    )
}

pub struct IndexedPa {
    pub candidate: Candidate,
    pub active: bool,
}

/// What the grid keeps of the active PAs in one cell, column by column: the positions are
/// scanned for every request in a city's box, so they sit apart from the score sketches, which
/// are read only for the PAs within reach (thousands of PAs live near a city dweller; the page
/// shows twenty), and the PAs themselves are read only for the few ranked.
#[derive(Default)]
struct GridCell {
    /// Latitude, longitude and the PA's travel distance in km.
    reach: Vec<[f64; 3]>,
    sketches: Vec<ScoreSketch>,
    slots: Vec<usize>,
}

impl GridCell {
    fn remove(&mut self, slot: usize) {
        if let Some(at) = self.slots.iter().position(|s| *s == slot) {
            self.reach.swap_remove(at);
            self.sketches.swap_remove(at);
            self.slots.swap_remove(at);
        }
    }
}

/// Kilometres per degree of latitude on the sphere `geo::distance_km` uses.
const KM_PER_DEGREE: f64 = 111.195;

/// One organisation's PAs as of `revision`.
#[derive(Default)]
pub struct OrganisationPas {
    revision: i64,
    slots: Vec<IndexedPa>,
    slot_of: HashMap<String, usize>,
    grid: HashMap<Cell, GridCell>,
    /// Slots of the PAs with a clinician's sign-off for each person: for someone who needs
    /// delegated tasks (level 3 and up) no one else can be a match.
    signed_off_for: HashMap<String, Vec<usize>>,
    /// The farthest any active PA travels: no one beyond it can reach a person.
    longest_reach_km: f64,
}

impl OrganisationPas {
    /// Active PAs within `radius_km` of `centre` whose own travel distance may reach it: a
    /// flat-earth test with 2% slack, so a superset; the rules then judge distance exactly.
    pub fn near(&self, centre: Location, radius_km: f64) -> impl Iterator<Item = &IndexedPa> {
        self.near_sketches(centre, radius_km)
            .map(|(slot, _)| &self.slots[slot])
    }

    /// As `near`, as slots and score sketches, read straight from the grid.
    pub fn near_sketches(
        &self,
        centre: Location,
        radius_km: f64,
    ) -> impl Iterator<Item = (usize, &ScoreSketch)> {
        let radius_km = radius_km.min(self.longest_reach_km);
        let (low, high) = crate::geo::bounding_box(centre, radius_km);
        let (lat0, lon0) = cell_of(low);
        let (lat1, lon1) = cell_of(high);
        let km_per_degree_longitude = KM_PER_DEGREE * centre.latitude.to_radians().cos();
        let radius_squared = (radius_km * 1.02 + 0.1).powi(2);
        (lat0..=lat1)
            .flat_map(move |lat| (lon0..=lon1).map(move |lon| (lat, lon)))
            .filter_map(|cell| self.grid.get(&cell))
            .flat_map(move |cell| {
                cell.reach
                    .iter()
                    .enumerate()
                    .filter(move |(_, [latitude, longitude, reach_km])| {
                        let dy = (latitude - centre.latitude) * KM_PER_DEGREE;
                        let dx = (longitude - centre.longitude) * km_per_degree_longitude;
                        let d2 = dx * dx + dy * dy;
                        d2 <= radius_squared && d2 <= (reach_km * 1.02 + 0.1).powi(2)
                    })
                    .map(|(at, _)| (cell.slots[at], &cell.sketches[at]))
            })
    }

    /// Slots of the active PAs who could be a match for `person` within `radius_km` at all:
    /// those signed off for them when they need delegated tasks (no one else can be), else
    /// those near enough whose own travel distance reaches them. A superset; the rules judge.
    pub fn possible_for(&self, person: &PersonNeeds, radius_km: f64) -> Vec<usize> {
        if person.needs_signoff() {
            self.signed_off_slots(&person.budget_holder_id).collect()
        } else {
            self.near_sketches(person.location, radius_km)
                .map(|(slot, _)| slot)
                .collect()
        }
    }

    /// Every active PA.
    pub fn active(&self) -> impl Iterator<Item = &Candidate> {
        self.slots.iter().filter(|p| p.active).map(|p| &p.candidate)
    }

    pub fn candidate(&self, slot: usize) -> &Candidate {
        &self.slots[slot].candidate
    }

    /// The slot of an active PA.
    pub fn active_slot(&self, pa_id: &str) -> Option<usize> {
        self.slot_of
            .get(pa_id)
            .copied()
            .filter(|slot| self.slots[*slot].active)
    }

    /// Slots of the active PAs with any sign-off (valid or not: the rules judge that) for
    /// this person.
    pub fn signed_off_slots(&self, budget_holder_id: &str) -> impl Iterator<Item = usize> + '_ {
        self.signed_off_for
            .get(budget_holder_id)
            .into_iter()
            .flatten()
            .copied()
            .filter(|slot| self.slots[*slot].active)
    }

    fn insert(&mut self, pa: IndexedPa) {
        let id = pa.candidate.pa_id.clone();
        let slot = match self.slot_of.get(&id) {
            Some(&slot) => {
                let old = &self.slots[slot].candidate;
                if let Some(cell) = self.grid.get_mut(&cell_of(old.location)) {
                    cell.remove(slot);
                }
                for signoff in &old.signoffs {
                    if let Some(slots) = self.signed_off_for.get_mut(&signoff.budget_holder_id) {
                        slots.retain(|s| *s != slot);
                    }
                }
                self.slots[slot] = pa;
                slot
            }
            None => {
                self.slots.push(pa);
                self.slot_of.insert(id, self.slots.len() - 1);
                self.slots.len() - 1
            }
        };
        let pa = &self.slots[slot];
        for signoff in &pa.candidate.signoffs {
            let slots = self
                .signed_off_for
                .entry(signoff.budget_holder_id.clone())
                .or_default();
            if !slots.contains(&slot) {
                slots.push(slot);
            }
        }
        if pa.active {
            let at = pa.candidate.location;
            let cell = self.grid.entry(cell_of(at)).or_default();
            cell.reach
                .push([at.latitude, at.longitude, pa.candidate.max_travel_km]);
            cell.sketches.push(pa.candidate.sketch());
            cell.slots.push(slot);
        }
    }
}

/// Every organisation's index, shared by the workers of one instance.
#[derive(Default)]
pub struct MatchIndex {
    organisations: Mutex<HashMap<String, Arc<RwLock<OrganisationPas>>>>,
}

impl MatchIndex {
    /// The organisation's PAs, caught up to at least `latest`, a revision the caller has just
    /// read from the database.
    pub fn current_at(
        &self,
        conn: &mut DbConnection,
        organisation_id: &str,
        latest: i64,
    ) -> AppResult<Arc<RwLock<OrganisationPas>>> {
        let entry = {
            let mut organisations = self
                .organisations
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            organisations
                .entry(organisation_id.to_owned())
                .or_insert_with(|| {
                    Arc::new(RwLock::new(OrganisationPas {
                        revision: -1,
                        ..OrganisationPas::default()
                    }))
                })
                .clone()
        };
        if read(&entry).revision >= latest {
            return Ok(entry);
        }
        let mut index = entry.write().unwrap_or_else(PoisonError::into_inner);
        // Another request may have caught up while this one waited for the lock.
        if index.revision < latest {
            catch_up(conn, organisation_id, &mut index, latest)?;
        }
        drop(index);
        Ok(entry)
    }
}

pub fn read(entry: &RwLock<OrganisationPas>) -> RwLockReadGuard<'_, OrganisationPas> {
    entry.read().unwrap_or_else(PoisonError::into_inner)
}

/// Loads the PAs changed since the index's revision. Every revision up to `latest` had
/// committed before `latest` was read, so the index is then complete up to at least `latest`.
fn catch_up(
    conn: &mut DbConnection,
    organisation_id: &str,
    index: &mut OrganisationPas,
    latest: i64,
) -> AppResult<()> {
    let rows = repo::pas_changed_since(conn, organisation_id, index.revision)?;
    let candidates = crate::market::repo::candidates_of(conn, &rows)?;
    let mut newest = latest;
    for (row, candidate) in rows.iter().zip(candidates) {
        newest = newest.max(row.revision);
        index.insert(IndexedPa {
            active: row.active,
            candidate,
        });
    }
    index.revision = newest;
    index.longest_reach_km = index
        .slots
        .iter()
        .filter(|p| p.active)
        .map(|p| p.candidate.max_travel_km)
        .fold(0.0, f64::max);
    Ok(())
}
