//! The two files IRIS payroll software imports.
//!
//! **Cascade** (`iris`): IRIS Cascade's current-period element import, file format two, no
//! header: `employee id, pay element id, amount, rate value, E`. The amount is hours (or nights,
//! miles) for an element paid at a rate, pounds for a single amount. An element whose rate is
//! formulated in Cascade (mapped `iris_formulated`) has its rate left blank and its quantities
//! added into one row, since Cascade applies its own rate. Otherwise Cascade holds one rate per
//! element per employee: rows at the same rate are combined (when exact, `formats::Combined`);
//! an element paid at two rates to one PA is written at each, and the bureau maps a second
//! element or a formulated rate if their Cascade set-up would overwrite it.
//!
//! **CLOCKIN** (`iris_clockin`): the fixed-length clock-in file of IRIS Payroll Business, IRIS
//! Bureau Payroll, Payroll Professional and Earnie (IRIS knowledgebase 11674, "Using a Time and
//! Attendance System"): each record a 10-character employee code, then up to 20 pairs of a
//! 2-digit payment type identifier and an 8-digit amount, records in employee-code order, up to
//! 50 records an employee. Identifiers: 01–12 hours at factors 1–12 (amount hours × 100) with
//! 21–32 the rate number (× 100) for those hours; 41–80 payments or deductions 1–40 (amount in
//! pence). IRIS finds the file by its name, `CLOCKIN.xxx` with the company number.
//! - Each identifier appears once an employee: amounts to one identifier add up.
//! - A negative amount goes, as its size, to the element's mapped deduction identifier.
//! - The employee code is the works number, left-aligned and space-padded to ten characters
//!   (`payroll::mapping` blocks an export whose codes are longer).
//! - Annual leave taken in the period goes to identifier 95 (Holiday Taken) as the days the PA
//!   was rostered and off, × 100 like hours (IRIS's holiday type `Days`), so the software's
//!   holiday record matches parota's; an employee off all period with no pay lines still gets a
//!   record. Identifier 92 (SSP) is an amount, which parota leaves to the software (it holds
//!   the earnings history): sickness reaches IRIS in the CSV and JSON only.

use std::collections::BTreeMap;
use std::io::Write;

use crate::money::Hundredths;
use crate::payroll::formats::{is_rated, Combined, CsvField, Line, PoundsRate};
use crate::payroll::mapping::Resolved;
use crate::payroll::model::{element_of, Unit};

/// Pairs on one CLOCKIN record.
const PAIRS_PER_RECORD: usize = 20;

/// The Holiday Taken identifier.
pub const HOLIDAY_TAKEN: u8 = 95;

/// Element id, rate (`None` when blank: a formulated rate or a single amount).
type CascadeKey = (String, Option<i64>);

pub fn cascade_employee(
    codes: &BTreeMap<&'static str, Resolved>,
    lines: &[Line],
    out: &mut impl Write,
) -> std::io::Result<()> {
    let works = CsvField(&lines[0].works_number);
    let mut combined: Combined<CascadeKey> = Combined::new();
    for line in lines {
        let Some(c) = codes.get(line.element.as_str()) else {
            continue;
        };
        let pence = line.amount_pence.get();
        let id = c.iris_element.clone();
        if !is_rated(line) {
            combined.value((id, None), pence);
        } else if c.iris_formulated {
            combined.quantity((id, None), line.quantity_hundredths, pence);
        } else {
            let rate = line.unit_rate_e4;
            combined.rated((id, Some(rate)), rate, line.quantity_hundredths, pence);
        }
    }
    for ((id, rate), row) in combined.rows() {
        let id = CsvField(id);
        match rate {
            Some(rate) => write!(
                out,
                "{works},{id},{},{},E\r\n",
                Hundredths(row.quantity),
                PoundsRate(*rate)
            )?,
            None if row.quantity != 0 => {
                write!(out, "{works},{id},{},,E\r\n", Hundredths(row.quantity))?
            }
            None => write!(out, "{works},{id},{},,E\r\n", Hundredths(row.pence))?,
        }
    }
    Ok(())
}

/// One employee's records: `code` their works number, `lines` their pay lines (possibly none),
/// `holiday_days` the days of annual leave taken in the period.
pub fn clockin_employee(
    codes: &BTreeMap<&'static str, Resolved>,
    code: &str,
    lines: &[Line],
    holiday_days: i64,
    out: &mut impl Write,
) -> std::io::Result<()> {
    // Identifier → amount; BTreeMap so pairs come in identifier order.
    let mut pairs: BTreeMap<u8, i64> = BTreeMap::new();
    if holiday_days > 0 {
        pairs.insert(HOLIDAY_TAKEN, holiday_days * 100);
    }
    for line in lines {
        let Some(c) = codes.get(line.element.as_str()) else {
            continue;
        };
        let hours = element_of(&line.element).is_some_and(|e| e.unit == Unit::Hours);
        let pence = line.amount_pence.get();
        if hours && (1..=12).contains(&c.clockin) && pence >= 0 {
            *pairs.entry(c.clockin).or_default() += line.quantity_hundredths;
            if let Some(rate) = c.clockin_rate {
                pairs.insert(20 + c.clockin, i64::from(rate) * 100);
            }
        } else {
            let id = match c.clockin_negative {
                Some(d) if pence < 0 => d,
                _ => c.clockin,
            };
            let amount = if pence < 0 && c.clockin_negative.is_some() {
                -pence
            } else {
                pence
            };
            *pairs.entry(id).or_default() += amount;
        }
    }
    let pairs: Vec<(u8, i64)> = pairs.into_iter().filter(|(_, a)| *a != 0).collect();
    for record in pairs.chunks(PAIRS_PER_RECORD) {
        write!(out, "{code:<10}")?;
        for (id, amount) in record {
            // Eight digits; a negative amount (no deduction mapped) keeps its sign in them.
            write!(out, "{id:02}{amount:08}")?;
        }
        out.write_all(b"\r\n")?;
    }
    Ok(())
}
