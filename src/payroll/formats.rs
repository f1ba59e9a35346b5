//! How an export is written, line by line, so a large one streams. Every format is a pure
//! function of the export's stored lines: the same export always gives the same bytes.
//!
//! - `csv`: parota's documented CSV (README, "Payroll exports"): a header row, one row per line.
//! - `json`: the same as one JSON document.
//! - `brightpay`: BrightPay's "Import Hourly Payments" CSV: works number, description, rate per
//!   hour, number of normal hours, with a header row BrightPay matches ("Match Header Row").
//!   Lines that are not hours go as units × rate (nights, miles, or 1 × the amount).
//! - `sage50`: Sage 50 Payroll's timesheet import CSV, one payment per row with no header:
//!   `2`, employee reference, payment number, department, cost centre, hours or value, rate.
//! - `iris`: IRIS Cascade's current-period element import, file format two, no header:
//!   employee id, pay element id, amount (hours or value), rate value, `E` for an earning.

use crate::money::{Hundredths, Pence};
use std::fmt::{self, Write as _};
use std::io::Write;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::payroll::model::{element_of, Unit, RATE_SCALE};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    Csv,
    Json,
    BrightPay,
    Sage50,
    Iris,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Csv,
        Format::Json,
        Format::BrightPay,
        Format::Sage50,
        Format::Iris,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "json",
            Self::BrightPay => "brightpay",
            Self::Sage50 => "sage50",
            Self::Iris => "iris",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == text)
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            _ => "text/csv; charset=utf-8",
        }
    }

    /// The format an `Accept` header asks for: JSON unless CSV is preferred by order.
    pub fn from_accept(accept: &str) -> Option<Self> {
        for part in accept.split(',') {
            let media = part.split(';').next().unwrap_or("").trim();
            match media {
                "application/json" | "application/*" | "*/*" => return Some(Self::Json),
                "text/csv" | "text/*" => return Some(Self::Csv),
                _ => {}
            }
        }
        None
    }
}

/// What the heading of an export says.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Head {
    pub id: String,
    pub number: i64,
    pub employer_id: String,
    pub employer_name: String,
    pub paye_reference: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub gross_pence: Pence,
    pub line_count: i32,
    pub ready_at: DateTime<Utc>,
}

/// One stored line, as every format reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Line {
    pub line_no: i32,
    pub works_number: String,
    pub pa_id: String,
    pub budget_holder_id: String,
    pub element: String,
    pub description: String,
    pub quantity_hundredths: i64,
    pub unit_rate_e4: i64,
    pub amount_pence: Pence,
    pub sources: String,
}

/// The `json` format, as one document (it is written line by line, never built whole).
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportDocument {
    pub export: Head,
    pub lines: Vec<Line>,
}

/// Writes one export in one format: `begin`, each line in order, `end`.
pub struct Renderer {
    format: Format,
    head: Head,
    lines_written: u64,
}

/// A rate in pence × 10,000 as pounds, with as many decimals as it needs (at least two).
pub struct PoundsRate(pub i64);

impl fmt::Display for PoundsRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let v = self.0.unsigned_abs();
        let scale = 100 * RATE_SCALE as u64;
        let (mut fraction, mut digits) = (v % scale, 6);
        while digits > 2 && fraction % 10 == 0 {
            fraction /= 10;
            digits -= 1;
        }
        write!(f, "{sign}{}.{fraction:0digits$}", v / scale)
    }
}

/// A CSV field, quoted when it holds a comma, quote or line break.
struct CsvField<'a>(&'a str);

impl fmt::Display for CsvField<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.0.contains([',', '"', '\n', '\r']) {
            return f.write_str(self.0);
        }
        f.write_char('"')?;
        for part in self.0.split_inclusive('"') {
            f.write_str(part)?;
            if part.ends_with('"') {
                f.write_char('"')?;
            }
        }
        f.write_char('"')
    }
}

fn is_hourly(line: &Line) -> bool {
    element_of(&line.element).is_some_and(|e| e.unit != Unit::Item)
}

pub const CSV_HEADER: &str = "export_number,paye_reference,period_start,period_end,line,works_number,pa_id,budget_holder_id,element,description,quantity,unit_rate,amount,sources\r\n";

impl Renderer {
    pub fn new(format: Format, head: Head) -> Self {
        Self {
            format,
            head,
            lines_written: 0,
        }
    }

    pub fn begin(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        match self.format {
            Format::Csv => out.write_all(CSV_HEADER.as_bytes()),
            Format::Json => {
                out.write_all(b"{\"export\":")?;
                serde_json::to_writer(&mut *out, &self.head)?;
                out.write_all(b",\"lines\":[")
            }
            Format::BrightPay => {
                out.write_all(b"Works Number,Description,Rate Per Hour,Normal Hours\r\n")
            }
            Format::Sage50 | Format::Iris => Ok(()),
        }
    }

    pub fn line(&mut self, line: &Line, out: &mut impl Write) -> std::io::Result<()> {
        let h = &self.head;
        let hourly = is_hourly(line);
        match self.format {
            Format::Csv => write!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{}\r\n",
                h.number,
                CsvField(&h.paye_reference),
                h.period_start,
                h.period_end,
                line.line_no,
                CsvField(&line.works_number),
                line.pa_id,
                line.budget_holder_id,
                line.element,
                CsvField(&line.description),
                Hundredths(line.quantity_hundredths),
                PoundsRate(line.unit_rate_e4),
                line.amount_pence.decimal(),
                line.sources,
            )?,
            Format::Json => {
                if self.lines_written > 0 {
                    out.write_all(b",")?;
                }
                serde_json::to_writer(&mut *out, line)?;
            }
            Format::BrightPay => write!(
                out,
                "{},{},{},{}\r\n",
                CsvField(&line.works_number),
                CsvField(&line.description),
                PoundsRate(line.unit_rate_e4),
                Hundredths(line.quantity_hundredths),
            )?,
            Format::Sage50 => {
                let payment = element_of(&line.element).map_or(0, |e| e.sage_payment);
                if hourly {
                    write!(
                        out,
                        "2,{},{},,,{},{}\r\n",
                        CsvField(&line.works_number),
                        payment,
                        Hundredths(line.quantity_hundredths),
                        PoundsRate(line.unit_rate_e4),
                    )?
                } else {
                    write!(
                        out,
                        "2,{},{},,,{},\r\n",
                        CsvField(&line.works_number),
                        payment,
                        line.amount_pence.decimal(),
                    )?
                }
            }
            Format::Iris => {
                let id = line.element.to_uppercase();
                if hourly {
                    write!(
                        out,
                        "{},{},{},{},E\r\n",
                        CsvField(&line.works_number),
                        id,
                        Hundredths(line.quantity_hundredths),
                        PoundsRate(line.unit_rate_e4),
                    )?
                } else {
                    write!(
                        out,
                        "{},{},{},,E\r\n",
                        CsvField(&line.works_number),
                        id,
                        line.amount_pence.decimal(),
                    )?
                }
            }
        }
        self.lines_written += 1;
        Ok(())
    }

    pub fn end(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        match self.format {
            Format::Json => out.write_all(b"]}"),
            _ => Ok(()),
        }
    }
}

/// The whole export in one format, in memory: for checksums and small exports.
pub fn render(
    format: Format,
    head: &Head,
    lines: &[Line],
    out: &mut impl Write,
) -> std::io::Result<()> {
    let mut renderer = Renderer::new(format, head.clone());
    renderer.begin(out)?;
    for line in lines {
        renderer.line(line, out)?;
    }
    renderer.end(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_rates_print_exactly() {
        assert_eq!(Hundredths(9533).to_string(), "95.33");
        assert_eq!(Hundredths(-5).to_string(), "-0.05");
        assert_eq!(PoundsRate(13_000_000).to_string(), "13.00");
        assert_eq!(PoundsRate(1_906_500).to_string(), "1.9065");
        assert_eq!(PoundsRate(450_000).to_string(), "0.45");
        assert_eq!(PoundsRate(-1).to_string(), "-0.000001");
        assert_eq!(CsvField("a \"b\", c").to_string(), "\"a \"\"b\"\", c\"");
    }

    #[test]
    fn accept_headers_choose_a_format() {
        assert_eq!(Format::from_accept("text/csv"), Some(Format::Csv));
        assert_eq!(
            Format::from_accept("application/json, text/csv"),
            Some(Format::Json)
        );
        assert_eq!(Format::from_accept("text/html"), None);
    }
}
