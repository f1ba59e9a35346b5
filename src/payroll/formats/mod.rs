//! How an export is written, line by line, so a large one streams. Every format is a pure
//! function of the export's stored lines and the mapping it was closed with: the same export
//! always gives the same bytes.
//!
//! - `csv`: parota's documented CSV (README, "Payroll exports"): a header row, one row per line.
//! - `json`: the same as one JSON document.
//! - `sage50`, `iris`, `iris_clockin`, `brightpay`, `brightpay_additions`,
//!   `brightpay_deductions`: the files payroll software imports, each in its own module with the
//!   vendor's document it follows. They are written one employee at a time (lines arrive in
//!   works-number order), so lines the software would merge or overwrite are combined first.
//!
//! Every export offers every format. A format of the employer's own software uses the
//! employer's codes (`payroll::mapping`); the others use that software's defaults.

use crate::money::{Hundredths, Pence};
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::io::Write;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::payroll::mapping::{Mapping, Resolved, Software};
use crate::payroll::model::{element_of, Unit, RATE_SCALE};

pub mod brightpay;
pub mod iris;
pub mod sage50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    Csv,
    Json,
    BrightPay,
    BrightPayAdditions,
    BrightPayDeductions,
    Sage50,
    Iris,
    IrisClockin,
}

impl Format {
    pub const ALL: [Format; 8] = [
        Format::Csv,
        Format::Json,
        Format::BrightPay,
        Format::BrightPayAdditions,
        Format::BrightPayDeductions,
        Format::Sage50,
        Format::Iris,
        Format::IrisClockin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "json",
            Self::BrightPay => "brightpay",
            Self::BrightPayAdditions => "brightpay_additions",
            Self::BrightPayDeductions => "brightpay_deductions",
            Self::Sage50 => "sage50",
            Self::Iris => "iris",
            Self::IrisClockin => "iris_clockin",
        }
    }

    /// The software that imports it; `None` for parota's own CSV and JSON.
    pub fn software(self) -> Software {
        match self {
            Self::Csv | Self::Json => Software::None,
            Self::BrightPay | Self::BrightPayAdditions | Self::BrightPayDeductions => {
                Software::BrightPay
            }
            Self::Sage50 => Software::Sage50,
            Self::Iris | Self::IrisClockin => Software::Iris,
        }
    }

    /// Every name, for a problem naming the field.
    pub fn names() -> String {
        let names: Vec<&str> = Self::ALL.iter().map(|f| f.as_str()).collect();
        names.join(", ")
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == text)
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::IrisClockin => "text/plain; charset=us-ascii",
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
    /// When the period's pay is paid.
    pub pay_date: NaiveDate,
    pub gross_pence: Pence,
    pub line_count: i32,
    pub ready_at: DateTime<Utc>,
    /// PAs who left by the period's end, reported once: the bureau issues each a P45.
    pub leavers: Vec<crate::payroll::dto::Leaver>,
    /// Absences within the period (sick pay facts, holiday taken).
    pub absences: Vec<crate::payroll::dto::ExportAbsence>,
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
    /// Each element's codes in this format's software.
    codes: BTreeMap<&'static str, Resolved>,
    /// The current employee's lines, for the software formats.
    employee: Vec<Line>,
    /// CLOCKIN: days of annual leave taken by works number, taken out as each is written.
    holiday_days: BTreeMap<String, i64>,
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
pub(crate) struct CsvField<'a>(pub &'a str);

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

/// A line paid as a quantity at a rate (hours, nights, miles), not a single amount.
pub(crate) fn is_rated(line: &Line) -> bool {
    is_rated_element(&line.element)
}

pub fn is_rated_element(element: &str) -> bool {
    element_of(element).is_some_and(|e| e.unit != Unit::Item)
}

pub const CSV_HEADER: &str = "export_number,paye_reference,period_start,period_end,line,works_number,pa_id,budget_holder_id,element,description,quantity,unit_rate,amount,sources\r\n";

impl Renderer {
    /// `mapping` is the employer's, as the export was closed with.
    pub fn new(format: Format, head: Head, mapping: &Mapping) -> Self {
        let software = format.software();
        let codes = if mapping.software == software {
            mapping.resolve()
        } else {
            Mapping::default().resolve()
        };
        let mut holiday_days = BTreeMap::new();
        if format == Format::IrisClockin {
            for a in &head.absences {
                if a.kind == crate::absence::model::AbsenceKind::AnnualLeave {
                    *holiday_days.entry(a.works_number.clone()).or_default() +=
                        a.qualifying_days.len() as i64;
                }
            }
        }
        Self {
            format,
            head,
            codes,
            employee: Vec::new(),
            holiday_days,
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
            Format::BrightPay => brightpay::hourly_header(out),
            Format::BrightPayAdditions => brightpay::additions_header(out),
            Format::BrightPayDeductions => brightpay::deductions_header(out),
            Format::Sage50 | Format::Iris | Format::IrisClockin => Ok(()),
        }
    }

    pub fn line(&mut self, line: &Line, out: &mut impl Write) -> std::io::Result<()> {
        let h = &self.head;
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
            _ => {
                if self
                    .employee
                    .first()
                    .is_some_and(|l| l.works_number != line.works_number)
                {
                    self.flush(out)?;
                }
                self.employee.push(line.clone());
            }
        }
        self.lines_written += 1;
        Ok(())
    }

    /// Writes the current employee's lines in a software format.
    fn flush(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        let lines = std::mem::take(&mut self.employee);
        if lines.is_empty() {
            return Ok(());
        }
        let codes = &self.codes;
        match self.format {
            Format::Csv | Format::Json => Ok(()),
            Format::Sage50 => sage50::employee(codes, &lines, out),
            Format::Iris => iris::cascade_employee(codes, &lines, out),
            Format::IrisClockin => {
                let code = lines[0].works_number.as_str();
                self.clockin_holiday_only(Some(code), out)?;
                let days = self.holiday_days.remove(code).unwrap_or(0);
                iris::clockin_employee(&self.codes, code, &lines, days, out)
            }
            Format::BrightPay => brightpay::hourly_employee(codes, &lines, out),
            Format::BrightPayAdditions => brightpay::additions_employee(codes, &lines, out),
            Format::BrightPayDeductions => brightpay::deductions_employee(codes, &lines, out),
        }
    }

    pub fn end(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        self.flush(out)?;
        match self.format {
            Format::Json => out.write_all(b"]}"),
            Format::Csv => self.csv_facts(out),
            Format::IrisClockin => self.clockin_holiday_only(None, out),
            _ => Ok(()),
        }
    }

    /// CLOCKIN: the records of employees with leave but no pay lines whose code comes before
    /// `before` (all of them at the end), so the file stays in employee-code order.
    fn clockin_holiday_only(
        &mut self,
        before: Option<&str>,
        out: &mut impl Write,
    ) -> std::io::Result<()> {
        while let Some(entry) = self.holiday_days.first_entry() {
            if before.is_some_and(|code| entry.key().as_str() >= code) {
                break;
            }
            let (code, days) = entry.remove_entry();
            iris::clockin_employee(&self.codes, &code, &[], days, out)?;
        }
        Ok(())
    }

    /// After the pay lines, the CSV's rows that pay nothing: each absence (element
    /// `absence:<kind>`, quantity its qualifying days) and each leaver (element `leaver`), so
    /// the generic file carries what the JSON's `export` does.
    fn csv_facts(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        let h = &self.head;
        let mut line_no = i64::from(h.line_count);
        let mut row = |out: &mut dyn Write,
                       works: &str,
                       pa: &str,
                       element: &str,
                       description: &str,
                       quantity: i64|
         -> std::io::Result<()> {
            line_no += 1;
            write!(
                out,
                "{},{},{},{},{},{},{},,{},{},{},{},{},\r\n",
                h.number,
                CsvField(&h.paye_reference),
                h.period_start,
                h.period_end,
                line_no,
                CsvField(works),
                pa,
                element,
                CsvField(description),
                Hundredths(quantity),
                PoundsRate(0),
                Pence::ZERO.decimal(),
            )
        };
        for a in &h.absences {
            let days: Vec<String> = a.qualifying_days.iter().map(ToString::to_string).collect();
            let description = format!(
                "{} from {} to {}; qualifying days: {}",
                a.kind.as_str(),
                a.starts_on,
                a.ends_on
                    .map_or_else(|| "no end yet".to_owned(), |d| d.to_string()),
                if days.is_empty() {
                    "none".to_owned()
                } else {
                    days.join(" ")
                }
            );
            row(
                out,
                &a.works_number,
                &a.pa_id,
                &format!("absence:{}", a.kind.as_str()),
                &description,
                a.qualifying_days.len() as i64 * 100,
            )?;
        }
        for l in &h.leavers {
            let description = format!("left on {} ({})", l.left_on, l.reason.as_str());
            row(out, &l.works_number, &l.pa_id, "leaver", &description, 0)?;
        }
        Ok(())
    }
}

/// One row of a software format: a quantity (hundredths) or a value, and the pence its lines pay.
#[derive(Debug, Default)]
pub(crate) struct Row {
    pub quantity: i64,
    pub pence: i64,
}

/// One employee's rows combined by key, in first-seen order. Software that multiplies hours by
/// a rate itself would pay a combined row its own rounding, so a rated line joins a row only
/// when the combined quantity pays exactly what the lines do; values simply add up.
pub(crate) struct Combined<K> {
    order: Vec<K>,
    rows: BTreeMap<K, Vec<Row>>,
}

impl<K: Ord + Clone> Combined<K> {
    pub fn new() -> Self {
        Self {
            order: Vec::new(),
            rows: BTreeMap::new(),
        }
    }

    fn slot(&mut self, key: K) -> &mut Vec<Row> {
        if !self.rows.contains_key(&key) {
            self.order.push(key.clone());
        }
        self.rows.entry(key).or_default()
    }

    pub fn rated(&mut self, key: K, rate_e4: i64, quantity: i64, pence: i64) {
        let slot = self.slot(key);
        let joined = slot.iter_mut().find(|row| {
            crate::payroll::model::amount(row.quantity + quantity, rate_e4).get()
                == row.pence + pence
        });
        match joined {
            Some(row) => {
                row.quantity += quantity;
                row.pence += pence;
            }
            None => slot.push(Row { quantity, pence }),
        }
    }

    /// Quantities that the software does not multiply (formulated rates, CLOCKIN hours) add up.
    pub fn quantity(&mut self, key: K, quantity: i64, pence: i64) {
        let slot = self.slot(key);
        if slot.is_empty() {
            slot.push(Row::default());
        }
        slot[0].quantity += quantity;
        slot[0].pence += pence;
    }

    pub fn value(&mut self, key: K, pence: i64) {
        self.quantity(key, 0, pence);
    }

    pub fn rows(&self) -> impl Iterator<Item = (&K, &Row)> {
        self.order
            .iter()
            .flat_map(move |k| self.rows[k].iter().map(move |r| (k, r)))
    }
}

/// The file name a download is given. CLOCKIN is found by IRIS under its own name,
/// `CLOCKIN.xxx` with the company number; the others name the PAYE scheme, the period and the
/// export's number, so a file is not taken into the wrong company or pay run unnoticed.
pub fn file_name(format: Format, head: &Head, mapping: &Mapping) -> String {
    if format == Format::IrisClockin {
        let company = mapping
            .iris_company
            .filter(|_| mapping.software == Software::Iris)
            .unwrap_or(0);
        return format!("CLOCKIN.{company:03}");
    }
    let extension = if format == Format::Json {
        "json"
    } else {
        "csv"
    };
    format!(
        "parota-{}-{}-to-{}-{}-{}.{extension}",
        head.paye_reference.replace('/', "-"),
        head.period_start,
        head.period_end,
        head.number,
        format.as_str()
    )
}

/// The whole export in one format, in memory: for checksums and small exports.
pub fn render(
    format: Format,
    head: &Head,
    mapping: &Mapping,
    lines: &[Line],
    out: &mut impl Write,
) -> std::io::Result<()> {
    let mut renderer = Renderer::new(format, head.clone(), mapping);
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

    fn absence(
        works: &str,
        kind: crate::absence::model::AbsenceKind,
        days: u32,
    ) -> crate::payroll::dto::ExportAbsence {
        let d = |n: u32| NaiveDate::from_ymd_opt(2026, 11, n).unwrap();
        crate::payroll::dto::ExportAbsence {
            pa_id: format!("pa-{works}"),
            works_number: works.to_owned(),
            kind,
            starts_on: d(2),
            ends_on: Some(d(1 + days)),
            days_in_period: i64::from(days),
            qualifying_days: (0..days).map(|i| d(2 + i)).collect(),
            statutory_sick_pay: None,
            note: String::new(),
        }
    }

    #[test]
    fn clockin_writes_holiday_taken_in_code_order_even_for_an_employee_with_no_pay() {
        use crate::absence::model::AbsenceKind;
        let day = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let head = Head {
            id: "x".into(),
            number: 1,
            employer_id: "e".into(),
            employer_name: "E".into(),
            paye_reference: "123/A".into(),
            period_start: day,
            period_end: day,
            pay_date: day,
            gross_pence: Pence::new(1300),
            line_count: 1,
            ready_at: DateTime::<Utc>::MIN_UTC,
            leavers: Vec::new(),
            absences: vec![
                absence("A1", AbsenceKind::AnnualLeave, 2),
                absence("B2", AbsenceKind::AnnualLeave, 3),
                absence("B2", AbsenceKind::Sickness, 4),
                absence("C3", AbsenceKind::Sickness, 1),
            ],
        };
        let line = Line {
            line_no: 1,
            works_number: "B1".into(),
            pa_id: "pa-B1".into(),
            budget_holder_id: "h".into(),
            element: "basic".into(),
            description: "work".into(),
            quantity_hundredths: 100,
            unit_rate_e4: 130_000,
            amount_pence: Pence::new(1300),
            sources: String::new(),
        };
        let mut out = Vec::new();
        render(
            Format::IrisClockin,
            &head,
            &Mapping::default(),
            &[line],
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let records: Vec<&str> = text.split("\r\n").filter(|r| !r.is_empty()).collect();
        let codes: Vec<&str> = records.iter().map(|r| r[..10].trim_end()).collect();
        // Sickness alone (C3) writes nothing: SSP is an amount left to IRIS.
        assert_eq!(codes, ["A1", "B1", "B2"], "{text}");
        assert_eq!(&records[0][10..], "9500000200");
        assert_eq!(&records[2][10..], "9500000300");
        assert!(!records[1].contains("95000"), "{text}");
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
