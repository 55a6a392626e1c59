"""Benchmark: how soon a shopper *sees* the reasons in a real browser, beside the same turns in-process.

Usage: python benchmarks/shop_stream.py [--turns 20] [--model qwen] [--index-dir DIR] [--json]

The demo store is served by the real Gradio app (`create_app`, uvicorn on a loopback port) and driven by
Debian's Chromium through Playwright, one fresh page per turn (so each message is a new conversation). The
messages are the first turns of the labelled demo requests. A MutationObserver in the page timestamps, with
`performance.now()`, the click on Send, the moment the new turn's cards are on screen, the first reason shown
(any card's text replacing its "Writing why this fits…" placeholder) and the moment no card is pending.

The peer, in the same run and process: the same messages asked in-process (`Assistant.recommend`, then
`Assistant.explain(on_reason=...)`), timed from the cards being ranked to the first and the last reason handed
over, as `benchmarks/llm.py` does. The difference is what the browser and Gradio's streaming add.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.core.config import Settings  # noqa: E402
from assistant.evaluation.metrics import default_requests_path, load_request_cases  # noqa: E402
from assistant.service.assistant import Assistant, ensure_demo_index  # noqa: E402
from assistant.surfaces.server import create_app, serving_in_background  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")

# Installed before Send is clicked; `window.aisleTimes` fills in as the page changes.
WATCH = """(before) => {
    const t = window.aisleTimes = {send: null, cards: null, first: null, all: null, shown: 0};
    document.querySelector('#aisle-send').addEventListener('click', () => { t.send = performance.now(); },
                                                           {capture: true, once: true});
    const look = () => {
        const holder = document.querySelector('#aisle-cards .aisle-cards');
        const turn = holder ? holder.dataset.turn || '' : '';
        if (t.send === null || turn === '' || turn === before) return;
        const cards = document.querySelectorAll('#aisle-cards .aisle-card').length;
        const pending = document.querySelectorAll('#aisle-cards .aisle-pending').length;
        const written = document.querySelectorAll('#aisle-cards .aisle-reason:not(.aisle-pending)').length;
        const now = performance.now();
        if (cards > 0 && t.cards === null) t.cards = now;
        if (written > 0 && t.first === null) t.first = now;
        if (cards > 0 && pending === 0 && t.all === null) { t.all = now; t.shown = cards; }
    };
    new MutationObserver(look).observe(document.body, {childList: true, subtree: true, characterData: true,
                                                      attributes: true});
}"""
DONE = "() => window.aisleTimes && window.aisleTimes.all !== null"


def percentiles(values: list[float]) -> dict[str, float]:
    return {"p50": round(float(np.percentile(values, 50)), 3), "p95": round(float(np.percentile(values, 95)), 3),
            "n": len(values)}


def in_browser(url: str, messages: list[str]) -> dict[str, list[float]]:
    """Seconds from Send to the cards, and from the cards to the first and to the last reason, per message."""
    from playwright.sync_api import sync_playwright

    out: dict[str, list[float]] = {"cards_after_send": [], "first_reason_after_cards": [],
                                   "all_reasons_after_cards": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.set_default_timeout(120_000)
        for message in messages:
            page.goto(url)
            page.locator("#aisle-message textarea").wait_for()
            page.evaluate(WATCH, "")
            page.locator("#aisle-message textarea").fill(message)
            page.locator("#aisle-send").click()
            page.wait_for_function(DONE)
            t = page.evaluate("window.aisleTimes")
            if t["cards"] is None or t["first"] is None:
                continue  # a clarifying question: no cards, nothing to time
            out["cards_after_send"].append((t["cards"] - t["send"]) / 1000)
            out["first_reason_after_cards"].append((t["first"] - t["cards"]) / 1000)
            out["all_reasons_after_cards"].append((t["all"] - t["cards"]) / 1000)
        browser.close()
    return out


def in_process(assistant: Assistant, cases) -> dict[str, list[float]]:
    """The same turns without the browser: cards ranked → first / last reason handed over."""
    out: dict[str, list[float]] = {"cards_after_send": [], "first_reason_after_cards": [],
                                   "all_reasons_after_cards": []}
    for case in cases:
        started = time.perf_counter()
        rec = assistant.recommend(case.turns[0], k=5)
        ranked = time.perf_counter()
        if not rec.items:
            continue
        handed: list[float] = []
        assistant.explain(rec.turn_id, on_reason=lambda _: handed.append(time.perf_counter() - ranked))
        out["cards_after_send"].append(ranked - started)
        out["first_reason_after_cards"].append(handed[0] if handed else time.perf_counter() - ranked)
        out["all_reasons_after_cards"].append(time.perf_counter() - ranked)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--model", default="qwen")
    parser.add_argument("--index-dir", type=Path, default=None, help="where the demo index is built / reused")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit("Chromium is missing: apt-get install -y chromium (make browser installs it)")
    cases = [c for c in load_request_cases(default_requests_path()) if c.turns][: args.turns]
    with tempfile.TemporaryDirectory() as tmp:
        root = args.index_dir or Path(tmp)
        settings = Settings(index_dir=root / "index", state_dir=Path(tmp) / "state", llm_model=args.model)
        ensure_demo_index(settings)
        assistant = Assistant(settings)
        assistant.recommend("warm up", reasons=True)
        with serving_in_background(create_app(assistant)) as url:
            browser = in_browser(url, [c.turns[0] for c in cases])
        peer = in_process(assistant, cases)
    report = {"turns": len(cases), "model": args.model,
              "browser": {k: percentiles(v) for k, v in browser.items() if v},
              "in_process": {k: percentiles(v) for k, v in peer.items() if v}}
    if args.json:
        print(json.dumps(report, indent=1))
        return
    print(f"{len(cases)} demo turns, LLM {args.model}; seconds, p50 / p95 (n)")
    print(f"{'':<28}{'browser (Chromium)':>22}{'in-process':>18}")
    for key in ("cards_after_send", "first_reason_after_cards", "all_reasons_after_cards"):
        b, i = report["browser"].get(key), report["in_process"].get(key)
        cell = lambda f: f"{f['p50']:.2f} / {f['p95']:.2f} ({f['n']})" if f else "—"  # noqa: E731
        print(f"{key:<28}{cell(b):>22}{cell(i):>18}")


if __name__ == "__main__":
    main()
