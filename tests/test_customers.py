"""Interaction logs and customer profiles: validation report, pseudonymisation, no raw id on disk."""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path

import pytest

from assistant.behaviour import build_interactions, make_cf_model
from assistant.ingest.customers import parse_timestamp, read_customers, read_events
from assistant.privacy.keys import KEY_ENV, Pseudonymizer, load_key, pseudonymizer
from assistant.ingest.tabular import DataFileError

KEY = Pseudonymizer(b"k" * 32)

LOG = """customer_id,product_id,event,timestamp,value
alice@example.com,P1,view,2026-01-01T10:00:00Z,
alice@example.com,P1,purchase,2026-01-01T10:05:00Z,2
alice@example.com,P1,purchase,2026-01-01T10:05:00Z,2
,P2,view,2026-01-01T10:00:00Z,
bob-42,P2,teleport,2026-01-01T10:00:00Z,
bob-42,P2,rating,2026-01-02,7
bob-42,P2,view,yesterday,
bob-42,,click,1767261600,
bob-42,P2,Add_To_Cart,1767261600,
bob-42,P3,rating,1767261600000,4
bob-42,P3,purchase,1767261600,-1
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_rows_are_reported_with_file_line_and_reason_and_good_rows_load(tmp_path: Path) -> None:
    log = read_events([write(tmp_path, "log.csv", LOG)], KEY)
    reasons = {r.line: r.reason for r in log.report.rejections}
    assert reasons == {
        4: "duplicate event (same as log.csv:3)",
        5: "missing customer_id",
        6: "unknown event 'teleport'; expected one of view, click, cart, purchase, rating",
        7: "rating 7 is outside 0..5",
        8: "timestamp 'yesterday' is neither ISO 8601 nor epoch seconds",
        9: "missing product_id",
        12: "purchase quantity -1 is not positive",
    }
    assert all(r.file == "log.csv" for r in log.report.rejections)
    assert len(log) == log.report.loaded == 4
    assert sorted(log.events.tolist()) == ["cart", "purchase", "rating", "view"]
    assert log.timestamps[log.events == "rating"][0] == 1767261600.0  # milliseconds understood
    assert "4 events loaded, 7 rows rejected" in log.report.format()


def test_customer_ids_are_pseudonymised_at_ingestion(tmp_path: Path) -> None:
    log = read_events([write(tmp_path, "log.csv", LOG)], KEY)
    assert "alice@example.com" not in set(log.customers) and "bob-42" not in set(log.customers)
    assert set(log.customers) == {KEY("alice@example.com"), KEY("bob-42")}
    assert KEY("bob-42") == KEY("bob-42") != Pseudonymizer(b"z" * 32)("bob-42")
    assert KEY(KEY("bob-42")) == KEY("bob-42")  # idempotent on its own pseudonyms


def test_no_raw_customer_id_is_on_disk_after_a_fit(tmp_path: Path) -> None:
    log = read_events([write(tmp_path, "log.csv", LOG)], KEY)
    profiles, _ = read_customers([write(tmp_path, "c.csv", "customer_id,segment\nalice@example.com,retirees\n")],
                                 KEY)
    data = build_interactions(log, {c: p.segment for c, p in profiles.items()})
    model_dir = make_cf_model("blend").fit(data).save(tmp_path / "model")
    for path in model_dir.rglob("*"):
        blob = path.read_bytes()
        assert b"alice" not in blob and b"bob-42" not in blob, path


def test_key_file_is_created_private_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    first = load_key(tmp_path / "state")
    key_file = tmp_path / "state" / "pseudonym.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert load_key(tmp_path / "state") == first
    monkeypatch.setenv(KEY_ENV, "x" * 40)
    assert pseudonymizer(tmp_path / "state")("a") == Pseudonymizer(b"x" * 40)("a")
    with pytest.raises(ValueError, match="at least 16 bytes"):
        Pseudonymizer(b"short")


def test_mapping_jsonl_and_missing_columns(tmp_path: Path) -> None:
    jsonl = write(tmp_path, "log.jsonl", '{"UserID": "u1", "sku": "P9", "action": "buy", "when": 1700000000}\n'
                                        '{"UserID": "u1", "sku": "P9", "action": "view"}\n'
                                        'not json\n')
    log = read_events([jsonl], KEY, {"customer_id": "UserID", "timestamp": "when"})
    assert log.events.tolist() == ["purchase"]
    assert [(r.line, r.reason.split(" (")[0]) for r in log.report.rejections] == [
        (2, "missing timestamp"), (3, "invalid JSON")]
    with pytest.raises(DataFileError, match="no column for required field"):
        read_events([write(tmp_path, "x.csv", "a,b\n1,2\n")], KEY)


def test_customer_profiles_report_duplicates(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "customer_id,segment,age_band,household\nC1,retirees,65-74,couple\n"
                                    "C1,young_adults,18-24,single\n,retirees,,\n")
    profiles, report = read_customers([path], KEY)
    assert profiles[KEY("C1")].segment == "retirees" and profiles[KEY("C1")].age_band == "65-74"
    assert [(r.line, r.reason) for r in report.rejections] == [
        (3, "duplicate customer (first at c.csv:2)"), (4, "missing customer_id")]


@pytest.mark.parametrize("text, expected", [
    ("2026-01-01T00:00:00Z", 1767225600.0), ("2026-01-01 00:00:00", 1767225600.0),
    ("2026-01-01T01:00:00+01:00", 1767225600.0), ("1767225600", 1767225600.0),
    ("1767225600000", 1767225600.0), ("1767225600.5", 1767225600.5),
])
def test_timestamps(text: str, expected: float) -> None:
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "-5", "nan", "inf", "2026-13-45"])
def test_bad_timestamps_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(text)
    assert math.isfinite(1.0)


def test_a_log_of_mostly_empty_fields_keeps_its_columns(tmp_path: Path) -> None:
    """Found by Hypothesis: the delimiter sniffer misread rows like ",,view,0," and lost every column."""
    log = read_events([write(tmp_path, "log.csv", "customer_id,product_id,event,timestamp,value\n"
                                                  ",,view,0,\n,,view,0,\n")], KEY)
    assert len(log) == 0 and [r.reason for r in log.report.rejections] == ["missing customer_id"] * 2
