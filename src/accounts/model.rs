//! Account rules, free of HTTP and database.

use chrono::NaiveDateTime;
use diesel::{Insertable, Queryable, Selectable};

use crate::auth::Role;
use crate::db::schema::{organisations, users};
use crate::error::{AppError, AppResult, FieldError};

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganisationKind {
    /// Employs or organises PAs around budget holders.
    Provider,
    /// An ICB or council overseeing the organisations in its area.
    Commissioner,
}

impl OrganisationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provider => "provider",
            Self::Commissioner => "commissioner",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "provider" => Some(Self::Provider),
            "commissioner" => Some(Self::Commissioner),
            _ => None,
        }
    }

    /// The roles an organisation of this kind may hold.
    pub fn allows(self, role: Role) -> bool {
        match self {
            Self::Provider => role != Role::Commissioner,
            Self::Commissioner => matches!(role, Role::Admin | Role::Commissioner),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = organisations)]
pub struct Organisation {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub area_code: String,
    pub created_at: NaiveDateTime,
    pub deactivated_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub organisation_id: String,
    pub role: String,
    pub email: Option<String>,
    pub client_id: Option<String>,
    pub display_name: String,
    pub secret_hash: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl User {
    pub fn role(&self) -> AppResult<Role> {
        self.role
            .parse()
            .map_err(|()| AppError::internal(format!("unknown role in database: {}", self.role)))
    }
}

/// E-mail addresses are compared without case or surrounding space.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub fn check_password(field: &str, password: &str) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(FieldError::new(
            field,
            "too_short",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(FieldError::new(
            field,
            "too_long",
            format!("must be at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

/// The role a new person's account may be given in an organisation of this kind.
pub fn check_role_for(kind: OrganisationKind, role: Role) -> Result<(), FieldError> {
    if role.is_machine() {
        return Err(FieldError::new(
            "role",
            "machine_role",
            "payroll providers are created as payroll clients",
        ));
    }
    if !kind.allows(role) {
        return Err(FieldError::new(
            "role",
            "not_allowed_here",
            format!("a {} organisation cannot hold this role", kind.as_str()),
        ));
    }
    Ok(())
}

/// An administrator cannot remove their own standing: an organisation must never be left with
/// nobody able to administer it by accident.
pub fn check_self_administration(
    actor_id: &str,
    target_id: &str,
    new_role: Option<Role>,
    new_active: Option<bool>,
) -> AppResult<()> {
    if actor_id != target_id {
        return Ok(());
    }
    let mut errors = Vec::new();
    if new_role.is_some_and(|r| r != Role::Admin) {
        errors.push(FieldError::new(
            "role",
            "self_demotion",
            "you cannot change your own role",
        ));
    }
    if new_active == Some(false) {
        errors.push(FieldError::new(
            "active",
            "self_deactivation",
            "you cannot deactivate yourself",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commissioner_organisations_hold_only_admins_and_commissioners() {
        assert!(check_role_for(OrganisationKind::Commissioner, Role::Commissioner).is_ok());
        assert!(check_role_for(OrganisationKind::Commissioner, Role::Pa).is_err());
        assert!(check_role_for(OrganisationKind::Provider, Role::Commissioner).is_err());
        assert!(check_role_for(OrganisationKind::Provider, Role::PayrollProvider).is_err());
        assert!(check_role_for(OrganisationKind::Provider, Role::TeamManager).is_ok());
    }

    #[test]
    fn passwords_have_a_floor_and_a_ceiling() {
        assert!(check_password("password", "short").is_err());
        assert!(check_password("password", "long enough passphrase").is_ok());
        assert!(check_password("password", &"x".repeat(129)).is_err());
    }

    #[test]
    fn an_admin_cannot_lock_themselves_out() {
        assert!(check_self_administration("a", "a", Some(Role::Pa), None).is_err());
        assert!(check_self_administration("a", "a", None, Some(false)).is_err());
        assert!(check_self_administration("a", "b", None, Some(false)).is_ok());
    }
}
