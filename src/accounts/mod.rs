//! Organisations and their user accounts: people who log in with an e-mail and password, and
//! payroll providers' machine clients.

pub mod dto;
pub mod grants;
pub mod handlers;
pub mod model;
pub mod repo;
pub mod service;
pub mod sign_in;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    sign_in::configure(cfg);
    handlers::configure(cfg);
}
