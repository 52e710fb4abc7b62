"""The charity's own pages on a node, in a real browser (Debian's Chromium, Playwright,
axe-core), against the demo federation: a volunteer signs in from the printed link, publishes
a group with every fact on a phone-sized screen, sees it verified in the real aggregator,
marks it full and re-opens it, re-confirms, edits, deletes, imports an attestation, and
every mistake is listed at once. The same flows run with JavaScript off.

Throttling locks out the test's own address for a minute, so that test runs last.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest
from conftest import BIN, api

AXE = os.environ.get("AXE", "")
SHOTS = os.environ.get("SCREENSHOTS", "target/screenshots")
PASSPHRASE = "blue kettle on the windowsill"
# Not the postcode the finder's tests search for (they check it is stored nowhere).
POSTCODE = "LS9 7AA"
HERE = os.path.dirname(os.path.abspath(__file__))


def run_axe(pg, what):
    if not AXE:
        return
    pg.add_script_tag(path=AXE)
    result = pg.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    violations = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]
    assert violations == [], f"{what}: {violations}"


def shot(pg, name):
    os.makedirs(SHOTS, exist_ok=True)
    pg.screenshot(path=f"{SHOTS}/node-{name}.png", full_page=True)


def no_sideways_scroll(pg, width):
    scroll = pg.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"no sideways scrolling at {width} px ({scroll})"


def sign_in(pg, demo, secret):
    pg.goto(demo["node"] + "/manage/sign-in")
    pg.fill("#secret", secret)
    pg.click("button.primary")
    pg.wait_for_load_state()


def new_context(browser, width=1280, js=True):
    # axe-core is added as a script tag: the pages' CSP would (rightly) refuse it.
    return browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=js,
                               bypass_csp=True)


@pytest.fixture()
def signed_in(browser, demo):
    """A phone-sized browser signed in with the admin token."""
    ctx = new_context(browser, 320)
    pg = ctx.new_page()
    sign_in(pg, demo, demo["admin_token"])
    assert pg.url.endswith("/manage"), pg.url
    yield pg
    ctx.close()


def directory_group(demo, name, timeout=20):
    """The directory's result for the group named `name`, once crawled (push makes it quick)."""
    q = urllib.parse.urlencode({"text": name, "per_page": 5})
    deadline = time.time() + timeout
    while time.time() < deadline:
        for r in api(demo["base"], f"/v1/groups?{q}")["contents"]:
            if r["listing"]["group"]["name"] == name:
                return r
        time.sleep(0.3)
    return None


def wait_for(demo, name, check, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = directory_group(demo, name, timeout=2)
        if r is not None and check(r):
            return r
        time.sleep(0.3)
    raise AssertionError(f"the directory never showed {name} as expected")


def fill_every_field(pg, name):
    pg.fill("#name", name)
    # Two lines, as a volunteer types them: the browser sends the line break as CR LF.
    pg.fill("#description", "Practise everyday English over tea.\nBeginners welcome.")
    pg.check("#categories-conversation-cafe")
    pg.check("#categories-esol")
    pg.check("#online-no")
    pg.fill("#postcode", POSTCODE)
    pg.fill("#address", "St Aidan's Hall, 1 Example Road")
    pg.select_option("#session-0-day", "tue")
    pg.fill("#session-0-opens", "18:30")
    pg.fill("#session-0-closes", "20:00")
    pg.select_option("#session-1-day", "sat")
    pg.fill("#session-1-opens", "10:00")
    pg.fill("#session-1-closes", "12:00")
    pg.select_option("#session-1-frequency", "fortnightly")
    pg.check("#languages-en")
    pg.check("#languages-ar")
    pg.fill("#other_languages", "Tigrinya, fa-AF")
    pg.check("#interpreting-volunteer")
    pg.check("#free-yes")
    pg.fill("#cost_details", "Tea and biscuits free")
    for q, a in [("self_referral", "yes"), ("gp_registration_required", "no"),
                 ("immigration_status_asked", "no"), ("no_data_shared_with_authorities", "yes"),
                 ("childcare", "yes"), ("travel_paid", "yes"), ("step_free", "yes"),
                 ("public_transport", "yes"), ("interpreter_outside_community", "yes"),
                 ("accepting", "yes"), ("assessment_required", "no"),
                 ("written_policy", "yes"), ("designated_lead", "yes"),
                 ("volunteering_offered", "yes")]:
        pg.check(f"#{q}-{a}")
    pg.fill("#age_min", "16")
    pg.fill("#age_max", "99")
    pg.fill("#places", "6")
    pg.fill("#weekly_cap", "3")
    pg.fill("#waiting_days", "7")
    pg.check("#skills_development")
    pg.check("#staff_checks-enhanced-dbs")
    pg.check("#capabilities-trafficking-survivors")
    pg.fill("#charity_number", "1234567")
    pg.fill("#email", "hello@example.org")
    pg.fill("#phone", "0113 496 0000")
    pg.fill("#website", "https://example.org/cafe")
    pg.fill("#referral_instructions", "Email us the person's first name and a number.")


def test_first_sign_in_from_the_printed_link_then_a_passphrase(browser, demo):
    ctx = new_context(browser, 320)
    pg = ctx.new_page()
    pg.goto(demo["sign_in_link"])
    run_axe(pg, "one-time sign-in")
    pg.click("button.primary")
    pg.wait_for_load_state()
    assert "/manage/status" in pg.url
    assert "Set a passphrase now" in pg.inner_text(".notice")
    cookie = [c for c in ctx.cookies() if c["name"] == "signpost-session"][0]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    # A passphrase too short, and two that differ, are refused in words.
    pg.fill("#passphrase-new", "short")
    pg.fill("#passphrase_again", "short")
    pg.click("form[action='/manage/status/passphrase'] button")
    assert "at least 12 characters" in pg.inner_text(".error-summary")
    assert pg.title().startswith("Error: Node status"), pg.title()
    pg.fill("#passphrase-new", PASSPHRASE)
    pg.fill("#passphrase_again", PASSPHRASE)
    pg.click("form[action='/manage/status/passphrase'] button")
    assert "Your passphrase is set" in pg.inner_text(".notice")
    assert pg.title().startswith("Node status"), pg.title()
    run_axe(pg, "status")
    shot(pg, "status-320")
    no_sideways_scroll(pg, 320)
    # The link works once only.
    other = ctx.new_page()
    other.goto(demo["sign_in_link"])
    other.click("button.primary")
    assert "has been used or has expired" in other.inner_text(".error-summary")
    # Sign out, and the passphrase signs in.
    pg.click("text=Sign out")
    assert "/manage/sign-in" in pg.url
    pg.goto(demo["node"] + "/manage")
    assert "/manage/sign-in" in pg.url, "signed out means signed out"
    sign_in(pg, demo, PASSPHRASE)
    assert pg.url.endswith("/manage")
    ctx.close()


def publish_group(pg, demo, name):
    pg.goto(demo["node"] + "/manage/groups/new")
    fill_every_field(pg, name)
    pg.click("button[value=preview] >> nth=1")
    preview = pg.inner_text(".preview")
    assert name in preview
    # Where the postcode put it, and how precisely.
    assert re.search(r"LS9 7AA — placed at the centre of postcode sector LS9 7, "
                     r"(at the centre|about [0-9.]+ km from the centre) of LS9", preview), preview
    assert "Arabic (العربية)" in preview and "Tigrinya" in preview
    assert "Tuesday, 18:30 to 20:00" in preview
    pg.click("button[value=publish]")
    pg.wait_for_load_state()
    # The demo's node tells the directory of each change, so the notice does not send the
    # volunteer to wait for a crawl.
    assert "show it within seconds once they list the node" in pg.inner_text(".notice")
    assert name in pg.inner_text("main")


def test_a_group_with_every_fact_reaches_the_directory_verified(signed_in, demo):
    pg = signed_in
    name = "Phone-made Conversation Tea"
    pg.goto(demo["node"] + "/manage/groups/new")
    run_axe(pg, "new group form")
    shot(pg, "new-group-320")
    no_sideways_scroll(pg, 320)
    publish_group(pg, demo, name)
    run_axe(pg, "overview")
    shot(pg, "overview-320")
    r = wait_for(demo, name, lambda r: True)
    g = r["listing"]["group"]
    assert g["languages"] == ["ar", "en", "ti", "fa-AF"]
    assert g["description"] == "Practise everyday English over tea.\nBeginners welcome."
    assert g["location"]["postcode"] == POSTCODE
    assert abs(g["location"]["lat"] - 53.8) < 0.1 and abs(g["location"]["lon"] + 1.5) < 0.1
    assert [s["day"] for s in g["schedule"]] == ["tue", "sat"]
    assert g["schedule"][1]["frequency"] == "fortnightly"
    assert g["access"]["interpreting"] == "volunteer" and g["access"]["childcare"]
    assert g["access"]["no_data_shared_with_authorities"] and not g["access"]["immigration_status_asked"]
    assert g["capacity"]["places_available"] == 6 and g["capacity"]["weekly_referral_cap"] == 3
    assert g["safeguarding"]["capabilities"] == ["trafficking-survivors"]
    assert g["safeguarding"]["regulator_ids"] == [{"scheme": "GB-CHC", "id": "1234567"}]
    assert g["age_range"] == {"min": 16, "max": 99}
    assert g["contact"]["email"] == "hello@example.org"
    assert r["capacity_status"] == "accepting"
    # Anyone can check it without trusting the aggregator: the independent verifier agrees.
    node, lid = r["listing"]["node"], r["listing"]["id"]
    check = subprocess.run([sys.executable, os.path.join(HERE, "..", "independent", "verify_group.py"),
                            f"{demo['base']}/v1/groups/{node}/{lid}"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def group_section(pg, name):
    return pg.locator("section.group", has=pg.locator(f"h2:text-is('{name}')"))


def test_capacity_full_then_open_then_confirmed(signed_in, demo):
    pg = signed_in
    name = "Capacity Buttons Walk"
    publish_group(pg, demo, name)
    wait_for(demo, name, lambda r: r["capacity_status"] == "accepting")
    group_section(pg, name).locator("button[value=full]").click()
    assert "Marked as full" in pg.inner_text(".notice")
    assert "Full: not accepting referrals" in group_section(pg, name).inner_text()
    wait_for(demo, name, lambda r: r["capacity_status"] == "not_accepting")
    section = group_section(pg, name)
    section.locator("input[name=places]").fill("3")
    section.locator("button[value=open]").click()
    assert "Accepting referrals, 3 places" in group_section(pg, name).inner_text()
    r = wait_for(demo, name, lambda r: r["listing"]["group"]["capacity"].get("places_available") == 3)
    before = r["listing"]["group"]["capacity"]["updated_at"]
    time.sleep(1.1)
    group_section(pg, name).locator("button[value=confirm]").click()
    assert "confirmed as still accurate" in pg.inner_text(".notice")
    wait_for(demo, name, lambda r: r["listing"]["group"]["capacity"]["updated_at"] > before)


def test_edit_then_delete(signed_in, demo):
    pg = signed_in
    name = "Edit Me Walking Group"
    publish_group(pg, demo, name)
    group_section(pg, name).locator("a", has_text="Change").click()
    assert pg.input_value("#name") == name
    assert pg.is_checked("#languages-ar") and pg.is_checked("#languages-ti")
    assert pg.input_value("#other_languages") == "fa-AF"
    pg.fill("#name", name + " (Thursdays)")
    pg.click("button[value=publish]")
    assert "Saved and published" in pg.inner_text(".notice")
    wait_for(demo, name + " (Thursdays)", lambda r: True)
    group_section(pg, name + " (Thursdays)").locator("a", has_text="Withdraw").click()
    run_axe(pg, "delete")
    pg.click("button.warning")
    assert "withdrawn" in pg.inner_text(".notice")
    assert "drop it within seconds" in pg.inner_text(".notice")
    deadline = time.time() + 20
    while time.time() < deadline and directory_group(demo, name + " (Thursdays)", timeout=1):
        time.sleep(0.3)
    assert directory_group(demo, name + " (Thursdays)", timeout=1) is None


def test_every_mistake_is_listed_at_once(signed_in, demo):
    pg = signed_in
    pg.goto(demo["node"] + "/manage/groups/new")
    fill_every_field(pg, "Mistakes Group")
    pg.fill("#other_languages", "arabicc")
    pg.uncheck("#languages-en")
    pg.uncheck("#languages-ar")
    # Swapped coordinates for the venue.
    pg.click("summary")
    pg.fill("#lat", "-1.51")
    pg.fill("#lon", "53.82")
    pg.fill("#email", "")
    pg.fill("#phone", "")
    pg.fill("#website", "")
    pg.fill("#places", "0")
    # Not free, at a cost of nothing.
    pg.check("#free-no")
    pg.fill("#cost_pounds", "0")
    pg.fill("#session-0-closes", "17:00")
    pg.fill("#session-1-opens", "6pm")
    pg.click("button[value=publish]")
    summary = pg.locator(".error-summary")
    text = summary.inner_text()
    for expected in ["not a registered language code", "look swapped", "give an email address, phone number or website",
                     "0 places", "A session that costs nothing is free", "Session 1: the closing time must be later", "Session 2: the opening time must be like 18:30"]:
        assert expected in text, f"{expected!r} not in {text!r}"
    # Each entry links to its field, and the field says it too.
    for link in summary.locator("a").all():
        target = link.get_attribute("href")
        assert pg.locator(target).count() == 1, target
    in_page_order(pg, summary)
    assert pg.locator("#places").evaluate("e => e.closest('.field').classList.contains('field-error')")
    assert pg.input_value("#name") == "Mistakes Group", "what was typed is kept"
    run_axe(pg, "form with errors")
    shot(pg, "errors-320")
    assert pg.title().startswith("Error: Add a group"), pg.title()
    assert directory_group(demo, "Mistakes Group", timeout=1) is None


def in_page_order(pg, summary):
    """The error summary reads as the page does: its links in the order of their fields."""
    targets = [a.get_attribute("href").lstrip("#") for a in summary.locator("a").all()]
    ids = pg.eval_on_selector_all("form [id]", "els => els.map(e => e.id)")
    positions = [ids.index(t) for t in targets]
    assert positions == sorted(positions), list(zip(targets, positions))


def test_an_empty_form_lists_its_mistakes_in_the_order_of_the_page(signed_in, demo):
    pg = signed_in
    pg.goto(demo["node"] + "/manage/groups/new")
    pg.fill("#name", "Barely Begun")
    pg.click("button[value=publish]")
    summary = pg.locator(".error-summary")
    text = summary.inner_text()
    # The questions near the top of the form come first, the yes/no questions after.
    assert text.index("Choose at least one kind of group") < text.index("Can people refer themselves?"), text
    in_page_order(pg, summary)


def test_attestation_import_by_upload_and_refusals(signed_in, demo, tmp_path):
    pg = signed_in
    node_doc = api(demo["node"], "/.well-known/signpost/node")
    import base64
    node_id = json.loads(base64.b64decode(node_doc["payload"]))["id"]
    issuer_dir = os.path.join(demo["work"], "demo", "issuer")
    made = subprocess.run([BIN, "issuer", "attest", "--dir", issuer_dir, "--subject", node_id,
                           "--achievement", "safeguarding-adults", "--level", "level 3",
                           "--valid-until", "2030-01-01"], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    path = tmp_path / "attestation.json"
    path.write_text(made.stdout)
    pg.goto(demo["node"] + "/manage/attestations")
    run_axe(pg, "attestations")
    before = pg.locator("tbody tr").count()
    # A tampered copy is refused with a reason a person can act on.
    envelope = json.loads(made.stdout)
    envelope["payload"] = base64.b64encode(base64.b64decode(envelope["payload"]).replace(b"level 3", b"level 9")).decode()
    pg.fill("#envelope", json.dumps(envelope))
    pg.click("button.primary")
    assert "does not verify" in pg.inner_text(".error-summary")
    assert pg.title().startswith("Error: Training and attestations"), pg.title()
    pg.fill("#envelope", "")
    pg.set_input_files("#file", str(path))
    pg.click("button.primary")
    assert "attestation is imported" in pg.inner_text(".notice")
    assert pg.locator("tbody tr").count() == before + 1
    assert "Safeguarding" in pg.inner_text("tbody") and "level 3" in pg.inner_text("tbody")
    shot(pg, "attestations-320")


def test_the_same_flows_without_javascript(browser, demo):
    ctx = new_context(browser, 1280, js=False)
    pg = ctx.new_page()
    sign_in(pg, demo, demo["admin_token"])
    name = "No Script Knitting Circle"
    pg.goto(demo["node"] + "/manage/groups/new")
    pg.click("button[value=add-session]")
    assert pg.locator("#session-2-day").count() == 1, "a third session row without JavaScript"
    fill_every_field(pg, name)
    pg.click("button[value=publish]")
    assert "Published" in pg.inner_text(".notice")
    wait_for(demo, name, lambda r: True)
    group_section(pg, name).locator("button[value=full]").click()
    assert "Marked as full" in pg.inner_text(".notice")
    shot(pg, "overview-1280")
    pg.goto(demo["node"] + "/manage/status")
    assert "did:key:" in pg.inner_text("#enrolment-card")
    # The demo's directory lists this node: the page says so, with what it shows of it.
    directories = pg.inner_text("ul.directories")
    assert demo["base"] in directories, directories
    assert re.search(r"Listed: it shows \d+ groups from snapshot \d+", directories), directories
    shot(pg, "status-1280")
    ctx.close()


def test_asking_an_address_with_no_directory_says_so(signed_in, demo):
    pg = signed_in
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    # The node itself (no directory there), then a port nothing listens on.
    for address, says in [(demo["node"], "There is no Signpost directory at"),
                          (f"http://127.0.0.1:{port}", "We could not reach")]:
        pg.goto(demo["node"] + "/manage/status")
        pg.fill("#directory", address)
        pg.click("form[action='/manage/status/enrol'] button[type=submit]")
        pg.wait_for_load_state()
        message = pg.inner_text("#directory-error")
        assert says in message, message
        assert "content type" not in message and "HTTP 404" not in message, message
        assert pg.input_value("#directory") == address, "what was typed is kept"


def test_forged_forms_are_refused(signed_in, demo):
    pg = signed_in
    listings = pg.request.get(demo["node"] + "/admin/listings",
                              headers={"Authorization": f"Bearer {demo['admin_token']}"}).json()
    target = listings[0]["id"]
    # Signed in, but without the form's CSRF token: refused, nothing changed.
    resp = pg.request.post(f"{demo['node']}/manage/groups/{target}/capacity",
                           form={"action": "full", "csrf": "not-the-token"})
    assert resp.status == 403
    # With the token but from another site: refused.
    pg.goto(demo["node"] + "/manage")
    csrf = pg.get_attribute("input[name=csrf] >> nth=0", "value")
    resp = pg.request.post(f"{demo['node']}/manage/groups/{target}/capacity",
                           form={"action": "full", "csrf": csrf},
                           headers={"Origin": "https://attacker.example", "Sec-Fetch-Site": "cross-site"})
    assert resp.status == 403
    after = pg.request.get(demo["node"] + "/admin/listings",
                           headers={"Authorization": f"Bearer {demo['admin_token']}"}).json()
    assert [l for l in after if l["id"] == target][0]["group"]["capacity"] == listings[0]["group"]["capacity"]


def test_sign_in_page_and_home_are_accessible(browser, demo):
    ctx = new_context(browser, 320)
    pg = ctx.new_page()
    pg.goto(demo["node"] + "/")
    run_axe(pg, "home")
    shot(pg, "home-320")
    pg.goto(demo["node"] + "/manage/sign-in")
    run_axe(pg, "sign in")
    no_sideways_scroll(pg, 320)
    ctx.close()


def test_a_wrong_address_is_a_page_with_the_way_back(signed_in, demo):
    pg = signed_in
    # A mistyped address: a page in words (not a problem document), and its link home.
    resp = pg.goto(demo["node"] + "/manage/grops")
    assert resp.status == 404
    assert pg.locator("h1").inner_text() == "Page not found"
    run_axe(pg, "page not found")
    # A group's address cut short: no group there, said in words, not the parser's.
    resp = pg.goto(demo["node"] + "/manage/groups/3f2a")
    assert resp.status == 404
    assert pg.locator("h1").inner_text() == "Group not found"
    assert "UUID" not in pg.inner_text("main")
    pg.get_by_role("link", name="Go to your groups").click()
    pg.wait_for_load_state()
    assert pg.url.endswith("/manage")


def test_zz_wrong_passphrases_are_throttled(browser, demo):
    """Runs last: it locks this address out of signing in for a minute."""
    ctx = new_context(browser, 320)
    pg = ctx.new_page()
    for _ in range(5):
        sign_in(pg, demo, "not the passphrase")
        assert "is not right" in pg.inner_text(".error-summary")
        assert pg.title().startswith("Error: Sign in"), pg.title()
    sign_in(pg, demo, PASSPHRASE)
    assert "Too many wrong tries" in pg.inner_text(".error-summary")
    assert "/manage/sign-in" in pg.url
    run_axe(pg, "throttled sign in")
    ctx.close()
