//! The integration suite: one test binary (linking many costs minutes on two cores), a module per
//! area, each test on a fresh database. Runs on SQLite, and on PostgreSQL with
//! `PAROTA_TEST_BACKEND=postgres` (see `scripts/test.sh`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod absence;
mod accounts;
mod auth;
mod authorisation;
mod budgets;
mod cli;
mod demo;
mod errors;
mod health;
mod helpers;
mod integrity;
mod jobs;
mod mail;
mod market;
mod migrations;
mod openapi;
mod payroll;
mod payroll_files;
mod pricing;
mod rostering;
mod safety;
mod safety_walk;
mod structure;
mod timesheets;
