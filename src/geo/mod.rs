//! Postcodes and distances, offline: Great Britain postcode district and sector centroids are
//! compiled into the binary from `src/geo/data/`.
//!
//! - `uk_outcodes.csv` (2,863 rows, `outcode,latitude,longitude`): the centroid of every Great
//!   Britain postcode district (e.g. BB11).
//! - `uk_postcode_sectors.csv` (10,846 rows, `sector,latitude,longitude`): the centroid of every
//!   postcode sector (e.g. `BB11 2`).
//!
//! A centroid is the mean position of every postcode unit in the district or sector, from OS
//! Code-Point Open 2025.2.0, converted from British National Grid to WGS84 with OSTN15. Great
//! Britain only: no Northern Ireland (BT), Channel Islands or Isle of Man; eight non-geographic
//! outcodes have no position. A centroid is good for ranking by distance, not for drawing a point
//! on a map; a full postcode is located at its sector's centroid.
//!
//! Licence: Open Government Licence v3.0. Contains OS data © Crown copyright and database right
//! 2025; contains Royal Mail data © Royal Mail copyright and database right 2025; contains
//! National Statistics data © Crown copyright and database right 2025.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

const OUTCODES_CSV: &str = include_str!("data/uk_outcodes.csv");
const SECTORS_CSV: &str = include_str!("data/uk_postcode_sectors.csv");

/// How precisely a postcode was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PostcodePrecision {
    /// A full postcode, e.g. `BB11 2AB` (located at its sector's centroid).
    Full,
    /// A postcode sector, e.g. `BB11 2`.
    Sector,
    /// A postcode district (outcode), e.g. `BB11`.
    District,
}

/// A checked postcode in its canonical spelling (`BB11 2AB`, `BB11 2`, `BB11`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Postcode {
    canonical: String,
    outcode: String,
    precision: PostcodePrecision,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostcodeError {
    #[error("is not a UK postcode, sector or district")]
    Malformed,
    #[error("is not a known Great Britain postcode area")]
    Unknown,
}

impl PostcodeError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed => "malformed_postcode",
            Self::Unknown => "unknown_postcode",
        }
    }
}

impl Postcode {
    /// Parses and normalises; the spelling is checked, not whether the place exists
    /// (`locate` does that).
    pub fn parse(raw: &str) -> Result<Self, PostcodeError> {
        // A postcode is ASCII letters, digits and a space: anything else (an emoji, a combining
        // mark) is refused before any slicing, which is by byte.
        if raw.len() > 16 || !raw.is_ascii() {
            return Err(PostcodeError::Malformed);
        }
        let upper = raw.trim().to_ascii_uppercase();
        let parts: Vec<&str> = upper.split_whitespace().collect();
        let (outcode, inward) = match parts.as_slice() {
            // Without a space only a district or a full postcode is unambiguous: "BB11" is a
            // district, never the sector "BB1 1".
            [compact] if compact.len() >= 5 && is_inward(&compact[compact.len() - 3..]) => (
                &compact[..compact.len() - 3],
                Some(&compact[compact.len() - 3..]),
            ),
            [compact] => (*compact, None),
            [outward, inward] => (*outward, Some(*inward)),
            _ => return Err(PostcodeError::Malformed),
        };
        if !is_outcode(outcode) {
            return Err(PostcodeError::Malformed);
        }
        let (canonical, precision) = match inward {
            None => (outcode.to_owned(), PostcodePrecision::District),
            Some(inward) if is_inward(inward) => {
                (format!("{outcode} {inward}"), PostcodePrecision::Full)
            }
            Some(digit) if digit.len() == 1 && digit.as_bytes()[0].is_ascii_digit() => {
                (format!("{outcode} {digit}"), PostcodePrecision::Sector)
            }
            Some(_) => return Err(PostcodeError::Malformed),
        };
        Ok(Self {
            canonical,
            outcode: outcode.to_owned(),
            precision,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    /// The district (outcode), e.g. `BB11`: what is shown where a full address must not be.
    pub fn district(&self) -> &str {
        &self.outcode
    }

    pub fn precision(&self) -> PostcodePrecision {
        self.precision
    }

    fn sector(&self) -> Option<&str> {
        match self.precision {
            PostcodePrecision::Full => Some(&self.canonical[..self.canonical.len() - 2]),
            PostcodePrecision::Sector => Some(&self.canonical),
            PostcodePrecision::District => None,
        }
    }

    /// The centroid of the most precise area the data knows: the sector, else the district.
    /// A postcode whose district the data does not know is refused, never guessed.
    pub fn locate(&self) -> Result<Location, PostcodeError> {
        let directory = directory();
        let outcode = directory
            .outcodes
            .get(self.outcode.as_str())
            .ok_or(PostcodeError::Unknown)?;
        Ok(self
            .sector()
            .and_then(|s| directory.sectors.get(s))
            .copied()
            .unwrap_or(*outcode))
    }
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

/// Outward codes: A9, A99, AA9, AA99, A9A, AA9A.
fn is_outcode(s: &str) -> bool {
    let b = s.as_bytes();
    let letter = |i: usize| b.get(i).is_some_and(u8::is_ascii_alphabetic);
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let alnum = |i: usize| b.get(i).is_some_and(u8::is_ascii_alphanumeric);
    match b.len() {
        2 => letter(0) && digit(1),
        3 => letter(0) && ((digit(1) && alnum(2)) || (letter(1) && digit(2))),
        4 => letter(0) && letter(1) && digit(2) && alnum(3),
        _ => false,
    }
}

fn is_inward(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 3
        && b[0].is_ascii_digit()
        && b[1].is_ascii_alphabetic()
        && b[2].is_ascii_alphabetic()
}

struct Directory {
    outcodes: HashMap<&'static str, Location>,
    sectors: HashMap<&'static str, Location>,
}

fn directory() -> &'static Directory {
    static DIRECTORY: OnceLock<Directory> = OnceLock::new();
    DIRECTORY.get_or_init(|| Directory {
        outcodes: parse_centroids(OUTCODES_CSV),
        sectors: parse_centroids(SECTORS_CSV),
    })
}

fn parse_centroids(csv: &'static str) -> HashMap<&'static str, Location> {
    csv.lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split(',');
            let key = fields.next()?;
            let latitude = fields.next()?.parse().ok()?;
            let longitude = fields.next()?.parse().ok()?;
            Some((
                key,
                Location {
                    latitude,
                    longitude,
                },
            ))
        })
        .collect()
}

/// Every known district with its centroid (for demo data and benchmarks).
pub fn districts() -> impl Iterator<Item = (&'static str, Location)> {
    directory().outcodes.iter().map(|(k, v)| (*k, *v))
}

const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance in kilometres.
pub fn distance_km(a: Location, b: Location) -> f64 {
    let (lat1, lat2) = (a.latitude.to_radians(), b.latitude.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.longitude - a.longitude).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().asin()
}

/// A latitude/longitude box holding every point within `radius_km` of `centre` (for an
/// indexed pre-filter before the exact distance).
/// Average speed between homes, and a fixed allowance to park and hand over.
const TRAVEL_KMH: f64 = 30.0;
const TRAVEL_ALLOWANCE_MINUTES: i64 = 10;

/// `travel_minutes` between every pair of places, by index.
pub fn travel_matrix(places: &[Location]) -> Vec<Vec<i64>> {
    places
        .iter()
        .map(|a| places.iter().map(|b| travel_minutes(*a, *b)).collect())
        .collect()
}

/// Minutes to travel from one home to another: rostering leaves at least this between shifts,
/// and payroll pays at most this for the gap between them.
pub fn travel_minutes(a: Location, b: Location) -> i64 {
    (distance_km(a, b) / TRAVEL_KMH * 60.0).round() as i64 + TRAVEL_ALLOWANCE_MINUTES
}

pub fn bounding_box(centre: Location, radius_km: f64) -> (Location, Location) {
    let dlat = (radius_km / EARTH_RADIUS_KM).to_degrees();
    let cos = centre.latitude.to_radians().cos().max(0.01);
    let dlon = (radius_km / (EARTH_RADIUS_KM * cos)).to_degrees();
    (
        Location {
            latitude: centre.latitude - dlat,
            longitude: centre.longitude - dlon,
        },
        Location {
            latitude: centre.latitude + dlat,
            longitude: centre.longitude + dlon,
        },
    )
}

/// A postcode from a request, parsed and placed: what a profile stores about where someone is.
pub struct Place {
    pub postcode: String,
    pub district: String,
    pub location: Location,
}

/// The place of the postcode in `field`, or the field's error (malformed, or not a known place).
pub fn place_of(field: &str, raw: &str) -> Result<Place, crate::error::FieldError> {
    let invalid = |e: PostcodeError| crate::error::FieldError::new(field, e.code(), e.to_string());
    let postcode = Postcode::parse(raw).map_err(invalid)?;
    let location = postcode.locate().map_err(invalid)?;
    Ok(Place {
        postcode: postcode.as_str().to_owned(),
        district: postcode.district().to_owned(),
        location,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_postcodes_sectors_and_districts_are_normalised() {
        let full = Postcode::parse(" bb11 2ab ").unwrap();
        assert_eq!(full.as_str(), "BB11 2AB");
        assert_eq!(full.precision(), PostcodePrecision::Full);
        assert_eq!(full.district(), "BB11");
        assert_eq!(Postcode::parse("BB112AB").unwrap().as_str(), "BB11 2AB");
        assert_eq!(Postcode::parse("bb11 2").unwrap().as_str(), "BB11 2");
        assert_eq!(
            Postcode::parse("BB11 2").unwrap().precision(),
            PostcodePrecision::Sector
        );
        assert_eq!(
            Postcode::parse("OL13").unwrap().precision(),
            PostcodePrecision::District
        );
        assert_eq!(Postcode::parse("BB1 1").unwrap().district(), "BB1");
        assert_eq!(Postcode::parse("BB11").unwrap().district(), "BB11");
        assert_eq!(Postcode::parse("M1 1AE").unwrap().as_str(), "M1 1AE");
        assert_eq!(Postcode::parse("EC1A 1BB").unwrap().district(), "EC1A");
        assert_eq!(Postcode::parse("W1A 0AX").unwrap().as_str(), "W1A 0AX");
    }

    #[test]
    fn malformed_postcodes_are_refused() {
        for bad in [
            "",
            "12345",
            "BB11 2ABC",
            "B-11",
            "BBB1 2AB",
            "BB11 AAB",
            "hello world",
            "BB1 1 1",
        ] {
            assert_eq!(Postcode::parse(bad), Err(PostcodeError::Malformed), "{bad}");
        }
    }

    #[test]
    fn unknown_places_are_refused_not_guessed() {
        assert_eq!(
            Postcode::parse("QQ1 1AA").unwrap().locate(),
            Err(PostcodeError::Unknown)
        );
        // Northern Ireland is outside the Great Britain data.
        assert_eq!(
            Postcode::parse("BT1 1AA").unwrap().locate(),
            Err(PostcodeError::Unknown)
        );
    }

    #[test]
    fn a_full_postcode_is_placed_at_its_sector_and_a_district_at_its_centroid() {
        let sector = Postcode::parse("BB11 2").unwrap().locate().unwrap();
        let full = Postcode::parse("BB11 2ZZ").unwrap().locate().unwrap();
        assert_eq!(sector, full);
        let district = Postcode::parse("BB11").unwrap().locate().unwrap();
        assert!((district.latitude - 53.782638).abs() < 1e-9);
    }

    #[test]
    fn distances_are_great_circle_kilometres() {
        let burnley = Postcode::parse("BB11").unwrap().locate().unwrap();
        let blackburn = Postcode::parse("BB1").unwrap().locate().unwrap();
        let d = distance_km(burnley, blackburn);
        assert!((13.0..16.0).contains(&d), "{d}");
        assert_eq!(distance_km(burnley, burnley), 0.0);
        let (low, high) = bounding_box(burnley, d + 0.1);
        assert!(blackburn.latitude > low.latitude && blackburn.latitude < high.latitude);
        assert!(blackburn.longitude > low.longitude && blackburn.longitude < high.longitude);
    }
}
