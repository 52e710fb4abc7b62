#!/usr/bin/env python3
"""Validates every Open Referral UK endpoint of a running aggregator against the UK profile:
its compiled JSON Schemas (draft 2020-12) and its OpenAPI response schemas.

usage: validate.py AGGREGATOR_URL
Covers the demo data and edge cases: empty results, the last page, listings with and without
a location, schedules, costs, filters, single objects. Exits 1 on the first invalid response.
"""
import copy
import json
import os
import sys
import urllib.parse
import urllib.request

from jsonschema import Draft202012Validator

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema")
REMOTE = "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/"


def load(name):
    with open(os.path.join(HERE, name)) as f:
        return json.load(f)


OPENAPI = load("openapi.json")


def resolve(node):
    """Inlines the profile's remote $refs (to the local copies) and #/components refs."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REMOTE):
            target = load(ref[len(REMOTE):])
            target.pop("$id", None)
            target.pop("$schema", None)
            return resolve(target)
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            return resolve(copy.deepcopy(OPENAPI["components"]["schemas"][ref.split("/")[-1]]))
        return {k: resolve(v) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v) for v in node]
    return node


def openapi_schema(path):
    schema = OPENAPI["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    return resolve(copy.deepcopy(schema))


def validator(schema):
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


checked = 0


def check(base, path, query, api_path, extra=None):
    global checked
    url = base + path + ("?" + urllib.parse.urlencode(query) if query else "")
    with urllib.request.urlopen(url) as r:
        assert r.status == 200, url
        body = json.load(r)
    for name, schema in [("openapi " + api_path, openapi_schema(api_path))] + (extra or []):
        errors = sorted(validator(schema).iter_errors(body), key=lambda e: list(e.path))
        if errors:
            e = errors[0]
            print("INVALID %s against %s: %s at %s" % (url, name, e.message[:300], list(e.path)))
            sys.exit(1)
        checked += 1
    return body


def main(base):
    base = base.rstrip("/")
    service = load("compiled/service.json")
    service_list = load("compiled/service_list.json")
    sal_list = load("compiled/service_at_location_list.json")
    taxonomy = load("taxonomy.json")
    term = load("taxonomy_term.json")
    items = lambda s: [("compiled items", {"type": "object", "properties": {"contents": {"type": "array", "items": s}}})]

    check(base, "/oruk/", None, "/")
    first = check(base, "/oruk/services", {"per_page": 10}, "/services", items(service_list))
    assert first["total_items"] >= 30 and first["first_page"] and not first["empty"], first["total_items"]
    last = check(base, "/oruk/services", {"per_page": 10, "page": first["total_pages"]}, "/services", items(service_list))
    assert last["last_page"] and last["size"] >= 1
    empty = check(base, "/oruk/services", {"search": "zzzz-no-such-group"}, "/services", items(service_list))
    assert empty["empty"] and empty["total_items"] == 0 and empty["size"] == 0
    check(base, "/oruk/services", {"minimal": "true"}, "/services", items(service_list))
    check(base, "/oruk/services", {"text": "cafe", "day": "TU"}, "/services", items(service_list))
    check(base, "/oruk/services", {"minimum_age": 16, "maximum_age": 25}, "/services", items(service_list))
    check(base, "/oruk/services", {"start_time": "17:00", "end_time": "22:00"}, "/services", items(service_list))
    check(base, "/oruk/services", {"modified_after": "2000-01-01T00:00:00Z"}, "/services", items(service_list))
    near = check(base, "/oruk/services", {"postcode": "LS8 5AB", "proximity": 3000}, "/services", items(service_list))
    assert near["total_items"] >= 1, "postcode proximity finds Harehills groups"

    terms = check(base, "/oruk/taxonomy_terms", {"per_page": 1000}, "/taxonomy_terms", items(term))
    taxonomies = check(base, "/oruk/taxonomies", None, "/taxonomies", items(taxonomy))
    for t in taxonomies["contents"]:
        check(base, "/oruk/taxonomies/" + t["id"], None, "/taxonomies/{id}", [("taxonomy.json", taxonomy)])
    by_term = {t["term"]: t for t in terms["contents"]}
    for code in ["esol", "trauma-informed-practice", "accepting-referrals", "free", "torture-survivors"]:
        t = by_term[code]
        check(base, "/oruk/taxonomy_terms/" + t["id"], None, "/taxonomy_terms/{id}", [("taxonomy_term.json", term)])
        page = check(base, "/oruk/services", {"taxonomy_term_id": t["id"]}, "/services", items(service_list))
        assert page["total_items"] >= 1, code
    check(base, "/oruk/services", {"taxonomy_id": taxonomies["contents"][0]["id"]}, "/services", items(service_list))

    # Every service in full: with and without a location, schedules, costs, attributes.
    everything = check(base, "/oruk/services", {"per_page": 1000}, "/services", items(service_list))
    saw_no_location = saw_location = False
    for s in everything["contents"]:
        full = check(base, "/oruk/services/" + s["id"], None, "/services/{id}", [("compiled/service.json", service)])
        assert full["schedules"] and full["cost_options"] and full["attributes"], s["name"]
        assert full["signpost"]["provenance_url"].endswith(full["signpost"]["listing_id"])
        assert full["signpost"]["envelope"]["payloadType"] == "application/vnd.signpost.listing.v1+json"
        codes = {a["taxonomy_term"]["term"] for a in full["attributes"]}
        assert codes & {"accepting-referrals", "not-accepting-referrals", "capacity-unknown"}, codes
        if full["service_at_locations"]:
            saw_location = True
        else:
            saw_no_location = True
    assert saw_location and saw_no_location, "listings with and without a location"

    sal = check(base, "/oruk/service_at_locations", {"per_page": 5}, "/service_at_locations", items(sal_list))
    check(base, "/oruk/service_at_locations/" + sal["contents"][0]["id"], None, "/service_at_locations/{id}", [("compiled/service.json", service)])
    check(base, "/oruk/service_at_locations", {"search": "zzzz"}, "/service_at_locations", items(sal_list))
    print("oruk: %d responses valid against the UK profile's schemas" % checked)


if __name__ == "__main__":
    main(sys.argv[1])
