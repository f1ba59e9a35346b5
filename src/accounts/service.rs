//! Account use cases: each checks the caller's permission, applies the account rules and writes
//! the change with its audit record in one transaction.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::accounts::dto::{ChangePassword, CreatePayrollClient, CreateUser, UpdateUser, UserView};
use crate::accounts::model::{self, normalise_email, Organisation, OrganisationKind, User};
use crate::accounts::repo::{self, UserChanges};
use crate::audit::{self, Change};
use crate::auth::policy::{authorize, Action, Resource};
use crate::auth::{password, AuthUser, Role};
use crate::db::{write_transaction, DbConnection};
use crate::error::{AppError, AppResult, ConflictCode};

/// What the audit trail keeps of an account: never its secret hash.
#[derive(Serialize)]
struct AccountSnapshot<'a> {
    role: &'a str,
    display_name: &'a str,
    active: bool,
}

fn snapshot(user: &User) -> AccountSnapshot<'_> {
    AccountSnapshot {
        role: &user.role,
        display_name: &user.display_name,
        active: user.active,
    }
}

pub fn organisation_of(conn: &mut DbConnection, actor: &AuthUser) -> AppResult<Organisation> {
    repo::find_organisation(conn, &actor.organisation_id)?.ok_or(AppError::NotFound)
}

pub fn create_user(
    conn: &mut DbConnection,
    actor: &AuthUser,
    request: CreateUser,
    now: DateTime<Utc>,
) -> AppResult<UserView> {
    authorize(
        actor,
        Action::Create,
        Resource::UserDirectory {
            organisation_id: &actor.organisation_id,
        },
    )?;
    let organisation = organisation_of(conn, actor)?;
    let kind = OrganisationKind::parse(&organisation.kind)
        .ok_or_else(|| AppError::internal("unknown organisation kind"))?;
    let mut errors = Vec::new();
    if let Err(e) = model::check_role_for(kind, request.role) {
        errors.push(e);
    }
    if let Err(e) = model::check_password("password", &request.password) {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let secret_hash = password::hash(&request.password)?;
    let user = User {
        id: crate::ids::new_id(),
        organisation_id: organisation.id.clone(),
        role: request.role.as_str().to_owned(),
        email: Some(normalise_email(&request.email)),
        client_id: None,
        display_name: request.display_name.trim().to_owned(),
        secret_hash,
        active: true,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    write_transaction(conn, |conn| {
        if let Some(email) = &user.email {
            if repo::find_user_by_email(conn, email)?.is_some() {
                return Err(AppError::Conflict {
                    code: ConflictCode::EmailTaken,
                    detail: "an account with this e-mail address already exists".into(),
                });
            }
        }
        repo::insert_user(conn, &user)?;
        audit::record(
            conn,
            Some(actor),
            Change::<(), _> {
                organisation_id: &user.organisation_id,
                action: "user.created",
                entity_type: "user",
                entity_id: &user.id,
                before: None,
                after: Some(&snapshot(&user)),
            },
        )
    })?;
    UserView::from_user(&user).ok_or_else(|| AppError::internal("unreadable user"))
}

pub fn create_payroll_client(
    conn: &mut DbConnection,
    actor: &AuthUser,
    request: CreatePayrollClient,
    now: DateTime<Utc>,
) -> AppResult<crate::accounts::dto::PayrollClientCreated> {
    authorize(
        actor,
        Action::Create,
        Resource::PayrollClients {
            organisation_id: &actor.organisation_id,
        },
    )?;
    let client_id = format!("pc_{}", password::random_token(12));
    let client_secret = password::random_token(32);
    let user = User {
        id: crate::ids::new_id(),
        organisation_id: actor.organisation_id.clone(),
        role: Role::PayrollProvider.as_str().to_owned(),
        email: None,
        client_id: Some(client_id.clone()),
        display_name: request.display_name.trim().to_owned(),
        secret_hash: password::hash(&client_secret)?,
        active: true,
        created_at: now.naive_utc(),
        updated_at: now.naive_utc(),
    };
    write_transaction(conn, |conn| {
        repo::insert_user(conn, &user)?;
        audit::record(
            conn,
            Some(actor),
            Change::<(), _> {
                organisation_id: &user.organisation_id,
                action: "payroll_client.created",
                entity_type: "user",
                entity_id: &user.id,
                before: None,
                after: Some(&snapshot(&user)),
            },
        )
    })?;
    Ok(crate::accounts::dto::PayrollClientCreated {
        id: user.id,
        client_id,
        client_secret,
        display_name: user.display_name,
    })
}

pub fn read_user(conn: &mut DbConnection, actor: &AuthUser, id: &str) -> AppResult<UserView> {
    let user = repo::find_user(conn, id)?.ok_or(AppError::NotFound)?;
    authorize(
        actor,
        Action::Read,
        Resource::UserAccount {
            id: &user.id,
            organisation_id: &user.organisation_id,
        },
    )?;
    UserView::from_user(&user).ok_or_else(|| AppError::internal("unreadable user"))
}

pub fn update_user(
    conn: &mut DbConnection,
    actor: &AuthUser,
    id: &str,
    request: UpdateUser,
    now: DateTime<Utc>,
) -> AppResult<UserView> {
    write_transaction(conn, |conn| {
        let before = repo::find_user(conn, id)?.ok_or(AppError::NotFound)?;
        let target = Resource::UserAccount {
            id: &before.id,
            organisation_id: &before.organisation_id,
        };
        authorize(actor, Action::Update, target)?;
        if request.role.is_some() || request.active.is_some() {
            authorize(actor, Action::Administer, target)?;
        }
        model::check_self_administration(&actor.user_id, &before.id, request.role, request.active)?;
        if let Some(role) = request.role {
            let organisation = organisation_of(conn, actor)?;
            let kind = OrganisationKind::parse(&organisation.kind)
                .ok_or_else(|| AppError::internal("unknown organisation kind"))?;
            if before.role()?.is_machine() != role.is_machine() {
                return Err(AppError::field(
                    "role",
                    "machine_role",
                    "a person cannot become a machine client or the reverse",
                ));
            }
            if !role.is_machine() {
                model::check_role_for(kind, role).map_err(|e| AppError::Validation(vec![e]))?;
            }
        }
        let changes = UserChanges {
            display_name: request.display_name.as_ref().map(|n| n.trim().to_owned()),
            role: request.role.map(|r| r.as_str().to_owned()),
            active: request.active,
            secret_hash: None,
            updated_at: Some(now.naive_utc()),
        };
        repo::update_user(conn, &before.id, &changes)?;
        if request.active == Some(false) {
            repo::revoke_all_sessions(conn, &before.id, now.naive_utc())?;
        }
        let after = repo::find_user(conn, &before.id)?.ok_or(AppError::NotFound)?;
        audit::record(
            conn,
            Some(actor),
            Change {
                organisation_id: &after.organisation_id,
                action: "user.updated",
                entity_type: "user",
                entity_id: &after.id,
                before: Some(&snapshot(&before)),
                after: Some(&snapshot(&after)),
            },
        )?;
        UserView::from_user(&after).ok_or_else(|| AppError::internal("unreadable user"))
    })
}

/// A user changes their own password; every other session of theirs ends.
pub fn change_password(
    conn: &mut DbConnection,
    actor: &AuthUser,
    request: ChangePassword,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let user = repo::find_user(conn, &actor.user_id)?.ok_or(AppError::NotFound)?;
    if user.role()?.is_machine() {
        return Err(AppError::Forbidden);
    }
    if !password::verify(&request.current_password, &user.secret_hash) {
        return Err(AppError::field(
            "current_password",
            "wrong_password",
            "is not your current password",
        ));
    }
    model::check_password("new_password", &request.new_password)
        .map_err(|e| AppError::Validation(vec![e]))?;
    let secret_hash = password::hash(&request.new_password)?;
    write_transaction(conn, |conn| {
        repo::update_user(
            conn,
            &user.id,
            &UserChanges {
                secret_hash: Some(secret_hash),
                updated_at: Some(now.naive_utc()),
                ..UserChanges::default()
            },
        )?;
        // Every other session ends, with its access tokens; the caller's own goes on.
        repo::revoke_other_sessions(conn, &user.id, actor.session_id.as_deref(), now.naive_utc())?;
        audit::record(
            conn,
            Some(actor),
            Change::<(), ()> {
                organisation_id: &user.organisation_id,
                action: "user.password_changed",
                entity_type: "user",
                entity_id: &user.id,
                before: None,
                after: None,
            },
        )
    })
}
