//! What a charity publishes is checked here, once, for the pages and the admin API alike:
//! every problem at once, each naming its field in plain words and saying what is expected.
//!
//! These rules are stricter than the protocol's (which every verifier applies to any node):
//! they catch the mistakes a person makes when writing a listing: a language written as a
//! word, swapped coordinates, a place outside the UK or far from its postcode, accepting
//! referrals with no places, self-referral with no way to make contact.

use std::sync::LazyLock;

use signpost_postcodes::{Gazetteer, Postcode, Precision};
use signpost_protocol::model::{limits, Group, Location};
use signpost_protocol::query::Point;
use signpost_protocol::taxonomy::{self, Term};
use signpost_protocol::wire::FieldProblem;

use crate::languages;

/// The UK, generously (Scilly to Shetland, Northern Ireland to Lowestoft).
pub const UK_LAT: (f64, f64) = (49.8, 60.95);
pub const UK_LON: (f64, f64) = (-8.7, 1.8);

static GAZETTEER: LazyLock<Gazetteer> = LazyLock::new(Gazetteer::embedded);

/// The embedded postcode centroids.
pub fn gazetteer() -> &'static Gazetteer {
    &GAZETTEER
}

/// How far coordinates may be from their postcode's centroid before they are questioned.
fn tolerance_km(precision: Precision) -> f64 {
    match precision {
        Precision::Unit => 2.0,
        Precision::Sector => 6.0,
        Precision::District => 20.0,
    }
}

#[derive(Default)]
struct Problems(Vec<FieldProblem>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, code: &str, message: impl Into<String>) {
        self.0.push(FieldProblem {
            field: field.into(),
            code: code.to_owned(),
            message: message.into(),
        });
    }

    fn text(&mut self, field: &str, label: &str, value: &str, max: usize, required: bool) {
        if required && value.trim().is_empty() {
            self.add(field, "required", format!("Enter {label}"));
        } else if value.chars().count() > max {
            self.add(
                field,
                "too_long",
                format!(
                    "{} must be {max} characters or fewer (it has {})",
                    capitalise(label),
                    value.chars().count()
                ),
            );
        } else if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            self.add(
                field,
                "control_characters",
                format!(
                    "{} contains invisible control characters; type it again",
                    capitalise(label)
                ),
            );
        }
    }

    fn vocabulary(&mut self, field: &str, what: &str, ids: &[String], vocab: &[Term], max: usize) {
        if ids.len() > max {
            self.add(
                field,
                "too_many",
                format!("Choose at most {max} {what} (there are {})", ids.len()),
            );
        }
        for (i, id) in ids.iter().enumerate() {
            if !taxonomy::contains(vocab, id) {
                self.add(
                    format!("{field}[{i}]"),
                    "not_in_list",
                    format!("{id:?} is not one of the published {what}; choose from the list"),
                );
            } else if ids[..i].contains(id) {
                self.add(
                    format!("{field}[{i}]"),
                    "duplicate",
                    format!("{} is chosen twice", label_of(vocab, id)),
                );
            }
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn label_of(vocab: &[Term], id: &str) -> String {
    vocab
        .iter()
        .find(|t| t.id == id)
        .map_or_else(|| id.to_owned(), |t| t.label.to_owned())
}

/// Checks one group as a charity would publish it. Empty when it can be published.
pub fn group(g: &Group) -> Vec<FieldProblem> {
    let mut p = Problems::default();
    p.text(
        "group.name",
        "the group's name",
        &g.name,
        limits::NAME,
        true,
    );
    p.text(
        "group.description",
        "the description",
        &g.description,
        limits::DESCRIPTION,
        false,
    );
    if g.categories.is_empty() {
        p.add(
            "group.categories",
            "required",
            "Choose at least one kind of group",
        );
    }
    p.vocabulary(
        "group.categories",
        "kinds of group",
        &g.categories,
        taxonomy::CATEGORIES,
        limits::CATEGORIES,
    );
    match &g.location {
        Some(loc) => location(&mut p, loc),
        None if !g.online => p.add(
            "group.location",
            "required",
            "Give the postcode where the group meets, or say that it meets online",
        ),
        None => {}
    }
    if g.schedule.len() > limits::SESSIONS {
        p.add(
            "group.schedule",
            "too_many",
            format!("Give at most {} sessions", limits::SESSIONS),
        );
    }
    for (i, s) in g.schedule.iter().enumerate() {
        if s.closes <= s.opens {
            p.add(
                format!("group.schedule[{i}].closes"),
                "closes_before_opens",
                format!(
                    "Session {}: the closing time must be later than the opening time ({})",
                    i + 1,
                    s.opens
                ),
            );
        }
    }
    languages_spoken(&mut p, &g.languages);
    access(&mut p, g);
    capacity(&mut p, g);
    safeguarding(&mut p, g);
    contact(&mut p, g);
    if let Some(age) = &g.age_range {
        if age.min.is_some_and(|a| a > 130) || age.max.is_some_and(|a| a > 130) {
            p.add(
                "group.age_range",
                "out_of_range",
                "Ages must be between 0 and 130",
            );
        } else if let (Some(min), Some(max)) = (age.min, age.max) {
            if min > max {
                p.add(
                    "group.age_range.max",
                    "contradiction",
                    format!("The oldest age ({max}) must not be below the youngest ({min})"),
                );
            }
        }
    }
    // The protocol's own rules, as a backstop: anything they refuse that the rules above
    // missed is still reported, in the protocol's words.
    if p.0.is_empty() {
        if let Err(e) = g.validate() {
            p.add(e.field, "invalid", capitalise(&e.problem));
        }
    }
    p.0
}

fn location(p: &mut Problems, loc: &Location) {
    let (lat, lon) = (loc.lat, loc.lon);
    let in_uk = |lat: f64, lon: f64| {
        (UK_LAT.0..=UK_LAT.1).contains(&lat) && (UK_LON.0..=UK_LON.1).contains(&lon)
    };
    let coordinates_ok = if !lat.is_finite() || !lon.is_finite() {
        p.add(
            "group.location.lat",
            "invalid_number",
            "Latitude and longitude must be numbers, like 53.8175 and -1.5095",
        );
        false
    } else if in_uk(lat, lon) {
        true
    } else if in_uk(lon, lat) {
        p.add(
            "group.location.lat",
            "swapped_coordinates",
            format!(
                "Latitude and longitude look swapped: in the UK latitude is about 50 to 61 and \
                 longitude about -8 to 2 (you gave latitude {lat}, longitude {lon})"
            ),
        );
        false
    } else {
        p.add(
            "group.location.lat",
            "outside_uk",
            format!(
                "The place must be in the UK: latitude {lat}, longitude {lon} is not \
                 (UK latitudes are about 50 to 61, longitudes about -8 to 2)"
            ),
        );
        false
    };
    if let Some(address) = &loc.address {
        p.text(
            "group.location.address",
            "the address",
            address,
            limits::SHORT_TEXT,
            true,
        );
    }
    let Some(raw) = &loc.postcode else { return };
    match Postcode::parse(raw) {
        Err(_) => p.add(
            "group.location.postcode",
            "invalid_postcode",
            format!("{raw:?} is not a UK postcode; enter one like LS8 5AB"),
        ),
        Ok(pc) if pc.to_string() != *raw => p.add(
            "group.location.postcode",
            "postcode_format",
            format!("Write the postcode as {pc}"),
        ),
        Ok(pc) => match GAZETTEER.locate(&pc) {
            // Northern Ireland's postcodes are not in the embedded data: nothing to compare.
            None if pc.district().starts_with("BT") => {}
            None => p.add(
                "group.location.postcode",
                "unknown_postcode",
                format!("We cannot find postcode {pc}; check it"),
            ),
            Some(place) if coordinates_ok => {
                let km = Point { lat, lon }.distance_km(&Point {
                    lat: place.lat,
                    lon: place.lon,
                });
                if km > tolerance_km(place.precision) {
                    p.add(
                        "group.location.lat",
                        "far_from_postcode",
                        format!(
                            "The coordinates are {km:.0} km from postcode {pc}; check them, or \
                             leave them empty to use the postcode's"
                        ),
                    );
                }
            }
            Some(_) => {}
        },
    }
}

fn languages_spoken(p: &mut Problems, tags: &[String]) {
    if tags.is_empty() {
        p.add(
            "group.languages",
            "required",
            "Choose at least one language spoken in the group",
        );
    }
    if tags.len() > limits::LANGUAGES {
        p.add(
            "group.languages",
            "too_many",
            format!("Choose at most {} languages", limits::LANGUAGES),
        );
    }
    for (i, tag) in tags.iter().enumerate() {
        let field = format!("group.languages[{i}]");
        if let Some(message) = language_problem(tag) {
            p.add(field, "invalid_language", message);
        } else if tags[..i].contains(tag) {
            p.add(
                field,
                "duplicate",
                format!("{} is chosen twice", languages::describe(tag)),
            );
        }
    }
}

/// Why a language tag cannot be published, in words, or `None` when it can.
pub fn language_problem(tag: &str) -> Option<String> {
    use signpost_protocol::languages::TagProblem;
    Some(match languages::tag_problem(tag)? {
        TagProblem::Name(l) => format!(
            "{tag:?} is a language's name, not its code: use {} for {}",
            l.tag, l.english
        ),
        TagProblem::NotWellFormed => format!(
            "{tag:?} is not a language code; choose the language from the list, or give its \
             code, like ar for Arabic or fa-AF for Dari"
        ),
        TagProblem::NotRegistered => format!(
            "{tag:?} is not a registered language code; choose the language from the list, or \
             give its code, like ar for Arabic"
        ),
        TagProblem::NotCanonical(canonical) => {
            format!("Write {tag:?} as {canonical} (language codes have a fixed case)")
        }
    })
}

fn access(p: &mut Problems, g: &Group) {
    let a = &g.access;
    if let Some(details) = &a.cost.details {
        p.text(
            "group.access.cost.details",
            "the cost details",
            details,
            limits::SHORT_TEXT,
            true,
        );
    }
    if a.cost.amount_pence.is_some_and(|p| p > 1_000_000) {
        p.add(
            "group.access.cost.amount_pence",
            "out_of_range",
            "The charge must be £10,000 a session or less (it is in pence: 250 is £2.50)",
        );
    }
    match (a.cost.free, a.cost.amount_pence) {
        (true, Some(pence)) if pence > 0 => p.add(
            "group.access.cost.amount_pence",
            "contradiction",
            "The group is free, so it cannot also have a charge: remove the charge or say it is not free",
        ),
        (false, None | Some(0)) if a.cost.details.is_none() => p.add(
            "group.access.cost.amount_pence",
            "required",
            "Say how much a session costs, or that the group is free",
        ),
        _ => {}
    }
}

fn capacity(p: &mut Problems, g: &Group) {
    let c = &g.capacity;
    for (field, label, value) in [
        ("places_available", "Places available", c.places_available),
        (
            "weekly_referral_cap",
            "Referrals a week",
            c.weekly_referral_cap,
        ),
        ("waiting_time_days", "The waiting time", c.waiting_time_days),
    ] {
        if value.is_some_and(|v| v > 100_000) {
            p.add(
                format!("group.capacity.{field}"),
                "out_of_range",
                format!("{label} must be 100,000 or fewer"),
            );
        }
    }
    match (c.accepting_referrals, c.places_available) {
        (true, Some(0)) => p.add(
            "group.capacity.places_available",
            "contradiction",
            "The group cannot accept referrals with 0 places: give the places free, or say it is full",
        ),
        (false, Some(n)) if n > 0 => p.add(
            "group.capacity.places_available",
            "contradiction",
            format!(
                "The group is full but has {n} places: say it is accepting referrals, or clear the places"
            ),
        ),
        _ => {}
    }
}

fn safeguarding(p: &mut Problems, g: &Group) {
    let s = &g.safeguarding;
    p.vocabulary(
        "group.safeguarding.staff_checks",
        "staff checks",
        &s.staff_checks,
        taxonomy::STAFF_CHECKS,
        limits::CAPABILITIES,
    );
    p.vocabulary(
        "group.safeguarding.capabilities",
        "safeguarding capabilities",
        &s.capabilities,
        taxonomy::SAFEGUARDING_CAPABILITIES,
        limits::CAPABILITIES,
    );
    if s.regulator_ids.len() > limits::IDENTIFIERS {
        p.add(
            "group.safeguarding.regulator_ids",
            "too_many",
            format!("Give at most {} register entries", limits::IDENTIFIERS),
        );
    }
    for (i, id) in s.regulator_ids.iter().enumerate() {
        let field = format!("group.safeguarding.regulator_ids[{i}]");
        p.text(
            &format!("{field}.scheme"),
            "the register",
            &id.scheme,
            32,
            true,
        );
        p.text(
            &format!("{field}.id"),
            "the register number",
            &id.id,
            64,
            true,
        );
    }
}

fn contact(p: &mut Problems, g: &Group) {
    let c = &g.contact;
    if let Some(email) = &c.email {
        let valid = email.len() <= 254
            && !email.contains(char::is_whitespace)
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            });
        if !valid {
            p.add(
                "group.contact.email",
                "invalid_email",
                "Enter an email address like name@example.org",
            );
        }
    }
    if let Some(phone) = &c.phone {
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        if phone.chars().count() > 32
            || !phone
                .chars()
                .all(|ch| ch.is_ascii_digit() || " +()-".contains(ch))
            || !(7..=15).contains(&digits)
        {
            p.add(
                "group.contact.phone",
                "invalid_phone",
                "Enter a phone number like 0113 496 0000 or +44 113 496 0000",
            );
        }
    }
    if let Some(site) = &c.website {
        // As the schema's pattern says: http(s)://, a host name with a dot, no spaces.
        let rest = site
            .strip_prefix("https://")
            .or_else(|| site.strip_prefix("http://"));
        let host = rest.map(|r| r.split('/').next().unwrap_or(""));
        if site.len() > limits::URL
            || site.contains(|c: char| c.is_whitespace() || c.is_control())
            || !host.is_some_and(|h| h.contains('.') && !h.starts_with('.'))
        {
            p.add(
                "group.contact.website",
                "invalid_url",
                "Enter the website's full address, starting https://",
            );
        }
    }
    if let Some(text) = &c.referral_instructions {
        p.text(
            "group.contact.referral_instructions",
            "how to refer",
            text,
            limits::SHORT_TEXT,
            true,
        );
    }
    let reachable = c.email.is_some() || c.phone.is_some() || c.website.is_some();
    if g.access.self_referral && !reachable {
        p.add(
            "group.contact",
            "needs_contact",
            "People can refer themselves, so give an email address, phone number or website they can use",
        );
    }
}

/// Where a postcode is, in words: "about 1.2 km from the centre of LS8".
pub fn describe_place(lat: f64, lon: f64, postcode: &Postcode) -> Option<String> {
    let (clat, clon) = GAZETTEER.district_centre(postcode.district())?;
    let km = Point { lat, lon }.distance_km(&Point {
        lat: clat,
        lon: clon,
    });
    Some(if km < 0.1 {
        format!("at the centre of {}", postcode.district())
    } else {
        format!(
            "about {km:.1} km from the centre of {}",
            postcode.district()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn sample() -> Group {
        signpost_protocol::sample::group(1, 1, Utc::now())
    }

    fn codes(g: &Group) -> Vec<(String, String)> {
        group(g).into_iter().map(|p| (p.field, p.code)).collect()
    }

    #[test]
    fn sample_groups_pass() {
        for seed in 0..200 {
            let g = signpost_protocol::sample::group(seed, seed as usize, Utc::now());
            assert_eq!(group(&g), vec![], "seed {seed}: {g:?}");
        }
    }

    #[test]
    fn every_mistake_from_the_first_try_is_caught_at_once() {
        let mut g = sample();
        g.languages = vec!["arabic".into(), "AR".into()];
        if let Some(loc) = &mut g.location {
            std::mem::swap(&mut loc.lat, &mut loc.lon);
        }
        g.access.self_referral = true;
        g.contact = Default::default();
        g.capacity.accepting_referrals = true;
        g.capacity.places_available = Some(0);
        g.schedule[0].closes = g.schedule[0].opens;
        let found = codes(&g);
        for expected in [
            ("group.languages[0]", "invalid_language"),
            ("group.languages[1]", "invalid_language"),
            ("group.location.lat", "swapped_coordinates"),
            ("group.contact", "needs_contact"),
            ("group.capacity.places_available", "contradiction"),
            ("group.schedule[0].closes", "closes_before_opens"),
        ] {
            assert!(
                found.contains(&(expected.0.to_owned(), expected.1.to_owned())),
                "{expected:?} missing from {found:?}"
            );
        }
        let messages: Vec<String> = group(&g).into_iter().map(|p| p.message).collect();
        assert!(messages.iter().any(|m| m.contains("use ar for Arabic")));
        assert!(messages.iter().any(|m| m.contains("Write \"AR\" as ar")));
    }

    #[test]
    fn control_characters_are_named_in_the_checks_own_words() {
        let mut g = sample();
        g.name = "Tea\rand talk".into();
        g.description = "Tea and talk.\nBeginners welcome.\tAll ages.".into();
        g.contact.website = Some("https://example.org/\u{7}".into());
        let found = codes(&g);
        assert_eq!(
            found,
            vec![
                ("group.name".to_owned(), "control_characters".to_owned()),
                ("group.contact.website".to_owned(), "invalid_url".to_owned()),
            ]
        );
    }

    #[test]
    fn places_far_from_their_postcode_or_outside_the_uk_are_questioned() {
        let mut g = sample();
        g.location = Some(Location {
            lat: 51.5,
            lon: -0.12,
            address: None,
            postcode: Some("LS8 5AB".into()),
        });
        assert_eq!(
            codes(&g),
            vec![("group.location.lat".into(), "far_from_postcode".into())]
        );
        g.location = Some(Location {
            lat: 48.85,
            lon: 2.35,
            address: None,
            postcode: None,
        });
        assert_eq!(
            codes(&g),
            vec![("group.location.lat".into(), "outside_uk".into())]
        );
        g.location = Some(Location {
            lat: 53.82,
            lon: -1.51,
            address: None,
            postcode: Some("ls85ab".into()),
        });
        assert_eq!(
            codes(&g),
            vec![("group.location.postcode".into(), "postcode_format".into())]
        );
    }

    #[test]
    fn full_with_places_and_free_with_a_charge_are_contradictions() {
        let mut g = sample();
        g.capacity.accepting_referrals = false;
        g.capacity.places_available = Some(3);
        g.access.cost.free = true;
        g.access.cost.amount_pence = Some(250);
        let found = codes(&g);
        assert!(found.contains(&(
            "group.capacity.places_available".into(),
            "contradiction".into()
        )));
        assert!(found.contains(&(
            "group.access.cost.amount_pence".into(),
            "contradiction".into()
        )));
    }

    #[test]
    fn places_are_described_from_their_district() {
        let pc = Postcode::parse("LS8 5AB").unwrap();
        let place = GAZETTEER.locate(&pc).unwrap();
        let words = describe_place(place.lat, place.lon, &pc).unwrap();
        assert!(words.contains("km from the centre of LS8"), "{words}");
    }
}
