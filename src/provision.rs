//! Setting up an organisation, which spans domains: its account record (`accounts`) and, for a
//! provider, the default competency framework its matching starts from (`market`). It sits above
//! both, beside the wiring, so neither domain has to call the other back. Used by `parota
//! bootstrap`, the demo, the tests and the benchmarks (no endpoint creates organisations).

use crate::accounts::model::{Organisation, OrganisationKind};
use crate::db::{write_transaction, DbConnection};
use crate::error::AppResult;

/// A new organisation; a provider starts with the default competency framework.
pub fn create_organisation(conn: &mut DbConnection, organisation: &Organisation) -> AppResult<()> {
    write_transaction(conn, |conn| {
        crate::accounts::repo::insert_organisation(conn, organisation)?;
        if organisation.kind == OrganisationKind::Provider.as_str() {
            crate::market::repo::seed_default_framework(
                conn,
                &organisation.id,
                organisation.created_at,
            )?;
        }
        Ok(())
    })
}
