"""End to end in a real browser: `papers ui` on a free port, headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ARTIFACTS, free_port

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def ui_server(corpus_index):
    port = free_port()
    env = {**os.environ, "PAPERS_DATA_DIR": str(corpus_index), "PAPERS_EMBED_BACKEND": "local"}
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "ui", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"papers ui exited: {proc.stdout.read()[-800:]}")
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("papers ui did not start within 90 s")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def chromium(pw):
    """Headless Debian Chromium, launched by Playwright."""
    if not shutil.which(CHROMIUM):
        pytest.fail("Debian chromium is missing: scripts/test.sh installs it with apt-get")
    return pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                    "--disable-component-update", "--disable-sync", "--no-first-run"])


def test_chat_in_a_real_browser_streams_an_answer_and_opens_a_source(ui_server):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = chromium(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(ui_server, wait_until="domcontentloaded")
        box = page.get_by_test_id("stChatInputTextArea")
        expect(box).to_be_visible(timeout=120_000)  # first load: index + models
        box.fill("How can data be selected for instruction tuning?")
        box.press("Enter")
        answer = page.get_by_test_id("stChatMessage").nth(1)
        expect(answer).to_contain_text("[1]", timeout=120_000)
        card = page.get_by_test_id("stExpander").first
        expect(card).to_contain_text("[1]")
        card.locator("summary").click()
        expect(card.locator("mark").first).to_be_visible(timeout=30_000)  # the cited sentence, highlighted
        page.wait_for_timeout(800)  # let the expander finish opening before the screenshot
        page.screenshot(path=str(ARTIFACTS / "ui-chat.png"), full_page=True)
        box.fill("How does the Kalman-filter optimizer differ from the optimal transport data selection method?")
        box.press("Enter")
        table = page.locator("table.papers-compare")  # a comparison gets its side-by-side table
        expect(table).to_be_visible(timeout=120_000)
        expect(table).to_contain_text("KOALA++")
        expect(table).to_contain_text("TAROT")
        browser.close()
    assert (ARTIFACTS / "ui-chat.png").stat().st_size > 10_000


def test_summary_in_a_real_browser_shows_themes_with_a_table(ui_server):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = chromium(pw)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(ui_server, wait_until="domcontentloaded")
        box = page.get_by_test_id("stChatInputTextArea")
        expect(box).to_be_visible(timeout=120_000)
        box.fill("Which papers in the collection deal with data selection for instruction tuning?")  # routed to a summary
        box.press("Enter")
        answer = page.get_by_test_id("stChatMessage").nth(1)
        expect(answer).to_contain_text("The corpus holds", timeout=120_000)
        table = answer.get_by_test_id("stTable").first
        expect(table).to_contain_text("key result", timeout=30_000)
        expect(table).to_contain_text("[1]")
        page.wait_for_timeout(800)
        page.screenshot(path=str(ARTIFACTS / "ui-summary.png"), full_page=True)
        browser.close()
    assert (ARTIFACTS / "ui-summary.png").stat().st_size > 10_000


def test_explore_page_in_a_real_browser_links_a_papers_http_url_and_never_a_javascript_one(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    from tests.serve_fixtures import start_ui
    from tests.test_links import ARXIV_URL, write_corpus

    ui = start_ui(tmp_path / "index", tmp_path, PAPERS_EMBED_BACKEND="hash",
                  PAPERS_CORPUS=str(write_corpus(tmp_path / "corpus")))  # the first page load ingests it
    try:
        with sync_playwright() as pw:
            browser = chromium(pw)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(ui.base + "/explore_page", wait_until="domcontentloaded")
            expect(page.get_by_text("3 of 3 papers")).to_be_visible(timeout=120_000)
            # the first paper by title is the one whose corpus link is javascript:alert(1): shown, never linked
            expect(page.get_by_test_id("stHeading").filter(has_text="Dangerous Links")).to_be_visible()
            assert page.locator('a[href^="javascript"]').count() == 0
            page.get_by_test_id("stSelectbox").filter(has_text="Read an abstract").click()
            page.get_by_role("option", name="Hierarchical Beam Tokenizers for Speech Compression").click()
            expect(page.get_by_test_id("stHeading").filter(has_text="Hierarchical Beam Tokenizers")).to_be_visible(timeout=60_000)
            link = page.locator(f'a[href="{ARXIV_URL}"]')
            expect(link).to_be_visible()
            expect(link).to_have_text(ARXIV_URL)
            assert page.locator('a[href^="javascript"]').count() == 0
            browser.close()
    finally:
        ui.stop()
