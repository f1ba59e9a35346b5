//! How an employer's payroll software knows parota's pay elements: the software it runs and, for
//! each element, that software's codes. Pure: no database.
//!
//! Each employer (a person employing their PAs directly, or an organisation) names its software:
//! `sage50`, `iris` or `brightpay`, or `none` when the bureau takes only parota's CSV or JSON.
//! Every element has a default in each software (below), so a new employer exports at once; the
//! bureau replaces the defaults with their company's own codes. What has no default, and so
//! blocks an export until it is given, is what only the bureau knows: the IRIS company number,
//! where a negative amount goes (a deduction code), and employee references the software can
//! match (numeric in Sage 50, at most ten characters in CLOCKIN).
//!
//! Defaults, per software:
//! - Sage 50: payment numbers 1–19 in the order of `model::ELEMENTS`; no department or cost
//!   centre (0 in Sage's own terms).
//! - IRIS: Cascade element id the element's code in capitals, rate not formulated (parota sends
//!   the rate); CLOCKIN payments 41–59 in element order, each line as an amount in pence. An
//!   hours identifier (01–12, and which of the employee's rates 1–12 applies, written as the
//!   rate identifier 21–32) may be mapped instead where the company's IRIS rates are parota's
//!   card rates: CLOCKIN carries no rate, only which of the employee's rates to use.
//! - BrightPay: hours as hourly payments; nights, miles and single amounts as additions with the
//!   flags HMRC's treatment implies (mileage within the approved rates and expenses neither taxed
//!   nor pensionable; pay for work taxed, NIC-able, pensionable; what counts towards minimum-wage
//!   gross as `model::ELEMENTS` says); negative amounts as a deduction of the same name.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;
use crate::payroll::model::{Element, Unit, ELEMENTS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub enum Software {
    /// parota's own CSV and JSON only.
    #[default]
    #[serde(rename = "none")]
    None,
    #[serde(rename = "sage50")]
    Sage50,
    #[serde(rename = "iris")]
    Iris,
    #[serde(rename = "brightpay")]
    BrightPay,
}

/// How BrightPay takes an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BrightPayItem {
    /// An hourly payment: hours at a rate per hour.
    Hourly,
    /// An addition: an amount, with its tax, NIC, pension and minimum-wage flags.
    Addition,
}

/// One element's codes. Absent fields take the software's default; fields of another software
/// are kept but unused.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Codes {
    /// Sage 50: the payment number (1–999).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 999)]
    pub sage_payment: Option<u32>,
    /// Sage 50: the deduction number a negative amount is imported as (1–999).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 999)]
    pub sage_deduction: Option<u32>,
    /// Sage 50: the department code (0–999; 0 is none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 999)]
    pub sage_department: Option<u32>,
    /// Sage 50: the cost centre code (0–999; 0 is none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 999)]
    pub sage_cost_centre: Option<u32>,
    /// IRIS Cascade: the pay element id (1–20 letters, digits, `_` or `-`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 20)]
    pub iris_element: Option<String>,
    /// IRIS Cascade: the element's rate is formulated in IRIS, so the file leaves it blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iris_formulated: Option<bool>,
    /// IRIS CLOCKIN: the payment type identifier, 01–12 (hours at a factor) or 41–80
    /// (payment 1–40, an amount in pence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 80)]
    pub clockin: Option<u8>,
    /// IRIS CLOCKIN: with an hours identifier, which of the employee's rates applies (1–12;
    /// IRIS uses rate 1 when none is given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 12)]
    pub clockin_rate: Option<u8>,
    /// IRIS CLOCKIN: the deduction (41–80) a negative amount goes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 41, maximum = 80)]
    pub clockin_negative: Option<u8>,
    /// BrightPay: an hourly payment or an addition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brightpay_as: Option<BrightPayItem>,
    /// BrightPay: the payment, addition or deduction name (1–40 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 40)]
    pub brightpay_name: Option<String>,
    /// BrightPay additions: income tax is due on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxable: Option<bool>,
    /// BrightPay additions: National Insurance is due on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nic: Option<bool>,
    /// BrightPay additions: pension contributions are due on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pensionable: Option<bool>,
    /// BrightPay additions: it counts towards gross pay for the minimum wage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_wage_pay: Option<bool>,
}

/// An employer's payroll software and its codes for parota's elements. (`Validate` only so the
/// JSON extractor takes it: its checks need the whole mapping, in `check`.)
#[derive(
    Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema, validator::Validate,
)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub software: Software,
    /// IRIS: the company number, the `xxx` of `CLOCKIN.xxx` (1–999).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 999)]
    pub iris_company: Option<u32>,
    /// Codes by element code (`basic`, `mileage`…); an element left out takes its defaults.
    #[serde(default)]
    pub elements: BTreeMap<String, Codes>,
}

/// One element's codes with every default filled in: what the files are written from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Resolved {
    pub sage_payment: u32,
    pub sage_deduction: Option<u32>,
    pub sage_department: u32,
    pub sage_cost_centre: u32,
    pub iris_element: String,
    pub iris_formulated: bool,
    pub clockin: u8,
    pub clockin_rate: Option<u8>,
    pub clockin_negative: Option<u8>,
    pub brightpay_as: BrightPayItem,
    pub brightpay_name: String,
    pub taxable: bool,
    pub nic: bool,
    pub pensionable: bool,
    pub minimum_wage_pay: bool,
}

/// Something the software needs that the mapping does not give: the export waits for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Gap {
    /// The mapping field to give (`iris_company`, `elements.correction.sage_deduction`), or
    /// `works_number` for an employee reference the software cannot match.
    pub field: String,
    pub detail: String,
    /// The PA concerned, for a works number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pa_id: Option<String>,
}

/// What a check of the export's lines needs of each line.
pub struct LineFacts<'a> {
    pub element: &'a str,
    pub works_number: &'a str,
    pub pa_id: &'a str,
    /// Pence × 10,000 an hour (or night, or mile); 0 for a single amount.
    pub rate_e4: i64,
    pub negative: bool,
}

const HOURS_IDS: std::ops::RangeInclusive<u8> = 1..=12;
const RATE_NUMBERS: std::ops::RangeInclusive<u8> = 1..=12;
const PAYMENT_IDS: std::ops::RangeInclusive<u8> = 41..=80;
/// A CLOCKIN employee code is ten characters.
pub const CLOCKIN_CODE_LENGTH: usize = 10;

/// The default codes of `element` (its position in `ELEMENTS` is `index`).
fn defaults(index: usize, element: &Element) -> Resolved {
    let number = index as u32 + 1;
    let pay_for_work = matches!(element.unit, Unit::Hours | Unit::Nights)
        || matches!(
            element.code,
            "holiday_pay" | "holiday_taken" | "correction" | "amendment"
        )
        || element.minimum_wage_pay;
    Resolved {
        sage_payment: number,
        sage_deduction: None,
        sage_department: 0,
        sage_cost_centre: 0,
        iris_element: element.code.to_uppercase(),
        iris_formulated: false,
        clockin: 40 + number as u8,
        clockin_rate: None,
        clockin_negative: None,
        brightpay_as: if element.unit == Unit::Hours {
            BrightPayItem::Hourly
        } else {
            BrightPayItem::Addition
        },
        brightpay_name: element.title.to_owned(),
        taxable: pay_for_work,
        nic: pay_for_work,
        pensionable: pay_for_work,
        minimum_wage_pay: element.minimum_wage_pay,
    }
}

impl Codes {
    fn over(&self, d: Resolved) -> Resolved {
        Resolved {
            sage_payment: self.sage_payment.unwrap_or(d.sage_payment),
            sage_deduction: self.sage_deduction.or(d.sage_deduction),
            sage_department: self.sage_department.unwrap_or(d.sage_department),
            sage_cost_centre: self.sage_cost_centre.unwrap_or(d.sage_cost_centre),
            iris_element: self.iris_element.clone().unwrap_or(d.iris_element),
            iris_formulated: self.iris_formulated.unwrap_or(d.iris_formulated),
            clockin: self.clockin.unwrap_or(d.clockin),
            clockin_rate: self.clockin_rate.or(d.clockin_rate),
            clockin_negative: self.clockin_negative.or(d.clockin_negative),
            brightpay_as: self.brightpay_as.unwrap_or(d.brightpay_as),
            brightpay_name: self.brightpay_name.clone().unwrap_or(d.brightpay_name),
            taxable: self.taxable.unwrap_or(d.taxable),
            nic: self.nic.unwrap_or(d.nic),
            pensionable: self.pensionable.unwrap_or(d.pensionable),
            minimum_wage_pay: self.minimum_wage_pay.unwrap_or(d.minimum_wage_pay),
        }
    }
}

impl Mapping {
    /// Every element's codes, defaults filled in, by element code.
    pub fn resolve(&self) -> BTreeMap<&'static str, Resolved> {
        ELEMENTS
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let d = defaults(i, e);
                let codes = self.elements.get(e.code).map_or(d.clone(), |c| c.over(d));
                (e.code, codes)
            })
            .collect()
    }

    /// Shape checks: unknown elements, codes outside what the software holds, one code given
    /// to two elements. Every problem, each naming its field under `mapping`.
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let field = |name: &str, rest: &str| format!("mapping.elements.{name}.{rest}");
        if let Some(company) = self.iris_company {
            if !(1..=999).contains(&company) {
                errors.push(FieldError::new(
                    "mapping.iris_company",
                    "range",
                    "must be 1 to 999",
                ));
            }
        }
        for (name, codes) in &self.elements {
            let Some(element) = ELEMENTS.iter().find(|e| e.code == name) else {
                errors.push(FieldError::new(
                    format!("mapping.elements.{name}"),
                    "unknown_element",
                    "is not one of parota's pay elements",
                ));
                continue;
            };
            let numbered = [
                ("sage_payment", codes.sage_payment, 1),
                ("sage_deduction", codes.sage_deduction, 1),
                ("sage_department", codes.sage_department, 0),
                ("sage_cost_centre", codes.sage_cost_centre, 0),
            ];
            for (key, value, low) in numbered {
                if value.is_some_and(|v| v < low || v > 999) {
                    errors.push(FieldError::new(
                        field(name, key),
                        "range",
                        format!("must be {low} to 999"),
                    ));
                }
            }
            if let Some(id) = &codes.iris_element {
                let fits = (1..=20).contains(&id.len())
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if !fits {
                    errors.push(FieldError::new(
                        field(name, "iris_element"),
                        "invalid",
                        "must be 1 to 20 letters, digits, _ or -",
                    ));
                }
            }
            if let Some(id) = codes.clockin {
                let hours_allowed = element.unit == Unit::Hours;
                if !(PAYMENT_IDS.contains(&id) || hours_allowed && HOURS_IDS.contains(&id)) {
                    errors.push(FieldError::new(
                        field(name, "clockin"),
                        "range",
                        if hours_allowed {
                            "must be 01 to 12 (hours) or 41 to 80 (a payment)"
                        } else {
                            "must be 41 to 80 (a payment): only hours go as hours"
                        },
                    ));
                }
            }
            if let Some(rate) = codes.clockin_rate {
                if !RATE_NUMBERS.contains(&rate) {
                    errors.push(FieldError::new(
                        field(name, "clockin_rate"),
                        "range",
                        "must be 1 to 12",
                    ));
                }
            }
            if codes
                .clockin_negative
                .is_some_and(|id| !PAYMENT_IDS.contains(&id))
            {
                errors.push(FieldError::new(
                    field(name, "clockin_negative"),
                    "range",
                    "must be 41 to 80",
                ));
            }
            if codes.brightpay_as == Some(BrightPayItem::Hourly) && element.unit != Unit::Hours {
                errors.push(FieldError::new(
                    field(name, "brightpay_as"),
                    "not_hours",
                    "only an element paid by the hour can be an hourly payment",
                ));
            }
            if let Some(text) = &codes.brightpay_name {
                if !(1..=40).contains(&text.chars().count()) || text.contains(['\r', '\n']) {
                    errors.push(FieldError::new(
                        field(name, "brightpay_name"),
                        "length",
                        "must be 1 to 40 characters on one line",
                    ));
                }
            }
        }
        if errors.is_empty() {
            errors.extend(self.duplicates());
        }
        errors
    }

    /// The same code given to two elements: the software would merge them into one line.
    fn duplicates(&self) -> Vec<FieldError> {
        let resolved = self.resolve();
        let mut errors = Vec::new();
        let mut seen: BTreeMap<(&str, String), &str> = BTreeMap::new();
        for (code, r) in &resolved {
            let mut keys = vec![
                (
                    "sage_payment",
                    format!(
                        "{}/{}/{}",
                        r.sage_payment, r.sage_department, r.sage_cost_centre
                    ),
                ),
                ("iris_element", r.iris_element.clone()),
                ("clockin", r.clockin.to_string()),
                ("brightpay_name", r.brightpay_name.to_lowercase()),
            ];
            if let Some(d) = r.sage_deduction {
                keys.push(("sage_deduction", d.to_string()));
            }
            for (key, value) in keys {
                if let Some(other) = seen.insert((key, value), code) {
                    if self.elements.contains_key(*code) || self.elements.contains_key(other) {
                        let named = if self.elements.contains_key(*code) {
                            *code
                        } else {
                            other
                        };
                        let twin = if named == *code { other } else { *code };
                        errors.push(FieldError::new(
                            format!("mapping.elements.{named}.{key}"),
                            "duplicate",
                            format!("is also {twin}'s: the software would add them together"),
                        ));
                    }
                }
            }
        }
        errors
    }

    /// What the software still needs before it can take an export with these lines. Nothing
    /// for `none`.
    pub fn gaps(&self, lines: &[LineFacts<'_>]) -> Vec<Gap> {
        let mut gaps = Vec::new();
        if self.software == Software::None {
            return gaps;
        }
        if self.software == Software::Iris && self.iris_company.is_none() {
            gaps.push(Gap {
                field: "iris_company".into(),
                detail: "IRIS needs the company number to name the CLOCKIN file".into(),
                pa_id: None,
            });
        }
        let resolved = self.resolve();
        let mut negative: Vec<&str> = lines
            .iter()
            .filter(|l| l.negative)
            .map(|l| l.element)
            .collect();
        negative.sort_unstable();
        negative.dedup();
        for element in negative {
            let Some(r) = resolved.get(element) else {
                continue;
            };
            let missing = match self.software {
                Software::Sage50 => r.sage_deduction.is_none().then_some("sage_deduction"),
                Software::Iris => r.clockin_negative.is_none().then_some("clockin_negative"),
                Software::BrightPay | Software::None => None,
            };
            if let Some(key) = missing {
                gaps.push(Gap {
                    field: format!("elements.{element}.{key}"),
                    detail: format!("a negative {element} amount needs a deduction code to go to"),
                    pa_id: None,
                });
            }
        }
        // CLOCKIN hours carry no rate: an element sent as hours must be paid at one rate an
        // employee, or IRIS would pay some of them at the wrong one.
        if self.software == Software::Iris {
            let mut rates: BTreeMap<(&str, &str), Vec<i64>> = BTreeMap::new();
            for l in lines.iter().filter(|l| l.rate_e4 != 0) {
                if resolved
                    .get(l.element)
                    .is_some_and(|r| HOURS_IDS.contains(&r.clockin))
                {
                    let seen = rates.entry((l.element, l.works_number)).or_default();
                    if !seen.contains(&l.rate_e4) {
                        seen.push(l.rate_e4);
                    }
                }
            }
            for ((element, works_number), seen) in rates {
                if seen.len() > 1 {
                    gaps.push(Gap {
                        field: format!("elements.{element}.clockin"),
                        detail: format!(
                            "{works_number} is paid {element} at {} rates, but CLOCKIN hours take one of the employee's IRIS rates: send it as a payment (41 to 80)",
                            seen.len()
                        ),
                        pa_id: None,
                    });
                }
            }
        }
        let mut seen = Vec::new();
        for (works_number, pa_id) in lines.iter().map(|l| (l.works_number, l.pa_id)) {
            if seen.contains(&works_number) {
                continue;
            }
            seen.push(works_number);
            let problem = match self.software {
                Software::Sage50 => (!is_sage_reference(works_number))
                    .then_some("Sage 50 matches employees by their numeric reference"),
                Software::Iris => (works_number.len() > CLOCKIN_CODE_LENGTH
                    || !works_number.is_ascii())
                .then_some("a CLOCKIN employee code is at most ten plain characters"),
                Software::BrightPay | Software::None => None,
            };
            if let Some(why) = problem {
                gaps.push(Gap {
                    field: "works_number".into(),
                    detail: format!("{works_number}: {why}"),
                    pa_id: Some(pa_id.to_owned()),
                });
            }
        }
        gaps
    }
}

/// A Sage 50 employee reference: digits only, as Sage numbers its employees.
pub fn is_sage_reference(works_number: &str) -> bool {
    !works_number.is_empty()
        && works_number.len() <= 10
        && works_number.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(software: Software) -> Mapping {
        Mapping {
            software,
            ..Mapping::default()
        }
    }

    #[test]
    fn every_element_has_distinct_defaults_in_every_software() {
        let m = mapping(Software::Sage50);
        assert!(m.check().is_empty());
        let r = m.resolve();
        assert_eq!(r.len(), ELEMENTS.len());
        assert_eq!(r["basic"].sage_payment, 1);
        assert_eq!(r["minimum_wage_top_up"].clockin, 59);
        assert_eq!(r["basic"].brightpay_as, BrightPayItem::Hourly);
        assert_eq!(r["mileage"].brightpay_as, BrightPayItem::Addition);
        assert!(!r["mileage"].taxable && !r["expenses"].pensionable);
        assert!(r["sleep_in"].taxable && r["sleep_in"].minimum_wage_pay);
        assert!(r["holiday_pay"].taxable && !r["holiday_pay"].minimum_wage_pay);
    }

    #[test]
    fn bad_codes_are_named() {
        let mut m = mapping(Software::Iris);
        m.elements.insert("overtime".into(), Codes::default());
        m.elements.insert(
            "mileage".into(),
            Codes {
                clockin: Some(3),
                brightpay_as: Some(BrightPayItem::Hourly),
                ..Codes::default()
            },
        );
        m.elements.insert(
            "basic".into(),
            Codes {
                sage_payment: Some(0),
                iris_element: Some("BASIC PAY!".into()),
                clockin_rate: Some(40),
                ..Codes::default()
            },
        );
        let fields: Vec<String> = m.check().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "mapping.elements.basic.sage_payment",
                "mapping.elements.basic.iris_element",
                "mapping.elements.basic.clockin_rate",
                "mapping.elements.mileage.clockin",
                "mapping.elements.mileage.brightpay_as",
                "mapping.elements.overtime",
            ]
        );
    }

    #[test]
    fn one_code_for_two_elements_is_a_duplicate() {
        let mut m = mapping(Software::Sage50);
        m.elements.insert(
            "night_uplift".into(),
            Codes {
                sage_payment: Some(1),
                ..Codes::default()
            },
        );
        let errors = m.check();
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].field,
            "mapping.elements.night_uplift.sage_payment"
        );
        assert_eq!(errors[0].code, "duplicate");
        // Another department makes it a different line.
        m.elements.get_mut("night_uplift").unwrap().sage_department = Some(2);
        assert!(m.check().is_empty());
    }

    #[test]
    fn gaps_name_what_only_the_bureau_knows() {
        let fact = |element, works_number, pa_id, rate_e4, negative| LineFacts {
            element,
            works_number,
            pa_id,
            rate_e4,
            negative,
        };
        let lines = [
            fact("basic", "AMY01", "pa-1", 130_000, false),
            fact("correction", "AMY01", "pa-1", 0, true),
            fact("basic", "0042", "pa-2", 130_000, false),
            fact("basic", "AMY01", "pa-1", 142_500, false),
        ];
        let sage = mapping(Software::Sage50).gaps(&lines);
        let fields: Vec<&str> = sage.iter().map(|g| g.field.as_str()).collect();
        assert_eq!(
            fields,
            ["elements.correction.sage_deduction", "works_number"]
        );
        assert_eq!(sage[1].pa_id.as_deref(), Some("pa-1"));
        let long = [
            fact("basic", "ABCDEFGHIJK", "pa-3", 130_000, false),
            fact("correction", "AMY01", "pa-1", 0, true),
        ];
        let iris = mapping(Software::Iris).gaps(&long);
        let fields: Vec<&str> = iris.iter().map(|g| g.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "iris_company",
                "elements.correction.clockin_negative",
                "works_number"
            ]
        );
        // Basic sent as CLOCKIN hours, paid to AMY01 at two rates.
        let mut hours = mapping(Software::Iris);
        hours.iris_company = Some(3);
        hours.elements.insert(
            "basic".into(),
            Codes {
                clockin: Some(1),
                clockin_negative: None,
                ..Codes::default()
            },
        );
        let fields: Vec<String> = hours.gaps(&lines).into_iter().map(|g| g.field).collect();
        assert_eq!(
            fields,
            [
                "elements.correction.clockin_negative",
                "elements.basic.clockin"
            ]
        );
        let mut done = mapping(Software::Sage50);
        done.elements.insert(
            "correction".into(),
            Codes {
                sage_deduction: Some(5),
                ..Codes::default()
            },
        );
        let fields: Vec<String> = done.gaps(&lines).into_iter().map(|g| g.field).collect();
        assert_eq!(fields, ["works_number"]);
        let numeric = [fact("correction", "0042", "pa-2", 0, true)];
        assert!(done.gaps(&numeric).is_empty());
        assert!(mapping(Software::None).gaps(&lines).is_empty());
    }
}
