//! BrightPay's CSV imports (BrightPay documentation, "Importing Pay Data using CSV File": Import
//! Hourly Payments, Import Additions, Import Deductions). Each file has one row per employee,
//! matched by works number, with up to five pay items side by side (`Payment 1 …`, `Addition 1
//! …`, `Deduction 1 …`), and a header row so BrightPay's "Match Header Row" finds the columns:
//!
//! - `brightpay`: hourly payments, each `Description, Rate Per Hour, Number Of Normal Hours`
//!   and the payment's flags (`Yes`/`No`): tax, NIC, employee and employer pension deductible,
//!   accrues annual leave (always `No`: holiday pay is parota's, rolled up or paid as holiday
//!   taken, so BrightPay must not accrue it again), counts towards gross pay for the minimum
//!   wage (basic hours do, premiums do not); for the elements mapped as hourly payments.
//! - `brightpay_additions`: each `Description, Amount` and the addition's flags (`Yes`/`No`):
//!   tax, NIC, employee and employer pension deductible, counts towards gross pay for the
//!   minimum wage. Nights, miles, single amounts, and hours an employer maps as additions.
//! - `brightpay_deductions`: each `Description, Amount` and whether it is deducted before tax,
//!   NIC, employee and employer pension: a negative amount (a correction recovering an
//!   overpayment of pay is deducted before all four).
//!
//! BrightPay replaces a pay item with the same description when "Replace Existing" is chosen,
//! so one employee's lines with the same description are combined into one item (hourly items
//! only when the hours at that rate pay exactly what the lines do; a second rate keeps its own
//! item under the same description). An employee with more than five items of a kind has a
//! second row, to import with "Replace Existing" off.

use std::collections::BTreeMap;
use std::io::Write;

use crate::money::Hundredths;
use crate::payroll::formats::{Combined, CsvField, Line, PoundsRate};
use crate::payroll::mapping::{BrightPayItem, Resolved};
use crate::payroll::model::{element_of, Unit};

/// Pay items of one kind on a row.
const ITEMS_PER_ROW: usize = 5;
const HOURLY_COLUMNS: [&str; 9] = [
    "Description",
    "Rate Per Hour",
    "Number Of Normal Hours",
    "Is Tax Deductible",
    "Is NIC Deductible",
    "Is Employee Pension Deductible",
    "Is Employer Pension Deductible",
    "Accrues Annual Leave",
    "Contributes To Gross For Minimum Wage",
];
const ADDITION_COLUMNS: [&str; 7] = [
    "Description",
    "Amount",
    "Is Tax Deductible",
    "Is NIC Deductible",
    "Is Employee Pension Deductible",
    "Is Employer Pension Deductible",
    "Contributes To Gross For Minimum Wage",
];
const DEDUCTION_COLUMNS: [&str; 6] = [
    "Description",
    "Amount",
    "Is Deducted Before Tax",
    "Is Deducted Before NIC",
    "Is Deducted Before Employee Pension",
    "Is Deducted Before Employer Pension",
];

fn header(item: &str, columns: &[&str], out: &mut impl Write) -> std::io::Result<()> {
    out.write_all(b"Works Number")?;
    for n in 1..=ITEMS_PER_ROW {
        for column in columns {
            write!(out, ",{item} {n} {column}")?;
        }
    }
    out.write_all(b"\r\n")
}

pub fn hourly_header(out: &mut impl Write) -> std::io::Result<()> {
    header("Payment", &HOURLY_COLUMNS, out)
}

pub fn additions_header(out: &mut impl Write) -> std::io::Result<()> {
    header("Addition", &ADDITION_COLUMNS, out)
}

pub fn deductions_header(out: &mut impl Write) -> std::io::Result<()> {
    header("Deduction", &DEDUCTION_COLUMNS, out)
}

/// One employee's items, `ITEMS_PER_ROW` to a row, each row padded to the header's width.
fn rows(
    works: &str,
    items: &[Vec<String>],
    width: usize,
    out: &mut impl Write,
) -> std::io::Result<()> {
    for chunk in items.chunks(ITEMS_PER_ROW) {
        write!(out, "{}", CsvField(works))?;
        for item in chunk {
            for field in item {
                write!(out, ",{field}")?;
            }
        }
        for _ in 0..(ITEMS_PER_ROW - chunk.len()) * width {
            out.write_all(b",")?;
        }
        out.write_all(b"\r\n")?;
    }
    Ok(())
}

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
    let mut flags: BTreeMap<String, &Resolved> = BTreeMap::new();
    for line in lines {
        let Some(c) = codes.get(line.element.as_str()) else {
            continue;
        };
        if goes(line, c) == Goes::Hourly {
            let rate = line.unit_rate_e4;
            let key = (c.brightpay_name.clone(), rate);
            combined.rated(key, rate, line.quantity_hundredths, line.amount_pence.get());
            flags.entry(c.brightpay_name.clone()).or_insert(c);
        }
    }
    let items: Vec<Vec<String>> = combined
        .rows()
        .map(|((name, rate), row)| {
            let c = flags[name];
            vec![
                CsvField(name).to_string(),
                PoundsRate(*rate).to_string(),
                Hundredths(row.quantity).to_string(),
                yes(c.taxable).into(),
                yes(c.nic).into(),
                yes(c.pensionable).into(),
                yes(c.pensionable).into(),
                yes(false).into(),
                yes(c.minimum_wage_pay).into(),
            ]
        })
        .collect();
    rows(&lines[0].works_number, &items, HOURLY_COLUMNS.len(), out)?;
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
    let items: Vec<Vec<String>> = combined
        .rows()
        .map(|(name, row)| {
            let c = flags[name];
            let mut item = vec![
                CsvField(name).to_string(),
                Hundredths(row.pence.abs()).to_string(),
                yes(c.taxable).into(),
                yes(c.nic).into(),
                yes(c.pensionable).into(),
                yes(c.pensionable).into(),
            ];
            if wanted == Goes::Addition {
                item.push(yes(c.minimum_wage_pay).into());
            }
            item
        })
        .collect();
    let width = if wanted == Goes::Addition {
        ADDITION_COLUMNS.len()
    } else {
        DEDUCTION_COLUMNS.len()
    };
    rows(&lines[0].works_number, &items, width, out)?;
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
