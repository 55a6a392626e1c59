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
DOCS_IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"  # the pictures README.md shows
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
TURN = "(document.querySelector('#aisle-cards .aisle-cards') || {dataset: {}}).dataset.turn || ''"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def answered(page, before_turn: str) -> None:
    """Wait until another turn's cards are shown, each with its reason written."""
    page.wait_for_function(f"""(before) => {{
        const turn = {TURN};
        return turn !== '' && turn !== before && document.querySelectorAll('#aisle-cards .aisle-pending').length === 0;
    }}""", arg=before_turn)


def chat(page, text: str) -> None:
    """Send a message and wait until the next answer is shown, each reason written."""
    before = page.evaluate(TURN)
    page.locator("#aisle-message textarea").fill(text)
    page.locator("#aisle-send").click()
    answered(page, before)


WATCH_REASONS = """() => {
    window.aisleReasonsSeen = [];
    window.aisleReasonsWatch = new MutationObserver(() => window.aisleReasonsSeen.push(
        document.querySelectorAll('#aisle-cards .aisle-reason:not(.aisle-pending)').length));
    window.aisleReasonsWatch.observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def chips(page) -> list[str]:
    return [c.inner_text() for c in page.locator("#aisle-chips button").all() if c.is_visible()]


def last_reply(page) -> str:
    return page.locator("#aisle-chat .message.bot").last.inner_text()


def test_shop_two_turns_feedback_and_staff_trace(app_url: str, page) -> None:
    """Five products with a one-line "understood", follow-up chips, the store's segment names, no ids on the
    cards, pictures or placeholders; refining, comparing from the chat and from the cards, one feedback
    control per card with a pressed state; the staff trace; a chip sends the next message."""
    page.set_viewport_size(DESKTOP)
    page.goto(app_url)
    page.locator("#aisle-message textarea").wait_for()
    page.evaluate(WATCH_REASONS)
    chat(page, "waterproof jacket for my 6 year old under $40")
    cards = page.locator("#aisle-cards .aisle-card")
    assert cards.count() == 5
    seen = page.evaluate("window.aisleReasonsWatch.disconnect() || window.aisleReasonsSeen")
    assert 0 in seen and any(0 < n < 5 for n in seen) and seen[-1] == 5, seen  # cards, then reasons one by one
    first_text = cards.first.inner_text()
    assert "$" in first_text and page.locator("#aisle-cards .aisle-reason").first.inner_text().strip()
    assert "waterproof jacket" in last_reply(page) and "under $40" in last_reply(page)
    assert "Understood: waterproof jacket" in page.locator("#aisle-cards .aisle-headline").inner_text()
    offered = chips(page)
    assert 2 <= len(offered) <= 4 and "cheaper" in offered, offered  # a budget is set: "cheaper" is offered
    ids = page.evaluate(CARD_IDS).split(",")
    shown = page.locator("#aisle-cards").inner_text()
    assert not any(pid in shown for pid in ids), shown  # no internal ids on the cards
    assert page.locator("#aisle-cards .aisle-card .aisle-img").count() == 5  # a picture or its placeholder
    page.locator("#aisle-segment input").click()
    options = page.get_by_role("option").all_inner_texts()
    assert "Parents of young kids" in options and not any("_" in o for o in options), options
    page.keyboard.press("Escape")
    page.screenshot(path=str(ARTIFACTS / "shop-turn-1.png"), full_page=True)

    chat(page, "make it blue")
    page.screenshot(path=str(ARTIFACTS / "shop-turn-2.png"), full_page=True)
    metas = page.locator("#aisle-cards .aisle-meta").all_inner_texts()[::2]
    assert metas and all("blue" in t.lower() or "navy" in t.lower() for t in metas), metas  # the blue family
    first_id = cards.first.get_attribute("data-product-id")
    titles = page.evaluate("Array.from(document.querySelectorAll('#aisle-cards .aisle-card h4'))"
                           ".map(h => h.lastChild.textContent)")

    page.locator("#aisle-message textarea").fill("compare 1 and 3")
    page.locator("#aisle-send").click()
    table = page.locator("#aisle-compare table")
    table.wait_for()
    heads = table.locator("tr").first.locator("th").all_inner_texts()
    assert heads[1:] == [f"1. {titles[0]}", f"3. {titles[2]}"], (heads, titles)
    assert "Price" in table.inner_text() and "$" in table.inner_text() and "Sizes" in table.inner_text()
    cards.nth(1).locator("[data-compare]").click()  # Compare on two cards sends "compare 2 and 4"
    cards.nth(3).locator("[data-compare]").click()
    page.wait_for_function("document.querySelector('#aisle-compare table tr th:nth-child(2)').innerText.startsWith('2.')")
    assert page.locator("#aisle-chat .message.user").last.inner_text().strip() == "compare 2 and 4"
    page.screenshot(path=str(ARTIFACTS / "shop-compare.png"), full_page=True)
    DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_IMAGES / "shop-desktop.png"), full_page=True)

    first_card = page.locator("#aisle-cards .aisle-card").first
    first_card.locator("[data-feedback='up']").click()
    first_card.locator(".aisle-fb").get_by_text("Thanks").wait_for()
    assert first_card.locator("[data-feedback='up']").get_attribute("aria-pressed") == "true"
    second = page.locator("#aisle-cards .aisle-card").nth(1)
    declined = second.get_attribute("data-product-id")
    second.locator("[data-feedback='up']").click()
    second.locator(".aisle-fb").get_by_text("Thanks").wait_for()
    second.locator("[data-feedback='down']").click()
    second.locator(".aisle-fb").get_by_text("won't show").wait_for()
    pressed = [b.get_attribute("aria-pressed") for b in second.locator("[data-feedback]").all()]
    assert pressed == ["false", "true", "false"], pressed  # 👍 and 👎 exclude each other
    page.locator("#aisle-cards .aisle-card").nth(2).locator("[data-feedback='bought']").click()
    page.locator("#aisle-cards .aisle-card").nth(2).locator(".aisle-fb").get_by_text("Great choice").wait_for()
    assert page.locator("#aisle-picked, #aisle-bought").count() == 0  # no second feedback row

    page.get_by_role("tab", name="Staff").click()
    page.locator("#aisle-staff-token input").fill(TOKEN)
    page.locator("#aisle-staff-load").click()
    page.locator("#aisle-staff-product textarea, #aisle-staff-product input").first.fill(first_id)
    page.wait_for_timeout(1000)
    page.locator("#aisle-staff-why").click()
    page.locator("#aisle-staff-summary").get_by_text("Ranked 1st").wait_for()  # the sentence first...
    page.get_by_text("Full trace (scores, pools, filters)").click()  # ...the numbers folded below it
    # The accordion renders its contents once opened: wait for the textarea as well as its text.
    page.wait_for_function("(document.querySelector('#aisle-staff-trace textarea') || {value: ''})"
                           ".value.includes('breakdown')")
    trace = page.locator("#aisle-staff-trace textarea").input_value()
    data = json.loads(trace)
    assert data["product_id"] == first_id and data["shown"] is True, (data.get("stage"), data.get("why"))
    assert "content_similarity" in data["breakdown"] and data["breakdown"]["reason"]
    page.screenshot(path=str(ARTIFACTS / "staff-trace.png"), full_page=True)

    page.get_by_role("tab", name="Shop").click()
    before = page.evaluate(TURN)
    page.locator("#aisle-chips button", has_text="show me more").click()  # a chip is the next message
    answered(page, before)
    assert page.locator("#aisle-chat .message.user").last.inner_text().strip() == "show me more"
    assert declined not in page.evaluate(CARD_IDS).split(",")  # a thumbs-down hides it in this conversation
    # Nothing secret stays in the browser: no staff token and no shopper message in its storage.
    stored = page.evaluate("() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])")
    assert TOKEN not in stored and "waterproof" not in stored and "make it blue" not in stored, stored


def test_shop_says_what_it_relaxed_shows_text_as_typed_and_switches_language(app_url: str, page) -> None:
    """The reply names what the alternatives do not meet; the shopper's message is shown as typed (no
    Markdown, no HTML); the language picker turns the shop's words to Chinese; an empty Send gives a hint."""
    page.set_viewport_size(DESKTOP)
    page.goto(app_url)
    page.locator("#aisle-message textarea").wait_for()
    typed = "<b>**waterproof**</b> jacket for my 6 year old under $15"
    chat(page, typed)
    assert page.locator("#aisle-chat .message.user").last.inner_text().strip() == typed
    assert page.locator("#aisle-chat .message.user b, #aisle-chat .message.user strong").count() == 0
    reply = last_reply(page)
    assert "closest alternative" in reply and "over your $15" in reply, reply
    assert "Relaxed: over your $15" in page.locator("#aisle-cards .aisle-headline").inner_text()
    page.locator("#aisle-send").click()
    page.locator("#aisle-hint").get_by_text("Type what you're looking for").wait_for()
    page.locator("#aisle-language").get_by_text("中文").click()
    page.locator("#aisle-send", has_text="发送").wait_for()
    page.locator("#aisle-send").click()
    page.locator("#aisle-hint").get_by_text("请先输入").wait_for()
    page.screenshot(path=str(ARTIFACTS / "shop-relaxed-chinese-labels.png"), full_page=True)


def test_staff_view_refuses_a_wrong_token(app_url: str, page) -> None:
    page.goto(app_url)
    page.get_by_role("tab", name="Staff").click()
    page.locator("#aisle-staff-token input").fill("wrong")
    page.locator("#aisle-staff-product textarea, #aisle-staff-product input").first.fill("P00001")
    page.locator("#aisle-staff-why").click()
    page.locator("#aisle-staff-summary").get_by_text("a valid staff token is required").wait_for()


def test_phone_width_and_chinese(app_url: str, page) -> None:
    """On a phone, a Chinese request: the answer scrolls into view, the shop's words and the chips turn
    Chinese, the headline is in Chinese, and comparing works with 比较1和3."""
    page.set_viewport_size(PHONE)
    page.goto(app_url)
    page.locator("#aisle-message textarea").wait_for()
    chat(page, "给我6岁的儿子买一件40美元以下的防水外套")
    cards = page.locator("#aisle-cards .aisle-card")
    assert cards.count() == 5
    box = cards.first.bounding_box()
    assert box["width"] <= 390
    top, card = page.locator("#aisle-cards").bounding_box()["y"], cards.first.bounding_box()["y"]
    assert -30 <= top and 0 <= card < PHONE["height"] * 0.6, (top, card)  # the new answer is on screen
    assert page.locator("#aisle-send").inner_text().strip() == "发送"
    assert page.locator("#aisle-cards .aisle-headline").inner_text().startswith("理解为")
    offered = chips(page)
    assert offered and all(not c.isascii() for c in offered), offered
    page.screenshot(path=str(ARTIFACTS / "phone-chinese.png"))
    DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_IMAGES / "shop-phone.png"))
    page.locator("#aisle-message textarea").fill("比较1和3")
    page.locator("#aisle-send").click()
    page.locator("#aisle-compare table").get_by_text("价格").wait_for()
    page.screenshot(path=str(ARTIFACTS / "phone-compare.png"))


def test_admin_forgets_a_customer(app_url: str, page) -> None:
    page.set_viewport_size(DESKTOP)
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
