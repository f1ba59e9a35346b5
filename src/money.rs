//! Money: an amount in whole pence (GBP).
//!
//! Every amount parota holds, stores, sends or writes is a [`Pence`]: budgets and ledger entries,
//! rates and quotes, pay, premiums and export lines, and the statutory figures in `rules`. It is an
//! `i64` underneath, stored in a `BIGINT` column and sent as a JSON integer, so the wire and the
//! database see exactly what they saw before the type existed. What the type adds is that an amount
//! cannot be mistaken for minutes, basis points or a count, and that the one rounding rule lives
//! here: an amount scaled by a share or a time is worked out exactly and rounded once, half away
//! from zero ([`round_div`]).
//!
//! Arithmetic: amounts add and subtract to amounts, an amount times a count is an amount; anything
//! that divides goes through [`Pence::share`], [`Pence::for_minutes`] or [`Pence::from_ratio`].

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Mul, Neg, Sub, SubAssign};

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::BigInt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Basis points in a whole: 10,000 bp = 100%.
pub const BASIS_POINTS: i64 = 10_000;

/// An amount of money in whole pence (GBP): `1250` is £12.50. Negative for a refund, a release
/// or a correction downwards.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    AsExpression,
    FromSqlRow,
    ToSchema,
)]
#[serde(transparent)]
#[diesel(sql_type = BigInt)]
#[schema(value_type = i64, format = Int64)]
pub struct Pence(i64);

impl Pence {
    pub const ZERO: Pence = Pence(0);

    pub const fn new(pence: i64) -> Pence {
        Pence(pence)
    }

    /// Whole pounds: `Pence::pounds(12)` is £12.00.
    pub const fn pounds(pounds: i64) -> Pence {
        Pence(pounds * 100)
    }

    /// The number of pence, for arithmetic the type does not cover (exact sums in `i128`).
    pub const fn get(self) -> i64 {
        self.0
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub const fn abs(self) -> Pence {
        Pence(self.0.abs())
    }

    /// `self × basis_points / 10,000`, rounded once: a share, an uplift or a percentage.
    pub fn share(self, basis_points: i64) -> Pence {
        Pence::from_ratio(
            i128::from(self.0) * i128::from(basis_points),
            i128::from(BASIS_POINTS),
        )
    }

    /// An hourly rate for `minutes` of work, rounded once.
    pub fn for_minutes(self, minutes: i64) -> Pence {
        Pence::from_ratio(i128::from(self.0) * i128::from(minutes), 60)
    }

    /// An exact amount in pence × `denominator`, rounded to whole pence.
    pub fn from_ratio(numerator: i128, denominator: i128) -> Pence {
        Pence(round_div(numerator, denominator))
    }

    /// The amount as pounds with two decimals and no symbol (`-0.05`, `1234.50`), as payroll
    /// files write it.
    pub fn decimal(self) -> Hundredths {
        Hundredths(self.0)
    }
}

/// `£12.50`, `-£0.05`.
impl fmt::Display for Pence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let v = self.0.unsigned_abs();
        write!(f, "{sign}£{}.{:02}", v / 100, v % 100)
    }
}

/// A whole number of hundredths written with two decimals: `123` → `1.23`, `-5` → `-0.05`. For
/// pounds and for hours alike; a display type, not a string, because a pay-period close writes
/// every line in several formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hundredths(pub i64);

impl fmt::Display for Hundredths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let v = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", v / 100, v % 100)
    }
}

/// `n / d` rounded half away from zero; `0` when `d` is zero, `i64::MAX` when the answer does
/// not fit (no real amount comes near: the request limits keep every input far below).
pub fn round_div(n: i128, d: i128) -> i64 {
    if d == 0 {
        return 0;
    }
    let q = if (n >= 0) == (d > 0) {
        (n + d / 2) / d
    } else {
        (n - d / 2) / d
    };
    i64::try_from(q).unwrap_or(i64::MAX)
}

impl Add for Pence {
    type Output = Pence;
    fn add(self, other: Pence) -> Pence {
        Pence(self.0 + other.0)
    }
}

impl Sub for Pence {
    type Output = Pence;
    fn sub(self, other: Pence) -> Pence {
        Pence(self.0 - other.0)
    }
}

impl AddAssign for Pence {
    fn add_assign(&mut self, other: Pence) {
        self.0 += other.0;
    }
}

impl SubAssign for Pence {
    fn sub_assign(&mut self, other: Pence) {
        self.0 -= other.0;
    }
}

impl Neg for Pence {
    type Output = Pence;
    fn neg(self) -> Pence {
        Pence(-self.0)
    }
}

/// An amount times a count (nights, heads, miles).
impl Mul<i64> for Pence {
    type Output = Pence;
    fn mul(self, count: i64) -> Pence {
        Pence(self.0 * count)
    }
}

impl Sum for Pence {
    fn sum<I: Iterator<Item = Pence>>(iter: I) -> Pence {
        Pence(iter.map(|p| p.0).sum())
    }
}

impl<'a> Sum<&'a Pence> for Pence {
    fn sum<I: Iterator<Item = &'a Pence>>(iter: I) -> Pence {
        Pence(iter.map(|p| p.0).sum())
    }
}

/// For exact sums: `i128::from(amount) * minutes * basis_points`, rounded once by [`Pence::from_ratio`].
impl From<Pence> for i128 {
    fn from(amount: Pence) -> i128 {
        i128::from(amount.0)
    }
}

/// Lets request shapes bound an amount with `#[validate(range(min = …, max = …))]` in pence.
impl validator::ValidateRange<Pence> for Pence {
    fn greater_than(&self, max: Pence) -> Option<bool> {
        Some(*self > max)
    }

    fn less_than(&self, min: Pence) -> Option<bool> {
        Some(*self < min)
    }
}

impl validator::ValidateRange<Pence> for Option<Pence> {
    fn greater_than(&self, max: Pence) -> Option<bool> {
        self.map(|p| p > max)
    }

    fn less_than(&self, min: Pence) -> Option<bool> {
        self.map(|p| p < min)
    }
}

impl<DB> FromSql<BigInt, DB> for Pence
where
    DB: Backend,
    i64: FromSql<BigInt, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
        i64::from_sql(bytes).map(Pence)
    }
}

impl<DB> ToSql<BigInt, DB> for Pence
where
    DB: Backend,
    i64: ToSql<BigInt, DB>,
{
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
        self.0.to_sql(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_pounds_and_pence_with_the_sign_in_front() {
        assert_eq!(Pence::new(1250).to_string(), "£12.50");
        assert_eq!(Pence::new(-5).to_string(), "-£0.05");
        assert_eq!(Pence::new(-1234).decimal().to_string(), "-12.34");
        assert_eq!(Pence::ZERO.decimal().to_string(), "0.00");
    }

    #[test]
    fn scales_round_once_half_away_from_zero() {
        // 1,050p at 12.5% = 131.25p → 131; 1,052p → 131.5 → 132; a refund rounds the same way.
        assert_eq!(Pence::new(1_050).share(1_250), Pence::new(131));
        assert_eq!(Pence::new(1_052).share(1_250), Pence::new(132));
        assert_eq!(Pence::new(-1_052).share(1_250), Pence::new(-132));
        // £12.21 an hour for 50 minutes = 1,017.5p → 1,018.
        assert_eq!(Pence::new(1_221).for_minutes(50), Pence::new(1_018));
        assert_eq!(round_div(7, 0), 0);
        assert_eq!(round_div(-7, 2), -4);
        assert_eq!(round_div(7, -2), -4);
    }

    #[test]
    fn travels_as_a_bare_integer() {
        assert_eq!(serde_json::to_string(&Pence::new(-42)).unwrap(), "-42");
        assert_eq!(
            serde_json::from_str::<Pence>("1999").unwrap(),
            Pence::new(1_999)
        );
        assert!(serde_json::from_str::<Pence>("19.99").is_err());
        let total: Pence = [Pence::new(1), Pence::new(2)].iter().sum();
        assert_eq!(total * 3 - Pence::new(9), Pence::ZERO);
    }
}
