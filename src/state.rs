//! What every handler may need, whatever its domain: the database pool, the settings and which
//! backend is in use. Plumbing: it knows no domain. Domain services that live for the process
//! (the matching index, the clock-event writer) and the signing keys are registered beside it as
//! their own `web::Data`, so an extractor or handler asks for exactly what it uses.

use std::sync::Arc;

use crate::config::Settings;
use crate::db::DbPool;

pub struct AppState {
    pub pool: DbPool,
    pub settings: Arc<Settings>,
    /// `sqlite` or `postgresql`.
    pub backend: &'static str,
}
