//! Payroll: employers and the PAs they engage, gross pay per PA per pay period from approved
//! timesheets and the rate card, the minimum wage check, and the immutable exports payroll
//! providers pull (parota's CSV and JSON, BrightPay, Sage 50 Payroll and IRIS import files).

pub mod close;
pub mod dto;
pub mod formats;
pub mod handlers;
pub mod model;
pub mod repo;
pub mod service;

pub use handlers::configure;
