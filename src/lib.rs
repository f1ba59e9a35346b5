//! parota: the backend that runs the personal assistant (PA) workforce behind NHS personal
//! health budgets. The binary (`src/main.rs`) only parses the command line; everything else is
//! here so tests and benchmarks use the same code.

pub mod absence;
pub mod accounts;
pub mod app;
pub mod audit;
pub mod auth;
pub mod budgets;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod geo;
pub mod health;
pub mod http;
pub mod idempotency;
pub mod ids;
pub mod jobs;
pub mod mail;
pub mod market;
pub mod money;
pub mod openapi;
pub mod payroll;
pub mod pricing;
pub mod provision;
pub mod rostering;
pub mod rules;
pub mod state;
pub mod telemetry;
pub mod time;
pub mod timesheets;
pub mod worker;
