"""Staff's "why" and "why not" start with one sentence built from the trace."""

from __future__ import annotations

from assistant.ingest.catalog import Product
from assistant.rank.attributes import AttributeScore
from assistant.rank.breakdown import ScoreBreakdown
from assistant.service.why_text import ordinal, why_sentence
from assistant.understand import Request


def breakdown(**terms: float) -> ScoreBreakdown:
    return ScoreBreakdown(["content"], 0.71, 1.0, 0.0, 0.0, AttributeScore(0.5, {k: (1.0, v) for k, v in terms.items()}),
                          0.8, 1)


def test_ordinals() -> None:
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]


def test_a_match_names_its_words_the_fitting_size_the_budget_and_its_rating() -> None:
    jacket = Product("j1", "Kids Rain Jacket", 24.99, size="2-3Y|6-7Y|8-9Y", rating=4.0, rating_count=16,
                     audience="kids")
    request = Request(need="waterproof jacket", price_max=40.0, age_years=6, audience="kids", currency="INR")
    text = why_sentence(1, jacket, breakdown(size_match=1.0, audience_match=1.0), request, ["waterproof", "jacket"],
                        "parents_young_kids")
    assert text.startswith("Ranked 1st: matches 'waterproof' and 'jacket'; size 6-7Y for a 6-year-old; made for kids")
    assert "₹25 is well inside the ₹40 budget" in text and "rated 4.0 by 16 shoppers" in text
    assert "$" not in text and text.endswith(".")


def test_an_alternative_says_first_what_it_does_not_meet_and_a_staff_pin_is_named() -> None:
    shoe = Product("s1", "Walking Shoe", 156.99)
    shown = breakdown()
    shown.relaxes = ["$156.99, over your $80"]
    text = why_sentence(3, shoe, shown, Request(need="walking shoes", price_max=80.0), ["walking"], "general")
    assert text.startswith("Shown 3rd as an alternative, not an exact match ($156.99, over your $80)")
    assert "over the $80.00 budget" not in text  # said once, in the head
    pinned = breakdown()
    pinned.rules = ["pin rule r1 (product s1; query \"shoes\")"]
    assert "pin rule r1" in why_sentence(1, shoe, pinned, Request(need="shoes"), [], "general")


def test_why_and_why_not_lead_with_their_sentence_on_the_demo_store(demo_assistant) -> None:
    rec = demo_assistant.recommend("waterproof jacket for my 6 year old under $40", segment="parents_young_kids")
    first = demo_assistant.why(rec.turn_id, rec.items[0].product.id)
    assert list(first)[0] == "summary" and first["summary"].startswith("Ranked 1st: matches 'waterproof'")
    assert "for a 6-year-old" in first["summary"] and "budget" in first["summary"]
    dear = next(p for p in demo_assistant.index.products if "jacket" in p.title.lower() and p.price > 60)
    not_shown = demo_assistant.why_not(rec.turn_id, dear.id)
    assert list(not_shown)[0] == "summary" and not_shown["summary"].startswith("Not shown — hard filter")
