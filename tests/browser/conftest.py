"""Shared fixtures for the browser tests: the demo federation started from the built binary,
and Debian's Chromium driven by Playwright (nothing downloaded at run time)."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request

import pytest
from playwright.sync_api import sync_playwright

BIN = os.environ.get("SIGNPOST_BIN", "target/debug/signpost")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def demo():
    work = tempfile.mkdtemp(prefix="signpost-browser-")
    log = open(os.path.join(work, "demo.log"), "w")
    child = subprocess.Popen([BIN, "demo", "--listen", "127.0.0.1:0", "--data", os.path.join(work, "demo")],
                             stdout=subprocess.PIPE, stderr=log, text=True,
                             env=dict(os.environ, SIGNPOST_LOG="info"))
    base = None
    banner = []
    deadline = time.time() + 60
    while time.time() < deadline and base is None:
        line = child.stdout.readline()
        banner.append(line)
        m = re.search(r"Directory API docs:\s+(http://[^/]+)/docs/", line)
        if m:
            base = m.group(1)
    assert base, "the demo did not start"
    text = "".join(banner)
    link = re.search(r"Sign in once with:\s+(\S+)", text).group(1)
    token = re.search(r"or with the admin token: (\S+)", text).group(1)
    node = re.search(r"(http://[0-9.:]+)/manage\n", text).group(1)
    # Wait until every group is crawled.
    while time.time() < deadline:
        if api(base, "/v1/groups")["total_items"] >= 30:
            break
        time.sleep(0.2)
    yield {"base": base, "work": work, "log": os.path.join(work, "demo.log"),
           "node": node, "sign_in_link": link, "admin_token": token}
    child.terminate()
    child.wait(10)
    log.close()
    shutil.rmtree(work, ignore_errors=True)


def api(base, path):
    with urllib.request.urlopen(base + path, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


