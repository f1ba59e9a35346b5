//! Organisations and their user accounts: people who log in with an e-mail and password, and
//! payroll providers' machine clients.

pub mod dto;
pub mod handlers;
pub mod model;
pub mod repo;
pub mod service;

pub use handlers::configure;
