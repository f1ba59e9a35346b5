//! Pricing support by competency: rate cards (personalised and social-care framework, versioned
//! by effective date) and the indicative budget for a support pattern.

pub mod dto;
pub mod handlers;
pub mod model;
pub mod repo;
pub mod service;

pub use handlers::configure;
