//! The marketplace: the competency framework, PA and budget-holder profiles, teams, matching a
//! person with PAs by competency, location and availability, and workforce capacity by area.

pub mod dto;
pub mod handlers;
pub mod index;
pub mod model;
pub mod repo;
pub mod service;

pub use handlers::configure;
