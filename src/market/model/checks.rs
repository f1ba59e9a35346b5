//! What is known about a PA and a person before any matching: their checks (DBS, right to
//! work), competency evidence, clinical sign-offs, and a person's preferences and funding.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Female,
    Male,
    NonBinary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Funding {
    /// A personal health budget.
    Phb,
    /// NHS Continuing Healthcare.
    Chc,
    /// Integrated health and social care.
    Integrated,
    SocialCare,
}

/// What a person would like in a PA. Preferences are weighed, never hard rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Preferences {
    pub pa_gender: Option<Gender>,
    /// Languages the person would like spoken, e.g. `["Urdu"]`.
    pub languages: Vec<String>,
    /// A PA who drives.
    pub driver: bool,
    pub non_smoker: bool,
    /// There are pets in the home.
    pub pets_in_home: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Checks {
    pub dbs_issued_on: Option<NaiveDate>,
    pub dbs_update_service: bool,
    pub dbs_verified: bool,
    pub right_to_work_checked_on: Option<NaiveDate>,
    pub right_to_work_expires_on: Option<NaiveDate>,
    pub right_to_work_verified: bool,
}

/// How old an enhanced DBS certificate may be when the PA is not on the update service. This is
/// the organisation's safeguarding policy, not law; three years is common practice.
#[derive(Debug, Clone, Copy)]
pub struct MatchPolicy {
    pub dbs_renewal_months: u32,
}

impl Default for MatchPolicy {
    fn default() -> Self {
        Self {
            dbs_renewal_months: 36,
        }
    }
}

/// Where a PA's enhanced DBS check stands today.
#[derive(Debug, Clone, Copy)]
pub enum DbsStanding {
    Missing,
    Unverified,
    OnUpdateService {
        issued: NaiveDate,
    },
    Current {
        issued: NaiveDate,
        renew_by: NaiveDate,
    },
    TooOld {
        issued: NaiveDate,
        months: u32,
    },
}

impl DbsStanding {
    pub fn of(checks: &Checks, today: NaiveDate, policy: &MatchPolicy) -> Self {
        let Some(issued) = checks.dbs_issued_on else {
            return Self::Missing;
        };
        if !checks.dbs_verified {
            return Self::Unverified;
        }
        if checks.dbs_update_service {
            return Self::OnUpdateService { issued };
        }
        let renew_by = issued + Months::new(policy.dbs_renewal_months);
        if today >= renew_by {
            Self::TooOld {
                issued,
                months: policy.dbs_renewal_months,
            }
        } else {
            Self::Current { issued, renew_by }
        }
    }

    pub fn is_current(self) -> bool {
        matches!(self, Self::OnUpdateService { .. } | Self::Current { .. })
    }

    pub fn explain(self) -> Result<String, String> {
        match self {
            Self::Missing => Err("no enhanced DBS check is recorded".into()),
            Self::Unverified => Err("the DBS certificate has not been verified by a manager".into()),
            Self::OnUpdateService { issued } => Ok(format!("enhanced DBS from {issued}, kept current on the update service")),
            Self::Current { issued, renew_by } => Ok(format!("enhanced DBS from {issued}, current until {renew_by}")),
            Self::TooOld { issued, months } => Err(format!(
                "the DBS certificate from {issued} is over {months} months old and not on the update service"
            )),
        }
    }
}

pub fn dbs_current(
    checks: &Checks,
    today: NaiveDate,
    policy: &MatchPolicy,
) -> Result<String, String> {
    DbsStanding::of(checks, today, policy).explain()
}

/// Where a PA's right to work stands today.
#[derive(Debug, Clone, Copy)]
pub enum RightToWorkStanding {
    Missing,
    Unverified,
    Expired {
        expired: NaiveDate,
    },
    Current {
        checked: NaiveDate,
        until: Option<NaiveDate>,
    },
}

impl RightToWorkStanding {
    pub fn of(checks: &Checks, today: NaiveDate) -> Self {
        let Some(checked) = checks.right_to_work_checked_on else {
            return Self::Missing;
        };
        if !checks.right_to_work_verified {
            return Self::Unverified;
        }
        match checks.right_to_work_expires_on {
            Some(expired) if today >= expired => Self::Expired { expired },
            until => Self::Current { checked, until },
        }
    }

    pub fn is_current(self) -> bool {
        matches!(self, Self::Current { .. })
    }

    pub fn explain(self) -> Result<String, String> {
        match self {
            Self::Missing => Err("no right-to-work check is recorded".into()),
            Self::Unverified => {
                Err("the right-to-work check has not been verified by a manager".into())
            }
            Self::Expired { expired } => Err(format!("the right to work expired on {expired}")),
            Self::Current {
                checked,
                until: Some(until),
            } => Ok(format!("right to work checked {checked}, until {until}")),
            Self::Current {
                checked,
                until: None,
            } => Ok(format!("right to work checked {checked}")),
        }
    }
}

pub fn right_to_work_current(checks: &Checks, today: NaiveDate) -> Result<String, String> {
    RightToWorkStanding::of(checks, today).explain()
}

/// A PA's evidence for one competency.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub competency_id: String,
    pub level: i32,
    pub trained_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub verified: bool,
    pub revoked: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceStatus {
    Valid,
    Unverified,
    Expired,
    Revoked,
    NotYetTrained,
}

impl EvidenceStatus {
    /// Closeness to holding the competency: with several pieces of evidence, the closest one
    /// explains best what is missing.
    pub(super) fn closeness(self) -> u8 {
        match self {
            Self::Valid => 0,
            Self::Unverified => 1,
            Self::NotYetTrained => 2,
            Self::Expired => 3,
            Self::Revoked => 4,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Unverified => "unverified",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::NotYetTrained => "not_yet_trained",
        }
    }
}

pub fn evidence_status(
    trained_on: NaiveDate,
    expires_on: Option<NaiveDate>,
    verified: bool,
    revoked: bool,
    today: NaiveDate,
) -> EvidenceStatus {
    if revoked {
        EvidenceStatus::Revoked
    } else if expires_on.is_some_and(|e| today >= e) {
        EvidenceStatus::Expired
    } else if trained_on > today {
        EvidenceStatus::NotYetTrained
    } else if !verified {
        EvidenceStatus::Unverified
    } else {
        EvidenceStatus::Valid
    }
}

/// A clinician's sign-off for one PA, one competency and one person.
#[derive(Debug, Clone)]
pub struct SignOff {
    pub competency_id: String,
    pub budget_holder_id: String,
    pub signed_off_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub revoked: bool,
}

impl SignOff {
    pub(super) fn valid_for(
        &self,
        competency_id: &str,
        budget_holder_id: &str,
        today: NaiveDate,
    ) -> bool {
        self.competency_id == competency_id
            && self.budget_holder_id == budget_holder_id
            && !self.revoked
            && self.signed_off_on <= today
            && self.expires_on.is_none_or(|e| today < e)
    }
}
