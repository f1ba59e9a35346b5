//! UK employment rules as data: minimum wage, employer National Insurance, pension
//! auto-enrolment, holiday pay, mileage, working time, Statutory Sick Pay and bank holidays, each version with the
//! date it took effect. The figures live in `src/rules/data/` (compiled in), never in code; this
//! module only answers "which version was in force on this date?".
//!
//! - `uk_employment_rules.json`: minimum wage, employer National Insurance, pension
//!   auto-enrolment, holiday pay, mileage and working time, each version with its effective date,
//!   written by hand from GOV.UK and The Pensions Regulator (its `sources` name the pages).
//! - `england_wales_bank_holidays.csv` (`date,title`): 2015-2028 as published on GOV.UK
//!   (including 2022-06-03 Platinum Jubilee, 2022-09-19 State Funeral, 2023-05-08 Coronation);
//!   2029-2030 computed from the standing rules. When GOV.UK publishes later years, add them:
//!   pricing refuses dates past the last year held.
//!
//! Licence: contains public sector information licensed under the Open Government Licence v3.0.

use crate::money::Pence;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const RULES_JSON: &str = include_str!("data/uk_employment_rules.json");
const BANK_HOLIDAYS_CSV: &str = include_str!("data/england_wales_bank_holidays.csv");

/// National Minimum Wage / National Living Wage age bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
pub enum AgeBand {
    #[serde(rename = "21_and_over")]
    TwentyOneAndOver,
    #[serde(rename = "18_to_20")]
    EighteenToTwenty,
    #[serde(rename = "under_18")]
    UnderEighteen,
    #[serde(rename = "apprentice")]
    Apprentice,
}

impl AgeBand {
    /// The band for a worker's age on a date (apprentices are recorded, not derived).
    pub fn of_age(years: u32) -> Self {
        match years {
            21.. => Self::TwentyOneAndOver,
            18..=20 => Self::EighteenToTwenty,
            _ => Self::UnderEighteen,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct MinimumWage {
    pub effective_from: NaiveDate,
    pub hourly_pence: BTreeMap<AgeBand, Pence>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
pub struct EmployerNationalInsurance {
    pub effective_from: NaiveDate,
    pub rate_bp: i64,
    pub secondary_threshold_pence_per_year: Pence,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
pub struct PensionAutoEnrolment {
    pub effective_from: NaiveDate,
    pub employer_minimum_bp: i64,
    pub qualifying_lower_pence_per_year: Pence,
    pub qualifying_upper_pence_per_year: Pence,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
pub struct HolidayPay {
    pub effective_from: NaiveDate,
    /// Holiday accrued as a share of hours worked by irregular-hours workers (12.07%).
    pub irregular_hours_accrual_bp: i64,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
pub struct Mileage {
    pub effective_from: NaiveDate,
    pub first_miles: i64,
    pub first_pence_per_mile: Pence,
    pub after_pence_per_mile: Pence,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
pub struct WorkingTime {
    pub effective_from: NaiveDate,
    pub daily_rest_hours: i64,
    pub weekly_rest_hours: i64,
    pub fortnightly_rest_hours: i64,
    pub average_weekly_hours_limit: i64,
    pub reference_weeks: i64,
}

/// Statutory Sick Pay: what parota states to the payroll software, which computes the pay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct StatutorySickPay {
    pub effective_from: NaiveDate,
    /// The flat weekly rate.
    pub weekly_rate_pence: Pence,
    /// From 6 April 2026 the lower of this share of average weekly earnings and the flat rate.
    pub earnings_share_bp: Option<i64>,
    /// Qualifying days unpaid at the start of a spell (3 before 6 April 2026, then none).
    pub waiting_days: i64,
    /// Average weekly earnings below which nothing was payable (removed 6 April 2026).
    pub lower_earnings_limit_pence_per_week: Option<Pence>,
    pub maximum_weeks: i64,
    /// Spells this close together count as one.
    pub linking_days: i64,
}

#[derive(Debug, Deserialize)]
struct RulesFile {
    national_minimum_wage: Vec<MinimumWage>,
    employer_national_insurance: Vec<EmployerNationalInsurance>,
    pension_auto_enrolment: Vec<PensionAutoEnrolment>,
    holiday_pay: Vec<HolidayPay>,
    mileage: Vec<Mileage>,
    working_time: Vec<WorkingTime>,
    statutory_sick_pay: Vec<StatutorySickPay>,
}

pub struct UkRules {
    file: RulesFile,
    bank_holidays: BTreeMap<NaiveDate, String>,
}

trait Dated {
    fn effective_from(&self) -> NaiveDate;
}

macro_rules! dated {
    ($($t:ty),*) => {$(impl Dated for $t {
        fn effective_from(&self) -> NaiveDate {
            self.effective_from
        }
    })*};
}
dated!(
    MinimumWage,
    EmployerNationalInsurance,
    PensionAutoEnrolment,
    HolidayPay,
    Mileage,
    WorkingTime,
    StatutorySickPay
);

/// The version in force on `date`: the latest that took effect on or before it.
fn in_force<T: Dated>(versions: &[T], date: NaiveDate) -> Option<&T> {
    versions
        .iter()
        .filter(|v| v.effective_from() <= date)
        .max_by_key(|v| v.effective_from())
}

impl UkRules {
    fn parse() -> Result<Self, String> {
        let file: RulesFile = serde_json::from_str(RULES_JSON).map_err(|e| e.to_string())?;
        let mut bank_holidays = BTreeMap::new();
        for line in BANK_HOLIDAYS_CSV.lines().skip(1).filter(|l| !l.is_empty()) {
            let (date, title) = line
                .split_once(',')
                .ok_or_else(|| format!("bad bank holiday line {line}"))?;
            let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|e| e.to_string())?;
            bank_holidays.insert(date, title.trim().to_owned());
        }
        Ok(Self {
            file,
            bank_holidays,
        })
    }

    /// The minimum hourly pay for an age band on a date, if the data reaches back that far.
    pub fn minimum_wage(&self, band: AgeBand, date: NaiveDate) -> Option<Pence> {
        in_force(&self.file.national_minimum_wage, date)
            .and_then(|v| v.hourly_pence.get(&band).copied())
    }

    /// The date the minimum wage in force on `date` took effect.
    pub fn minimum_wage_since(&self, date: NaiveDate) -> Option<NaiveDate> {
        in_force(&self.file.national_minimum_wage, date).map(|v| v.effective_from)
    }

    pub fn employer_national_insurance(
        &self,
        date: NaiveDate,
    ) -> Option<EmployerNationalInsurance> {
        in_force(&self.file.employer_national_insurance, date).copied()
    }

    pub fn pension(&self, date: NaiveDate) -> Option<PensionAutoEnrolment> {
        in_force(&self.file.pension_auto_enrolment, date).copied()
    }

    pub fn holiday_pay(&self, date: NaiveDate) -> Option<HolidayPay> {
        in_force(&self.file.holiday_pay, date).copied()
    }

    pub fn mileage(&self, date: NaiveDate) -> Option<Mileage> {
        in_force(&self.file.mileage, date).copied()
    }

    pub fn working_time(&self, date: NaiveDate) -> Option<WorkingTime> {
        in_force(&self.file.working_time, date).copied()
    }

    /// The Statutory Sick Pay rules for a spell starting on `date`.
    pub fn statutory_sick_pay(&self, date: NaiveDate) -> Option<StatutorySickPay> {
        in_force(&self.file.statutory_sick_pay, date).copied()
    }

    /// The bank holiday in England and Wales on `date`, by name.
    pub fn bank_holiday(&self, date: NaiveDate) -> Option<&str> {
        self.bank_holidays.get(&date).map(String::as_str)
    }

    /// The last date the bank holiday list speaks for (31 December of its last year): past it
    /// "no bank holiday" would be a guess.
    pub fn bank_holidays_known_until(&self) -> Option<NaiveDate> {
        self.bank_holidays
            .keys()
            .next_back()
            .and_then(|d| NaiveDate::from_ymd_opt(chrono::Datelike::year(d), 12, 31))
    }
}

/// The rules compiled into this binary. The data is checked by a unit test, so a broken file
/// never ships; if it somehow did, every rule lookup answers "not known".
pub fn uk() -> &'static UkRules {
    static RULES: OnceLock<UkRules> = OnceLock::new();
    RULES.get_or_init(|| {
        UkRules::parse().unwrap_or_else(|error| {
            tracing::error!(%error, "the UK rules data does not parse");
            UkRules {
                file: RulesFile {
                    national_minimum_wage: Vec::new(),
                    employer_national_insurance: Vec::new(),
                    pension_auto_enrolment: Vec::new(),
                    holiday_pay: Vec::new(),
                    mileage: Vec::new(),
                    working_time: Vec::new(),
                    statutory_sick_pay: Vec::new(),
                },
                bank_holidays: BTreeMap::new(),
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_compiled_data_parses() {
        let rules = UkRules::parse().unwrap();
        assert!(rules.bank_holidays.len() > 100);
    }

    #[test]
    fn statutory_sick_pay_from_april_2026_has_no_waiting_days_or_earnings_limit() {
        let rules = uk();
        let before = rules.statutory_sick_pay(date(2026, 4, 5)).unwrap();
        assert_eq!(before.weekly_rate_pence, Pence::new(11875));
        assert_eq!(before.waiting_days, 3);
        assert_eq!(
            before.lower_earnings_limit_pence_per_week,
            Some(Pence::new(12500))
        );
        let after = rules.statutory_sick_pay(date(2026, 4, 6)).unwrap();
        assert_eq!(after.weekly_rate_pence, Pence::new(12325));
        assert_eq!(
            (after.waiting_days, after.earnings_share_bp),
            (0, Some(8000))
        );
        assert_eq!(after.lower_earnings_limit_pence_per_week, None);
        assert!(rules.statutory_sick_pay(date(2020, 1, 1)).is_none());
    }

    #[test]
    fn minimum_wage_switches_on_its_effective_date() {
        let rules = uk();
        let adult = AgeBand::TwentyOneAndOver;
        assert_eq!(
            rules.minimum_wage(adult, date(2026, 3, 31)),
            Some(Pence::new(1221))
        );
        assert_eq!(
            rules.minimum_wage(adult, date(2026, 4, 1)),
            Some(Pence::new(1271))
        );
        assert_eq!(
            rules.minimum_wage(AgeBand::EighteenToTwenty, date(2025, 6, 1)),
            Some(Pence::new(1000))
        );
        assert_eq!(
            rules.minimum_wage(AgeBand::UnderEighteen, date(2026, 6, 1)),
            Some(Pence::new(800))
        );
        assert_eq!(
            rules.minimum_wage(AgeBand::Apprentice, date(2026, 6, 1)),
            Some(Pence::new(800))
        );
        assert_eq!(rules.minimum_wage(adult, date(2020, 1, 1)), None);
    }

    #[test]
    fn bank_holidays_and_statutory_rates_are_found_by_date() {
        let rules = uk();
        assert_eq!(
            rules.bank_holiday(date(2026, 12, 25)),
            Some("Christmas Day")
        );
        assert_eq!(rules.bank_holiday(date(2026, 12, 24)), None);
        assert_eq!(rules.bank_holidays_known_until(), Some(date(2030, 12, 31)));
        let ni = rules.employer_national_insurance(date(2025, 4, 6)).unwrap();
        assert_eq!(
            (ni.rate_bp, ni.secondary_threshold_pence_per_year),
            (1500, Pence::new(500000))
        );
        let ni = rules.employer_national_insurance(date(2025, 4, 5)).unwrap();
        assert_eq!(ni.rate_bp, 1380);
        assert_eq!(
            rules
                .holiday_pay(date(2026, 1, 1))
                .unwrap()
                .irregular_hours_accrual_bp,
            1207
        );
        assert_eq!(AgeBand::of_age(20), AgeBand::EighteenToTwenty);
        assert_eq!(AgeBand::of_age(21), AgeBand::TwentyOneAndOver);
    }
}
