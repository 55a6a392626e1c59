"""The web app in a real headless browser (Debian's Chromium driven by Playwright), on the real demo
index with the real models: two chat turns with cards and reasons, feedback, and the staff trace.
Screenshots are kept in test-artifacts/."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
TOKEN = "browser-test-token"


@pytest.fixture(scope="module")
def app_url(demo_settings):
    from assistant.surfaces.server import create_app, serving_in_background
    from assistant.service.assistant import Assistant

    assistant = Assistant(replace(demo_settings, llm_model="qwen", staff_token=TOKEN))
    with serving_in_background(create_app(assistant)) as url:
        yield url


@pytest.fixture(scope="module")
def page():
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install -y chromium (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.set_default_timeout(90_000)
        yield page
        browser.close()


CARD_IDS = ("Array.from(document.querySelectorAll('#aisle-cards .aisle-card'))"
            ".map(c => c.dataset.productId).join(',')")


def chat(page, text: str) -> None:
    """Send a message and wait until other products are shown, each with its reason written."""
    before = page.evaluate(CARD_IDS)
    page.locator("#aisle-message textarea").fill(text)
    page.locator("#aisle-send").click()
    page.wait_for_function(f"""(before) => {{
        const ids = {CARD_IDS};
        return ids !== '' && ids !== before && document.querySelectorAll('#aisle-cards .aisle-pending').length === 0;
    }}""", arg=before)


def test_shop_two_turns_feedback_and_staff_trace(app_url: str, page) -> None:
    page.goto(app_url)
    page.locator("#aisle-message textarea").wait_for()
    chat(page, "waterproof jacket for my 6 year old under $40")
    cards = page.locator("#aisle-cards .aisle-card")
    assert cards.count() == 5
    first_text = cards.first.inner_text()
    assert "$" in first_text and page.locator("#aisle-cards .aisle-reason").first.inner_text().strip()
    page.screenshot(path=str(ARTIFACTS / "shop-turn-1.png"), full_page=True)

    chat(page, "make it blue")
    page.screenshot(path=str(ARTIFACTS / "shop-turn-2.png"), full_page=True)
    metas = page.locator("#aisle-cards .aisle-meta").all_inner_texts()[::3]
    assert metas and all("blue" in t.lower() or "navy" in t.lower() for t in metas), metas  # the blue family
    first_id = cards.first.get_attribute("data-product-id")

    first_card = page.locator("#aisle-cards .aisle-card").first
    first_card.locator("[data-feedback='up']").click()
    first_card.locator(".aisle-fb").get_by_text("Thanks").wait_for()
    second = page.locator("#aisle-cards .aisle-card").nth(1)
    declined = second.get_attribute("data-product-id")
    second.locator("[data-feedback='down']").click()
    second.locator(".aisle-fb").get_by_text("won't show").wait_for()
    page.locator("#aisle-picked input").click()
    page.get_by_role("option").first.click()
    page.locator("#aisle-bought").click()
    page.locator("#aisle-feedback-note").get_by_text("Great choice").wait_for()

    page.get_by_role("tab", name="Staff").click()
    page.locator("#aisle-staff-token input").fill(TOKEN)
    page.locator("#aisle-staff-load").click()
    page.locator("#aisle-staff-product textarea, #aisle-staff-product input").first.fill(first_id)
    page.wait_for_timeout(1000)
    page.locator("#aisle-staff-why").click()
    page.wait_for_function("document.querySelector('#aisle-staff-trace textarea').value.includes('breakdown')")
    trace = page.locator("#aisle-staff-trace textarea").input_value()
    data = json.loads(trace)
    assert data["product_id"] == first_id and data["shown"] is True, (data.get("stage"), data.get("why"))
    assert "content_similarity" in data["breakdown"] and data["breakdown"]["reason"]
    page.screenshot(path=str(ARTIFACTS / "staff-trace.png"), full_page=True)

    page.get_by_role("tab", name="Shop").click()
    chat(page, "show me more")
    assert declined not in page.evaluate(CARD_IDS).split(",")  # a thumbs-down hides it in this conversation
    # Nothing secret stays in the browser: no staff token and no shopper message in its storage.
    stored = page.evaluate("() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])")
    assert TOKEN not in stored and "waterproof" not in stored and "make it blue" not in stored, stored


def test_staff_view_refuses_a_wrong_token(app_url: str, page) -> None:
    page.goto(app_url)
    page.get_by_role("tab", name="Staff").click()
    page.locator("#aisle-staff-token input").fill("wrong")
    page.locator("#aisle-staff-product textarea, #aisle-staff-product input").first.fill("P00001")
    page.locator("#aisle-staff-why").click()
    page.wait_for_function("document.querySelector('#aisle-staff-trace textarea').value.includes('staff token')")


def test_phone_width_and_chinese(app_url: str, page) -> None:
    page.set_viewport_size({"width": 390, "height": 1600})
    page.goto(app_url)
    page.locator("#aisle-message textarea").wait_for()
    chat(page, "给我6岁的儿子买一件40美元以下的防水外套")
    assert page.locator("#aisle-cards .aisle-card").count() == 5
    box = page.locator("#aisle-cards .aisle-card").first.bounding_box()
    assert box["width"] <= 390
    page.screenshot(path=str(ARTIFACTS / "phone-chinese.png"), full_page=True)


def test_admin_forgets_a_customer(app_url: str, page) -> None:
    page.set_viewport_size({"width": 1280, "height": 1400})
    page.goto(app_url)
    page.get_by_role("tab", name="Admin").click()
    page.locator("#aisle-admin-token input").fill(TOKEN)
    page.locator("#aisle-forget-customer textarea, #aisle-forget-customer input").first.fill("C00042")
    page.locator("#aisle-forget").click()
    page.locator("#aisle-forget-status").get_by_text("Forgotten:").wait_for()
    assert "left out of every later CF fit" in page.locator("#aisle-forget-status").inner_text()


def test_nothing_secret_stays_in_the_browser_of_the_real_server(live_server, page) -> None:
    """Against the real `aisle serve` process: after a chat and staff and admin use, the browser's storage
    holds neither the staff token nor the shopper's message."""
    from server_process import STAFF_TOKEN

    page.goto(live_server.base)
    page.locator("#aisle-message textarea").wait_for()
    chat(page, "a teddy bear for my niece")
    page.get_by_role("tab", name="Staff").click()
    page.locator("#aisle-staff-token input").fill(STAFF_TOKEN)
    page.locator("#aisle-staff-load").click()
    page.wait_for_timeout(1500)
    page.get_by_role("tab", name="Admin").click()
    page.locator("#aisle-admin-token input").fill(STAFF_TOKEN)
    page.get_by_role("button", name="Index statistics").click()
    page.get_by_text("products,").first.wait_for()
    stored = page.evaluate("() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])")
    assert STAFF_TOKEN not in stored and "teddy" not in stored, stored
