//! The marketplace: the competency framework, PA and budget-holder profiles, teams, matching a
//! person with PAs by competency, location and availability, and workforce capacity by area.

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
