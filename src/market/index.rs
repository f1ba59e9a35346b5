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
use crate::market::model::{Candidate, Evidence, SignOff};
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
    cell: Cell,
}

/// One organisation's PAs as of `revision`.
#[derive(Default)]
pub struct OrganisationPas {
    revision: i64,
    pas: HashMap<String, IndexedPa>,
    grid: HashMap<Cell, Vec<String>>,
    /// The farthest any active PA travels: no one beyond it can reach a person.
    longest_reach_km: f64,
}

impl OrganisationPas {
    /// Active PAs within `radius_km` of `centre` by grid cell (a superset: distance is judged
    /// exactly afterwards).
    pub fn near(&self, centre: Location, radius_km: f64) -> impl Iterator<Item = &IndexedPa> {
        let (low, high) = crate::geo::bounding_box(centre, radius_km.min(self.longest_reach_km));
        let (lat0, lon0) = cell_of(low);
        let (lat1, lon1) = cell_of(high);
        (lat0..=lat1)
            .flat_map(move |lat| (lon0..=lon1).map(move |lon| (lat, lon)))
            .filter_map(|cell| self.grid.get(&cell))
            .flatten()
            .filter_map(|id| self.pas.get(id))
            .filter(|pa| pa.active)
    }

    pub fn len(&self) -> usize {
        self.pas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pas.is_empty()
    }

    fn insert(&mut self, pa: IndexedPa) {
        let id = pa.candidate.pa_id.clone();
        if let Some(old) = self.pas.remove(&id) {
            if let Some(ids) = self.grid.get_mut(&old.cell) {
                ids.retain(|i| *i != id);
            }
        }
        self.grid.entry(pa.cell).or_default().push(id.clone());
        self.pas.insert(id, pa);
    }
}

/// Every organisation's index, shared by the workers of one instance.
#[derive(Default)]
pub struct MatchIndex {
    organisations: Mutex<HashMap<String, Arc<RwLock<OrganisationPas>>>>,
}

impl MatchIndex {
    /// The organisation's PAs, caught up with the database.
    pub fn current(
        &self,
        conn: &mut DbConnection,
        organisation_id: &str,
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
        let latest = repo::market_revision(conn, organisation_id)?;
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
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut evidence: HashMap<String, Vec<Evidence>> = HashMap::new();
    for (e, c) in repo::evidence_for(conn, &ids)? {
        evidence.entry(e.pa_id.clone()).or_default().push(Evidence {
            competency_id: c.id,
            level: c.level,
            trained_on: e.trained_on,
            expires_on: e.expires_on,
            verified: e.verified_at.is_some(),
            revoked: e.revoked_at.is_some(),
        });
    }
    let mut signoffs: HashMap<String, Vec<SignOff>> = HashMap::new();
    for s in repo::signoffs_of_pas(conn, &ids)? {
        signoffs.entry(s.pa_id.clone()).or_default().push(SignOff {
            competency_id: s.competency_id,
            budget_holder_id: s.budget_holder_id,
            signed_off_on: s.signed_off_on,
            expires_on: s.expires_on,
            revoked: s.revoked_at.is_some(),
        });
    }
    let mut newest = latest;
    for row in &rows {
        newest = newest.max(row.revision);
        let candidate = crate::market::service::candidate(
            row,
            evidence.remove(&row.id).unwrap_or_default(),
            signoffs.remove(&row.id).unwrap_or_default(),
        );
        index.insert(IndexedPa {
            cell: cell_of(candidate.location),
            active: row.active,
            candidate,
        });
    }
    index.revision = newest;
    index.longest_reach_km = index
        .pas
        .values()
        .filter(|p| p.active)
        .map(|p| p.candidate.max_travel_km)
        .fold(0.0, f64::max);
    Ok(())
}
