"""Merchandising rules: staff pin, boost or block; every rule that changed an answer shows in its trace."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from assistant.rank.rules import MerchRule, RuleError
from assistant.service.merchandising import RuleBook
from conftest import shop_over


@pytest.fixture
def shop(settings):
    """40 small products (hashing embedder); rain jackets are P0000, P0008, P0016, P0024, P0032 at $10 + i."""
    return shop_over(settings, 40, staff_token="staff-secret-0123456789")


def shown(rec) -> list[str]:
    return [c.product.id for c in rec.items]


def test_a_pin_shows_the_product_first_for_its_query_only_and_says_so_in_the_trace(shop) -> None:
    before = shown(shop.recommend("rain jacket", k=5))
    last = before[-1]
    shop.rules.add(MerchRule("r1", "pin", product=last, query="rain jacket", note="spring promotion"), "test")
    rec = shop.recommend("a rain jacket please", k=5)
    assert shown(rec)[0] == last and sorted(shown(rec)) == sorted(before)
    why = shop.why(rec.turn_id, last)
    assert any("pin rule r1" in r and "spring promotion" in r for r in why["breakdown"]["rules"])
    assert "shown first" in shop.turn(rec.turn_id).stages["merchandising"]
    other = shop.recommend("wool socks", k=5)
    assert last not in shown(other) and "no rule holds" in shop.turn(other.turn_id).stages["merchandising"]


def test_a_pinned_product_that_breaks_the_budget_is_not_shown_as_a_match(shop) -> None:
    shop.rules.add(MerchRule("r1", "pin", product="P0032", query="rain jacket"), "test")  # $42
    rec = shop.recommend("rain jacket under $30", k=5)
    assert "P0032" not in shown(rec)[:rec.matched]
    note = shop.turn(rec.turn_id).stages["merchandising"]
    assert "not applied" in note and "price" in note


def test_a_block_keeps_a_product_out_even_as_an_alternative_and_why_not_names_the_rule(shop) -> None:
    first = shown(shop.recommend("rain jacket", k=5))[0]
    shop.rules.add(MerchRule("r7", "block", product=first, note="recalled"), "test")
    rec = shop.recommend("rain jacket", k=10)
    assert first not in shown(rec)
    answer = shop.why_not(rec.turn_id, first)
    assert "merchandising rule" in json.dumps(answer) and "r7" in json.dumps(answer)


def test_a_negative_boost_buries_and_a_positive_one_lifts(shop) -> None:
    order = shown(shop.recommend("rain jacket", k=5))
    shop.rules.add(MerchRule("down", "boost", product=order[0], boost=-1.0), "test")
    shop.rules.add(MerchRule("up", "boost", product=order[-1], query="jacket", boost=1.0), "test")
    rec = shop.recommend("rain jacket", k=5)
    now = shown(rec)
    assert now[0] == order[-1] and now[1:2] != [order[0]] and order[0] != now[0]
    assert any("boost +1 rule up" in r for r in shop.why(rec.turn_id, order[-1])["breakdown"]["rules"])


def test_a_brand_rule_holds_only_in_its_segment() -> None:
    rule = MerchRule("r1", "block", brand="Acme", segment="retirees")
    assert rule.holds_for("anything", [], "retirees") and not rule.holds_for("anything", [], "young_adults")
    assert MerchRule("r2", "pin", product="p", query="rain jacket").holds_for("Rain Jacket!", [], "general")
    assert not MerchRule("r3", "pin", product="p", query="rain").holds_for("rainbow socks", [], "general")
    assert MerchRule("r4", "pin", product="p", query="雨衣").holds_for("给孩子买雨衣", [], "general")


@pytest.mark.parametrize("data, says", [
    ({"id": "r1", "action": "promote", "product": "p"}, "action"),
    ({"id": "r1", "action": "pin", "brand": "Acme"}, "pin"),
    ({"id": "r1", "action": "boost", "product": "p"}, "boost"),
    ({"id": "r1", "action": "block", "product": "p", "brand": "b"}, "exactly one"),
    ({"id": "bad id!", "action": "block", "product": "p"}, "id"),
    ({"id": "r1", "action": "block", "product": "p", "colour": "red"}, "unknown"),
    ({"id": "r1", "action": "boost", "product": "p", "boost": "high"}, "number"),
])
def test_a_bad_rule_is_refused_with_what_is_wrong(data: dict, says: str) -> None:
    with pytest.raises(RuleError, match=says):
        MerchRule.from_dict(data)


def test_the_rule_book_audits_every_change_survives_a_damaged_file_and_is_shared(tmp_path) -> None:
    book, replica = RuleBook(tmp_path / "rules.json"), RuleBook(tmp_path / "rules.json")
    book.add(MerchRule("r1", "block", brand="Acme"), "alice")
    assert [r.id for r in replica.rules()] == ["r1"]  # another replica sees the change
    with pytest.raises(RuleError, match="exists"):
        book.add(MerchRule("r1", "pin", product="p"), "alice")
    book.add(MerchRule(book.new_id(), "pin", product="p1"), "bob")
    book.remove("r1", "carol")
    assert [(e["actor"], e["change"], e["rule"]["id"]) for e in book.history()] == [
        ("alice", "add", "r1"), ("bob", "add", "r2"), ("carol", "remove", "r1")]
    assert [r.id for r in replica.rules()] == ["r2"]
    (tmp_path / "rules.json").write_text("{not json", encoding="utf-8")
    assert [r.id for r in replica.rules()] == ["r2"] and "last rules read still apply" in replica.warning


def test_the_cli_adds_lists_and_removes_rules(settings, tmp_path) -> None:
    from assistant.surfaces.cli import main

    runner = CliRunner()
    config = tmp_path / "aisle.toml"
    config.write_text(f'state_dir = "{settings.state_dir}"\n', encoding="utf-8")
    added = runner.invoke(main, ["--config", str(config), "rules", "add", "pin", "--product", "P0003",
                                 "--query", "socks", "--note", "new line"])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(main, ["--config", str(config), "rules", "list", "--json"])
    assert json.loads(listed.output)["rules"][0] == {"id": "r1", "action": "pin", "product": "P0003",
                                                     "query": "socks", "note": "new line"}
    bad = runner.invoke(main, ["--config", str(config), "rules", "add", "boost", "--product", "P0003"])
    assert bad.exit_code == 2 and "boost" in bad.output
    assert runner.invoke(main, ["--config", str(config), "rules", "remove", "r1"]).exit_code == 0
    assert RuleBook(settings.state_dir / "rules.json").rules() == ()


def test_the_rules_api_needs_the_staff_token_and_a_rule_it_adds_changes_the_next_answer(shop) -> None:
    from assistant.surfaces.api import create_api

    client = TestClient(create_api(shop))
    assert client.get("/api/rules").status_code == 401
    assert client.post("/api/rules", json={"action": "block", "brand": "x"}).status_code == 401
    staff = {"X-Staff-Token": "staff-secret-0123456789"}
    last = shown(shop.recommend("rain jacket", k=5))[-1]
    added = client.post("/api/rules", json={"action": "pin", "product": last, "query": "rain jacket"}, headers=staff)
    assert added.status_code == 200 and added.json()["rule"]["id"] == "r1"
    assert client.post("/api/rules", json={"action": "pin", "brand": "x"}, headers=staff).status_code == 422
    answer = client.post("/api/recommend", json={"message": "rain jacket", "reasons": False}).json()
    assert answer["items"][0]["product"]["id"] == last
    listed = client.get("/api/rules", headers=staff).json()
    assert listed["history"][-1]["actor"] == "api (staff token)" and listed["history"][-1]["change"] == "add"
    assert client.delete("/api/rules/r1", headers=staff).status_code == 200
    assert client.delete("/api/rules/r1", headers=staff).status_code == 404


def test_over_http_the_rules_need_the_staff_token_and_a_block_applies_on_the_next_turn(live_server) -> None:
    assert live_server.request("GET", "/api/rules").status == 401
    assert live_server.request("DELETE", "/api/rules/r1", headers={"X-Staff-Token": "wrong"}).status == 401
    ask = {"message": "raincoat for a probe of the rules", "reasons": False}
    first = json.loads(live_server.request("POST", "/api/recommend", ask).body)["items"][0]["product"]["id"]
    added = live_server.request("POST", "/api/rules", {"action": "block", "product": first, "id": "probe",
                                                       "query": "probe of the rules"}, headers=live_server.staff())
    try:
        assert added.status == 200, added.body
        again = json.loads(live_server.request("POST", "/api/recommend", ask).body)["items"]
        assert first not in [item["product"]["id"] for item in again]
    finally:
        assert live_server.request("DELETE", "/api/rules/probe", headers=live_server.staff()).status == 200
