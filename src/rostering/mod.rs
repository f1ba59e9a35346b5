//! Rostering: a person's support pattern (weekly needs and one-off changes) turned into the
//! shifts to be staffed, in Europe/London. The roster generator, editing, publishing and the
//! PA's calendar build on these shifts.

pub mod calendar;
pub mod dto;
pub mod edit;
pub mod generate;
pub mod handlers;
pub mod mine;
pub mod model;
pub mod open_shifts;
pub mod publish;
pub mod repo;
pub mod runs;
pub mod safety;
pub mod service;
pub mod solver;
pub mod swaps;
pub mod watch;
pub mod working_time;

pub use handlers::configure;
