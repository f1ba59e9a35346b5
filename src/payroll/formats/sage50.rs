//! Sage 50 Payroll's multi-timesheet import (Sage knowledgebase, "Import employee timesheet
//! values and divide them between various departments and/or cost centres"): a CSV with no
//! header, one payment or deduction a row:
//! `2, employee number, payment number, department, cost centre, hours or value, hourly rate`
//! for a payment and `D, employee number, deduction number, , , value` for a deduction.
//!
//! - The employee number is the PA's works number, which must be their numeric Sage reference
//!   (`payroll::mapping` blocks an export until it is).
//! - Hours, nights and miles go as a quantity at a rate; single amounts as a value. Department
//!   and cost centre 0 (none) are left blank.
//! - Rows of one employee with the same payment, department, cost centre and rate are combined
//!   when the combined quantity pays exactly what the lines do (`formats::Combined`). Different
//!   rates for one payment stay separate rows, which the multi-timesheet import keeps apart.
//! - A negative single amount (a correction recovering an overpayment) is a deduction of its
//!   size, to the element's mapped deduction number.
//!
//! The bureau sets `[Timesheet]` in the company's `PAYROLL.INI` to `Sequence=3`, `AllMulti=1`,
//! `Type=Multi` (the README says so).

use std::collections::BTreeMap;
use std::io::Write;

use crate::money::Hundredths;
use crate::payroll::formats::{is_rated, Combined, CsvField, Line, PoundsRate};
use crate::payroll::mapping::Resolved;

/// Deduction?, payment or deduction number, department, cost centre, rate (0 for a value).
type Key = (bool, u32, u32, u32, i64);

pub fn employee(
    codes: &BTreeMap<&'static str, Resolved>,
    lines: &[Line],
    out: &mut impl Write,
) -> std::io::Result<()> {
    let works = CsvField(&lines[0].works_number);
    let mut combined: Combined<Key> = Combined::new();
    for line in lines {
        let Some(c) = codes.get(line.element.as_str()) else {
            continue;
        };
        let pence = line.amount_pence.get();
        if is_rated(line) {
            let key = (
                false,
                c.sage_payment,
                c.sage_department,
                c.sage_cost_centre,
                line.unit_rate_e4,
            );
            combined.rated(key, line.unit_rate_e4, line.quantity_hundredths, pence);
        } else {
            let key = match c.sage_deduction {
                Some(d) if pence < 0 => (true, d, 0, 0, 0),
                _ => (
                    false,
                    c.sage_payment,
                    c.sage_department,
                    c.sage_cost_centre,
                    0,
                ),
            };
            combined.value(key, pence);
        }
    }
    let blank = |n: u32| if n == 0 { String::new() } else { n.to_string() };
    for (&(deduction, code, department, cost_centre, rate), row) in combined.rows() {
        let (department, cost_centre) = (blank(department), blank(cost_centre));
        if deduction {
            write!(out, "D,{works},{code},,,{}\r\n", Hundredths(-row.pence))?;
        } else if rate != 0 {
            write!(
                out,
                "2,{works},{code},{department},{cost_centre},{},{}\r\n",
                Hundredths(row.quantity),
                PoundsRate(rate)
            )?;
        } else {
            write!(
                out,
                "2,{works},{code},{department},{cost_centre},{},\r\n",
                Hundredths(row.pence)
            )?;
        }
    }
    Ok(())
}
