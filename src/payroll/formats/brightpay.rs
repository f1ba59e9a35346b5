//! BrightPay's CSV imports (BrightPay documentation, "Importing Pay Data using CSV File"), each
//! with a header row so BrightPay's "Match Header Row" finds the columns:
//!
//! - `brightpay`, Import Hourly Payments: `Works Number, Description, Rate Per Hour, Normal
//!   Hours`, for the elements mapped as hourly payments (hours only).
//! - `brightpay_additions`, Import Additions: `Works Number, Description, Amount`, then the
//!   addition's flags (`Yes`/`No`): tax, NIC, employee and employer pension deductible, and
//!   whether it counts towards gross pay for the minimum wage. Nights, miles, single amounts, and
//!   hours an employer maps as additions.
//! - `brightpay_deductions`, Import Deductions: `Works Number, Description, Amount`, then
//!   whether it is deducted before tax, NIC, employee and employer pension: a negative amount
//!   (a correction recovering an overpayment of pay is deducted before all four).
//!
//! BrightPay replaces a pay item with the same description when "Replace Existing" is chosen,
//! so one employee's lines with the same description are combined into one row (hourly rows
//! only when the hours at that rate pay exactly what the lines do; a second rate keeps its own
//! row under the same description, to import with "Replace Existing" off).

use std::collections::BTreeMap;
use std::io::Write;

use crate::money::Hundredths;
use crate::payroll::formats::{Combined, CsvField, Line, PoundsRate};
use crate::payroll::mapping::{BrightPayItem, Resolved};
use crate::payroll::model::{element_of, Unit};

pub const HOURLY_HEADER: &str = "Works Number,Description,Rate Per Hour,Normal Hours\r\n";
pub const ADDITIONS_HEADER: &str = "Works Number,Description,Amount,Is Tax Deductible,Is NIC Deductible,Is Employee Pension Deductible,Is Employer Pension Deductible,Contributes To Gross For Minimum Wage\r\n";
pub const DEDUCTIONS_HEADER: &str = "Works Number,Description,Amount,Is Deducted Before Tax,Is Deducted Before NIC,Is Deducted Before Employee Pension,Is Deducted Before Employer Pension\r\n";

/// Where a line goes in BrightPay.
#[derive(PartialEq, Eq)]
enum Goes {
    Hourly,
    Addition,
    Deduction,
}

fn goes(line: &Line, c: &Resolved) -> Goes {
    let hours = element_of(&line.element).is_some_and(|e| e.unit == Unit::Hours);
    if line.amount_pence.is_negative() {
        Goes::Deduction
    } else if hours && c.brightpay_as == BrightPayItem::Hourly {
        Goes::Hourly
    } else {
        Goes::Addition
    }
}

fn yes(flag: bool) -> &'static str {
    if flag {
        "Yes"
    } else {
        "No"
    }
}

pub fn hourly_employee(
    codes: &BTreeMap<&'static str, Resolved>,
    lines: &[Line],
    out: &mut impl Write,
) -> std::io::Result<()> {
    let mut combined: Combined<(String, i64)> = Combined::new();
    for line in lines {
        let Some(c) = codes.get(line.element.as_str()) else {
            continue;
        };
        if goes(line, c) == Goes::Hourly {
            let rate = line.unit_rate_e4;
            let key = (c.brightpay_name.clone(), rate);
            combined.rated(key, rate, line.quantity_hundredths, line.amount_pence.get());
        }
    }
    let works = CsvField(&lines[0].works_number);
    for ((name, rate), row) in combined.rows() {
        write!(
            out,
            "{works},{},{},{}\r\n",
            CsvField(name),
            PoundsRate(*rate),
            Hundredths(row.quantity)
        )?;
    }
    Ok(())
}

/// Additions or deductions: one row per description, amounts added up.
fn amounts(
    codes: &BTreeMap<&'static str, Resolved>,
    lines: &[Line],
    wanted: Goes,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let mut combined: Combined<String> = Combined::new();
    let mut flags: BTreeMap<String, &Resolved> = BTreeMap::new();
    for line in lines {
        let Some(c) = codes.get(line.element.as_str()) else {
            continue;
        };
        if goes(line, c) == wanted {
            combined.value(c.brightpay_name.clone(), line.amount_pence.get());
            flags.entry(c.brightpay_name.clone()).or_insert(c);
        }
    }
    let works = CsvField(&lines[0].works_number);
    for (name, row) in combined.rows() {
        let c = flags[name];
        let amount = Hundredths(row.pence.abs());
        let name = CsvField(name);
        if wanted == Goes::Addition {
            write!(
                out,
                "{works},{name},{amount},{},{},{},{},{}\r\n",
                yes(c.taxable),
                yes(c.nic),
                yes(c.pensionable),
                yes(c.pensionable),
                yes(c.minimum_wage_pay)
            )?;
        } else {
            write!(
                out,
                "{works},{name},{amount},{},{},{},{}\r\n",
                yes(c.taxable),
                yes(c.nic),
                yes(c.pensionable),
                yes(c.pensionable)
            )?;
        }
    }
    Ok(())
}

pub fn additions_employee(
    codes: &BTreeMap<&'static str, Resolved>,
    lines: &[Line],
    out: &mut impl Write,
) -> std::io::Result<()> {
    amounts(codes, lines, Goes::Addition, out)
}

pub fn deductions_employee(
    codes: &BTreeMap<&'static str, Resolved>,
    lines: &[Line],
    out: &mut impl Write,
) -> std::io::Result<()> {
    amounts(codes, lines, Goes::Deduction, out)
}
