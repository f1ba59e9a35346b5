//! The one place that answers "may this caller do this to that?".
//!
//! Each endpoint loads what it acts on, describes it as a `Resource`, and asks `authorize`.
//! A caller with no business knowing a resource exists gets 404 (`NotFound`); one who may see it
//! but not do this gets 403 (`Forbidden`). Later domains add their resources here, so the rules
//! stay readable side by side.
//!
//! # Who may do what
//!
//! Every endpoint states its callers in its OpenAPI description; all rules sit in one place,
//! `src/auth/policy.rs`. A caller who may not know a resource exists (another organisation's) gets
//! 404; one who may see it but not do this gets 403. Tests call every endpoint as every role.
//! Revoked means revoked: an access token names its session, and every request reads (in one
//! statement) that the account, its organisation and the session are still live and the role
//! unchanged, so deactivation, a role change, logout, logout everywhere, a password change elsewhere
//! and a reused refresh token end access tokens on the next request, on every instance. Nobody
//! changes their own role or active flag; a password change keeps the caller's own session.
//!
//! | | admin | team manager | PA | budget holder | payroll provider | commissioner |
//! | --- | --- | --- | --- | --- | --- | --- |
//! | own account (`/me`), own name, own password | ✓ | ✓ | ✓ | ✓ | ✓ (no password) | ✓ |
//! | organisation's user list, any member's account | ✓ | read | – | – | – | – |
//! | create users, change roles, deactivate (never their own) | ✓ | – | – | – | – | – |
//! | clinical sign-offs; naming a representative (with the day of consent) | ✓ | their people's | – | – | – | – |
//! | register payroll clients | ✓ | – | – | – | – | – |
//! | audit trail | ✓ | – | – | – | – | – |
//! | organisations | own | own | own | own | own | all in its area |
//! | rate cards: read, price a quote | ✓ | ✓ | – | – | – | – |
//! | rate cards: create, add a version | ✓ | – | – | – | – | – |
//! | budgets, ledger, statement: read | ✓ | their people's | – | their own (and as representative) | – | their area's |
//! | budgets: create, approve, post and reverse entries | ✓ | their people's | – | – | – | – |
//! | support changes and planned shifts: read | ✓ | their people's | – | their own | – | – |
//! | support changes: record, cancel | ✓ | their people's | – | – | – | – |
//! | rosters: generate, read, edit, publish | ✓ | their own | – | – | – | – |
//! | own shifts on published rosters (`/pas/me/shifts`), own calendar feed | – | – | ✓ | – | – | – |
//! | open shifts they may take: list, accept, decline | – | – | ✓ | – | – | – |
//! | what expires soon (`/organisations/{id}/expiring-items`) | ✓ | ✓ | – | – | – | – |
//! | clock in and out, sync, unrostered work, record details, submit (own shifts and timesheets) | – | – | ✓ | – | – | – |
//! | timesheets: read | ✓ | their people's | own | their own | – | – |
//! | timesheets: approve, query | as the policy says | their people's (policy) | – | their own (policy) | – | – |
//! | amendments after approval, exceptions list | ✓ | their people's | – | – | – | – |
//! | timesheet policy, pay periods: read | ✓ | ✓ | – | – | – | – |
//! | timesheet policy: set; close a pay period | ✓ | – | – | – | – | – |
//! | employers: register | ✓ | – | – | – | – | – |
//! | employers, engagements, a period's exports: read; engagements, adjustments, minimum wage reviews: create | ✓ | ✓ | – | – | – | – |
//! | payroll exports: list, read in any format, acknowledge | read | read | – | – | the employers it runs (others: 404) | – |
//! | a period's cost for a budget statement | ✓ | their people's | – | their own (and as representative) | – | their area's |

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{AuthUser, Role};
use crate::error::{AppError, AppResult};

/// Who approves timesheets in an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Approver {
    /// The person's team manager (and admins).
    TeamManager,
    /// The person or their representative.
    BudgetHolder,
    /// Either of them.
    Either,
}

impl Approver {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TeamManager => "team_manager",
            Self::BudgetHolder => "budget_holder",
            Self::Either => "either",
        }
    }

    /// The approver a column holds; anything else is an error naming the column.
    pub fn parse(column: &'static str, raw: &str) -> AppResult<Self> {
        crate::db::json::enum_from_text(column, raw)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Create,
    /// Ordinary edits (a user's own display name).
    Update,
    /// Changes of standing: a user's role or whether their account is active.
    Administer,
}

#[derive(Debug, Clone, Copy)]
pub enum Resource<'a> {
    Organisation {
        id: &'a str,
        area_code: &'a str,
    },
    /// A user account (of any role) in an organisation.
    UserAccount {
        id: &'a str,
        organisation_id: &'a str,
    },
    /// The list of an organisation's user accounts.
    UserDirectory {
        organisation_id: &'a str,
    },
    AuditTrail {
        organisation_id: &'a str,
    },
    PayrollClients {
        organisation_id: &'a str,
    },
    /// The organisation's competency framework.
    Competencies {
        organisation_id: &'a str,
    },
    /// The organisation's PAs as a whole (listing, adding).
    PaDirectory {
        organisation_id: &'a str,
    },
    /// One PA's profile; `user_id` is the PA's own login.
    PaProfile {
        organisation_id: &'a str,
        user_id: Option<&'a str>,
    },
    /// The organisation's budget holders as a whole (listing, adding).
    BudgetHolderDirectory {
        organisation_id: &'a str,
    },
    /// One person: their team manager runs it; they and their representative may read it and
    /// change their preferences (`Update`); everything else is `Administer`.
    BudgetHolder {
        organisation_id: &'a str,
        team_manager_id: &'a str,
        user_id: Option<&'a str>,
        representative_user_id: Option<&'a str>,
    },
    /// Supply of and demand for PAs by area, for commissioners and admins.
    WorkforceCapacity {
        organisation_id: &'a str,
        area_code: &'a str,
    },
    /// The organisation's rate cards and quotes priced with them: admins keep the cards, team
    /// managers price with them (`Read`).
    RateCards {
        organisation_id: &'a str,
    },
    /// Timesheet policy and pay periods: admins set them and close periods, team managers read.
    PaySettings {
        organisation_id: &'a str,
    },
    /// Payroll set-up and review: employers (admins), engagements, adjustments and minimum wage
    /// reviews (team managers and admins), the exports of a period (read by both).
    Payroll {
        organisation_id: &'a str,
    },
    /// One payroll export: the payroll client that runs its employer reads and acknowledges it
    /// (`Update`); admins and team managers read it; any other payroll client never learns it
    /// exists.
    PayrollExport {
        organisation_id: &'a str,
        payroll_client_id: &'a str,
    },
    /// An employer's payroll software and codes: its payroll client (the bureau, who knows the
    /// codes) reads and sets them, admins too; team managers read them; any other payroll
    /// client never learns the employer exists.
    PayrollMapping {
        organisation_id: &'a str,
        payroll_client_id: &'a str,
    },
    /// A roster: the team manager who made it runs it, and admins.
    Roster {
        organisation_id: &'a str,
        team_manager_id: &'a str,
    },
    /// A person's budgets and their ledger: their team manager and admins run them (`Create`
    /// for new budgets and entries, `Administer` to record approval); the person and their
    /// representative read their own; commissioners read those of organisations in their area.
    Budget {
        organisation_id: &'a str,
        organisation_area_code: &'a str,
        team_manager_id: &'a str,
        user_id: Option<&'a str>,
        representative_user_id: Option<&'a str>,
    },
    /// A PA's timesheet for one person and its records. The PA who worked it records and
    /// submits (`Update`); the approvers the organisation chose decide (`Administer`); the
    /// person's team manager and admins read it and amend it after approval (`Create`); the
    /// person and their representative read it.
    Timesheet {
        organisation_id: &'a str,
        team_manager_id: &'a str,
        pa_user_id: Option<&'a str>,
        user_id: Option<&'a str>,
        representative_user_id: Option<&'a str>,
        approver: Approver,
    },
}

pub fn authorize(actor: &AuthUser, action: Action, resource: Resource<'_>) -> AppResult<()> {
    use Action::*;
    use Resource::*;
    let same_org = |organisation_id: &str| actor.organisation_id == organisation_id;
    // Team managers and admins run the organisation's workforce.
    let is_manager = || matches!(actor.role, Role::Admin | Role::TeamManager);
    let allowed = match resource {
        Organisation { id, area_code } => {
            let visible =
                same_org(id) || (actor.role == Role::Commissioner && actor.area_code == area_code);
            if !visible {
                return Err(AppError::NotFound);
            }
            match action {
                Read => true,
                Create | Update | Administer => same_org(id) && actor.role == Role::Admin,
            }
        }
        UserAccount {
            id,
            organisation_id,
        } => {
            if !same_org(organisation_id) {
                return Err(AppError::NotFound);
            }
            let is_self = actor.user_id == id;
            match action {
                Read => is_self || matches!(actor.role, Role::Admin | Role::TeamManager),
                Update => is_self || actor.role == Role::Admin,
                Create | Administer => actor.role == Role::Admin,
            }
        }
        UserDirectory { organisation_id } => {
            if !same_org(organisation_id) {
                return Err(AppError::NotFound);
            }
            match action {
                Read => matches!(actor.role, Role::Admin | Role::TeamManager),
                Create | Update | Administer => actor.role == Role::Admin,
            }
        }
        AuditTrail { organisation_id } | PayrollClients { organisation_id } => {
            if !same_org(organisation_id) {
                return Err(AppError::NotFound);
            }
            actor.role == Role::Admin
        }
        Competencies { organisation_id } => {
            if !same_org(organisation_id) {
                return Err(AppError::NotFound);
            }
            match action {
                Read => actor.role != Role::PayrollProvider,
                Create | Update | Administer => actor.role == Role::Admin,
            }
        }
        PaDirectory { organisation_id } | BudgetHolderDirectory { organisation_id } => {
            if !same_org(organisation_id) {
                return Err(AppError::NotFound);
            }
            is_manager()
        }
        PaProfile {
            organisation_id,
            user_id,
        } => {
            if !same_org(organisation_id) {
                return Err(AppError::NotFound);
            }
            let is_self = actor.role == Role::Pa && user_id == Some(actor.user_id.as_str());
            match action {
                Read | Update => is_self || is_manager(),
                Create | Administer => is_manager(),
            }
        }
        BudgetHolder {
            organisation_id,
            team_manager_id,
            user_id,
            representative_user_id,
        } => {
            if !same_org(organisation_id) {
                return Err(AppError::NotFound);
            }
            let runs_it = actor.role == Role::Admin
                || (actor.role == Role::TeamManager && team_manager_id == actor.user_id);
            let is_person = actor.role == Role::BudgetHolder
                && (user_id == Some(actor.user_id.as_str())
                    || representative_user_id == Some(actor.user_id.as_str()));
            match action {
                Read | Update => runs_it || is_person,
                Create | Administer => runs_it,
            }
        }
        WorkforceCapacity {
            organisation_id,
            area_code,
        } => {
            let commissioner_of_area =
                actor.role == Role::Commissioner && actor.area_code == area_code;
            if !same_org(organisation_id) && !commissioner_of_area {
                return Err(AppError::NotFound);
            }
            commissioner_of_area || actor.role == Role::Admin
        }
        Roster {
            organisation_id,
            team_manager_id,
        } => {
            if !same_org(organisation_id) {
                return Err(AppError::NotFound);
            }
            actor.role == Role::Admin
                || (actor.role == Role::TeamManager && actor.user_id == team_manager_id)
        }
        Payroll { organisation_id } => {
            if !same_org(organisation_id) {
                return Err(AppError::NotFound);
            }
            match action {
                Read | Create | Update => is_manager(),
                Administer => actor.role == Role::Admin,
            }
        }
        PayrollExport {
            organisation_id,
            payroll_client_id,
        }
        | PayrollMapping {
            organisation_id,
            payroll_client_id,
        } => {
            if !same_org(organisation_id) {
                return Err(AppError::NotFound);
            }
            let mapping = matches!(resource, PayrollMapping { .. });
            if actor.role == Role::PayrollProvider {
                // Another payroll client never learns the employer's exports or codes exist.
                if actor.user_id != payroll_client_id {
                    return Err(AppError::NotFound);
                }
                !mapping || matches!(action, Read | Update)
            } else if mapping {
                match action {
                    Read => is_manager(),
                    Update => actor.role == Role::Admin,
                    Create | Administer => false,
                }
            } else {
                action == Read && is_manager()
            }
        }
        RateCards { organisation_id } | PaySettings { organisation_id } => {
            if !same_org(organisation_id) {
                return Err(AppError::NotFound);
            }
            match action {
                Read => is_manager(),
                Create | Update | Administer => actor.role == Role::Admin,
            }
        }
        Budget {
            organisation_id,
            organisation_area_code,
            team_manager_id,
            user_id,
            representative_user_id,
        } => {
            let commissioner_of_area =
                actor.role == Role::Commissioner && actor.area_code == organisation_area_code;
            if !same_org(organisation_id) && !commissioner_of_area {
                return Err(AppError::NotFound);
            }
            let runs_it = same_org(organisation_id)
                && (actor.role == Role::Admin
                    || (actor.role == Role::TeamManager && team_manager_id == actor.user_id));
            let is_person = same_org(organisation_id)
                && actor.role == Role::BudgetHolder
                && (user_id == Some(actor.user_id.as_str())
                    || representative_user_id == Some(actor.user_id.as_str()));
            match action {
                Read => runs_it || is_person || commissioner_of_area,
                Create | Update | Administer => runs_it,
            }
        }
        Timesheet {
            organisation_id,
            team_manager_id,
            pa_user_id,
            user_id,
            representative_user_id,
            approver,
        } => {
            if !same_org(organisation_id) {
                return Err(AppError::NotFound);
            }
            let runs_it = actor.role == Role::Admin
                || (actor.role == Role::TeamManager && team_manager_id == actor.user_id);
            let is_person = actor.role == Role::BudgetHolder
                && (user_id == Some(actor.user_id.as_str())
                    || representative_user_id == Some(actor.user_id.as_str()));
            let is_pa = actor.role == Role::Pa && pa_user_id == Some(actor.user_id.as_str());
            match action {
                Read => runs_it || is_person || is_pa,
                Update => is_pa,
                Create => runs_it,
                Administer => match approver {
                    Approver::TeamManager => runs_it,
                    Approver::BudgetHolder => is_person,
                    Approver::Either => runs_it || is_person,
                },
            }
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Team managers and admins run the organisation's workforce: rosters, evidence they add is
/// verified as they add it, unrostered work they approve.
pub fn manages_workforce(actor: &AuthUser) -> bool {
    matches!(actor.role, Role::Admin | Role::TeamManager)
}

/// Refuses (403) a caller who does not run the workforce.
pub fn must_manage_workforce(actor: &AuthUser) -> AppResult<()> {
    allow(manages_workforce(actor))
}

/// Refuses (403) anyone but a PA: clocking on a shift, a PA's own profile, shifts and swaps.
pub fn must_be_pa(actor: &AuthUser) -> AppResult<()> {
    allow(actor.role == Role::Pa)
}

/// Payroll clients (machine callers) pull exports and nothing else.
pub fn is_payroll_client(actor: &AuthUser) -> bool {
    actor.role == Role::PayrollProvider
}

/// Refuses (403) anyone but a payroll client.
pub fn must_be_payroll_client(actor: &AuthUser) -> AppResult<()> {
    allow(is_payroll_client(actor))
}

/// Whose people a workforce list shows: a team manager only their own, whatever they ask for;
/// an admin whichever team manager's they ask for (`None`: everyone's). Others are refused.
pub fn team_scope<'a>(actor: &'a AuthUser, asked: Option<&'a str>) -> AppResult<Option<&'a str>> {
    match actor.role {
        Role::TeamManager => Ok(Some(actor.user_id.as_str())),
        Role::Admin => Ok(asked),
        _ => Err(AppError::Forbidden),
    }
}

/// The team manager a new person or roster belongs to when the caller names none: a team
/// manager's own; otherwise (an admin) the one given.
pub fn own_team_manager_or<'a>(actor: &'a AuthUser, otherwise: &'a str) -> &'a str {
    if actor.role == Role::TeamManager {
        &actor.user_id
    } else {
        otherwise
    }
}

/// Who a person may be given to as team manager, by whom: an admin assigns anyone (checked to
/// be a team manager of the organisation); a team manager only themselves.
pub fn may_assign_team_manager(actor: &AuthUser, asked: Option<&str>) -> TeamManagerChoice {
    match (asked, actor.role) {
        (Some(_), Role::Admin) => TeamManagerChoice::AsAsked,
        (None, Role::TeamManager) => TeamManagerChoice::Caller,
        (Some(id), Role::TeamManager) if id == actor.user_id => TeamManagerChoice::Caller,
        (Some(_), _) => TeamManagerChoice::Refused,
        (None, _) => TeamManagerChoice::Required,
    }
}

/// The answer of `may_assign_team_manager`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamManagerChoice {
    /// The team manager asked for, once checked.
    AsAsked,
    /// The caller themselves.
    Caller,
    /// The caller may not choose a team manager.
    Refused,
    /// A team manager must be named.
    Required,
}

/// Only an admin moves a person to another team manager.
pub fn may_reassign_team_manager(actor: &AuthUser) -> bool {
    actor.role == Role::Admin
}

/// Rostering a whole organisation at once (every team manager's people): admins only.
pub fn must_roster_organisation(actor: &AuthUser) -> AppResult<()> {
    allow(actor.role == Role::Admin)
}

/// A roster run is seen by the team manager who started it and the organisation's admins.
pub fn may_read_run(actor: &AuthUser, organisation_id: &str, requested_by: &str) -> bool {
    actor.organisation_id == organisation_id
        && (actor.user_id == requested_by || actor.role == Role::Admin)
}

/// Which organisations a caller sees: a commissioner those of their area, anyone else their own.
pub enum OrganisationScope<'a> {
    Area(&'a str),
    Own(&'a str),
}

pub fn organisation_scope(actor: &AuthUser) -> OrganisationScope<'_> {
    if actor.role == Role::Commissioner {
        OrganisationScope::Area(&actor.area_code)
    } else {
        OrganisationScope::Own(&actor.organisation_id)
    }
}

fn allow(allowed: bool) -> AppResult<()> {
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, organisation: &str) -> AuthUser {
        AuthUser {
            user_id: format!("{}-user", role.as_str()),
            organisation_id: organisation.into(),
            role,
            area_code: "QE1".into(),
            request_id: None,
            session_id: None,
        }
    }

    fn status(result: AppResult<()>) -> u16 {
        use actix_web::ResponseError;
        match result {
            Ok(()) => 200,
            Err(e) => e.status_code().as_u16(),
        }
    }

    #[test]
    fn only_an_admin_of_the_organisation_creates_users() {
        let directory = Resource::UserDirectory {
            organisation_id: "org-a",
        };
        for role in Role::ALL {
            let expected = if role == Role::Admin { 200 } else { 403 };
            assert_eq!(
                status(authorize(&actor(role, "org-a"), Action::Create, directory)),
                expected,
                "{role:?}"
            );
            assert_eq!(
                status(authorize(&actor(role, "org-b"), Action::Create, directory)),
                404
            );
        }
    }

    #[test]
    fn a_pa_reads_their_own_account_and_no_one_elses() {
        let pa = actor(Role::Pa, "org-a");
        let own = Resource::UserAccount {
            id: "pa-user",
            organisation_id: "org-a",
        };
        let colleague = Resource::UserAccount {
            id: "someone",
            organisation_id: "org-a",
        };
        assert_eq!(status(authorize(&pa, Action::Read, own)), 200);
        assert_eq!(status(authorize(&pa, Action::Administer, own)), 403);
        assert_eq!(status(authorize(&pa, Action::Read, colleague)), 403);
    }

    #[test]
    fn a_team_manager_runs_only_their_own_people() {
        let mine = Resource::BudgetHolder {
            organisation_id: "org-a",
            team_manager_id: "team_manager-user",
            user_id: Some("ann"),
            representative_user_id: None,
        };
        let theirs = Resource::BudgetHolder {
            organisation_id: "org-a",
            team_manager_id: "someone-else",
            user_id: Some("ann"),
            representative_user_id: None,
        };
        let manager = actor(Role::TeamManager, "org-a");
        assert_eq!(status(authorize(&manager, Action::Administer, mine)), 200);
        assert_eq!(status(authorize(&manager, Action::Read, theirs)), 403);
        assert_eq!(
            status(authorize(
                &actor(Role::Admin, "org-a"),
                Action::Administer,
                theirs
            )),
            200
        );
    }

    #[test]
    fn a_budget_holder_reads_their_own_record_and_edits_only_preferences() {
        let mut person = actor(Role::BudgetHolder, "org-a");
        person.user_id = "ann".into();
        let own = Resource::BudgetHolder {
            organisation_id: "org-a",
            team_manager_id: "tm",
            user_id: Some("ann"),
            representative_user_id: None,
        };
        assert_eq!(status(authorize(&person, Action::Read, own)), 200);
        assert_eq!(status(authorize(&person, Action::Update, own)), 200);
        assert_eq!(status(authorize(&person, Action::Administer, own)), 403);
        let other = Resource::BudgetHolder {
            organisation_id: "org-a",
            team_manager_id: "tm",
            user_id: Some("bob"),
            representative_user_id: None,
        };
        assert_eq!(status(authorize(&person, Action::Read, other)), 403);
    }

    #[test]
    fn a_pa_sees_their_own_profile_only() {
        let pa = actor(Role::Pa, "org-a");
        let own = Resource::PaProfile {
            organisation_id: "org-a",
            user_id: Some("pa-user"),
        };
        let colleague = Resource::PaProfile {
            organisation_id: "org-a",
            user_id: Some("other"),
        };
        assert_eq!(status(authorize(&pa, Action::Update, own)), 200);
        assert_eq!(status(authorize(&pa, Action::Administer, own)), 403);
        assert_eq!(status(authorize(&pa, Action::Read, colleague)), 403);
        assert_eq!(
            status(authorize(
                &pa,
                Action::Read,
                Resource::PaDirectory {
                    organisation_id: "org-a"
                }
            )),
            403
        );
    }

    #[test]
    fn a_commissioner_sees_organisations_in_its_area_only() {
        let commissioner = actor(Role::Commissioner, "icb");
        let here = Resource::Organisation {
            id: "org-a",
            area_code: "QE1",
        };
        let elsewhere = Resource::Organisation {
            id: "org-z",
            area_code: "QOP",
        };
        assert_eq!(status(authorize(&commissioner, Action::Read, here)), 200);
        assert_eq!(status(authorize(&commissioner, Action::Update, here)), 403);
        assert_eq!(
            status(authorize(&commissioner, Action::Read, elsewhere)),
            404
        );
    }
}
