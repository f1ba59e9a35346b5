//! Budgets: a person's money over a period, split between funding streams and profiled by
//! month, with an append-only ledger (allocations, commitments, actuals, adjustments and
//! reversals), statements that are always sums of the ledger, and threshold alerts by e-mail.

pub mod dto;
pub mod handlers;
pub mod ledger;
pub mod model;
pub mod repo;
pub mod service;

pub use handlers::configure;
