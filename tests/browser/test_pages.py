"""The people's pages in a real browser (Debian's Chromium driven by Playwright; axe-core for
accessibility). Run by .ci/browser, which starts nothing itself: this module starts the demo
federation from the built binary and stops it.

    SIGNPOST_BIN=target/debug/signpost AXE=path/to/axe.min.js pytest tests/browser
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from conftest import api

BIN = os.environ.get("SIGNPOST_BIN", "target/debug/signpost")
AXE = os.environ.get("AXE", "")
SHOTS = os.environ.get("SCREENSHOTS", "target/screenshots")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
POSTCODE = "LS8 5AB"


@pytest.fixture()
def page(browser, demo):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    hosts = set()
    ctx.on("request", lambda r: hosts.add(urllib.parse.urlsplit(r.url).netloc))
    pg = ctx.new_page()
    pg.hosts = hosts
    yield pg
    assert ctx.cookies() == [], "the pages set no cookies"
    ctx.close()


def names_on(page):
    return [t.strip() for t in page.locator("article.result .name a").all_inner_texts()]


def api_names(demo, **params):
    q = urllib.parse.urlencode({"per_page": 10, **params})
    return [c["listing"]["group"]["name"] for c in api(demo["base"], f"/v1/groups?{q}")["contents"]]


def search(page, demo, lang="en", postcode=POSTCODE, needs=(), language=None):
    page.goto(f"{demo['base']}/find?lang={lang}")
    page.fill("#postcode", postcode)
    for n in needs:
        page.check(f"#need-{n}")
    if language:
        page.select_option("#language", language)
    # Until the results page has loaded, not just until the click.
    with page.expect_navigation():
        page.click("button.primary")


def test_search_by_postcode_in_english_matches_the_api(page, demo):
    search(page, demo, needs=["free"], language="ar")
    got = names_on(page)
    assert got, "there are results"
    assert got == api_names(demo, postcode=POSTCODE, radius_km=5, free="true", language="ar")
    assert "within 5 km of LS8 5AB" in page.inner_text("section.results")
    assert page.hosts == {urllib.parse.urlsplit(demo["base"]).netloc}, "nothing loaded from elsewhere"


def test_search_in_arabic_is_right_to_left_with_the_same_results(page, demo):
    search(page, demo, lang="ar", needs=["free"], language="ar")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.get_attribute("html", "lang") == "ar"
    assert "ابحث عن مجموعة مجتمعية" in page.inner_text("h1")
    assert names_on(page) == api_names(demo, postcode=POSTCODE, radius_km=5, free="true", language="ar")
    # The capacity is said in words, in Arabic.
    assert re.search("يقبلون|لا يقبلون|غير معروف", page.inner_text("section.results"))


@pytest.mark.parametrize("need,api_param", [
    ("free", {"free": "true"}),
    ("childcare", {"childcare": "true"}),
    ("no-gp", {"no_gp_registration": "true"}),
    ("no-status", {"no_status_check": "true"}),
    ("self-referral", {"self_referral": "true"}),
    ("interpreting", {"interpreting": "true"}),
    ("women", {"category": "womens-group"}),
])
def test_each_need_filters_as_the_api_does(page, demo, need, api_param):
    search(page, demo, postcode="LS8", needs=[need])
    assert names_on(page) == api_names(demo, postcode="LS8", radius_km=5, **api_param)


def test_evenings_or_weekends_narrow_the_results(page, demo):
    search(page, demo, postcode="BD3")
    everything = set(names_on(page))
    search(page, demo, postcode="BD3", needs=["evening-weekend"])
    narrowed = set(names_on(page))
    assert narrowed and narrowed <= everything


def in_view(pg, selector):
    """Whether the element's top is inside the window as it is scrolled."""
    return pg.evaluate(
        "s => { const r = document.querySelector(s).getBoundingClientRect();"
        " return r.top >= 0 && r.top < window.innerHeight; }", selector)


def test_on_a_phone_a_search_lands_on_its_results(browser, demo):
    # On a phone the form is three screens long: a search, and each page of its results,
    # opens at the results, not at the top of the form the person has just filled in.
    ctx = browser.new_context(viewport={"width": 390, "height": 800})
    pg = ctx.new_page()
    pg.goto(f"{demo['base']}/find?lang=en")
    skip = pg.locator("a.skip")
    assert skip.inner_text() == "Skip to main content" and skip.get_attribute("href") == "#main"
    pg.fill("#postcode", "LS8")
    pg.select_option("#radius", "25")
    with pg.expect_navigation():
        pg.click("button.primary")
    assert pg.url.endswith("#results"), pg.url
    assert in_view(pg, "#results-title"), "the results' heading is on the screen"
    assert pg.evaluate("window.scrollY") > 800, "the form above it is scrolled past"
    # Ten a page: 25 km around the district holds more, and the next page opens at its
    # results too.
    assert "Page 1 of" in pg.inner_text("nav.pages")
    with pg.expect_navigation():
        pg.click("a[rel=next]")
    assert "Page 2 of" in pg.inner_text("nav.pages")
    assert in_view(pg, "#results-title")
    # Opened at the top (a link without its #results), the skip link, the first thing a
    # keyboard reaches, leads to the results.
    pg.goto(pg.url.split("#")[0])
    assert pg.evaluate("window.scrollY") == 0
    pg.keyboard.press("Tab")
    assert pg.evaluate("document.activeElement.className") == "skip"
    assert pg.evaluate("document.activeElement.textContent") == "Skip to the results"
    pg.keyboard.press("Enter")
    assert pg.evaluate("document.activeElement.id") == "results"
    assert in_view(pg, "#results-title")
    # A mistake stays at the top, where its error summary is.
    pg.goto(f"{demo['base']}/find?lang=ar")
    assert pg.locator("a.skip").get_attribute("href") == "#main"
    pg.fill("#postcode", "not a postcode")
    with pg.expect_navigation():
        pg.click("button.primary")
    assert in_view(pg, ".error-summary")
    ctx.close()


def test_a_link_worker_finds_groups_that_can_hold_a_risk_and_have_places(page, demo):
    # The referrers' part of the form is closed for a person looking for help...
    page.goto(f"{demo['base']}/find?lang=en")
    details = page.locator("details.referrer")
    assert not details.evaluate("d => d.open")
    assert not page.is_visible("#support-torture-survivors")
    # ...and a Link Worker opens it: survivors of torture, a named safeguarding lead,
    # trauma-informed training checked with a trusted provider, places now.
    page.fill("#postcode", "LS8")
    page.select_option("#radius", "50")
    page.click("details.referrer summary")
    for box in ["#support-torture-survivors", "#need-safeguarding-lead", "#need-trauma-trained",
                "#need-accepting"]:
        page.check(box)
    with page.expect_navigation():
        page.click("button.primary")
    found = names_on(page)
    expected = api_names(demo, postcode="LS8", radius_km=50, safeguarding="torture-survivors",
                         safeguarding_lead="true", verified_training="trauma-informed-practice",
                         accepting="true")
    assert found and found == expected
    everything = api_names(demo, postcode="LS8", radius_km=50)
    assert len(found) < len(everything), "the filters narrowed the search"
    # Each result says so in words, and the form keeps what was asked, open.
    for text in page.locator("article.result").all_inner_texts():
        assert "Survivors of torture" in text and "Named safeguarding lead" in text, text
        assert "Trauma-informed practice, checked with" in text and "Accepting new people" in text
    assert details.evaluate("d => d.open")
    assert page.is_checked("#support-torture-survivors") and page.is_checked("#need-accepting")
    # In Arabic, the same groups, in its words.
    page.goto(page.url.split("#")[0].replace("lang=en", "lang=ar"))
    assert names_on(page) == expected
    first = page.inner_text("article.result >> nth=0")
    assert "يمكنهم تقديم دعم آمن لـ: " in first and "الناجين من التعذيب" in first, first
    # The group's own words (in English here) run left to right inside the Arabic page.
    own = page.locator("article.result >> nth=0").locator("span.line", has_text="Email us")
    assert own.evaluate("e => getComputedStyle(e).direction") == "ltr"
    assert page.locator("article.result span.line", has_text="الهاتف").first.evaluate(
        "e => getComputedStyle(e).direction") == "rtl"
    # Two needs a group must both hold: fewer or the same, each holding both.
    page.goto(f"{demo['base']}/find?lang=en&postcode=LS8&radius=50"
              "&safeguarding=torture-survivors&safeguarding=trafficking-survivors")
    both = names_on(page)
    assert both == api_names(demo, postcode="LS8", radius_km=50,
                             safeguarding="torture-survivors,trafficking-survivors")
    assert set(both) <= set(api_names(demo, postcode="LS8", radius_km=50,
                                      safeguarding="torture-survivors"))


def test_back_to_the_search_from_a_group_returns_to_its_results(page, demo):
    # Page 2 of a wider search, in Arabic: a group's page and its card lead back to the same
    # page of the same results, not to an empty form.
    page.goto(f"{demo['base']}/find?lang=ar")
    page.fill("#postcode", "LS8")
    page.select_option("#radius", "25")
    page.check("#need-free")
    with page.expect_navigation():
        page.click("button.primary")
    with page.expect_navigation():
        page.click("a[rel=next]")
    results = page.url
    shown = names_on(page)
    assert shown
    with page.expect_navigation():
        page.locator("article.result .name a").first.click()
    assert page.inner_text("h1") == shown[0]
    with page.expect_navigation():
        page.click("a.back")
    assert page.url == results, "the same search, the same page, at its results"
    assert names_on(page) == shown
    assert page.get_attribute("#need-free", "checked") is not None
    # The card, opened from the group's page, leads back to the search too.
    with page.expect_navigation():
        page.locator("article.result .name a").first.click()
    with page.expect_navigation():
        page.locator("p.links a").nth(1).click()
    assert "/find/card/" in page.url
    with page.expect_navigation():
        page.click("a.back")
    assert page.url == results
    # Changing the language on a group's page keeps the way back to the same page.
    with page.expect_navigation():
        page.locator("article.result .name a").first.click()
    page.select_option("#lang", "en")
    with page.expect_navigation():
        page.click("form.lang button")
    with page.expect_navigation():
        page.click("a.back")
    assert "lang=en" in page.url and "page=2" in page.url and page.url.endswith("#results")
    assert names_on(page) == shown
    # A group's page opened from elsewhere (a shared link) leads to the empty form.
    group = page.locator("article.result .name a").first.get_attribute("href").split("?")[0]
    page.goto(f"{demo['base']}{group}?lang=en")
    assert page.get_attribute("a.back", "href") == "/find?lang=en"


def test_mistakes_are_shown_in_an_error_summary(page, demo):
    search(page, demo, postcode="not a postcode")
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert "Enter a real postcode" in summary.inner_text()
    assert page.locator("#postcode-error").is_visible()
    # The title says there is an error before anything else (read first by a screen reader).
    assert page.title().startswith("Error: "), page.title()
    search(page, demo, postcode="ZZ99 9ZZ")
    assert "could not find that postcode" in page.inner_text(".error-summary")
    # Two mistakes at once (a language no form offers, from an edited link): both listed,
    # each once, the postcode's linking to its field.
    page.goto(f"{demo['base']}/find?lang=en&postcode=not+a+postcode&language=!!&radius=5")
    items = page.locator(".error-summary li")
    assert items.count() == 2, page.inner_text(".error-summary")
    assert "Enter a real postcode" in items.nth(0).inner_text()
    assert items.nth(0).locator("a").get_attribute("href") == "#postcode"
    assert "Choose a language from the list" in items.nth(1).inner_text()
    assert items.nth(1).locator("a").get_attribute("href") == "#language"
    # Each shown beside its field too, and the list offered again with none chosen.
    assert "Choose a language" in page.inner_text("#language-error")
    assert page.get_attribute("#language", "aria-describedby") == "language-error"
    assert page.input_value("#language") == ""
    # A place that is not on Earth (an edited link, or a browser's bad fix): asked for a
    # postcode beside the postcode field, and not sent again with the next search.
    page.goto(f"{demo['base']}/find?lang=en&lat=91&lon=0&radius=5")
    assert "Enter a postcode instead" in page.inner_text(".error-summary")
    assert "Enter a postcode instead" in page.inner_text("#postcode-error")
    assert page.input_value("#lat") == "" and page.input_value("#lon") == ""
    # In Arabic too, in its own words.
    page.goto(f"{demo['base']}/find?lang=ar&postcode=not+a+postcode&radius=5")
    assert page.title().startswith("خطأ: "), page.title()
    # A language the list does not offer, from a link: searched for, and shown as asked.
    page.goto(f"{demo['base']}/find?lang=en&postcode=LS8+5AB&radius=5&language=zh-Hans")
    assert not page.locator(".error-summary").count()
    assert page.input_value("#language") == "zh-Hans"
    assert "Chinese" in page.locator("#language option:checked").inner_text()
    found = names_on(page)
    assert found and found == api_names(demo, postcode=POSTCODE, radius_km=5, language="zh-Hans")
    # A search that is right has a plain title.
    search(page, demo)
    assert not page.title().startswith("Error"), page.title()


def test_an_address_with_no_page_offers_the_search_in_the_persons_language(browser, demo):
    ctx = browser.new_context(locale="ar")
    pg = ctx.new_page()
    resp = pg.goto(demo["base"] + "/find/grops")
    assert resp.status == 404
    assert pg.get_attribute("html", "lang") == "ar" and pg.get_attribute("html", "dir") == "rtl"
    assert pg.title().startswith("خطأ: "), pg.title()
    summary = pg.locator(".error-summary")
    assert summary.is_visible()
    assert "لا توجد صفحة على هذا العنوان" in summary.inner_text()
    # Its link leads to the postcode field, and the search works from there.
    assert summary.locator("a").first.get_attribute("href") == "#postcode"
    pg.fill("#postcode", POSTCODE)
    with pg.expect_navigation():
        pg.click("button.primary")
    assert urllib.parse.urlsplit(pg.url).path == "/find"
    assert names_on(pg)
    ctx.close()


def test_my_location_searches_there_or_says_it_could_not(browser, demo):
    # Allowed: the browser's place is searched around (3 decimals: about 100 m), postcode cleared.
    ctx = browser.new_context(viewport={"width": 360, "height": 900}, permissions=["geolocation"],
                              geolocation={"latitude": 53.8144, "longitude": -1.5150})
    pg = ctx.new_page()
    pg.goto(demo["base"] + "/find?lang=en")
    pg.click("#locate")
    pg.wait_for_url(re.compile(r"lat=53\.814&lon=-1\.515"))
    assert names_on(pg) == api_names(demo, near="53.814,-1.515", radius_km="5"), "the API's results"
    ctx.close()
    # Refused (the person said no, or there is no fix): said beside the field, in their language.
    for lang in ["en", "ar"]:
        ctx = browser.new_context(viewport={"width": 360, "height": 900}, permissions=[])
        pg = ctx.new_page()
        pg.goto(demo["base"] + f"/find?lang={lang}")
        pg.click("#locate")
        failed = pg.locator("#locate-error")
        failed.wait_for(state="visible")
        assert failed.inner_text() == pg.get_attribute("#locate", "data-error"), lang
        assert pg.evaluate("document.activeElement.id") == "postcode"
        assert "/find?" not in pg.url or "lat=" not in pg.url, "nothing was searched"
        ctx.close()


def test_works_without_javascript(browser, demo):
    ctx = browser.new_context(java_script_enabled=False)
    pg = ctx.new_page()
    search(pg, demo, needs=["free"])
    assert names_on(pg) == api_names(demo, postcode=POSTCODE, radius_km=5, free="true")
    assert pg.get_attribute("#exit", "href").startswith("https://")
    pg.click("article.result .name a >> nth=0")
    assert pg.locator("h1").inner_text()
    ctx.close()


def test_the_directorys_address_opens_the_finder_in_the_browsers_language(browser, demo):
    ctx = browser.new_context(locale="ar")
    pg = ctx.new_page()
    pg.goto(demo["base"] + "/")
    assert urllib.parse.urlsplit(pg.url).path == "/find"
    assert pg.get_attribute("html", "lang") == "ar" and pg.get_attribute("html", "dir") == "rtl"
    # The foot's links, in English on every page, lead regulators to the audit and
    # integrators to the API's documentation.
    foot = pg.locator("footer p[lang=en]")
    assert foot.get_attribute("dir") == "ltr"
    foot.get_by_role("link", name="Training checks, for regulators").click()
    pg.wait_for_load_state()
    assert urllib.parse.urlsplit(pg.url).path == "/audit"
    assert "audit" in pg.locator("h1").inner_text()
    pg.get_by_role("link", name="The directory's API, for GP systems and developers").click()
    pg.wait_for_load_state()
    assert urllib.parse.urlsplit(pg.url).path == "/docs/"
    ctx.close()


def test_exit_leaves_at_once_and_out_of_the_back_button(browser, demo):
    ctx = browser.new_context()
    ctx.route("https://www.bbc.co.uk/**", lambda r: r.fulfill(status=200, content_type="text/html", body="<title>Weather</title>"))
    pg = ctx.new_page()
    pg.goto("about:blank")
    pg.goto(f"{demo['base']}/find?lang=en")
    pg.click("#exit")
    pg.wait_for_url("https://www.bbc.co.uk/**")
    pg.go_back()
    assert "/find" not in pg.url, "the finder was replaced in the history"
    ctx.close()


def test_the_referral_card_prints_in_two_languages(page, demo, tmp_path):
    search(page, demo, needs=["free"], language="ar")
    href = page.get_attribute("article.result >> nth=0 >> text=Print a referral card", "href")
    name = names_on(page)[0]
    page.goto(demo["base"] + href.replace("lang=en", "lang=ar"))
    assert page.locator(".card.two").is_visible()
    pdf = tmp_path / "card.pdf"
    page.emulate_media(media="print")
    page.pdf(path=str(pdf), format="A4")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    # A long name wraps inside its column, and -layout interleaves the two columns: read the
    # English side on its own (the left half of the page) with its lines joined.
    left = subprocess.run(["pdftotext", "-x", "0", "-y", "0", "-W", "297", "-H", "842", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "Referral card" in text
    assert name in " ".join(left.split()), left
    assert "إحالة" in text or "بطاقة" in text, "the Arabic side is printed"
    assert "Exit this page" not in text and "اخرج" not in text, "no page furniture on the card"
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"Pages:\s+1\b", pages), pages


@pytest.mark.parametrize("query,results", [
    ("lang=en&postcode=LS8+5AB&need=free", None),
    # A full page of ten results, in Arabic.
    ("lang=ar&postcode=LS8&radius=25", 10),
])
def test_pages_weigh_under_60_kb(browser, demo, query, results):
    ctx = browser.new_context()
    pg = ctx.new_page()
    document = len(pg.goto(f"{demo['base']}/find?{query}").body())
    pg.wait_for_load_state("load")
    found = names_on(pg)
    assert found and (results is None or len(found) == results), found
    # Everything else the page loaded, as the browser decoded it: its stylesheet and script
    # (and the browser's own ask for an icon, when it has made it by then).
    assets = pg.evaluate(
        "performance.getEntriesByType('resource').map(e => [e.name, e.decodedBodySize])")
    paths = {urllib.parse.urlsplit(name).path for name, _ in assets}
    assert {"/find/static/finder.css", "/find/static/finder.js"} <= paths, assets
    assert paths <= {"/find/static/finder.css", "/find/static/finder.js", "/favicon.ico"}, assets
    assert all(size > 0 for _, size in assets), assets
    total = document + sum(size for _, size in assets)
    print(f"results page weight, {query}: {total} bytes (the page {document}, {assets})")
    assert total < 60 * 1024
    ctx.close()


PAGES = [
    "/find?lang=en",
    "/find?lang=en&postcode=LS8+5AB&need=free",
    "/find?lang=ar&postcode=LS8+5AB&need=free",
    "/find?lang=en&postcode=nonsense",
    "/find?lang=ar&postcode=nonsense",
    "/audit",
    "/audit?status=revoked",
    "/find/nowhere?lang=en",
    "/find/nowhere?lang=ar",
]


@pytest.mark.parametrize("path", PAGES)
def test_axe_finds_no_violations(browser, demo, path):
    if not AXE:
        pytest.skip("AXE not set")
    ctx = browser.new_context(bypass_csp=True)
    pg = ctx.new_page()
    pg.goto(demo["base"] + path)
    run_axe(pg, path)
    ctx.close()


def run_axe(pg, what):
    pg.add_script_tag(path=AXE)
    result = pg.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    violations = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]
    assert violations == [], f"{what}: {violations}"


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_axe_on_group_page_and_card(browser, demo, lang):
    if not AXE:
        pytest.skip("AXE not set")
    first = api(demo["base"], "/v1/groups?per_page=1")["contents"][0]
    ctx = browser.new_context(bypass_csp=True)
    pg = ctx.new_page()
    for kind in ("group", "card"):
        pg.goto(f"{demo['base']}/find/{kind}/{first['node']}/{first['id']}?lang={lang}")
        run_axe(pg, f"{kind} {lang}")
    ctx.close()


def test_the_audit_page_and_its_csv_agree_with_the_api(page, demo):
    page.goto(f"{demo['base']}/audit")
    issuer = page.eval_on_selector("#issuer", "e => e.value")
    page.select_option("#status", "revoked")
    page.click("button.primary")
    rows = page.locator("tbody tr")
    assert rows.count() >= 1
    expected = api(demo["base"], f"/v1/issuers/{issuer}/attestations?status=revoked")
    assert rows.count() == len(expected)
    href = page.get_attribute("a[download]", "href")
    with urllib.request.urlopen(demo["base"] + href, timeout=10) as resp:
        assert resp.headers["content-type"].startswith("text/csv")
        lines = resp.read().decode().strip().splitlines()
    assert lines[0].startswith("organisation,node,achievement")
    assert sorted(l.split(",")[1] for l in lines[1:]) == sorted(e["node"] for e in expected)
    assert all(l.split(",")[6] == "revoked" for l in lines[1:])


def test_on_a_phone_the_audit_shows_each_status_without_scrolling(browser, demo):
    ctx = browser.new_context(viewport={"width": 390, "height": 800})
    pg = ctx.new_page()
    pg.goto(f"{demo['base']}/audit")
    issuer = pg.eval_on_selector("#issuer", "e => e.value")
    expected = api(demo["base"], f"/v1/issuers/{issuer}/attestations")
    cells = pg.locator("tbody td.status")
    assert cells.count() == len(expected) >= 2
    width = pg.evaluate("window.innerWidth")
    for i in range(cells.count()):
        box = cells.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (i, box, width)
        assert cells.nth(i).inner_text().strip()
    headers = pg.locator("thead th").all_inner_texts()
    assert headers[:3] == ["Organisation", "Achievement", "Status"], headers
    ctx.close()


def test_the_audit_page_names_each_wrong_filter_beside_its_field(page, demo):
    # Filters from an edited link: an achievement and a status no list offers. Each is named
    # once, linking to its own field, and no rows are shown as if the filters held.
    page.goto(f"{demo['base']}/audit?achievement=first-aid-zz&status=bogus")
    items = page.locator(".error-summary li")
    assert items.count() == 2, page.inner_text(".error-summary")
    links = [items.nth(i).locator("a").get_attribute("href") for i in range(2)]
    assert sorted(links) == ["#achievement", "#status"]
    assert "Choose a status from the list" in page.inner_text(".error-summary")
    assert page.locator("tbody tr").count() == 0
    assert page.title().startswith("Error: Training attestations"), page.title()
    page.click(".error-summary a[href='#status']")
    assert page.evaluate("document.activeElement.id") == "status"
    # The API refuses the same filters, naming both.
    with pytest.raises(urllib.error.HTTPError) as refused:
        issuer = page.eval_on_selector("#issuer", "e => e.value")
        api(demo["base"], f"/v1/issuers/{issuer}/attestations?achievement=first-aid-zz&status=bogus")
    problem = json.loads(refused.value.read())
    assert sorted(e["field"] for e in problem["errors"]) == ["achievement", "status"]


def test_nothing_about_a_search_is_logged_or_stored(page, demo):
    search(page, demo, postcode="LS8 5AB", needs=["free"])
    time.sleep(1)
    log = open(demo["log"]).read()
    assert "GET /find" in log, "requests are logged, paths only"
    for needle in ["LS8 5AB", "LS8+5AB", "LS8%205AB", "postcode=", "need="]:
        assert needle not in log, f"the log holds {needle}"
    for root, _, files in os.walk(demo["work"]):
        for f in files:
            if f == "demo.log":
                continue
            data = open(os.path.join(root, f), "rb").read()
            assert b"LS8 5AB" not in data and b"LS8+5AB" not in data, f"{f} holds the postcode"


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("width", [320, 1280])
def test_screenshots(browser, demo, lang, width):
    os.makedirs(SHOTS, exist_ok=True)
    ctx = browser.new_context(viewport={"width": width, "height": 900})
    pg = ctx.new_page()
    search(pg, demo, lang=lang, needs=["free"], language="ar")
    scroll = pg.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"no sideways scrolling at {width} px ({scroll})"
    pg.screenshot(path=f"{SHOTS}/find-{lang}-{width}.png", full_page=True)
    href = pg.get_attribute("article.result >> nth=0 >> a >> nth=-1", "href")
    pg.goto(demo["base"] + href)
    pg.screenshot(path=f"{SHOTS}/card-{lang}-{width}.png", full_page=True)
    ctx.close()
