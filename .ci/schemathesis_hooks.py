"""Schemathesis generators for the rules a JSON schema cannot state (loaded by
.ci/schemathesis with SCHEMATHESIS_HOOKS).

The node's OpenAPI document says what a listing may hold; some of its rules are about the
world or about several fields together: a language tag must be registered with IANA, a
postcode must exist and the coordinates be near it, a group accepting referrals cannot have
0 places, self-referral needs a way to make contact, an attestation must be signed by its
issuer. Schemathesis's advice for such rules is to extend its generators: these draw
registered tags and real postcodes, and make positive cases consistent, so its data are
mostly accepted and exercise the publishing path. The directory's searches likewise get
words, ids and tags it knows and one real place (a blank one is none), so that their positive
cases are answered, not refused. Negative cases are left as generated.
"""

import itertools
import json
import os
import re
import urllib.request

import schemathesis
from hypothesis import strategies as st
from schemathesis.core.parameters import ParameterLocation

# Registered BCP 47 tags, as people use them.
LANGUAGE_TAGS = ["en", "ar", "fa", "fa-AF", "prs", "ps", "ur", "ku", "ckb", "kmr", "ti", "am", "so",
                 "sw", "fr", "pt", "es", "pl", "ro", "bg", "ru", "uk", "sq", "tr", "zh-Hant", "yue",
                 "cmn", "bn", "pa", "gu", "hi", "ta", "ne", "vi", "ar-SY", "ln", "om", "cy",
                 "de", "it", "nl", "el", "he", "hu", "cs", "sk", "hr", "sr", "bs", "mk", "lt",
                 "lv", "ka", "hy", "az", "kk", "uz", "tg", "mn", "ja", "ko", "th", "id", "ms",
                 "tl", "my", "km", "si", "ml", "te", "kn", "mr"]
# Real postcodes with their sector centroids (OS Code-Point Open, as embedded).
POSTCODES = {
    "LS8 5AB": (53.8229, -1.5092),
    "LS9 7AA": (53.8036, -1.5214),
    "BD3 9AA": (53.7954, -1.7263),
    "M1 1AE": (53.4814, -2.2374),
    "B33 8TH": (52.4838, -1.7906),
}
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f]")

schemathesis.openapi.format("bcp47", st.sampled_from(LANGUAGE_TAGS))
schemathesis.openapi.format("uk-postcode", st.sampled_from(sorted(POSTCODES)))


def _admin(path, body=None):
    node, token = os.environ.get("SIGNPOST_NODE"), os.environ.get("SIGNPOST_TOKEN")
    if not node or not token:
        return None
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    req = urllib.request.Request(node + path, data=data, headers=headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


_LISTING_IDS = []
_ATTESTATIONS = []
# Hypothesis seeds Python's random module for every example it draws, so a random choice in
# a hook can come out the same every time: choices here come from a counter instead.
_TURN = itertools.count()


def pick(items):
    return items[next(_TURN) % len(items)]


def listing_ids():
    """Ids of listings the node has now. Generated DELETEs withdraw listings during the run
    (after_call forgets the ids then); when none is left, the schema's own Group example,
    which the node accepts as it is, is published so that updates still reach a listing."""
    if not _LISTING_IDS:
        found = [l["id"] for l in (_admin("/admin/listings") or [])]
        if not found and os.environ.get("SIGNPOST_NODE"):
            example = _admin("/openapi.json")["components"]["schemas"]["Group"]["examples"][0]
            found = [_admin("/admin/listings", example)["listing"]["id"]]
        _LISTING_IDS.extend(found)
    return _LISTING_IDS


def attestations():
    if not _ATTESTATIONS and os.environ.get("SIGNPOST_ATTESTATIONS"):
        with open(os.environ["SIGNPOST_ATTESTATIONS"]) as f:
            _ATTESTATIONS.extend(json.load(f))
    return _ATTESTATIONS


def _text(value, fallback):
    """Text without control characters, and not blank."""
    if not isinstance(value, str):
        return value
    cleaned = CONTROL.sub("", value)
    return cleaned if cleaned.strip() else fallback


def _unique(items):
    out = []
    for x in items:
        if x not in out:
            out.append(x)
    return out


def _whole_numbers(value):
    """JSON Schema's integers include 2.0; the node reads counts as whole numbers only."""
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _group(g):
    if not isinstance(g, dict):
        return
    for key in ("capacity", "age_range", "access"):
        if key in g:
            g[key] = _whole_numbers(g[key])
    for key, fallback in [("name", "Conversation Café"), ("description", "Tea and talk.")]:
        if key in g:
            g[key] = _text(g[key], fallback)
    loc = g.get("location")
    if isinstance(loc, dict):
        pc = loc.get("postcode")
        if isinstance(pc, str) and pc in POSTCODES:
            loc["lat"], loc["lon"] = POSTCODES[pc]
        if "address" in loc:
            loc["address"] = _text(loc["address"], "Community Hall")
    elif loc is None and not g.get("online"):
        g["online"] = True
    # Lists of ids and tags are sets: the node refuses a repeat.
    for key in ("categories", "languages"):
        if isinstance(g.get(key), list):
            g[key] = _unique(g[key])
    if isinstance(g.get("languages"), list) and not g["languages"]:
        g["languages"] = ["en"]
    for s in g.get("schedule") or []:
        if isinstance(s, dict) and isinstance(s.get("opens"), str) and isinstance(s.get("closes"), str):
            if s["closes"] <= s["opens"]:
                s["opens"], s["closes"] = "10:00", "12:00"
    access = g.get("access")
    if isinstance(access, dict):
        cost = access.get("cost")
        if isinstance(cost, dict):
            if "details" in cost:
                cost["details"] = _text(cost["details"], "Pay what you can")
            if cost.get("free") is True:
                cost.pop("amount_pence", None)
            elif cost.get("free") is False and not cost.get("amount_pence") and not cost.get("details"):
                cost["amount_pence"] = 250
        if access.get("self_referral") is True:
            contact = g.setdefault("contact", {})
            if isinstance(contact, dict) and not any(contact.get(k) for k in ("email", "phone", "website")):
                contact["email"] = "hello@example.org"
    contact = g.get("contact")
    if isinstance(contact, dict):
        phone = contact.get("phone")
        if isinstance(phone, str) and not 7 <= sum(c.isdigit() for c in phone) <= 15:
            contact["phone"] = "0113 496 0000"
        email = contact.get("email")
        if isinstance(email, str) and not re.fullmatch(r"[^@\s]+@[^@\s.][^@\s]*\.[^@\s]*[^@\s.]", email):
            contact["email"] = "hello@example.org"
        site = contact.get("website")
        if isinstance(site, str) and (len(site) < 10 or re.search(r"\s", site)):
            contact["website"] = "https://example.org"
        if "referral_instructions" in contact:
            contact["referral_instructions"] = _text(contact["referral_instructions"], "Email us.")
    _capacity(g.get("capacity"))
    age = g.get("age_range")
    if isinstance(age, dict) and isinstance(age.get("min"), int) and isinstance(age.get("max"), int):
        if age["min"] > age["max"]:
            age["min"], age["max"] = age["max"], age["min"]
    safeguarding = g.get("safeguarding")
    if isinstance(safeguarding, dict):
        for key in ("capabilities", "staff_checks"):
            if isinstance(safeguarding.get(key), list):
                safeguarding[key] = _unique(safeguarding[key])
        for i, o in enumerate(safeguarding.get("regulator_ids") or []):
            if isinstance(o, dict):
                o["scheme"] = _text(o.get("scheme"), "GB-CHC")
                o["id"] = _text(o.get("id"), str(1100000 + i))


def _capacity(c):
    if not isinstance(c, dict):
        return
    for k, v in list(c.items()):
        c[k] = _whole_numbers(v)
    places = c.get("places_available")
    # A patch is checked with the listing it changes: places given without saying whether
    # the group is open could contradict what the listing says now, so say it.
    if "accepting_referrals" not in c and isinstance(places, int):
        c["accepting_referrals"] = places > 0
    if c.get("accepting_referrals") is True and places == 0:
        c["places_available"] = 1
    if c.get("accepting_referrals") is False and isinstance(places, int) and places > 0:
        c["places_available"] = 0


def _listed(path, ids):
    """Reads a list of the directory's and gives the path parameters of each item in it."""
    def read():
        base = os.environ.get("SIGNPOST_DIRECTORY")
        if not base:
            return []
        with urllib.request.urlopen(base + path, timeout=10) as resp:
            return ids(json.loads(resp.read()))
    return read


def _asking():
    """The node that .ci/schemathesis has asked the directory to list."""
    node = os.environ.get("SIGNPOST_ASKING")
    return [{"node": node}] if node else []


def _contents(d):
    return [{"id": x["id"]} for x in d["contents"]]


# The directory's operations on one thing, each with where its identifiers come from:
# without them, generated identifiers only ever reach the 404.
_DIRECTORY_SOURCES = {
    "/v1/groups/{node}/{id}": _listed(
        "/v1/groups?per_page=100", lambda d: [{"node": g["node"], "id": g["id"]} for g in d["contents"]]),
    "/v1/issuers/{did}/attestations": _listed("/v1/issuers", lambda d: [{"did": i["id"]} for i in d]),
    "/oruk/services/{id}": _listed("/oruk/services?per_page=100", _contents),
    "/oruk/service_at_locations/{id}": _listed("/oruk/service_at_locations?per_page=100", _contents),
    "/oruk/taxonomies/{id}": _listed("/oruk/taxonomies", _contents),
    "/oruk/taxonomy_terms/{id}": _listed("/oruk/taxonomy_terms?per_page=100", _contents),
    "/admin/enrolments/{node}/approve": _asking,
    "/admin/enrolments/{node}/decline": _asking,
}
_DIRECTORY_IDS = {}


_TAXONOMY = {}


def taxonomy(kind):
    """The directory's ids of one kind (categories, safeguarding_capabilities, achievements)."""
    if not _TAXONOMY and os.environ.get("SIGNPOST_DIRECTORY"):
        _TAXONOMY.update({k: [t["id"] for t in v] for k, v in _listed("/v1/taxonomy", lambda d: d)().items()})
    return _TAXONOMY.get(kind) or []


# The directory's search words: letters and digits, two or more of them.
WORDS = re.compile(r"[^\W_]{2,}")


def _ids(value, kind):
    """A comma-separated list the directory knows: each generated id it does not is swapped
    for one it does."""
    if not isinstance(value, str) or not value:
        return value
    known = taxonomy(kind)
    if not known:
        return value
    return ",".join(i if i in known else pick(known) for i in value.split(","))


def _words(q, key):
    """Words to search by, as the directory reads them: at least one of two letters or more,
    at most ten different, in at most 200 characters."""
    text = q.get(key)
    if isinstance(text, str) and text and (len(text) > 200
                                           or not 0 < len(set(WORDS.findall(text.lower()))) <= 10):
        q[key] = pick(["welcome", "café", "women", "walking group"])


def _oruk_query(q):
    """Likewise for Open Referral UK's searches: a distance only around a real postcode."""
    for key in ("search", "text"):
        _words(q, key)
    if "postcode" in q or "proximity" in q:
        q["postcode"] = pick(sorted(POSTCODES))


def _group_query(q):
    """A search's parameters made consistent, as a person's would be: words to search by,
    ids and tags the directory knows, a real postcode or coordinates on the Earth (not both),
    and a radius only around a place."""
    _words(q, "text")
    for key, kind in (("category", "categories"), ("safeguarding", "safeguarding_capabilities")):
        if key in q:
            q[key] = _ids(q[key], kind)
    if q.get("verified_training"):
        q["verified_training"] = _ids(q["verified_training"], "achievements").split(",")[0]
    if isinstance(q.get("language"), str) and q["language"]:
        q["language"] = ",".join(t if t in LANGUAGE_TAGS else pick(LANGUAGE_TAGS)
                                 for t in q["language"].split(","))
    if "near" in q and "postcode" in q:
        del q[pick(["near", "postcode"])]
    if "postcode" in q:
        q["postcode"] = pick(sorted(POSTCODES))
    if "near" in q:
        lat, lon = pick(sorted(POSTCODES.values()))
        q["near"] = f"{lat},{lon}"
    if "radius_km" in q and "near" not in q and "postcode" not in q:
        del q["radius_km"]


def directory_ids(path):
    if path not in _DIRECTORY_IDS:
        _DIRECTORY_IDS[path] = _DIRECTORY_SOURCES[path]()
    return _DIRECTORY_IDS[path]


@schemathesis.hook
def map_case(ctx, case):
    if case.meta is None or case.meta.generation.mode.is_negative:
        return case
    if any(case.meta.is_negative_at(loc) for loc in (ParameterLocation.BODY, ParameterLocation.PATH)):
        return case
    op = ctx.operation
    path, method = op.path, op.method.upper()
    if isinstance(case.query, dict) and not case.meta.is_negative_at(ParameterLocation.QUERY):
        if path == "/v1/groups" and method == "GET":
            _group_query(case.query)
        elif path in ("/oruk/services", "/oruk/service_at_locations"):
            _oruk_query(case.query)
    if path in ("/admin/listings", "/admin/listings/{id}") and method in ("POST", "PUT"):
        _group(case.body)
    elif path == "/admin/listings/{id}/capacity":
        _capacity(case.body)
    elif path == "/admin/attestations" and attestations():
        case.body = pick(attestations())
    # Four cases in five address a listing that exists; the fifth keeps its generated id.
    if "{id}" in path and method in ("PUT", "PATCH") and listing_ids() and next(_TURN) % 5:
        case.path_parameters = {**(case.path_parameters or {}), "id": pick(listing_ids())}
    # Likewise, four in five of the directory's reads of one thing name one it holds, and
    # of the operator's approvals and declines the node that asked.
    if path in _DIRECTORY_SOURCES and directory_ids(path) and next(_TURN) % 5:
        case.path_parameters = {**(case.path_parameters or {}), **pick(directory_ids(path))}
    return case


@schemathesis.hook
def after_call(ctx, case, response):
    # SIGNPOST_ST_TALLY names a file that gets a line for each call (operation, phase,
    # positive or negative, status): how far each operation's positive cases are from all
    # refused, which the check in .ci/schemathesis fails on.
    if tally := os.environ.get("SIGNPOST_ST_TALLY"):
        negative = case.meta is not None and case.meta.generation.mode.is_negative
        phase = case.meta.phase.name.value if case.meta is not None else "explicit"
        with open(tally, "a") as out:
            out.write(f"{case.method.upper()} {ctx.operation.path}\t{phase}\t"
                      f"{'negative' if negative else 'positive'}\t{response.status_code}\n")
    # A generated DELETE can withdraw one of the listings updates are sent to.
    if case.method.upper() == "DELETE" and response.status_code == 204:
        _LISTING_IDS.clear()
