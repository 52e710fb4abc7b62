//! UK postcodes for the directory: parsing and normalising what people type, and placing a
//! postcode on the map through the most precise data held.
//!
//! - [`Postcode`]: a parsed postcode: a full unit (`LS8 5AB`), a sector (`LS8 5`) or a
//!   district (`LS8`), normalised (upper case, one space) from any spacing and case.
//! - [`Gazetteer`]: district and sector centroids embedded in the binary (OS Code-Point
//!   Open, May 2025, Great Britain), plus unit postcodes an operator loads from a
//!   Code-Point-derived or ONS Postcode Directory CSV ([`Units::from_csv`]). A lookup says
//!   which precision it used.
//!
//! No I/O: the caller reads files. Wherever these data are used, [`ATTRIBUTION`] must be
//! shown (Open Government Licence v3.0).

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

/// The statements the Open Government Licence requires wherever the data are used.
pub const ATTRIBUTION: [&str; 3] = [
    "Contains Ordnance Survey data © Crown copyright and database right 2025.",
    "Contains Royal Mail data © Royal Mail copyright and database right 2025.",
    "Contains National Statistics data © Crown copyright and database right 2025.",
];

/// The licence text of the embedded data, as supplied with the product.
pub const LICENCE: &str = include_str!("../data/LICENCE-Code-Point-Open.txt");

const DISTRICTS: &str = include_str!("../data/districts.csv");
const SECTORS: &str = include_str!("../data/sectors.csv");

/// The longest input looked at (a postcode is at most 8 characters with its space).
pub const MAX_INPUT: usize = 16;

/// Why a string is not a postcode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PostcodeError {
    #[error("enter a postcode, like LS8 5AB")]
    Empty,
    #[error("a postcode is at most 8 characters, like LS8 5AB")]
    TooLong,
    #[error("{0:?} is not a UK postcode; a postcode looks like LS8 5AB, or LS8 for a district")]
    Malformed(String),
}

/// How precisely a postcode was placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Precision {
    /// The unit postcode itself (a few addresses).
    Unit,
    /// The centre of its sector (`LS8 5`: a few thousand addresses).
    Sector,
    /// The centre of its district (`LS8`).
    District,
}

impl Precision {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unit => "unit",
            Self::Sector => "sector",
            Self::District => "district",
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed, normalised postcode.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Postcode {
    /// The outward code (district), e.g. `LS8`.
    outward: String,
    /// The inward code: `5AB` for a unit, `5` for a sector, empty for a district.
    inward: String,
}

fn is_outward(s: &[u8]) -> bool {
    let a = |b: &u8| b.is_ascii_uppercase();
    let d = |b: &u8| b.is_ascii_digit();
    match s {
        // A9, A99, A9A
        [x, y] => a(x) && d(y),
        [x, y, z] => a(x) && ((d(y) && (d(z) || a(z))) || (a(y) && d(z))),
        // AA99, AA9A
        [w, x, y, z] => a(w) && a(x) && d(y) && (d(z) || a(z)),
        _ => false,
    }
}

impl Postcode {
    /// Parses a postcode as a person types it: any case, with or without the space.
    /// `LS85AB` and `ls8 5ab` are the unit `LS8 5AB`; `LS8 5` is a sector; `LS8` a district.
    pub fn parse(input: &str) -> Result<Self, PostcodeError> {
        if input.len() > MAX_INPUT {
            return Err(PostcodeError::TooLong);
        }
        let upper = input.trim().to_ascii_uppercase();
        if upper.is_empty() {
            return Err(PostcodeError::Empty);
        }
        let malformed = || PostcodeError::Malformed(input.trim().to_owned());
        let parts: Vec<&str> = upper.split_whitespace().collect();
        let (outward, inward) = match parts.as_slice() {
            [one] => {
                let b = one.as_bytes();
                // A unit written without its space: the inward code is the last three.
                if b.len() >= 5 && is_outward(&b[..b.len() - 3]) {
                    let (o, i) = one.split_at(b.len() - 3);
                    (o.to_owned(), i.to_owned())
                } else {
                    ((*one).to_owned(), String::new())
                }
            }
            [o, i] => ((*o).to_owned(), (*i).to_owned()),
            _ => return Err(malformed()),
        };
        if !is_outward(outward.as_bytes()) {
            return Err(malformed());
        }
        let i = inward.as_bytes();
        let inward_ok = match i {
            [] => true,
            [d] => d.is_ascii_digit(),
            [d, x, y] => d.is_ascii_digit() && x.is_ascii_uppercase() && y.is_ascii_uppercase(),
            _ => false,
        };
        if !inward_ok {
            return Err(malformed());
        }
        Ok(Self { outward, inward })
    }

    /// The district (outward code), e.g. `LS8`.
    pub fn district(&self) -> &str {
        &self.outward
    }

    /// The sector, e.g. `LS8 5`, when the postcode names one.
    pub fn sector(&self) -> Option<String> {
        self.inward
            .get(..1)
            .map(|digit| format!("{} {digit}", self.outward))
    }

    /// Whether this is a full unit postcode.
    pub fn is_unit(&self) -> bool {
        self.inward.len() == 3
    }

    /// How precise the postcode itself is.
    pub fn precision(&self) -> Precision {
        match self.inward.len() {
            3 => Precision::Unit,
            1 => Precision::Sector,
            _ => Precision::District,
        }
    }
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.inward.is_empty() {
            f.write_str(&self.outward)
        } else {
            write!(f, "{} {}", self.outward, self.inward)
        }
    }
}

/// Where a postcode was placed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    pub lat: f64,
    pub lon: f64,
    pub precision: Precision,
}

/// Unit postcodes an operator loaded, packed small (1.7 million fit in about 60 MB).
#[derive(Debug, Default, Clone)]
pub struct Units {
    map: HashMap<[u8; 7], (f32, f32)>,
}

fn pack(p: &Postcode) -> Option<[u8; 7]> {
    let mut out = [b' '; 7];
    let s = format!("{}{}", p.outward, p.inward);
    out.get_mut(..s.len())?.copy_from_slice(s.as_bytes());
    Some(out)
}

/// Why a unit postcode file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnitsError {
    #[error("the file has no header naming its postcode, latitude and longitude columns (expected `postcode,lat,lon`, or ONSPD's `pcds`, `lat` and `long`)")]
    NoHeader,
    #[error("line {line}: {problem}")]
    Line { line: usize, problem: String },
}

impl Units {
    /// Reads unit postcodes from CSV text with a header: either `postcode,lat,lon` (as the
    /// project's tools write from Code-Point Open) or the ONS Postcode Directory (`pcds`,
    /// `lat`, `long`; terminated postcodes, those with a `doterm`, and rows without a
    /// position, latitude 99.999999, are left out). Unquoted or double-quoted fields.
    pub fn from_csv(text: &str) -> Result<Self, UnitsError> {
        let mut lines = text.lines().enumerate();
        let header = lines
            .next()
            .map(|(_, h)| fields(h))
            .ok_or(UnitsError::NoHeader)?;
        let col = |names: &[&str]| {
            header
                .iter()
                .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
        };
        let (pc, lat, lon) = match (
            col(&["postcode", "pcds"]),
            col(&["lat", "latitude"]),
            col(&["lon", "long", "longitude"]),
        ) {
            (Some(a), Some(b), Some(c)) => (a, b, c),
            _ => return Err(UnitsError::NoHeader),
        };
        let doterm = col(&["doterm"]);
        let mut map = HashMap::new();
        for (n, line) in lines {
            if line.trim().is_empty() {
                continue;
            }
            let f = fields(line);
            let get = |i: usize| {
                f.get(i).copied().ok_or_else(|| UnitsError::Line {
                    line: n + 1,
                    problem: format!("fewer than {} fields", i + 1),
                })
            };
            if doterm.is_some_and(|i| f.get(i).is_some_and(|v| !v.trim().is_empty())) {
                continue;
            }
            let number = |i: usize| -> Result<f64, UnitsError> {
                let v = get(i)?;
                v.trim().parse::<f64>().map_err(|_| UnitsError::Line {
                    line: n + 1,
                    problem: format!("{v:?} is not a number"),
                })
            };
            let (la, lo) = (number(lat)?, number(lon)?);
            if !(49.0..=61.5).contains(&la) || !(-9.0..=2.5).contains(&lo) {
                continue; // no position (ONSPD writes 99.999999), or not in the UK
            }
            let code = get(pc)?;
            let postcode = Postcode::parse(code).map_err(|e| UnitsError::Line {
                line: n + 1,
                problem: e.to_string(),
            })?;
            if !postcode.is_unit() {
                return Err(UnitsError::Line {
                    line: n + 1,
                    problem: format!("{code:?} is not a full postcode"),
                });
            }
            if let Some(key) = pack(&postcode) {
                map.insert(key, (la as f32, lo as f32));
            }
        }
        Ok(Self { map })
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn get(&self, p: &Postcode) -> Option<(f64, f64)> {
        let key = pack(p)?;
        self.map
            .get(&key)
            .map(|&(la, lo)| (f64::from(la), f64::from(lo)))
    }
}

fn fields(line: &str) -> Vec<&str> {
    line.split(',')
        .map(|f| f.trim().trim_matches('"'))
        .collect()
}

type Centroids = HashMap<&'static str, (f64, f64)>;

fn centroids(csv: &'static str) -> Centroids {
    csv.lines()
        .skip(1)
        .filter_map(|line| {
            let mut f = line.split(',');
            let name = f.next()?;
            let lat = f.next()?.parse().ok()?;
            let lon = f.next()?.parse().ok()?;
            Some((name, (lat, lon)))
        })
        .collect()
}

fn embedded() -> &'static (Centroids, Centroids) {
    static TABLES: OnceLock<(Centroids, Centroids)> = OnceLock::new();
    TABLES.get_or_init(|| (centroids(DISTRICTS), centroids(SECTORS)))
}

/// Places postcodes: units when loaded, else sector and district centroids (embedded).
#[derive(Debug, Default, Clone)]
pub struct Gazetteer {
    units: Units,
}

impl Gazetteer {
    /// The embedded district and sector centroids only.
    pub fn embedded() -> Self {
        Self::default()
    }

    /// The embedded centroids and an operator's unit postcodes.
    pub fn with_units(units: Units) -> Self {
        Self { units }
    }

    /// How many unit postcodes are loaded.
    pub fn unit_count(&self) -> usize {
        self.units.len()
    }

    /// Places a postcode as precisely as the data allow, or `None` when it is not in them
    /// (a well-formed postcode can still not exist, or be in Northern Ireland, which the
    /// embedded data do not cover).
    pub fn locate(&self, postcode: &Postcode) -> Option<Place> {
        let (districts, sectors) = embedded();
        let place = |(lat, lon): (f64, f64), precision| Place {
            lat,
            lon,
            precision,
        };
        if postcode.is_unit() {
            if let Some(p) = self.units.get(postcode) {
                return Some(place(p, Precision::Unit));
            }
        }
        if let Some(sector) = postcode.sector() {
            if let Some(&p) = sectors.get(sector.as_str()) {
                return Some(place(p, Precision::Sector));
            }
        }
        districts
            .get(postcode.district())
            .map(|&p| place(p, Precision::District))
    }

    /// The centre of a district, for saying where a place is ("1.2 km from the centre of
    /// LS8").
    pub fn district_centre(&self, district: &str) -> Option<(f64, f64)> {
        embedded().0.get(district).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pc(s: &str) -> Postcode {
        Postcode::parse(s).unwrap()
    }

    #[test]
    fn normalises_case_and_spacing() {
        assert_eq!(pc("ls85ab").to_string(), "LS8 5AB");
        assert_eq!(pc("  LS8   5AB ").to_string(), "LS8 5AB");
        assert_eq!(pc("w1a1aa").to_string(), "W1A 1AA");
        assert_eq!(pc("EC1A 1BB").to_string(), "EC1A 1BB");
        assert_eq!(pc("m11ae").to_string(), "M1 1AE");
        assert_eq!(pc("LS8").precision(), Precision::District);
        assert_eq!(pc("LS8 5").precision(), Precision::Sector);
        assert_eq!(pc("LS8 5").sector().as_deref(), Some("LS8 5"));
        assert_eq!(pc("B33 8TH").district(), "B33");
    }

    #[test]
    fn refuses_what_is_not_a_postcode() {
        for bad in [
            "",
            "   ",
            "12345",
            "LS",
            "LS8 5AB X",
            "LS8 ABC",
            "L$8 5AB",
            "SW1A1AAA",
        ] {
            assert!(Postcode::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Postcode::parse(&"A".repeat(100)),
            Err(PostcodeError::TooLong)
        );
        assert_eq!(Postcode::parse(" "), Err(PostcodeError::Empty));
    }

    #[test]
    fn locates_by_the_best_precision_held() {
        let g = Gazetteer::embedded();
        let sector = g.locate(&pc("LS8 5AB")).unwrap();
        assert_eq!(sector.precision, Precision::Sector);
        assert!((sector.lat - 53.82).abs() < 0.05 && (sector.lon + 1.51).abs() < 0.05);
        assert_eq!(g.locate(&pc("LS8")).unwrap().precision, Precision::District);
        // LS1 4AP: central Leeds.
        let ls1 = g.locate(&pc("LS1 4AP")).unwrap();
        assert!((ls1.lat - 53.80).abs() < 0.03, "{ls1:?}");
        // Well formed, not in the data: Northern Ireland, and a district that does not exist.
        assert_eq!(g.locate(&pc("BT1 5GS")), None);
        assert_eq!(g.locate(&pc("ZZ99 9ZZ")), None);
    }

    #[test]
    fn loads_unit_postcodes_and_prefers_them() {
        let sample = include_str!("../tests/data/sample_units.csv");
        let units = Units::from_csv(sample).unwrap();
        assert_eq!(units.len(), 10_432);
        let g = Gazetteer::with_units(units);
        let unit = g.locate(&pc("ls6 1aa"));
        let place = g
            .locate(&pc("SW1A 1AA"))
            .expect("Buckingham Palace is in the sample");
        assert_eq!(place.precision, Precision::Unit);
        assert!((place.lat - 51.501).abs() < 0.01 && (place.lon + 0.142).abs() < 0.01);
        assert!(unit.is_some());
    }

    #[test]
    fn reads_the_ons_postcode_directory_layout() {
        let onspd = "pcd,pcd2,pcds,dointr,doterm,lat,long\n\
            \"LS8 5AB\",\"LS8  5AB\",\"LS8 5AB\",198001,,53.8201,-1.5101\n\
            \"LS8 5ZZ\",\"LS8  5ZZ\",\"LS8 5ZZ\",198001,200012,53.82,-1.51\n\
            \"BX1 1LT\",\"BX1  1LT\",\"BX1 1LT\",198001,,99.999999,0.000000\n";
        let units = Units::from_csv(onspd).unwrap();
        assert_eq!(
            units.len(),
            1,
            "terminated and unpositioned rows are left out"
        );
        assert_eq!(
            Units::from_csv("a,b,c\n1,2,3\n").unwrap_err(),
            UnitsError::NoHeader
        );
        assert!(matches!(
            Units::from_csv("postcode,lat,lon\nnonsense,53,-1\n"),
            Err(UnitsError::Line { line: 2, .. })
        ));
    }
}
