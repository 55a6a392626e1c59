"""Serving replicas sharing one PostgreSQL store: the store interface on both backends, and two real
`aisle serve` processes on loopback answering one shopper's conversation turn by turn.

There is no load balancer in the test: it alternates requests between the two replicas' ports, as a
round-robin balancer would. PostgreSQL is Debian's package, started once per session (tests/postgres_server.py).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from assistant.core.config import Settings
from assistant.privacy.keys import DataCipher, DataKeyError
from assistant.service.shared_state import session_state
from assistant.service.shopper_data import ShopperData, open_records
from assistant.understand import Conversation

DATA_KEY = "replica-test-data-key-0123456789abcdef"
PSEUDONYM_KEY = "replica-test-pseudonym-key-0123456789"
STOREFRONT = "storefront-secret-for-replica-tests"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for each backend: the SQLite file under the test's folder, or a fresh PostgreSQL schema."""
    dsn = request.getfixturevalue("postgres").fresh_dsn() if request.param == "postgresql" else ""
    return Settings(state_dir=tmp_path / "state", shopper_store=request.param, postgres_dsn=dsn)


def shopper_data(settings: Settings, key: bytes = DATA_KEY.encode(), **options) -> ShopperData:
    return ShopperData(open_records(settings), DataCipher(key), **options)


def test_feedback_turns_forget_and_expiry_behave_the_same_on_both_backends(store_settings: Settings) -> None:
    store = shopper_data(store_settings, log_messages=True, retention_days=1)
    store.add_feedback("c_kim", "conv1", "t1", "P1", "up", "my email is kim@example.com")
    store.add_feedback("c_kim", "conv1", "t1", "P2", "down")
    store.add_feedback("", "conv2", "t9", "P3", "bought")
    store.add_feedback("c_lee", "conv3", "t2", "P4", "bought", created=1.0)  # long expired
    store.log_turn("c_kim", "conv1", "t1", "parents_young_kids", ["P1", "P2"], "jacket for my son")
    assert [f.product for f in store.recent()] == ["P4", "P3", "P2", "P1"]
    assert store.recent()[-1].message == "my email is [email]"
    assert store.declined("conv1") == {"P2"} and store.declined("conv2") == set()
    assert store.turns()[0].shown == ("P1", "P2")
    events = store.as_events()  # oldest first, known customers only, no thumbs down
    assert [e[:3] for e in events] == [("c_kim", "P1", "click"), ("c_lee", "P4", "purchase")]
    assert math.isnan(events[0][4]) and events[1][4] == 1.0
    assert store.expire() == 1
    assert store.counts() == {"feedback": 3, "turn": 1}
    assert store.forget("c_kim") == {"feedback": 2, "turn": 1}
    assert store.counts() == {"feedback": 1, "turn": 0}
    store.close()
    again = shopper_data(store_settings)  # a second process (a replica) opening the same store
    assert [f.product for f in again.recent()] == ["P3"]
    again.close()
    with pytest.raises(DataKeyError, match="another data key"):
        shopper_data(store_settings, b"another key, sixteen bytes or more")


def test_a_conversation_saved_by_one_process_continues_in_another(store_settings: Settings,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AISLE_DATA_KEY", DATA_KEY)
    first, second = session_state(store_settings), session_state(store_settings)
    conversation_id, conversation = first.conversations.open(None)
    conversation.add("a waterproof jacket for my 6-year-old")
    conversation.record_shown("t1", [("P1", 24.5)])
    first.conversations.save(conversation_id, conversation)
    if store_settings.shopper_store == "sqlite":  # in-process state: another process starts a new conversation
        assert second.conversations.open(conversation_id)[0] != conversation_id
        return
    same_id, same = second.conversations.open(conversation_id)
    assert same_id == conversation_id and same.to_state() == conversation.to_state()
    same.add("under $30")
    second.conversations.save(conversation_id, same)
    state = first.conversations.open(conversation_id)[1].state
    assert (state.need, state.age_years, state.price_max) == ("waterproof jacket", 6, 30.0)
    first.conversations.close(conversation_id)
    assert second.conversations.open(conversation_id)[0] != conversation_id
    first.forgotten.add("c_gone")
    assert "c_gone" in second.forgotten.all()


def test_a_conversation_round_trips_through_json_exactly() -> None:
    conversation = Conversation()
    conversation.add("red running shoes size 9 no nike")
    conversation.record_shown("t1", [("P1", 80.0), ("P2", 95.5)])
    conversation.add("something like the second one but cheaper")
    restored = Conversation.from_state(conversation.to_state())
    assert restored.to_state() == conversation.to_state() and restored.state == conversation.state
    assert restored.like_product_id() == "P2" and restored.turns[1].parsed == conversation.turns[1].parsed


# ---------------------------------------------------------------------------- two real replicas


@pytest.fixture(scope="module")
def replicas(postgres, tmp_path_factory: pytest.TempPathFactory):
    """Two `aisle serve` processes over one published demo index and one PostgreSQL schema; each has its own
    state folder (the keys come from the environment, as they would on two machines)."""
    from server_process import server_env, start_server
    dsn, shared_index = postgres.fresh_dsn(), tmp_path_factory.mktemp("replica-index")
    servers = []
    try:
        for name in ("replica-a", "replica-b"):  # one after the other: the first publishes the demo index
            folder = tmp_path_factory.mktemp(name)
            servers.append(start_server(folder, env=server_env(
                folder, index_dir=str(shared_index), shopper_store="postgresql", postgres_dsn=dsn,
                data_key=DATA_KEY, pseudonym_key=PSEUDONYM_KEY, storefront_token=STOREFRONT)))
        yield servers
    finally:
        for server in servers:
            server.stop()


def chat(server, message: str, conversation_id: str | None = None, customer: str | None = None) -> dict:
    body = {"message": message, "conversation_id": conversation_id, "reasons": False, "customer": customer}
    answer = server.request("POST", "/api/recommend", body, headers={"X-Storefront-Token": STOREFRONT})
    assert answer.status == 200, answer.body[:500]
    return answer.json()


def test_two_replicas_answer_one_conversation_turn_by_turn(replicas) -> None:
    a, b = replicas
    first = chat(a, "a waterproof jacket for my 6-year-old")
    conversation_id = first["conversation_id"]
    second = chat(b, "under $30", conversation_id)
    assert second["conversation_id"] == conversation_id
    request = second["request"]  # replica B merged A's turn with its own
    assert "jacket" in request["need"] and request["age_years"] == 6 and request["price_max"] == 30.0
    matches = [item for item in second["items"] if item["match"]]
    assert matches and all(item["product"]["price"] <= 30.0 for item in matches)
    third = chat(a, "show me more", conversation_id)  # back on A: it sees B's turn (and what B showed)
    shown = {item["product"]["id"] for item in second["items"]}
    assert third["request"]["price_max"] == 30.0 and not shown & {item["product"]["id"] for item in third["items"]}


def test_feedback_and_staff_traces_reach_every_replica(replicas) -> None:
    a, b = replicas
    turn = chat(a, "a waterproof jacket for my 6-year-old")
    product = turn["items"][0]["product"]["id"]
    feedback = {"conversation_id": turn["conversation_id"], "turn_id": turn["turn_id"], "product_id": product,
                "kind": "down"}
    assert b.request("POST", "/api/feedback", feedback).json() == {"status": "recorded"}
    again = chat(a, "a waterproof jacket", turn["conversation_id"])  # declined on B: never shown again on A
    assert product not in {item["product"]["id"] for item in again["items"]}
    query = f"/api/why?turn_id={turn['turn_id']}&product_id={product}"
    from_a, from_b = (server.request("GET", query, headers=server.staff()) for server in (a, b))
    assert from_a.status == from_b.status == 200 and from_a.json() == from_b.json()
    assert from_b.json()["shown"] is True and from_b.json()["rank"] == 1
    other = turn["items"][-1]["product"]["id"]
    why_not = b.request("GET", f"/api/why-not?turn_id={again['turn_id']}&product_id={product}", headers=b.staff())
    assert why_not.status == 200 and why_not.json()["stage"].startswith("hard filter"), why_not.json()
    assert a.request("GET", f"/api/why?turn_id={turn['turn_id']}&product_id={other}",
                     headers=a.staff()).status == 200


def test_a_customer_forgotten_on_one_replica_is_gone_from_both(replicas) -> None:
    a, b = replicas
    turn = chat(a, "wool socks", customer="kim")
    assert b.request("POST", "/api/forget", {"customer": "kim"}, headers=b.staff()).status == 200
    for server in (a, b):
        query = f"/api/why?turn_id={turn['turn_id']}&product_id={turn['items'][0]['product']['id']}"
        assert server.request("GET", query, headers=server.staff()).status == 404
    assert chat(a, "and in blue?", turn["conversation_id"])["conversation_id"] != turn["conversation_id"]


def test_a_chat_turn_is_answered_when_the_shared_store_fails_and_the_log_says_so(postgres, settings, caplog) -> None:
    import psycopg

    from conftest import shop_over

    dsn = postgres.fresh_dsn()
    shop = shop_over(settings, 24, shopper_store="postgresql", postgres_dsn=dsn,
                     staff_token="staff-secret-0123456789")
    conversation_id, first = shop.chat("rain jacket")
    assert first.items
    schema = dsn.split("search_path=")[1].rstrip("'")
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")  # every table the replicas share is gone
    again_id, answer = shop.chat("wool socks", conversation_id)
    assert again_id == conversation_id and answer.items  # answered, from a conversation started afresh
    assert "socks" in answer.items[0].product.title.lower()
    assert any("is unavailable" in r.getMessage() and "UndefinedTable" in r.getMessage() for r in caplog.records)
