"""Product cards and chat lines as HTML for the web app; every catalog value is escaped (untrusted data)."""

from __future__ import annotations

import html

from assistant.core.money import format_price

CSS = """
.aisle-cards {display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 12px;}
.aisle-card {border: 1px solid #d0d7de; border-radius: 10px; padding: 12px; background: #fff; color: #111;}
.aisle-card h4 {margin: 0 0 6px 0; font-size: 1rem;}
.aisle-rank {display: inline-block; background: #0b5; color: #fff; border-radius: 50%; width: 1.5em;
             text-align: center; margin-right: 4px; font-size: 0.8rem;}
.aisle-price {font-weight: 700; font-size: 1.05rem;}
.aisle-meta {color: #555; font-size: 0.85rem; margin: 4px 0;}
.aisle-reason {font-size: 0.9rem; margin-top: 8px; font-style: italic;}
.aisle-pending {color: #888;}
.aisle-relax {color: #a40; font-size: 0.85rem; margin: 4px 0;}
.aisle-actions {margin-top: 8px; display: flex; gap: 6px; align-items: center; flex-wrap: wrap;}
.aisle-actions button {border: 1px solid #d0d7de; border-radius: 6px; background: #f6f8fa; padding: 2px 8px;
                       cursor: pointer;}
.aisle-fb {font-size: 0.8rem; color: #0a6;}
@media (max-width: 480px) { .aisle-cards {grid-template-columns: 1fr;} }
"""

# Card buttons call the `card_feedback` server function; its answer is shown on the card.
CARD_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('[data-feedback]');
  if (!button) return;
  const card = button.closest('.aisle-card');
  const note = card.querySelector('.aisle-fb');
  const what = [button.dataset.feedback, card.dataset.productId, card.dataset.turn, card.dataset.conversation];
  server.card_feedback(JSON.stringify(what)).then((message) => { note.textContent = message; });
});
"""

def render_cards(items: list, reasons: dict[str, str] | None = None, turn_id: str = "",
                 conversation_id: str = "", currency: str = "") -> str:
    """Product cards as HTML, every catalog value escaped; reasons when known, else a placeholder; each card
    with thumbs up / down and "bought it" buttons (handled by CARD_JS)."""
    if not items:
        return "<p>Nothing in the catalog meets all of that. Try relaxing something, e.g. “forget the budget”.</p>"
    esc = html.escape
    cards = []
    for item in items:
        p = item.product
        meta = " · ".join(esc(x) for x in (p.brand, p.color, p.size.replace("|", " / ")) if x)
        rating = f"★ {p.rating:.1f} ({p.rating_count})" if p.rating is not None else ""
        stock = "" if p.in_stock else " · <em>out of stock</em>"
        image = (f'<img src="{esc(p.image_url)}" alt="" style="max-width:100%;border-radius:6px">'
                 if p.image_url.startswith(("http://", "https://")) else "")
        relaxed = item.breakdown.relaxes
        relaxes = (f'<div class="aisle-relax">Not an exact match: {esc("; ".join(relaxed))}</div>' if relaxed else "")
        reason = (reasons or {}).get(p.id)
        reason_html = (f'<div class="aisle-reason">{esc(reason)}</div>' if reason
                       else '<div class="aisle-reason aisle-pending">Writing why this fits…</div>')
        actions = ('<div class="aisle-actions"><button data-feedback="up" title="Good pick">👍</button>'
                   '<button data-feedback="down" title="Not for me">👎</button>'
                   '<button data-feedback="bought">Bought it</button><span class="aisle-fb"></span></div>')
        cards.append(f'<div class="aisle-card" data-product-id="{esc(p.id)}" data-turn="{esc(turn_id)}" '
                     f'data-conversation="{esc(conversation_id)}">{image}'
                     f'<h4><span class="aisle-rank">{item.rank}</span>{esc(p.title)}</h4>'
                     f'<div class="aisle-price">{esc(format_price(p.price, currency))}</div>{relaxes}'
                     f'<div class="aisle-meta">{meta}</div><div class="aisle-meta">{rating}{stock}</div>'
                     f'<div class="aisle-meta">{esc(p.id)}</div>{reason_html}{actions}</div>')
    return f'<div class="aisle-cards">{"".join(cards)}</div>'


def reply_text(rec) -> str:
    """The assistant's chat line for a recommendation (see `assistant.service.answers.summary`)."""
    from assistant.service.answers import summary
    return summary(rec)
