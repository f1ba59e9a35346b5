//! Request and response shapes for organisations and users.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::accounts::model::{Organisation, User};
use crate::auth::Role;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[validate(email, length(max = 254))]
    #[schema(max_length = 254)]
    pub email: String,
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub display_name: String,
    pub role: Role,
    /// An initial password of 12 to 128 characters, to be changed by its owner.
    pub password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub display_name: Option<String>,
    /// Admins only.
    pub role: Option<Role>,
    /// Admins only: `false` deactivates the account and ends its sessions.
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    #[validate(length(min = 1))]
    #[schema(min_length = 1)]
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePayrollClient {
    /// The payroll provider's name, e.g. "Pennine Payroll Services".
    #[validate(length(min = 1, max = 120))]
    #[schema(min_length = 1, max_length = 120)]
    pub display_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub organisation_id: String,
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    pub display_name: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UserView {
    pub fn from_user(user: &User) -> Option<Self> {
        Some(Self {
            id: user.id.clone(),
            organisation_id: user.organisation_id.clone(),
            role: user.role().ok()?,
            email: user.email.clone(),
            client_id: user.client_id.clone(),
            display_name: user.display_name.clone(),
            active: user.active,
            created_at: user.created_at.and_utc(),
            updated_at: user.updated_at.and_utc(),
        })
    }
}

/// The one time a client secret is shown: store it now, it cannot be read again.
#[derive(Debug, Serialize, ToSchema)]
pub struct PayrollClientCreated {
    pub id: String,
    pub client_id: String,
    pub client_secret: String,
    pub display_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationView {
    pub id: String,
    pub name: String,
    /// `provider` or `commissioner`.
    pub kind: String,
    /// The commissioning area (ICB code).
    pub area_code: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&Organisation> for OrganisationView {
    fn from(o: &Organisation) -> Self {
        Self {
            id: o.id.clone(),
            name: o.name.clone(),
            kind: o.kind.clone(),
            area_code: o.area_code.clone(),
            active: o.deactivated_at.is_none(),
            created_at: o.created_at.and_utc(),
        }
    }
}
