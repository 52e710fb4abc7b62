//! The group form: what a person typed, kept as typed (so a page with errors shows it back),
//! turned into a [`Group`] with every problem named, and the checks' field paths mapped to
//! the form's fields.

use chrono::Utc;
use signpost_postcodes::{Postcode, Precision};
use signpost_protocol::model::{
    Access, AgeRange, Capacity, Contact, Cost, Frequency, Group, Interpreting, Location,
    OrgIdentifier, Safeguarding, Session, TimeOfDay, Volunteering, Weekday,
};
use signpost_protocol::wire::FieldProblem;

use crate::{check, languages};

/// Sessions shown on a new form (more can be added).
pub const BLANK_SESSIONS: usize = 2;

/// One session row as typed.
#[derive(Debug, Clone, Default)]
pub struct SessionRow {
    pub day: String,
    pub opens: String,
    pub closes: String,
    pub frequency: String,
}

/// A yes/no question and its form name.
pub struct Question {
    pub name: &'static str,
    pub question: &'static str,
    pub hint: &'static str,
}

const fn q(name: &'static str, question: &'static str, hint: &'static str) -> Question {
    Question {
        name,
        question,
        hint,
    }
}

/// The access questions, in the order asked.
pub const ACCESS: &[Question] = &[
    q(
        "self_referral",
        "Can people refer themselves?",
        "Without a GP, Link Worker or other professional",
    ),
    q(
        "gp_registration_required",
        "Must people be registered with a GP?",
        "",
    ),
    q(
        "immigration_status_asked",
        "Does the group ask about immigration status?",
        "",
    ),
    q(
        "no_data_shared_with_authorities",
        "Do you promise not to share people's details with the immigration authorities?",
        "Beyond what safeguarding law requires. This is published as a signed statement.",
    ),
    q("childcare", "Is childcare available?", ""),
    q("travel_paid", "Are travel costs paid or refunded?", ""),
    q("step_free", "Is the venue step-free?", ""),
    q(
        "public_transport",
        "Can people get there on foot or by public transport?",
        "",
    ),
    q(
        "interpreter_outside_community",
        "Can you arrange an interpreter from outside the person's own community, on request?",
        "Some people do not want an interpreter who knows their community",
    ),
];

/// The safeguarding and other yes/no questions.
pub const MORE: &[Question] = &[
    q(
        "written_policy",
        "Does the group have a written safeguarding policy?",
        "",
    ),
    q("designated_lead", "Is there a named safeguarding lead?", ""),
    q(
        "assessment_required",
        "Is there an assessment before someone can join?",
        "",
    ),
    q(
        "volunteering_offered",
        "Can people volunteer with the group?",
        "",
    ),
];

/// The form as typed.
#[derive(Debug, Clone, Default)]
pub struct GroupForm {
    pub name: String,
    pub description: String,
    pub categories: Vec<String>,
    pub online: String,
    pub postcode: String,
    pub address: String,
    pub lat: String,
    pub lon: String,
    pub sessions: Vec<SessionRow>,
    pub languages: Vec<String>,
    pub other_languages: String,
    pub interpreting: String,
    pub free: String,
    pub cost_pounds: String,
    pub cost_details: String,
    /// Yes/no answers by question name ("yes", "no" or "").
    pub answers: Vec<(String, String)>,
    pub accepting: String,
    pub places: String,
    pub weekly_cap: String,
    pub waiting_days: String,
    pub staff_checks: Vec<String>,
    pub capabilities: Vec<String>,
    pub charity_number: String,
    pub skills_development: bool,
    pub expenses_paid: bool,
    pub email: String,
    pub phone: String,
    pub website: String,
    pub referral_instructions: String,
    pub age_min: String,
    pub age_max: String,
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

impl GroupForm {
    /// A blank form.
    pub fn blank() -> Self {
        Self {
            sessions: vec![SessionRow::default(); BLANK_SESSIONS],
            ..Self::default()
        }
    }

    pub fn answer(&self, name: &str) -> &str {
        self.answers
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn set_answer(&mut self, name: &str, value: bool) {
        self.answers.retain(|(k, _)| k != name);
        self.answers.push((name.to_owned(), yes_no(value)));
    }

    /// The form filled from a published group.
    pub fn from_group(g: &Group) -> Self {
        let mut f = Self {
            name: g.name.clone(),
            description: g.description.clone(),
            categories: g.categories.clone(),
            online: yes_no(g.online),
            sessions: g
                .schedule
                .iter()
                .map(|s| SessionRow {
                    day: s.day.as_str().to_owned(),
                    opens: s.opens.to_string(),
                    closes: s.closes.to_string(),
                    frequency: frequency_name(s.frequency).to_owned(),
                })
                .chain(std::iter::once(SessionRow::default()))
                .collect(),
            languages: g
                .languages
                .iter()
                .filter(|t| languages::by_tag(t).is_some())
                .cloned()
                .collect(),
            other_languages: g
                .languages
                .iter()
                .filter(|t| languages::by_tag(t).is_none())
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            interpreting: match g.access.interpreting {
                Interpreting::Professional => "professional",
                Interpreting::Volunteer => "volunteer",
                Interpreting::None => "none",
            }
            .to_owned(),
            free: yes_no(g.access.cost.free),
            cost_pounds: g
                .access
                .cost
                .amount_pence
                .filter(|p| *p > 0)
                .map(|p| format!("{}.{:02}", p / 100, p % 100))
                .unwrap_or_default(),
            cost_details: g.access.cost.details.clone().unwrap_or_default(),
            accepting: yes_no(g.capacity.accepting_referrals),
            places: opt_number(g.capacity.places_available),
            weekly_cap: opt_number(g.capacity.weekly_referral_cap),
            waiting_days: opt_number(g.capacity.waiting_time_days),
            staff_checks: g.safeguarding.staff_checks.clone(),
            capabilities: g.safeguarding.capabilities.clone(),
            charity_number: g
                .safeguarding
                .regulator_ids
                .iter()
                .find(|o| o.scheme == "GB-CHC")
                .map(|o| o.id.clone())
                .unwrap_or_default(),
            skills_development: g.volunteering.skills_development,
            expenses_paid: g.volunteering.expenses_paid,
            email: g.contact.email.clone().unwrap_or_default(),
            phone: g.contact.phone.clone().unwrap_or_default(),
            website: g.contact.website.clone().unwrap_or_default(),
            referral_instructions: g.contact.referral_instructions.clone().unwrap_or_default(),
            age_min: g
                .age_range
                .and_then(|a| a.min)
                .map(|a| a.to_string())
                .unwrap_or_default(),
            age_max: g
                .age_range
                .and_then(|a| a.max)
                .map(|a| a.to_string())
                .unwrap_or_default(),
            ..Self::default()
        };
        if let Some(loc) = &g.location {
            f.postcode = loc.postcode.clone().unwrap_or_default();
            f.address = loc.address.clone().unwrap_or_default();
            f.lat = format!("{}", loc.lat);
            f.lon = format!("{}", loc.lon);
        }
        let a = &g.access;
        for (name, value) in [
            ("self_referral", a.self_referral),
            ("gp_registration_required", a.gp_registration_required),
            ("immigration_status_asked", a.immigration_status_asked),
            (
                "no_data_shared_with_authorities",
                a.no_data_shared_with_authorities,
            ),
            ("childcare", a.childcare),
            ("travel_paid", a.travel_paid),
            ("step_free", a.step_free),
            ("public_transport", a.public_transport),
            (
                "interpreter_outside_community",
                a.interpreter_outside_community,
            ),
            ("written_policy", g.safeguarding.written_policy),
            ("designated_lead", g.safeguarding.designated_lead),
            ("assessment_required", g.capacity.assessment_required),
            ("volunteering_offered", g.volunteering.offered),
        ] {
            f.set_answer(name, value);
        }
        f
    }

    /// The form from a submitted body (`application/x-www-form-urlencoded` pairs). Browsers
    /// send a text area's line breaks as CR LF; a listing keeps them as LF.
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.trim().replace("\r\n", "\n"))
                .unwrap_or_default()
        };
        let all = |k: &str| -> Vec<String> {
            pairs
                .iter()
                .filter(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .collect()
        };
        let mut sessions = Vec::new();
        for i in 0..signpost_protocol::model::limits::SESSIONS + 1 {
            let row = SessionRow {
                day: get(&format!("session-{i}-day")),
                opens: get(&format!("session-{i}-opens")),
                closes: get(&format!("session-{i}-closes")),
                frequency: get(&format!("session-{i}-frequency")),
            };
            if !pairs
                .iter()
                .any(|(n, _)| n.starts_with(&format!("session-{i}-")))
            {
                break;
            }
            sessions.push(row);
        }
        let mut f = Self {
            name: get("name"),
            description: get("description"),
            categories: all("categories"),
            online: get("online"),
            postcode: get("postcode"),
            address: get("address"),
            lat: get("lat"),
            lon: get("lon"),
            sessions,
            languages: all("languages"),
            other_languages: get("other_languages"),
            interpreting: get("interpreting"),
            free: get("free"),
            cost_pounds: get("cost_pounds"),
            cost_details: get("cost_details"),
            accepting: get("accepting"),
            places: get("places"),
            weekly_cap: get("weekly_cap"),
            waiting_days: get("waiting_days"),
            staff_checks: all("staff_checks"),
            capabilities: all("capabilities"),
            charity_number: get("charity_number"),
            skills_development: get("skills_development") == "yes",
            expenses_paid: get("expenses_paid") == "yes",
            email: get("email"),
            phone: get("phone"),
            website: get("website"),
            referral_instructions: get("referral_instructions"),
            age_min: get("age_min"),
            age_max: get("age_max"),
            answers: Vec::new(),
        };
        for question in ACCESS.iter().chain(MORE) {
            let v = get(question.name);
            if v == "yes" || v == "no" {
                f.answers.push((question.name.to_owned(), v));
            }
        }
        f
    }

    /// Adds an empty session row (the "add another session" button).
    pub fn add_session(&mut self) {
        if self.sessions.len() < signpost_protocol::model::limits::SESSIONS {
            self.sessions.push(SessionRow::default());
        }
    }

    /// The group this form describes, or every problem with it (form problems first, then
    /// the checks of [`check::group`], all named by form field). `capacity.updated_at` is a
    /// placeholder: the node sets it.
    pub fn to_group(&self) -> Result<(Group, Option<String>), Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let mut add = |field: &str, code: &str, message: String| {
            problems.push(FieldProblem {
                field: field.to_owned(),
                code: code.to_owned(),
                message,
            })
        };
        let mut bool_of = |name: &str, question: &str, value: &str| -> bool {
            match value {
                "yes" => true,
                "no" => false,
                _ => {
                    add(
                        &format!("{name}-yes"),
                        "required",
                        format!("Answer: {question}"),
                    );
                    false
                }
            }
        };
        let answer = |name: &str| self.answer(name).to_owned();
        fn question_of(name: &str) -> &str {
            ACCESS
                .iter()
                .chain(MORE)
                .find(|q| q.name == name)
                .map_or(name, |q| q.question)
        }
        let mut yes = |name: &str| bool_of(name, question_of(name), &answer(name));
        let self_referral = yes("self_referral");
        let gp = yes("gp_registration_required");
        let status_asked = yes("immigration_status_asked");
        let no_data_shared = yes("no_data_shared_with_authorities");
        let childcare = yes("childcare");
        let travel = yes("travel_paid");
        let step_free = yes("step_free");
        let public_transport = yes("public_transport");
        let outside = yes("interpreter_outside_community");
        let written = yes("written_policy");
        let lead = yes("designated_lead");
        let assessment = yes("assessment_required");
        let volunteering = yes("volunteering_offered");
        let online = bool_of("online", "Does the group meet online?", &self.online);
        let free = bool_of("free", "Is the group free?", &self.free);
        let accepting = bool_of(
            "accepting",
            "Is the group accepting referrals now?",
            &self.accepting,
        );

        let interpreting = match self.interpreting.as_str() {
            "professional" => Interpreting::Professional,
            "volunteer" => Interpreting::Volunteer,
            "none" => Interpreting::None,
            _ => {
                add(
                    "interpreting-professional",
                    "required",
                    "Say what interpreting the group offers".into(),
                );
                Interpreting::None
            }
        };

        let mut number = |field: &str, label: &str, text: &str, max: u32| -> Option<u32> {
            if text.is_empty() {
                return None;
            }
            match text.replace(',', "").parse::<u32>() {
                Ok(n) if n <= max => Some(n),
                _ => {
                    add(
                        field,
                        "invalid_number",
                        format!("{label} must be a whole number from 0 to {max}, like 5"),
                    );
                    None
                }
            }
        };
        let places = number("places", "Places available", &self.places, 100_000);
        let weekly_cap = number("weekly_cap", "Referrals a week", &self.weekly_cap, 100_000);
        let waiting = number(
            "waiting_days",
            "The waiting time",
            &self.waiting_days,
            100_000,
        );
        let age_min = number("age_min", "The youngest age", &self.age_min, 130);
        let age_max = number("age_max", "The oldest age", &self.age_max, 130);
        let amount_pence = if self.cost_pounds.is_empty() {
            None
        } else {
            match parse_pounds(&self.cost_pounds) {
                Some(p) => Some(p),
                None => {
                    add(
                        "cost_pounds",
                        "invalid_number",
                        "The cost must be an amount in pounds, like 2.50".into(),
                    );
                    None
                }
            }
        };
        // Not free at no cost would publish a charge of nothing, shown as no charge when the
        // form is next opened: the volunteer says which they mean.
        if self.free == "no" && amount_pence == Some(0) {
            add(
                "cost_pounds",
                "zero_cost",
                "A session that costs nothing is free: choose Yes for \"Is the group free?\", or enter what a session costs".into(),
            );
        }

        // Where: the postcode places the group unless coordinates are given.
        let mut place_words = None;
        let mut placed_by = None;
        let location = if self.postcode.is_empty() && self.lat.is_empty() && self.lon.is_empty() {
            None
        } else {
            let postcode = if self.postcode.is_empty() {
                None
            } else {
                match Postcode::parse(&self.postcode) {
                    Ok(pc) => Some(pc),
                    Err(_) => {
                        add(
                            "postcode",
                            "invalid_postcode",
                            format!(
                                "Enter a real postcode, like LS8 5AB ({:?} is not one)",
                                self.postcode
                            ),
                        );
                        None
                    }
                }
            };
            let typed =
                |text: &str, what: &str, field: &str, add: &mut dyn FnMut(&str, &str, String)| {
                    if text.is_empty() {
                        return None;
                    }
                    match text.parse::<f64>() {
                        Ok(v) if v.is_finite() => Some(v),
                        _ => {
                            add(
                                field,
                                "invalid_number",
                                format!(
                                    "{what} must be a number in degrees, like {}",
                                    if what == "Latitude" {
                                        "53.8175"
                                    } else {
                                        "-1.5095"
                                    }
                                ),
                            );
                            None
                        }
                    }
                };
            let lat = typed(&self.lat, "Latitude", "lat", &mut add);
            let lon = typed(&self.lon, "Longitude", "lon", &mut add);
            let coordinates = match (lat, lon) {
                (Some(lat), Some(lon)) => Some((lat, lon)),
                (None, None) if self.lat.is_empty() && self.lon.is_empty() => postcode
                    .as_ref()
                    .and_then(|pc| check::gazetteer().locate(pc))
                    .map(|p| {
                        placed_by = Some(p.precision);
                        (p.lat, p.lon)
                    }),
                _ => {
                    if self.lat.is_empty() != self.lon.is_empty() {
                        add(
                            "lat",
                            "required",
                            "Give both latitude and longitude, or neither to use the postcode's"
                                .into(),
                        );
                    }
                    None
                }
            };
            match (coordinates, &postcode) {
                (Some((lat, lon)), pc) => {
                    if let Some(pc) = pc {
                        let how = match placed_by {
                            Some(Precision::Unit) => "placed at the postcode itself, ".to_owned(),
                            Some(Precision::Sector) => format!(
                                "placed at the centre of postcode sector {}, ",
                                pc.sector().unwrap_or_default()
                            ),
                            Some(Precision::District) => {
                                format!("placed at the centre of district {}, ", pc.district())
                            }
                            None => String::new(),
                        };
                        place_words = check::describe_place(lat, lon, pc)
                            .map(|words| format!("{how}{words}"));
                    }
                    Some(Location {
                        lat,
                        lon,
                        address: (!self.address.is_empty()).then(|| self.address.clone()),
                        postcode: pc.as_ref().map(ToString::to_string),
                    })
                }
                (None, Some(pc)) if self.lat.is_empty() && self.lon.is_empty() => {
                    add(
                        "postcode",
                        "unknown_postcode",
                        format!(
                            "We cannot find postcode {pc}; check it, or give the latitude and longitude"
                        ),
                    );
                    None
                }
                _ => None,
            }
        };

        let mut schedule = Vec::new();
        for (i, row) in self.sessions.iter().enumerate() {
            if row.day.is_empty() && row.opens.is_empty() && row.closes.is_empty() {
                continue;
            }
            let n = i + 1;
            let day = row.day.parse::<Weekday>().ok();
            if day.is_none() {
                add(
                    &format!("session-{i}-day"),
                    "required",
                    format!("Session {n}: choose the day"),
                );
            }
            let mut time = |text: &str, which: &str, field: String| {
                let parsed = text.parse::<TimeOfDay>().ok().or_else(|| {
                    // "1830" or "18.30" are meant as 18:30.
                    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
                    (digits.len() == 4 && text.len() <= 5)
                        .then(|| format!("{}:{}", &digits[..2], &digits[2..]).parse().ok())
                        .flatten()
                });
                if parsed.is_none() {
                    add(
                        &field,
                        "invalid_time",
                        format!("Session {n}: {which} time must be like 18:30 (24-hour clock)"),
                    );
                }
                parsed
            };
            let opens = time(&row.opens, "the opening", format!("session-{i}-opens"));
            let closes = time(&row.closes, "the closing", format!("session-{i}-closes"));
            let frequency = match row.frequency.as_str() {
                "fortnightly" => Frequency::Fortnightly,
                "monthly" => Frequency::Monthly,
                _ => Frequency::Weekly,
            };
            if let (Some(day), Some(opens), Some(closes)) = (day, opens, closes) {
                schedule.push((
                    i,
                    Session {
                        day,
                        opens,
                        closes,
                        frequency,
                    },
                ));
            }
        }

        // Languages: ticked by name, and any others typed as names or codes, each kept in
        // its canonical form (so a group saved unchanged keeps the tags it had).
        let mut tags: Vec<String> = Vec::new();
        for tag in self.languages.iter().map(|t| language_tag(t)) {
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        for typed in self
            .other_languages
            .split([',', ';', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let tag =
                languages::by_name(typed).map_or_else(|| language_tag(typed), |l| l.tag.to_owned());
            if let Some(problem) = check::language_problem(&tag) {
                add("other_languages", "invalid_language", problem);
            } else if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        tags.retain(|t| check::language_problem(t).is_none());

        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        let regulator_ids = opt(&self.charity_number)
            .map(|id| {
                vec![OrgIdentifier {
                    scheme: "GB-CHC".into(),
                    id,
                }]
            })
            .unwrap_or_default();
        let group = Group {
            name: self.name.clone(),
            description: self.description.clone(),
            categories: self.categories.clone(),
            location,
            online,
            schedule: schedule.iter().map(|(_, s)| s.clone()).collect(),
            languages: tags,
            access: Access {
                interpreting,
                interpreter_outside_community: outside,
                cost: Cost {
                    free,
                    amount_pence: if free { None } else { amount_pence },
                    details: opt(&self.cost_details),
                },
                travel_paid: travel,
                childcare,
                step_free,
                public_transport,
                self_referral,
                gp_registration_required: gp,
                immigration_status_asked: status_asked,
                no_data_shared_with_authorities: no_data_shared,
            },
            capacity: Capacity {
                accepting_referrals: accepting,
                places_available: places,
                weekly_referral_cap: weekly_cap,
                waiting_time_days: waiting,
                assessment_required: assessment,
                updated_at: Utc::now(),
            },
            safeguarding: Safeguarding {
                written_policy: written,
                designated_lead: lead,
                staff_checks: self.staff_checks.clone(),
                capabilities: self.capabilities.clone(),
                regulator_ids,
            },
            volunteering: Volunteering {
                offered: volunteering,
                skills_development: volunteering && self.skills_development,
                expenses_paid: volunteering && self.expenses_paid,
            },
            contact: Contact {
                email: opt(&self.email),
                phone: opt(&self.phone),
                website: opt(&self.website),
                referral_instructions: opt(&self.referral_instructions),
            },
            age_range: (age_min.is_some() || age_max.is_some()).then(|| AgeRange {
                min: age_min.and_then(|a| u8::try_from(a).ok()),
                max: age_max.and_then(|a| u8::try_from(a).ok()),
            }),
        };
        // The shared checks, named by form field; a field already reported by the form
        // (a time that did not parse, say) is not reported twice.
        let session_rows: Vec<usize> = schedule.iter().map(|(i, _)| *i).collect();
        for p in check::group(&group) {
            let field = form_field(&p.field, &session_rows);
            if p.code == "required" && field == "languages" && !self.other_languages.is_empty() {
                continue;
            }
            if !problems.iter().any(|q| q.field == field) {
                problems.push(FieldProblem { field, ..p });
            }
        }
        if problems.is_empty() {
            Ok((group, place_words))
        } else {
            Err(problems)
        }
    }
}

fn opt_number(n: Option<u32>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

fn frequency_name(f: Frequency) -> &'static str {
    match f {
        Frequency::Weekly => "weekly",
        Frequency::Fortnightly => "fortnightly",
        Frequency::Monthly => "monthly",
    }
}

/// A language code as published: canonical where it parses (`in` -> `id`, `EN` -> `en`),
/// else as typed (for the checks to name).
fn language_tag(typed: &str) -> String {
    language_tags::LanguageTag::parse(typed.trim()).map_or_else(
        |_| typed.to_owned(),
        |t| {
            t.canonicalize()
                .map_or_else(|_| t.to_string(), |c| c.to_string())
        },
    )
}

/// "2.50", "£2.50", "2" -> pence.
fn parse_pounds(text: &str) -> Option<u32> {
    let t = text.trim().trim_start_matches('£').trim();
    let (pounds, pence) = t.split_once('.').unwrap_or((t, "0"));
    let pounds: u32 = pounds.parse().ok()?;
    let pence: u32 = match pence.len() {
        1 => pence.parse::<u32>().ok()? * 10,
        2 => pence.parse().ok()?,
        _ => return None,
    };
    pounds.checked_mul(100)?.checked_add(pence)
}

/// The form's fields in the order the page shows them (a session row's fields are
/// `session-{row}-day|opens|closes`, at `session-`). The error summary lists problems in
/// this order, as the page reads (a browser test holds the two to each other).
const PAGE_ORDER: &[&str] = &[
    "name",
    "description",
    "categories",
    "online-yes",
    "postcode",
    "address",
    "lat",
    "lon",
    "session-",
    "languages",
    "other_languages",
    "interpreting-professional",
    "free-yes",
    "cost_pounds",
    "cost_details",
    "self_referral-yes",
    "gp_registration_required-yes",
    "immigration_status_asked-yes",
    "no_data_shared_with_authorities-yes",
    "childcare-yes",
    "travel_paid-yes",
    "step_free-yes",
    "public_transport-yes",
    "interpreter_outside_community-yes",
    "age_min",
    "age_max",
    "accepting-yes",
    "places",
    "weekly_cap",
    "waiting_days",
    "written_policy-yes",
    "designated_lead-yes",
    "assessment_required-yes",
    "volunteering_offered-yes",
    "skills_development",
    "expenses_paid",
    "staff_checks",
    "capabilities",
    "charity_number",
    "email",
    "phone",
    "website",
    "referral_instructions",
];

/// Sorts problems into the order of the page's fields (GOV.UK's error summary pattern: the
/// summary reads as the page does); a field the list does not know keeps its place after.
pub fn in_page_order(problems: &mut [FieldProblem]) {
    problems.sort_by_cached_key(|p| {
        if let Some(rest) = p.field.strip_prefix("session-") {
            let (row, part) = rest.split_once('-').unwrap_or((rest, ""));
            let part = ["day", "opens", "closes"]
                .iter()
                .position(|x| *x == part)
                .unwrap_or(3);
            let at = PAGE_ORDER.iter().position(|f| *f == "session-");
            return (
                at.unwrap_or(usize::MAX),
                row.parse().unwrap_or(usize::MAX),
                part,
            );
        }
        let at = PAGE_ORDER.iter().position(|f| *f == p.field);
        (at.unwrap_or(usize::MAX), 0, 0)
    });
}

/// The form field a check's JSON path belongs to (the error summary links to it).
pub fn form_field(path: &str, session_rows: &[usize]) -> String {
    let path = path.strip_prefix("group.").unwrap_or(path);
    let head = path.split(['.', '[']).next().unwrap_or(path);
    let field = match (head, path) {
        ("schedule", p) => {
            let idx: Option<usize> = p
                .strip_prefix("schedule[")
                .and_then(|r| r.split(']').next())
                .and_then(|n| n.parse().ok());
            let row = idx.and_then(|i| session_rows.get(i)).copied().unwrap_or(0);
            let part = if p.ends_with("opens") {
                "opens"
            } else if p.ends_with("closes") {
                "closes"
            } else {
                "day"
            };
            return format!("session-{row}-{part}");
        }
        ("location", p) if p.ends_with("postcode") || p == "location" => "postcode",
        ("location", p) if p.ends_with("address") => "address",
        ("location", p) if p.ends_with("lon") => "lon",
        ("location", _) => "lat",
        ("languages", _) => "languages",
        ("categories", _) => "categories",
        ("access", p) if p.starts_with("access.cost.details") => "cost_details",
        ("access", p) if p.starts_with("access.cost") => "cost_pounds",
        ("access", p) if p.starts_with("access.interpreting") => "interpreting-professional",
        ("access", p) => {
            let name = p.rsplit('.').next().unwrap_or("");
            return format!("{name}-yes");
        }
        ("capacity", p) if p.ends_with("places_available") => "places",
        ("capacity", p) if p.ends_with("weekly_referral_cap") => "weekly_cap",
        ("capacity", p) if p.ends_with("waiting_time_days") => "waiting_days",
        ("capacity", _) => "accepting-yes",
        ("safeguarding", p) if p.contains("staff_checks") => "staff_checks",
        ("safeguarding", p) if p.contains("capabilities") => "capabilities",
        ("safeguarding", p) if p.contains("regulator_ids") => "charity_number",
        ("safeguarding", _) => "written_policy-yes",
        ("contact", "contact") => "email",
        ("contact", p) if p.ends_with("phone") => "phone",
        ("contact", p) if p.ends_with("website") => "website",
        ("contact", p) if p.ends_with("referral_instructions") => "referral_instructions",
        ("contact", _) => "email",
        ("age_range", p) if p.ends_with("max") => "age_max",
        ("age_range", _) => "age_min",
        ("online", _) => "online-yes",
        ("volunteering", _) => "volunteering_offered-yes",
        (other, _) => other,
    };
    field.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_published_group_round_trips_through_the_form() {
        for seed in 0..40 {
            let g = signpost_protocol::sample::group(seed, seed as usize, Utc::now());
            let (back, _) = GroupForm::from_group(&g)
                .to_group()
                .unwrap_or_else(|p| panic!("seed {seed}: {p:?}"));
            let mut expected = g.clone();
            expected.capacity.updated_at = back.capacity.updated_at;
            expected
                .safeguarding
                .regulator_ids
                .retain(|o| o.scheme == "GB-CHC");
            expected.safeguarding.regulator_ids.truncate(1);
            // The form asks about volunteers' skills and expenses only when volunteering
            // is offered.
            let v = &mut expected.volunteering;
            v.skills_development &= v.offered;
            v.expenses_paid &= v.offered;
            if let (Some(a), Some(b)) = (&expected.location, &back.location) {
                assert!((a.lat - b.lat).abs() < 1e-9 && (a.lon - b.lon).abs() < 1e-9);
            }
            expected.location = back.location.clone();
            // Languages ticked by name come first, then those typed.
            let mut back = back;
            back.languages.sort();
            expected.languages.sort();
            assert_eq!(back, expected, "seed {seed}");
        }
    }

    #[test]
    fn a_text_areas_line_breaks_are_published_as_line_feeds() {
        let sent = "Tea and talk.\r\nBeginners welcome.\r\n";
        let pairs = [("description".to_owned(), sent.to_owned())];
        assert_eq!(
            GroupForm::from_pairs(&pairs).description,
            "Tea and talk.\nBeginners welcome."
        );
        let mut f = GroupForm::from_group(&signpost_protocol::sample::group(1, 1, Utc::now()));
        f.description = GroupForm::from_pairs(&pairs).description;
        let (g, _) = f.to_group().unwrap();
        assert_eq!(g.description, "Tea and talk.\nBeginners welcome.");
    }

    #[test]
    fn an_empty_form_names_every_missing_answer() {
        let problems = GroupForm::blank().to_group().unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        for f in [
            "name",
            "categories",
            "postcode",
            "languages",
            "self_referral-yes",
            "free-yes",
            "accepting-yes",
            "interpreting-professional",
        ] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }

    #[test]
    fn the_postcode_places_the_group_and_says_where() {
        let mut f = GroupForm::from_group(&signpost_protocol::sample::group(1, 1, Utc::now()));
        f.postcode = "ls8 5ab".into();
        f.lat.clear();
        f.lon.clear();
        let (g, words) = f.to_group().unwrap();
        let loc = g.location.unwrap();
        assert_eq!(loc.postcode.as_deref(), Some("LS8 5AB"));
        assert!((loc.lat - 53.82).abs() < 0.05);
        assert!(words.unwrap().contains("from the centre of LS8"));
    }

    #[test]
    fn languages_by_name_and_pounds_are_understood() {
        let mut f = GroupForm::from_group(&signpost_protocol::sample::group(1, 1, Utc::now()));
        f.languages = vec!["en".into()];
        f.other_languages = "العربية, Tigrinya, fa-AF".into();
        f.free = "no".into();
        f.cost_pounds = "£2.50".into();
        let (g, _) = f.to_group().unwrap();
        assert_eq!(g.languages, vec!["en", "ar", "ti", "fa-AF"]);
        assert_eq!(g.access.cost.amount_pence, Some(250));
        f.other_languages = "arabicc".into();
        let problems = f.to_group().unwrap_err();
        assert_eq!(problems[0].field, "other_languages");
    }

    #[test]
    fn language_codes_are_published_in_their_canonical_form_however_they_came() {
        let mut f = GroupForm::from_group(&signpost_protocol::sample::group(1, 1, Utc::now()));
        f.languages = vec!["EN".into(), "in".into(), "en".into()];
        f.other_languages = "iw, Arabic".into();
        let (g, _) = f.to_group().unwrap();
        assert_eq!(g.languages, vec!["en", "id", "he", "ar"]);
        let (again, _) = GroupForm::from_group(&g).to_group().unwrap();
        let (mut a, mut b) = (again.languages, g.languages);
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }

    #[test]
    fn a_charge_of_nothing_is_asked_about_not_published() {
        let mut f = GroupForm::from_group(&signpost_protocol::sample::group(1, 1, Utc::now()));
        f.free = "no".into();
        for typed in ["0", "0.00", "£0", "£0.0"] {
            f.cost_pounds = typed.into();
            let problems = f.to_group().unwrap_err();
            assert_eq!(problems.len(), 1, "{typed}: {problems:?}");
            assert_eq!(problems[0].field, "cost_pounds");
            assert_eq!(problems[0].code, "zero_cost");
            assert!(
                problems[0].message.contains("free"),
                "{}",
                problems[0].message
            );
        }
        // Free, the amount is not asked for; not free, an amount is kept as given, and none
        // is kept when the cost is put in words.
        f.free = "yes".into();
        assert_eq!(f.to_group().unwrap().0.access.cost.amount_pence, None);
        f.free = "no".into();
        f.cost_pounds = String::new();
        f.cost_details = "Pay what you can".into();
        assert_eq!(f.to_group().unwrap().0.access.cost.amount_pence, None);
        f.cost_pounds = "0.01".into();
        assert_eq!(f.to_group().unwrap().0.access.cost.amount_pence, Some(1));
    }
}
