//! The files payroll software imports, byte for byte: one period with every pay element, two
//! employees (one working for two people, one element at two rates, a correction recovering an
//! overpayment), written in every format with a bureau's own codes. The reference files under
//! `tests/fixtures/payroll/files/` are the contract; `UPDATE_FIXTURES=1` rewrites them.

use parota::money::Pence;
use parota::payroll::formats::{render, Format, Head, Line};
use parota::payroll::mapping::{BrightPayItem, Codes, Mapping, Software};
use parota::payroll::model::{amount, element_of, Unit, ELEMENTS, RATE_SCALE};

fn line(
    n: usize,
    works: &str,
    holder: &str,
    element: &str,
    quantity: i64,
    rate_pence_e4: i64,
) -> Line {
    let rated = element_of(element).is_some_and(|e| e.unit != Unit::Item);
    let (quantity, rate, pence) = if rated {
        (quantity, rate_pence_e4, amount(quantity, rate_pence_e4))
    } else {
        // A single amount: quantity 1, the amount as its rate.
        (100, quantity * RATE_SCALE, Pence::new(quantity))
    };
    Line {
        line_no: n as i32 + 1,
        works_number: works.into(),
        pa_id: format!("pa-{works}"),
        budget_holder_id: holder.into(),
        element: element.into(),
        description: element_of(element).map_or(element, |e| e.title).into(),
        quantity_hundredths: quantity,
        unit_rate_e4: rate,
        amount_pence: pence,
        sources: "T1".into(),
    }
}

/// Every element for 00042 (basic for two people at one rate, and at a second rate), a
/// negative correction, and three lines for 00107.
fn lines() -> Vec<Line> {
    let mut spec: Vec<(&str, &str, &str, i64, i64)> = Vec::new();
    for e in ELEMENTS {
        let (quantity, rate) = match e.unit {
            Unit::Hours => (1_050, 1_300 * RATE_SCALE / 10),
            Unit::Nights => (200, 4_500 * RATE_SCALE),
            Unit::Miles => (1_250, 450_000),
            Unit::Item => (2_765, 0),
        };
        spec.push(("00042", "ann", e.code, quantity, rate));
    }
    spec.insert(1, ("00042", "bob", "basic", 725, 13_000_000));
    spec.insert(2, ("00042", "bob", "basic", 300, 14_250_000));
    spec[0] = ("00042", "ann", "basic", 1_050, 13_000_000);
    spec.push(("00042", "ann", "correction", -1_234, 0));
    spec.push(("00107", "cat", "basic", 800, 12_710_000));
    spec.push(("00107", "cat", "sunday_uplift", 800, 2_542_000));
    spec.push(("00107", "cat", "holiday_pay", 1_472, 0));
    spec.iter()
        .enumerate()
        .map(|(n, (w, h, e, q, r))| line(n, w, h, e, *q, *r))
        .collect()
}

fn head(lines: &[Line]) -> Head {
    Head {
        id: "EXPORT".into(),
        number: 7,
        employer_id: "EMPLOYER".into(),
        employer_name: "Ann Riley".into(),
        paye_reference: "123/AB45678".into(),
        period_start: chrono::NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
        period_end: chrono::NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
        // 31 October 2026 is a Saturday: paid the Friday before.
        pay_date: chrono::NaiveDate::from_ymd_opt(2026, 10, 30).unwrap(),
        gross_pence: lines.iter().map(|l| l.amount_pence).sum(),
        line_count: lines.len() as i32,
        ready_at: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
        leavers: vec![parota::payroll::dto::Leaver {
            pa_id: "pa-00107".into(),
            works_number: "00107".into(),
            left_on: chrono::NaiveDate::from_ymd_opt(2026, 10, 20).unwrap(),
            reason: parota::market::model::employment::LeavingReason::Resigned,
        }],
        absences: vec![parota::payroll::dto::ExportAbsence {
            pa_id: "pa-00042".into(),
            works_number: "00042".into(),
            kind: parota::absence::model::AbsenceKind::Sickness,
            starts_on: chrono::NaiveDate::from_ymd_opt(2026, 10, 12).unwrap(),
            ends_on: Some(chrono::NaiveDate::from_ymd_opt(2026, 10, 14).unwrap()),
            days_in_period: 3,
            qualifying_days: vec![
                chrono::NaiveDate::from_ymd_opt(2026, 10, 12).unwrap(),
                chrono::NaiveDate::from_ymd_opt(2026, 10, 14).unwrap(),
            ],
            statutory_sick_pay: parota::rules::uk()
                .statutory_sick_pay(chrono::NaiveDate::from_ymd_opt(2026, 10, 12).unwrap()),
            note: "the payroll software works out the sick pay due".into(),
        }],
    }
}

fn codes(software: Software) -> Mapping {
    let mut m = Mapping {
        software,
        iris_company: (software == Software::Iris).then_some(12),
        ..Mapping::default()
    };
    let mut set = |element: &str, c: Codes| {
        m.elements.insert(element.into(), c);
    };
    match software {
        Software::Sage50 => {
            set(
                "basic",
                Codes {
                    sage_payment: Some(101),
                    sage_department: Some(3),
                    ..Codes::default()
                },
            );
            set(
                "correction",
                Codes {
                    sage_payment: Some(117),
                    sage_deduction: Some(9),
                    ..Codes::default()
                },
            );
            set(
                "mileage",
                Codes {
                    sage_payment: Some(113),
                    sage_cost_centre: Some(21),
                    ..Codes::default()
                },
            );
        }
        Software::Iris => {
            set(
                "basic",
                Codes {
                    iris_element: Some("BASIC_PAY".into()),
                    clockin: Some(1),
                    clockin_rate: Some(2),
                    ..Codes::default()
                },
            );
            set(
                "night_uplift",
                Codes {
                    iris_element: Some("NIGHT".into()),
                    iris_formulated: Some(true),
                    ..Codes::default()
                },
            );
            set(
                "correction",
                Codes {
                    clockin_negative: Some(70),
                    ..Codes::default()
                },
            );
        }
        Software::BrightPay => {
            set(
                "mileage",
                Codes {
                    brightpay_name: Some("Mileage allowance".into()),
                    ..Codes::default()
                },
            );
            set(
                "travel_time",
                Codes {
                    brightpay_as: Some(BrightPayItem::Addition),
                    brightpay_name: Some("Travel, paid".into()),
                    ..Codes::default()
                },
            );
        }
        Software::None => {}
    }
    assert!(m.check().is_empty(), "{software:?}: {:?}", m.check());
    m
}

fn matches_reference(name: &str, actual: &str) {
    let path = format!(
        "{}/tests/fixtures/payroll/files/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    if std::env::var("UPDATE_FIXTURES").is_ok() {
        std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(actual, expected, "{name} differs from its reference file");
}

#[test]
fn every_format_writes_every_element_with_the_bureaus_codes() {
    let lines = lines();
    let head = head(&lines);
    for format in Format::ALL {
        let mapping = codes(format.software());
        let mut out = Vec::new();
        render(format, &head, &mapping, &lines, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        matches_reference(&format!("{}.txt", format.as_str()), &text);
        // Lines arriving in pages give the same bytes (the renderer is streamed).
        let mut paged = Vec::new();
        let mut renderer = parota::payroll::formats::Renderer::new(format, head.clone(), &mapping);
        renderer.begin(&mut paged).unwrap();
        for l in &lines {
            renderer.line(l, &mut paged).unwrap();
        }
        renderer.end(&mut paged).unwrap();
        assert_eq!(
            String::from_utf8(paged).unwrap(),
            text,
            "{}",
            format.as_str()
        );
    }
}

/// What each software file pays adds up to the export's gross, so nothing is dropped or
/// paid twice in the combining.
#[test]
fn the_software_files_pay_the_whole_export() {
    let lines = lines();
    let head = head(&lines);
    let gross = head.gross_pence.get();
    let pounds = |text: &str| -> i64 {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
        let sign = if whole.starts_with('-') { -1 } else { 1 };
        let whole: i64 = whole.trim_start_matches('-').parse().unwrap();
        let fraction: i64 = format!("{fraction:0<2}")[..2].parse().unwrap();
        sign * (whole * 100 + fraction)
    };
    let render_text = |format: Format| {
        let mut out = Vec::new();
        render(format, &head, &codes(format.software()), &lines, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    // Sage 50: quantity × rate for rated rows, the value otherwise; deductions subtract.
    let sage: i64 = render_text(Format::Sage50)
        .lines()
        .map(|row| {
            let f: Vec<&str> = row.split(',').collect();

            if f[0] == "D" {
                -pounds(f[5])
            } else if f[6].is_empty() {
                pounds(f[5])
            } else {
                let rate_e4 = (pounds_e4(f[6])) as i128;
                let q = pounds(f[5]) as i128;
                parota::money::round_div(q * rate_e4, 1_000_000)
            }
        })
        .sum();
    assert_eq!(sage, gross);
    // BrightPay: hourly items plus additions less deductions, five items of a kind to a row.
    let items = |format: Format, width: usize| -> Vec<Vec<String>> {
        render_text(format)
            .lines()
            .skip(1)
            .flat_map(|row| {
                let fields = split_csv(row);
                fields[1..]
                    .chunks(width)
                    .filter(|item| !item[0].is_empty())
                    .map(<[String]>::to_vec)
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let hourly: i64 = items(Format::BrightPay, 9)
        .iter()
        .map(|i| {
            parota::money::round_div(pounds(&i[2]) as i128 * pounds_e4(&i[1]) as i128, 1_000_000)
        })
        .sum();
    let additions: i64 = items(Format::BrightPayAdditions, 7)
        .iter()
        .map(|i| pounds(&i[1]))
        .sum();
    let deductions: i64 = items(Format::BrightPayDeductions, 6)
        .iter()
        .map(|i| pounds(&i[1]))
        .sum();
    assert_eq!(hourly + additions - deductions, gross);
}

/// A decimal pound rate as pence × 10,000.
fn pounds_e4(text: &str) -> i64 {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let fraction: i64 = format!("{fraction:0<6}")[..6].parse().unwrap();
    whole.parse::<i64>().unwrap() * 1_000_000 + fraction
}

fn split_csv(row: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in row.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            _ => out.last_mut().unwrap().push(c),
        }
    }
    out
}
