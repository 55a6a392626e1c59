"""Product cards, the answer's headline and the comparison table as HTML for the web app; every catalog and
shopper value is escaped (untrusted data). Words on screen come from labels.py in the shopper's language."""

from __future__ import annotations

import html

from assistant.core.money import format_price
from assistant.service.answers import relaxed_text, summary
from assistant.surfaces.web.labels import words

CSS = """
.aisle-cards {display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 12px;}
.aisle-card {border: 1px solid #d0d7de; border-radius: 10px; padding: 12px; background: #fff; color: #111;}
.aisle-card h4 {margin: 0 0 6px 0; font-size: 1rem;}
.aisle-img {width: 100%; height: 140px; object-fit: contain; border-radius: 6px; background: #f6f8fa;}
.aisle-noimg {display: flex; align-items: center; justify-content: center; color: #888; font-size: 0.8rem;
              text-align: center;}
.aisle-rank {display: inline-block; background: #0b5; color: #fff; border-radius: 50%; width: 1.5em;
             text-align: center; margin-right: 4px; font-size: 0.8rem;}
.aisle-price {font-weight: 700; font-size: 1.05rem;}
.aisle-meta {color: #555; font-size: 0.85rem; margin: 4px 0;}
.aisle-reason {font-size: 0.9rem; margin-top: 8px; font-style: italic;}
.aisle-pending {color: #888;}
.aisle-relax {color: #a40; font-size: 0.85rem; margin: 4px 0;}
.aisle-headline {grid-column: 1 / -1; font-size: 0.95rem; color: #222; margin-bottom: 2px;}
.aisle-headline .aisle-relaxed {color: #a40;}
.aisle-actions {margin-top: 8px; display: flex; gap: 6px; align-items: center; flex-wrap: wrap;}
.aisle-actions button {border: 1px solid #d0d7de; border-radius: 6px; background: #f6f8fa; padding: 2px 8px;
                       font-size: 0.8rem; font-weight: 500; cursor: pointer; color: #111;}
.aisle-actions button[aria-pressed="true"] {background: #0b5; border-color: #083; color: #fff;}
.aisle-fb {font-size: 0.8rem; color: #0a6;}
.aisle-compare-table {border-collapse: collapse; width: 100%; font-size: 0.9rem;}
.aisle-compare-table th, .aisle-compare-table td {border: 1px solid #d0d7de; padding: 4px 8px; text-align: left;
                                                  vertical-align: top;}
.aisle-compare-table .aisle-differs {background: #fff8e1;}
.aisle-compare {overflow-x: auto;}
@media (max-width: 480px) { .aisle-cards {grid-template-columns: 1fr;} }
"""

# Card buttons call the `card_feedback` server function; its answer is shown on the card and the pressed
# button keeps a visible state (👍 and 👎 exclude each other). Two pressed "Compare" buttons send
# "compare 1 and 3" as the next message. A new answer (another turn) is scrolled into view when its top is
# not on screen (a phone).
CARD_JS = """
const send = (text) => {
  const box = document.querySelector('#aisle-message textarea');
  box.value = text;
  box.dispatchEvent(new Event('input', {bubbles: true}));
  setTimeout(() => document.querySelector('#aisle-send').click(), 50);
};
element.addEventListener('click', (event) => {
  const compare = event.target.closest('[data-compare]');
  if (compare) {
    const on = compare.getAttribute('aria-pressed') !== 'true';
    compare.setAttribute('aria-pressed', on ? 'true' : 'false');
    const picked = Array.from(element.querySelectorAll('[data-compare][aria-pressed="true"]'));
    if (picked.length >= 2) {
      const ranks = picked.map((b) => b.closest('.aisle-card').dataset.rank);
      const zh = element.querySelector('.aisle-cards').dataset.lang === 'zh';
      picked.forEach((b) => b.setAttribute('aria-pressed', 'false'));
      send(zh ? ('比较' + ranks.join('和')) : ('compare ' + ranks.join(' and ')));
    }
    return;
  }
  const button = event.target.closest('[data-feedback]');
  if (!button) return;
  const card = button.closest('.aisle-card');
  const note = card.querySelector('.aisle-fb');
  const answer = element.querySelector('.aisle-cards');
  const what = [button.dataset.feedback, card.dataset.productId, card.dataset.turn, card.dataset.conversation,
                answer.dataset.lang || 'en'];
  server.card_feedback(JSON.stringify(what)).then((message) => {
    note.textContent = message;
    if (message.startsWith(answer.dataset.fail)) return;
    card.querySelectorAll('[data-feedback]').forEach((b) => {
      const exclusive = button.dataset.feedback !== 'bought' && b.dataset.feedback !== 'bought';
      if (b === button) b.setAttribute('aria-pressed', 'true');
      else if (exclusive) b.setAttribute('aria-pressed', 'false');
    });
  });
});
let shownTurn = '';
new MutationObserver(() => {
  const cards = element.querySelector('.aisle-cards');
  if (!cards || cards.dataset.turn === shownTurn) return;
  shownTurn = cards.dataset.turn;
  const top = element.getBoundingClientRect().top;
  if (top > window.innerHeight * 0.6 || top < 0) element.scrollIntoView({block: 'start'});
}).observe(element, {childList: true, subtree: true});
"""

# The comparison table is scrolled into view when it appears below the screen.
COMPARE_JS = """
new MutationObserver(() => {
  const top = element.getBoundingClientRect().top;
  const hidden = top > window.innerHeight * 0.6 || top < 0;
  if (element.querySelector('table') && hidden) element.scrollIntoView({block: 'start'});
}).observe(element, {childList: true, subtree: true});
"""


def image_html(url: str, category: str) -> str:
    """The product's picture (http(s) only), else a placeholder naming its category."""
    esc = html.escape
    if url.startswith(("http://", "https://")):
        return f'<img class="aisle-img" src="{esc(url)}" alt="" loading="lazy">'
    leaf = category.split(">")[-1].strip()
    return f'<div class="aisle-img aisle-noimg" role="img" aria-label="{esc(leaf)}">🛍️ {esc(leaf)}</div>'


def headline_html(headline, language: str) -> str:
    """The answer's one line on top of the cards: what was understood, how much matched, what was relaxed."""
    if headline is None:
        return ""
    w, esc = words(language), html.escape
    parts = []
    if headline.understood:
        parts.append(f'<b>{esc(w["understood"])}:</b> {esc(headline.understood)}')
    if headline.matched < headline.shown:
        parts.append(esc(w["matched"].format(matched=headline.matched, shown=headline.shown)))
    if headline.relaxed:
        relaxed = relaxed_text(headline.relaxed, language == "zh")
        parts.append(f'<span class="aisle-relaxed"><b>{esc(w["relaxed"])}:</b> {esc(relaxed)}</span>')
    return f'<div class="aisle-headline">{" · ".join(parts)}</div>' if parts else ""


def render_cards(items: list, reasons: dict[str, str] | None = None, turn_id: str = "",
                 conversation_id: str = "", currency: str = "", language: str = "en", headline=None) -> str:
    """Product cards as HTML, every catalog value escaped: picture (or placeholder), title, price, what an
    alternative does not meet, reason when known (else a placeholder), and one feedback control (👍 / 👎 /
    bought it) plus a Compare toggle, handled by CARD_JS. `headline` (service.answers.Headline) goes on top."""
    w, esc = words(language), html.escape
    if not items:
        return (f'<div class="aisle-cards" data-turn="{esc(turn_id)}" data-lang="{esc(language)}">'
                f'<p>{esc(w["nothing"])}</p></div>')
    cards = []
    for item in items:
        p = item.product
        meta = " · ".join(esc(x) for x in (p.brand, p.color, p.size.replace("|", " / ")) if x)
        rating = f"★ {p.rating:.1f} ({p.rating_count})" if p.rating is not None else ""
        stock = "" if p.in_stock else f" · <em>{esc(w['out_of_stock'])}</em>"
        relaxed = item.breakdown.relaxes
        relaxes = (f'<div class="aisle-relax">{esc(w["not_exact"].format(what="; ".join(relaxed)))}</div>'
                   if relaxed else "")
        reason = (reasons or {}).get(p.id)
        reason_html = (f'<div class="aisle-reason">{esc(reason)}</div>' if reason
                       else f'<div class="aisle-reason aisle-pending">{esc(w["pending"])}</div>')
        actions = (f'<div class="aisle-actions" role="group">'
                   f'<button data-feedback="up" aria-pressed="false" title="{esc(w["up"])}">👍</button>'
                   f'<button data-feedback="down" aria-pressed="false" title="{esc(w["down"])}">👎</button>'
                   f'<button data-feedback="bought" aria-pressed="false">{esc(w["bought"])}</button>'
                   f'<button data-compare="1" aria-pressed="false" title="{esc(w["compare_hint"])}">'
                   f'{esc(w["compare"])}</button><span class="aisle-fb" aria-live="polite"></span></div>')
        cards.append(f'<div class="aisle-card" data-product-id="{esc(p.id)}" data-rank="{item.rank}" '
                     f'data-turn="{esc(turn_id)}" data-conversation="{esc(conversation_id)}">'
                     f'{image_html(p.image_url, p.category)}'
                     f'<h4><span class="aisle-rank">{item.rank}</span>{esc(p.title)}</h4>'
                     f'<div class="aisle-price">{esc(format_price(p.price, currency))}</div>{relaxes}'
                     f'<div class="aisle-meta">{meta}</div><div class="aisle-meta">{rating}{stock}</div>'
                     f'{reason_html}{actions}</div>')
    fail = w["feedback_failed"].split("{")[0]
    return (f'<div class="aisle-cards" data-turn="{esc(turn_id)}" data-lang="{esc(language)}" data-fail="{esc(fail)}">'
            f'{headline_html(headline, language)}{"".join(cards)}</div>')


def render_comparison(comparison) -> str:
    """A `service.compare.Comparison` as an HTML table, one column per product; rows whose values differ
    are marked. Every value escaped."""
    esc = html.escape
    positions = comparison.positions or tuple(range(1, len(comparison.titles) + 1))
    head = "".join(f"<th>{n}. {esc(t)}</th>" for n, t in zip(positions, comparison.titles))
    rows = []
    for label, values in comparison.rows:
        differs = ' class="aisle-differs"' if len(set(values)) > 1 else ""
        rows.append(f"<tr{differs}><th>{esc(label)}</th>" + "".join(f"<td>{esc(v)}</td>" for v in values) + "</tr>")
    first = esc(words(comparison.language)["compare"])
    return (f'<div class="aisle-compare"><table class="aisle-compare-table"><tr><th>{first}</th>{head}</tr>'
            f'{"".join(rows)}</table></div>')


def reply_text(rec) -> str:
    """The assistant's chat line for a recommendation (see `assistant.service.answers.summary`)."""
    return summary(rec)
