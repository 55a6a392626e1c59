"""The JSON API in-process (model-free embedder, no LLM): validation, tokens, feedback, rebuild."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.surfaces.server import create_app
from assistant.service.assistant import Assistant
from assistant.core.config import Settings
from conftest import shop_over

TOKEN = "s3cret-staff-token"


@pytest.fixture
def assistant(settings: Settings) -> Assistant:
    return shop_over(settings, 40, staff_token=TOKEN)


@pytest.fixture
def client(assistant: Assistant) -> TestClient:
    return TestClient(create_app(assistant, mount_ui=False))


def test_health(client: TestClient) -> None:
    body = client.get("/api/health").json()
    assert body["status"] == "ok" and body["products"] == 40 and body["llm"] == "none"


def test_recommend_continue_and_feedback(client: TestClient) -> None:
    first = client.post("/api/recommend", json={"message": "rain jacket under $30", "k": 3}).json()
    assert len(first["items"]) == 3 and all(i["product"]["price"] <= 30 for i in first["items"])
    assert all(i["reason"] for i in first["items"]) and "breakdown" not in first["items"][0]
    conversation = first["conversation_id"]
    shown = first["items"][0]["product"]["id"]
    response = client.post("/api/feedback", json={"conversation_id": conversation, "turn_id": first["turn_id"],
                                                  "product_id": shown, "kind": "down"})
    assert response.json() == {"status": "recorded"}
    again = client.post("/api/recommend", json={"message": "rain jacket under $30", "k": 10,
                                                "conversation_id": conversation}).json()
    assert again["conversation_id"] == conversation
    assert shown not in [i["product"]["id"] for i in again["items"]]  # a thumbs-down hides it


def test_an_answer_says_what_was_understood_offers_next_messages_and_compares(client: TestClient) -> None:
    first = client.post("/api/recommend", json={"message": "rain jacket under $30", "k": 3}).json()
    assert "under $30" in first["headline"]["understood"] and first["headline"]["shown"] == 3
    assert 2 <= len(first["follow_ups"]) <= 4 and all(isinstance(f, str) and f for f in first["follow_ups"])
    table = client.get("/api/compare", params={"turn_id": first["turn_id"], "positions": [1, 3]}).json()
    assert table["ids"] == [first["items"][0]["product"]["id"], first["items"][2]["product"]["id"]]
    assert table["positions"] == [1, 3] and any(r["values"][0].startswith("$") for r in table["rows"])
    for bad in ([1], [1, 1], [1, 9], [0, 2]):
        assert client.get("/api/compare", params={"turn_id": first["turn_id"], "positions": bad}).status_code == 422
    assert client.get("/api/compare", params={"turn_id": "nope", "positions": [1, 2]}).status_code == 404


@pytest.mark.parametrize("body, status", [
    ({}, 422), ({"message": "x" * 5000}, 422), ({"message": "hi", "k": 0}, 422), ({"message": "hi", "k": 99}, 422),
    ({"message": "hi", "segment": "aliens"}, 422), ({"message": 12}, 422),
])
def test_bad_recommend_requests_get_clear_4xx(client: TestClient, body: dict, status: int) -> None:
    response = client.post("/api/recommend", json=body)
    assert response.status_code == status and response.json()["detail"]


def test_oversized_bodies_are_refused(client: TestClient) -> None:
    response = client.post("/api/recommend", content=b"{" + b" " * 70_000 + b"}",
                           headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_bad_feedback_is_refused(client: TestClient) -> None:
    ok = {"conversation_id": "c", "turn_id": "t", "product_id": "P0001", "kind": "up"}
    assert client.post("/api/feedback", json={**ok, "kind": "love"}).status_code == 422
    assert client.post("/api/feedback", json={**ok, "product_id": "NOPE"}).status_code == 422


def test_staff_endpoints_need_the_token(client: TestClient) -> None:
    rec = client.post("/api/recommend", json={"message": "wool socks", "k": 2}).json()
    params = {"turn_id": rec["turn_id"], "product_id": rec["items"][0]["product"]["id"]}
    assert client.get("/api/why", params=params).status_code == 401
    assert client.get("/api/why", params=params, headers={"X-Staff-Token": "wrong"}).status_code == 401
    trace = client.get("/api/why", params=params, headers={"X-Staff-Token": TOKEN}).json()
    assert trace["rank"] == 1 and "breakdown" in trace and trace["stages"]["llm rerank"].startswith("skipped")
    why_not = client.get("/api/why-not", params={**params, "product_id": "P0039"},
                         headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert why_not["stage"] in ("candidate retrieval", "ranking", "diversity", "hard filter (budget)")
    assert client.get("/api/why", params={**params, "turn_id": "nope"},
                      headers={"X-Staff-Token": TOKEN}).status_code == 404
    files = {"files": ("c.csv", b"id,title,price\nA,Thing,1\n", "text/csv")}
    assert client.post("/api/index/rebuild", files=files).status_code == 401


def test_without_a_configured_token_staff_access_is_off(assistant: Assistant) -> None:
    assistant.settings = replace(assistant.settings, staff_token="")
    client = TestClient(create_app(assistant, mount_ui=False))
    response = client.get("/api/why", params={"turn_id": "t", "product_id": "p"}, headers={"X-Staff-Token": ""})
    assert response.status_code == 403 and "off" in response.json()["detail"]


def test_rebuild_publishes_and_a_bad_catalog_keeps_the_old_index(client: TestClient) -> None:
    csv = b"id,title,price\nA1,Blue rain jacket,20\nA2,,5\nA3,Garden hose,12\n"
    evil = client.post("/api/index/rebuild", files={"files": ("../../evil/c.csv", csv, "text/csv")},
                       headers={"X-Staff-Token": TOKEN})
    assert evil.status_code == 400 and "not a plain file name" in evil.json()["detail"]
    response = client.post("/api/index/rebuild", files={"files": ("c.csv", csv, "text/csv")},
                           headers={"X-Staff-Token": TOKEN})
    body = response.json()
    assert response.status_code == 200 and body["loaded"] == 2 and body["rejected"] == 1
    assert body["report"]["rejections"][0]["reason"] == "missing title"
    assert client.get("/api/health").json()["products"] == 2
    bad = client.post("/api/index/rebuild", files={"files": ("bad.csv", b"foo,bar\n1,2\n", "text/csv")},
                      headers={"X-Staff-Token": TOKEN})
    assert bad.status_code == 422 and "previous index keeps serving" in bad.json()["detail"]
    assert client.get("/api/health").json()["products"] == 2


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert "/api/recommend" in client.get("/openapi.json").json()["paths"]


def test_aisle_why_asks_the_running_server(assistant: Assistant) -> None:
    from click.testing import CliRunner

    from assistant.surfaces.server import serving_in_background
    from assistant.surfaces.cli import main

    with serving_in_background(create_app(assistant, mount_ui=False)) as url:
        rec = assistant.recommend("rain jacket", k=2)
        shown = rec.items[0].product.id
        out = CliRunner().invoke(main, ["why", rec.turn_id, shown, "--server", url, "--token", TOKEN])
        assert out.exit_code == 0 and json.loads(out.output)["rank"] == 1
        out = CliRunner().invoke(main, ["why", rec.turn_id, "P0039", "--not-shown", "--server", url, "--token", TOKEN])
        assert out.exit_code == 0 and "stage" in json.loads(out.output)
        out = CliRunner().invoke(main, ["why", rec.turn_id, shown, "--server", url, "--token", "wrong"])
        assert out.exit_code == 1 and "401" in out.output


def test_feedback_becomes_events_for_the_next_cf_fit(assistant: Assistant, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from assistant.surfaces.cli import main

    conversation, rec = assistant.chat("rain jacket", customer="alice@example.com", k=2)
    assistant.record_feedback(conversation, rec.turn_id, rec.items[0].product.id, "bought")
    assistant.record_feedback(conversation, rec.turn_id, rec.items[1].product.id, "down")
    rows = assistant.shopper_data.as_events()
    assert [(r[1], r[2]) for r in rows] == [(rec.items[0].product.id, "purchase")]
    assert rows[0][0].startswith("c_") and "alice" not in rows[0][0]  # pseudonymised
    assert assistant.shopper_data.recent(5)[0].message is None  # no message text unless logging is on
    log = tmp_path / "events.csv"
    log.write_text("customer_id,product_id,event,timestamp\nbob,P0001,purchase,1700000000\n"
                   "bob,P0002,view,1700000100\n")
    settings = assistant.settings
    out = CliRunner().invoke(main, ["--index-dir", str(settings.index_dir), "cf", "fit", "--interactions", str(log),
                                    "--name", "shop", "--model", "item_item"],
                             env={"AISLE_STATE_DIR": str(settings.state_dir)})
    assert out.exit_code == 0, out.output
    assert "1 feedback events from the chat added" in out.output


def test_a_lone_surrogate_is_refused_with_422_not_500(client: TestClient) -> None:
    """Valid JSON that no UTF-8 response can echo back (found by benchmarks/soak.py)."""
    response = client.post("/api/recommend", content=b'{"message": "\\ud800 rain jacket"}',
                           headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["detail"]


def test_a_customer_id_is_trusted_only_from_the_storefront(tmp_path: Path) -> None:
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from assistant.surfaces.server import create_app
    from conftest import shop_over
    from assistant.core.config import Settings

    settings = Settings(index_dir=tmp_path / "index", index_name="shop", embedder="hashing",
                        state_dir=tmp_path / "state")
    shop = shop_over(replace(settings, storefront_token="front-secret"), 12)
    client = TestClient(create_app(shop, mount_ui=False))
    body = {"message": "rain jacket", "customer": "alice"}
    assert client.post("/api/recommend", json=body).status_code == 401
    assert client.post("/api/recommend", json=body, headers={"X-Storefront-Token": "nope"}).status_code == 401
    trusted = client.post("/api/recommend", json=body, headers={"X-Storefront-Token": "front-secret"})
    assert trusted.status_code == 200 and trusted.json()["items"]
    assert shop.turn(trusted.json()["turn_id"]).customer  # the pseudonym of the named customer


def test_answers_say_what_matched_what_was_relaxed_and_ask_when_the_message_says_nothing(client: TestClient) -> None:
    answer = client.post("/api/recommend", json={"message": "rain jacket under $30", "k": 3}).json()
    assert {"matched", "relaxed", "clarify", "suggestions", "summary"} <= set(answer)
    assert answer["matched"] == sum(item["match"] for item in answer["items"])
    assert all(item["relaxes"] for item in answer["items"] if not item["match"])
    for junk in ("", "<script>alert(1)</script>", "🙂🙂🙂", "qwzx vbnm $6 plokij"):
        reply = client.post("/api/recommend", json={"message": junk, "conversation_id": answer["conversation_id"]})
        data = reply.json()
        assert reply.status_code == 200 and data["items"] == [] and data["clarify"], (junk, data)
        assert data["request"].get("price_max") == 30  # the conversation's budget, no "$6" from the junk
