"""The Staff tab's lists: turns grouped by conversation with their time and a search; products by title."""

from __future__ import annotations

from assistant.service.staff_view import clock, group_turns, product_choices, turn_choices
from conftest import shop_over


def test_turns_are_grouped_by_conversation_latest_first_with_time_and_search(settings) -> None:
    shop = shop_over(settings, 40)
    first, _ = shop.chat("rain jacket")
    shop.chat("cheaper", first)
    second, _ = shop.chat("wool socks")
    records = shop.recent_turns(30)
    groups = group_turns(records)
    assert [g.conversation_id for g in groups] == [second, first]
    assert [len(g.turns) for g in groups] == [1, 2]
    assert "rain jacket" in groups[1].turns[0].label and "cheaper" in groups[1].turns[1].label
    assert groups[1].turns[0].label.startswith(clock(records[-1].created)) and "shown" in groups[1].turns[0].label
    assert [g.conversation_id for g in group_turns(records, "SOCKS")] == [second]
    choices = turn_choices(records, "jacket")  # the message or a shown product's title
    assert len(choices) == 2 and all("conversation " + first[:8] in label for label, _ in choices)
    assert "cheaper" in choices[0][0]  # the conversation's latest turn first


def test_products_are_chosen_from_title_matches_shown_first_never_a_silent_first_match(settings) -> None:
    shop = shop_over(settings, 40)
    _, rec = shop.chat("rain jacket")
    shown = [c.product.id for c in rec.items]
    choices = product_choices(shop.index, "rain jacket", shown)
    assert [pid for _, pid in choices][:len(shown)] == shown and len(choices) == 5  # 5 rain jackets in 40
    assert all("Rain Jacket" in label for label, _ in choices) and "· shown" in choices[0][0]
    assert product_choices(shop.index, "", shown) == [c for c in choices if c[1] in shown]
    assert product_choices(shop.index, "P0003") == [(shop.index.products[3].title + " [P0003]", "P0003")]
    assert product_choices(shop.index, "no such thing") == []
