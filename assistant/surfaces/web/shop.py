"""The Shop tab: the chat, the answer's cards with one feedback control each, follow-up chips, "compare 1
and 3" tables, the segment picker with the store's own segment names, and every word on screen in the
shopper's language (English / 中文: the language of the last message, or the picker).

The conversation and its history live on the server (the Assistant and a gr.State); the browser only sends
messages. Shopper text is shown as itself (never as Markdown or HTML); catalog text is escaped."""

from __future__ import annotations

import html
import json
import queue
import re
import threading
from typing import Any, Iterator

from assistant.service.answers import headline
from assistant.service.assistant import Assistant, StoreUnavailable
from assistant.service.compare import asks_to_compare, compare, compare_positions
from assistant.service.followups import MAX_CHIPS, follow_ups
from assistant.surfaces.web.cards import CARD_JS, COMPARE_JS, render_cards, render_comparison, reply_text
from assistant.surfaces.web.labels import LANGUAGES, language_of, words

EXAMPLES = ["waterproof jacket for my 6 year old under $40", "reading glasses for grandpa",
            "wireless headphones for the gym", "给我6岁的儿子买一件40美元以下的防水外套", "a birthday gift for a 5 year old"]
AUTO_SEGMENT = "let Aisle infer"  # the picker's value for "no segment chosen" (its label is in labels.py)
HISTORY_TURNS = 50  # chat turns kept on screen (the conversation itself lives in the Assistant)
CJK = re.compile(r"[\u3400-\u9fff]")
FRAMED = 5  # components whose words follow the language (see `frame`)
FEEDBACK_KINDS = {"up": "thanks_up", "down": "thanks_down", "bought": "thanks_bought"}


def reasons_as_written(assistant: Assistant, turn_id: str) -> Iterator[dict[str, str]]:
    """The turn's reasons so far ({product id: reason}), once more each time another one is written; the
    last is all of them. The writing runs in a thread so each reason can be shown while the next is being
    written. Raises what `Assistant.explain` raised."""
    written: "queue.Queue[tuple[str, Any]]" = queue.Queue()

    def write() -> None:
        try:
            written.put(("all", assistant.explain(turn_id, on_reason=lambda r: written.put(("one", r)))))
        except Exception as err:  # noqa: BLE001 — handed to the caller, which says what happened
            written.put(("error", err))

    threading.Thread(target=write, name="aisle-reasons", daemon=True).start()
    so_far: dict[str, str] = {}
    while True:
        kind, value = written.get()
        if kind == "error":
            raise value
        if kind == "all":
            yield dict(value)
            return
        so_far[value.product_id] = value.text
        yield dict(so_far)


def segment_choices(assistant: Assistant, language: str) -> list[tuple[str, str]]:
    """(label, value) pairs for the segment picker: the segments file's own names, never their keys."""
    named = sorted(((s.name or key, key) for key, s in assistant.segments.items()), key=lambda pair: pair[0])
    return [(words(language)["auto_segment"], AUTO_SEGMENT)] + named


def text_language(text: str, default: str = "en") -> str:
    """"zh" for a message with Chinese characters, "en" for one with Latin letters only, else `default`."""
    if CJK.search(text):
        return "zh"
    return "en" if re.search(r"[A-Za-z]", text) else default


def build_shop(assistant: Assistant) -> None:
    """The Shop tab's components and events, inside the caller's `gr.Blocks` / `gr.Tab`."""
    import gradio as gr

    def frame(language: str) -> list[Any]:
        """The labelled components in `language`: intro, segment picker, Send, Start over, language picker."""
        w = words(language)
        return [gr.update(value=w["intro"]), gr.update(label=w["segment"], choices=segment_choices(assistant, language)),
                gr.update(value=w["send"]), gr.update(value=w["reset"]),
                gr.update(label=w["language"], value=LANGUAGES[language])]

    def relabel(state: dict, language: str) -> list[Any]:
        """`frame(language)` when the words on screen are in another language (recorded in `state`), else
        no change (re-sending the segment picker's choices each turn would be wasted work)."""
        if state.get("labels", "en") == language:
            return [gr.update() for _ in range(FRAMED)]
        state["labels"] = language
        return frame(language)

    def cleared(language: str) -> Any:
        """The message box emptied, its example in `language`."""
        return gr.update(value="", placeholder=words(language)["placeholder"])

    def chip_updates(chips: list[str] | None) -> list[Any]:
        chips = list(chips or [])
        return [gr.update(value=chips[i], visible=True) if i < len(chips) else gr.update(value="", visible=False)
                for i in range(MAX_CHIPS)]

    def keep_chips() -> list[Any]:
        return [gr.update() for _ in range(MAX_CHIPS)]

    def said(history: list, text: str, answer: str) -> list:
        """The history with one exchange added; both shown as themselves: the chat renders no Markdown, and
        HTML-escaped text is shown as the characters typed."""
        history = history + [{"role": "user", "content": html.escape(text)},
                             {"role": "assistant", "content": html.escape(answer)}]
        return history[-2 * HISTORY_TURNS:]

    def send(message: str, state: dict, segment: str):
        # The history lives in the server-side state, never taken back from the browser: a client-sent
        # chat history could name server files as Gradio file items.
        state = dict(state or {})
        history = list(state.get("history", []))
        language = state.get("language", "en")
        text = str(message or "").strip()
        if not text:
            yield (history, state, gr.update(), gr.update(), gr.update(), words(language)["empty"], *keep_chips(),
                   *[gr.update() for _ in range(FRAMED)])
            return
        language = text_language(text, language)
        w = words(language)
        shown = list(state.get("items", []))
        positions = compare_positions(text, len(shown))
        if not positions and asks_to_compare(text) and len(shown) < 2:
            state.update(history=said(history, text, w["compare_none"]), language=language)
            yield (state["history"], state, gr.update(), gr.update(), cleared(language), "", *keep_chips(),
                   *relabel(state, language))
            return
        if positions:
            products = [assistant.index.products[i] for i in
                        (assistant.index.position_of(shown[n - 1]) for n in positions) if i is not None]
            table = compare(products, assistant.store_profile().currency, language, positions)
            which = w["and"].join(str(n) for n in positions)
            state.update(history=said(history, text, w["compare_reply"].format(which=which)), language=language)
            yield (state["history"], state, gr.update(), render_comparison(table), cleared(language), "",
                   *keep_chips(), *relabel(state, language))
            return
        try:
            conversation_id, rec = assistant.chat(text, state.get("conversation"),
                                                  None if segment in (AUTO_SEGMENT, None, "") else segment)
        except Exception as err:  # never crash the chat: say what happened
            state.update(history=said(history, text, w["error"].format(error=err)), language=language)
            yield (state["history"], state, gr.update(), gr.update(), cleared(language), "", *keep_chips(),
                   *relabel(state, language))
            return
        language = "zh" if rec.request.language == "zh" else "en"
        chips = follow_ups(rec, assistant.store_profile())
        state.update(conversation=conversation_id, turn=rec.turn_id, items=[i.product.id for i in rec.items],
                     history=said(history, text, reply_text(rec)), language=language)
        cards = lambda reasons: render_cards(rec.items, reasons, rec.turn_id, conversation_id,  # noqa: E731
                                             rec.request.currency, language, headline(rec))
        yield (state["history"], state, cards(None), "", cleared(language), "", *chip_updates(chips),
               *relabel(state, language))
        if not rec.items:
            return
        unchanged = (gr.update(), gr.update(), gr.update(), *keep_chips(), *[gr.update() for _ in range(FRAMED)])
        reasons: dict[str, str] = {}
        try:
            for reasons in reasons_as_written(assistant, rec.turn_id):
                yield (state["history"], state, cards(reasons), *unchanged)
        except Exception as err:
            reasons = {**{i.product.id: w["no_reason"].format(error=err) for i in rec.items}, **reasons}
            yield (state["history"], state, cards(reasons), *unchanged)

    def card_feedback(payload: str) -> str:
        """Called from a card's button with JSON [kind, product id, turn id, conversation id, language?]; the
        shopper's answer (a refused one starts with the `feedback_failed` words)."""
        try:
            values = [str(v) for v in json.loads(payload)]
            kind, product_id, turn_id, conversation_id = values[:4]
            language = language_of(values[4]) if len(values) > 4 else "en"
        except (ValueError, TypeError) as err:
            return words("en")["feedback_failed"].format(error=err)
        w = words(language)
        try:
            assistant.record_feedback(conversation_id[:64], turn_id[:64], product_id[:128], kind)
        except (KeyError, ValueError, StoreUnavailable) as err:
            return w["feedback_failed"].format(error=err)
        return w[FEEDBACK_KINDS[kind]]

    def start_over(state: dict):
        assistant.reset_conversation((state or {}).get("conversation"))
        language = (state or {}).get("language", "en")
        return [], {"language": language, "labels": (state or {}).get("labels", "en")}, "", "", "", *chip_updates([])

    def pick_language(choice: str, state: dict):
        state = dict(state or {})
        state["language"] = state["labels"] = language_of(choice)
        return state, cleared(state["language"]), *frame(state["language"])

    w = words("en")
    intro = gr.Markdown(w["intro"], elem_id="aisle-intro")
    state = gr.State({})
    with gr.Row():
        segment = gr.Dropdown(segment_choices(assistant, "en"), value=AUTO_SEGMENT, label=w["segment"], scale=3,
                              elem_id="aisle-segment")
        language_picker = gr.Radio(list(LANGUAGES.values()), value=LANGUAGES["en"], label=w["language"], scale=1,
                                   elem_id="aisle-language")
    chatbot = gr.Chatbot(show_label=False, height=300, elem_id="aisle-chat", render_markdown=False)
    with gr.Row(elem_id="aisle-chips"):
        chips = [gr.Button("", visible=False, size="sm", elem_classes=["aisle-chip"], elem_id=f"aisle-chip-{i}",
                           min_width=80) for i in range(MAX_CHIPS)]
    with gr.Row():
        message = gr.Textbox(placeholder=w["placeholder"], show_label=False, scale=5, elem_id="aisle-message")
        send_button = gr.Button(w["send"], variant="primary", scale=1, elem_id="aisle-send")
    hint = gr.Markdown(elem_id="aisle-hint")
    gr.Examples(EXAMPLES, inputs=message)
    comparison = gr.HTML(elem_id="aisle-compare", js_on_load=COMPARE_JS)
    cards = gr.HTML(elem_id="aisle-cards", js_on_load=CARD_JS, server_functions=[card_feedback])
    reset = gr.Button(w["reset"], elem_id="aisle-reset")
    framed = [intro, segment, send_button, reset, language_picker]
    assert len(framed) == FRAMED
    outputs = [chatbot, state, cards, comparison, message, hint, *chips, *framed]
    send_button.click(send, [message, state, segment], outputs)
    message.submit(send, [message, state, segment], outputs)
    for chip in chips:
        chip.click(send, [chip, state, segment], outputs, api_name=False)
    reset.click(start_over, [state], [chatbot, state, cards, comparison, hint, *chips])
    language_picker.input(pick_language, [language_picker, state], [state, message, *framed])
