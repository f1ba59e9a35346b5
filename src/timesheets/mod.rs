//! Timesheets from the PA's phone: clock events (offline-safe, each once), shift records with
//! breaks, mileage and expenses, approval into the budget ledger, amendments after approval,
//! exceptions for the team manager and pay periods that lock when closed.

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
