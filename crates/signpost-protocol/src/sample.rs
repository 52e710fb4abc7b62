//! Realistic, fictional sample groups for the demo, the tests and the benchmark.
//!
//! Deterministic: the same seed gives the same group. Places are real towns and
//! neighbourhoods of West Yorkshire; every organisation, group, person and contact detail is
//! invented.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::model::{
    Access, AgeRange, Attestation, Capacity, Contact, Cost, Frequency, Group, Interpreting,
    Listing, Location, ManifestEntry, OrgIdentifier, Safeguarding, Session, Snapshot, TimeOfDay,
    Volunteering, Weekday,
};
use crate::{DidKey, EnvelopeDigest, Verified};

/// Ways a person or a program might write a day, accepted and not (for the tests that hold
/// a documented pattern to the parser that reads it).
pub const DAY_SPELLINGS: &[&str] = &[
    "mon",
    "MON",
    "Mon",
    "monday",
    "MONDAY",
    "Monday",
    "mond",
    "tue",
    "tues",
    "tuesday",
    "wed",
    "wednes",
    "wednesday",
    "thu",
    "thur",
    "thurs",
    "thursday",
    "fri",
    "friday",
    "sat",
    "satur",
    "saturday",
    "sun",
    "sunday",
    "sundays",
    "",
    "m",
    " mon",
    "mon ",
    "xmon",
    "1",
];

/// A place groups meet in: name, postcode district, latitude, longitude.
pub const PLACES: &[(&str, &str, f64, f64)] = &[
    ("Leeds city centre", "LS1", 53.7997, -1.5492),
    ("Harehills", "LS8", 53.8144, -1.5150),
    ("Chapeltown", "LS7", 53.8230, -1.5300),
    ("Beeston", "LS11", 53.7740, -1.5640),
    ("Armley", "LS12", 53.7990, -1.5950),
    ("Bradford city centre", "BD1", 53.7938, -1.7520),
    ("Manningham", "BD8", 53.8040, -1.7700),
    ("Little Horton", "BD5", 53.7800, -1.7620),
    ("Keighley", "BD21", 53.8676, -1.9110),
    ("Huddersfield", "HD1", 53.6458, -1.7850),
    ("Dewsbury", "WF13", 53.6910, -1.6330),
    ("Wakefield", "WF1", 53.6830, -1.4990),
    ("Halifax", "HX1", 53.7248, -1.8658),
    ("Hebden Bridge", "HX7", 53.7418, -2.0130),
    ("Batley", "WF17", 53.7150, -1.6330),
    ("Pudsey", "LS28", 53.7960, -1.6630),
];

struct Kind {
    title: &'static str,
    categories: &'static [&'static str],
    blurb: &'static str,
}

const KINDS: &[Kind] = &[
    Kind { title: "Conversation Café", categories: &["conversation-cafe", "refugee-support"], blurb: "Tea, cake and easy conversation in English with volunteers. Come as you are; all levels welcome." },
    Kind { title: "ESOL Entry Level", categories: &["esol"], blurb: "Friendly English classes for beginners (Entry 1 to 3), with a free crèche during term time." },
    Kind { title: "Women's Circle", categories: &["womens-group", "peer-support"], blurb: "A safe, women-only space to meet, share food, make crafts and talk. Female interpreters available." },
    Kind { title: "Walking Group", categories: &["walking", "mental-wellbeing"], blurb: "Gentle led walks of about an hour on flat paths, finishing with a hot drink." },
    Kind { title: "Community Garden", categories: &["gardening", "volunteering"], blurb: "Grow vegetables and herbs together; no experience needed, tools and gloves provided." },
    Kind { title: "Refugee Peer Support", categories: &["peer-support", "refugee-support"], blurb: "Meet others who have been through the asylum system, led by people with lived experience." },
    Kind { title: "Lunch Club", categories: &["lunch-club", "older-people"], blurb: "A hot two-course lunch and company; halal and vegetarian options every week." },
    Kind { title: "Men's Shed", categories: &["mens-group", "arts-crafts"], blurb: "Woodwork, repairs and a brew in a workshop where men can talk side by side." },
    Kind { title: "Family Stay and Play", categories: &["parents-children"], blurb: "Play sessions for under-fives with their parents and carers; advice workers drop in." },
    Kind { title: "Community Choir", categories: &["music-singing", "mental-wellbeing"], blurb: "Sing songs from around the world; no auditions and no need to read music." },
    Kind { title: "Cook and Share", categories: &["cooking", "lunch-club"], blurb: "Cook a dish from someone's home country each week, then eat together." },
    Kind { title: "Digital Drop-in", categories: &["digital-skills", "advice"], blurb: "Help with phones, email, online forms and video calls home." },
    Kind { title: "Football for All", categories: &["sport-exercise", "youth"], blurb: "Casual five-a-side for all abilities; boots and bibs provided." },
    Kind { title: "Wellbeing Group", categories: &["mental-wellbeing", "peer-support"], blurb: "A calm group to talk about stress, sleep and settling in, with a trained facilitator." },
];

const ORG_WORDS: &[&str] = &[
    "Welcome",
    "Sanctuary",
    "Together",
    "Open Doors",
    "Common Ground",
    "Bridges",
    "Neighbours",
    "Kindred",
];

/// Languages groups commonly offer here (BCP 47).
pub const LANGUAGES: &[&str] = &[
    "ar", "fa", "ps", "ku", "ti", "so", "ur", "pa", "pl", "ro", "uk", "fr", "es", "ckb", "am",
    "zh-Hans",
];

/// A small deterministic generator (SplitMix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    /// Uniform in [-1, 1].
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() % 2_000_001) as f64 / 1_000_000.0 - 1.0
    }
}

/// A node's listing of `group`, version 1, issued `now` and current for a week.
pub fn listing(node: DidKey, id: Uuid, group: Group, now: DateTime<Utc>) -> Listing {
    Listing {
        node,
        id,
        version: 1,
        issued_at: now,
        expires_at: now + Duration::days(7),
        group,
    }
}

/// A trauma-informed practice attestation from `issuer` about `subject`, valid from a day
/// before `now` for a year.
pub fn training_attestation(
    issuer: DidKey,
    subject: DidKey,
    serial: impl Into<String>,
    now: DateTime<Utc>,
) -> Attestation {
    Attestation {
        issuer,
        subject,
        achievement: "trauma-informed-practice".into(),
        level: None,
        valid_from: now - Duration::days(1),
        valid_until: now + Duration::days(365),
        serial: serial.into(),
    }
}

/// A node's first snapshot, naming `listings` and the attestations with these digests,
/// issued `now` and current for a week.
pub fn first_snapshot(
    node: DidKey,
    listings: &[Verified<Listing>],
    attestations: Vec<EnvelopeDigest>,
    now: DateTime<Utc>,
) -> Snapshot {
    Snapshot {
        node,
        seq: 1,
        prev: None,
        issued_at: now,
        expires_at: now + Duration::days(7),
        listings: listings.iter().map(ManifestEntry::from).collect(),
        attestations,
    }
}

/// The name of a fictional organisation based in `place`.
pub fn organisation_name(seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let (place, ..) = rng.pick(PLACES);
    let place = place.trim_end_matches(" city centre");
    format!("{} {}", place, rng.pick(ORG_WORDS))
}

/// The kinds of group the generator knows, by title.
pub fn kinds() -> impl Iterator<Item = &'static str> {
    KINDS.iter().map(|k| k.title)
}

/// A realistic group; `home` is an index into [`PLACES`] (groups cluster around it).
pub fn group(seed: u64, home: usize, now: DateTime<Utc>) -> Group {
    let kind = Rng::new(seed).below(KINDS.len());
    group_of_kind(seed, kind, home, now)
}

/// A realistic group of kind `kind` (an index into [`kinds`]).
pub fn group_of_kind(seed: u64, kind: usize, home: usize, now: DateTime<Utc>) -> Group {
    let mut rng = Rng::new(seed);
    let _ = rng.next_u64();
    let kind = &KINDS[kind % KINDS.len()];
    let (place, district, lat, lon) = PLACES[home % PLACES.len()];
    let place_short = place.trim_end_matches(" city centre");
    // Within about 4 km of the place's centre.
    let lat = lat + rng.unit() * 0.035;
    let lon = lon + rng.unit() * 0.055;
    let day = *rng.pick(&Weekday::ALL);
    let start = [
        9 * 60 + 30,
        10 * 60,
        13 * 60,
        14 * 60,
        17 * 60 + 30,
        18 * 60,
        18 * 60 + 30,
    ][rng.below(7)];
    let length = [90, 120, 150][rng.below(3)];
    let session = |d: Weekday, s: u16| Session {
        day: d,
        opens: TimeOfDay::clamped(s),
        closes: TimeOfDay::clamped(s + length),
        frequency: if rng_fortnightly(seed) {
            Frequency::Fortnightly
        } else {
            Frequency::Weekly
        },
    };
    let mut schedule = vec![session(day, start)];
    if rng.chance(30) {
        let other =
            Weekday::ALL[(Weekday::ALL.iter().position(|d| *d == day).unwrap_or(0) + 2) % 7];
        schedule.push(session(other, start));
    }
    let mut languages = vec!["en".to_owned()];
    for _ in 0..rng.below(4) {
        let l = rng.pick(LANGUAGES).to_string();
        if !languages.contains(&l) {
            languages.push(l);
        }
    }
    let accepting = rng.chance(75);
    let capabilities: Vec<String> = [
        "trafficking-survivors",
        "torture-survivors",
        "gender-based-violence",
        "domestic-abuse",
        "adults-at-risk",
        "mental-health-crisis",
    ]
    .iter()
    .filter(|_| rng.chance(25))
    .map(|s| s.to_string())
    .collect();
    let designated_lead = rng.chance(80);
    let free = rng.chance(85);
    let updated_days_ago = [0, 1, 2, 3, 6, 9, 13, 20, 40][rng.below(9)];
    let women_only = kind.categories.contains(&"womens-group");
    let charity_number = 1_100_000 + (seed % 99_999);
    Group {
        name: format!("{place_short} {}", kind.title),
        description: format!("{} Meets in {place_short}.", kind.blurb),
        categories: kind.categories.iter().map(|c| c.to_string()).collect(),
        location: Some(Location {
            lat: (lat * 1e5).round() / 1e5,
            lon: (lon * 1e5).round() / 1e5,
            address: Some(format!("{} Community Centre, {place_short}", ["St Mary's", "Oak Lane", "Victoria", "Northfield", "Mill Street"][rng.below(5)])),
            postcode: Some(format!("{district} {}{}", 1 + rng.below(9), ["AB", "DE", "HJ", "NP", "QR", "TW"][rng.below(6)])),
        }),
        online: rng.chance(10),
        schedule,
        languages,
        access: Access {
            interpreting: *rng.pick(&[Interpreting::Professional, Interpreting::Volunteer, Interpreting::Volunteer, Interpreting::None]),
            interpreter_outside_community: rng.chance(40),
            cost: Cost {
                free,
                amount_pence: if free { None } else { Some([100, 150, 200, 300][rng.below(4)]) },
                details: if free { None } else { Some("Pay what you can; nobody is turned away".into()) },
            },
            travel_paid: rng.chance(35),
            childcare: women_only || rng.chance(25),
            step_free: rng.chance(70),
            public_transport: rng.chance(90),
            self_referral: rng.chance(70),
            gp_registration_required: rng.chance(10),
            immigration_status_asked: rng.chance(8),
            no_data_shared_with_authorities: rng.chance(85),
        },
        capacity: Capacity {
            accepting_referrals: accepting,
            places_available: if accepting { Some(rng.below(15) as u32 + 1) } else { Some(0) },
            weekly_referral_cap: if rng.chance(60) { Some([2, 3, 5, 8][rng.below(4)]) } else { None },
            waiting_time_days: if rng.chance(50) { Some([0, 7, 14, 28][rng.below(4)]) } else { None },
            assessment_required: rng.chance(20),
            updated_at: now - chrono::Duration::days(updated_days_ago),
        },
        safeguarding: Safeguarding {
            written_policy: rng.chance(90),
            designated_lead,
            staff_checks: if designated_lead { vec!["enhanced-dbs".into(), "references".into()] } else { vec!["references".into()] },
            capabilities,
            regulator_ids: vec![OrgIdentifier { scheme: "GB-CHC".into(), id: charity_number.to_string() }],
        },
        volunteering: Volunteering { offered: rng.chance(50), skills_development: rng.chance(40), expenses_paid: rng.chance(30) },
        contact: Contact {
            email: Some(format!("hello+{}@example.org", seed % 10_000)),
            phone: Some(format!("0113 496 {:04}", seed % 10_000)),
            website: None,
            referral_instructions: Some("Email us the person's first name, language and a safe contact number; we reply within two working days.".into()),
        },
        age_range: if kind.categories.contains(&"youth") {
            Some(AgeRange { min: Some(16), max: Some(25) })
        } else {
            Some(AgeRange { min: Some(18), max: None })
        },
    }
}

fn rng_fortnightly(seed: u64) -> bool {
    Rng::new(seed.rotate_left(17)).chance(15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_valid_varied_and_deterministic() {
        let now = Utc::now();
        let mut names = std::collections::HashSet::new();
        for seed in 0..500 {
            let g = group(seed, seed as usize, now);
            g.validate().unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            names.insert(g.name.clone());
        }
        assert!(names.len() > 100, "{} distinct names", names.len());
        assert_eq!(group(7, 3, now), group(7, 3, now));
    }
}
