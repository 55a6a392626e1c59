"""Segment rules: a store's TOML table places customers in segments from demographic columns (first match
wins, with a default); bad rules are errors naming the file and the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core.config import Settings
from assistant.evaluation.completejourney import customer_segment, customer_segments
from assistant.ingest.customers import read_customers
from assistant.ingest.segment_rules import SegmentRuleError, leading_number, load_segment_rules, parse_segment_rules
from assistant.privacy.keys import Pseudonymizer
from assistant.surfaces.cli.common import read_logs

RULES = """
default = "adults"

[[rules]]
name = "unknown"
segment = ""
when.known = { not_in = ["yes"] }

[[rules]]
name = "with kids"
segment = "families"
when.kids = { gt = 0 }

[[rules]]
segment = "seniors"
when.age = { ge = 65 }
when.region = ["north", "east"]

[[rules]]
name = "students"
segment = "young"
when.age = { starts_with = ["18", "19"] }
"""
SEGMENTS = {"adults", "families", "seniors", "young"}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_first_matching_rule_gives_the_segment_else_the_default(tmp_path: Path) -> None:
    rules = load_segment_rules(write(tmp_path, "rules.toml", RULES), known=SEGMENTS)
    assert rules.assign({"known": "no", "kids": "3"}) == ""  # the first rule wins
    assert rules.assign({"known": "yes", "kids": "3+", "age": "65+"}) == "families"
    assert rules.assign({"known": "yes", "kids": "0", "age": "65+", "region": "north"}) == "seniors"
    assert rules.assign({"known": "yes", "kids": "0", "age": "65+", "region": "south"}) == "adults"  # both tests
    assert rules.assign({"known": "yes", "kids": "None", "age": "19-24"}) == "young"  # no number: not > 0
    assert rules.assign({"known": " yes ", "age": "45-54"}) == "adults"  # stripped; a missing column reads ""
    assert rules.columns() == {"known", "kids", "age", "region"}


def test_leading_number_reads_bands() -> None:
    assert (leading_number("65+"), leading_number("45-54"), leading_number("2.5 kg"), leading_number("Under 15K")) \
        == (65.0, 45.0, 2.5, None)


@pytest.mark.parametrize("text, message", [
    ('[[rules]]\nsegment = "families"\nwhen.kids = { more_than = 0 }', "rule 1: when.kids: unknown test 'more_than'"),
    ('[[rules]]\nname = "k"\nsegment = "parents"\nwhen.kids = "1"', "rule 1 ('k'): segment: unknown segment 'parents'"),
    ('[[rules]]\nsegment = "families"\nwhen.kids = { gt = "0" }', "rule 1: when.kids.gt: expected a number"),
    ('[[rules]]\nsegment = "families"\nwhen.kids = { in = [0, 1] }', 'quote numbers'),
    ('[[rules]]\nsegment = "families"', "rule 1: `when` must be a table"),
    ('[[rules]]\nwhen.kids = "1"', "rule 1: no segment"),
    ('default = "nobody"\n[[rules]]\nsegment = ""\nwhen.kids = "1"', "default: unknown segment 'nobody'"),
    ('defualt = "adults"\n[[rules]]\nsegment = ""\nwhen.kids = "1"', "unknown key(s) defualt"),
    ('default = "adults"', "no [[rules]] tables"),
    ('[[rules]\n', "rules.toml:"),
])
def test_a_bad_rule_is_an_error_naming_the_file_and_the_rule(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "rules.toml", text)
    with pytest.raises(SegmentRuleError) as err:
        load_segment_rules(path, known=SEGMENTS)
    assert str(path) in str(err.value) and message in str(err.value)


def test_customer_files_are_segmented_by_the_rules_and_a_missing_column_is_named(tmp_path: Path) -> None:
    rules = parse_segment_rules({"default": "adults", "rules": [{"name": "kids", "segment": "families",
                                                                 "when": {"kids": {"gt": 0}}}]}, "store rules")
    good = write(tmp_path, "customers.csv", "customer_id,segment,kids\nc1,35-49K,2\nc2,50-74K,0\n")
    profiles, _ = read_customers([good], Pseudonymizer(b"k" * 32), rules=rules)
    assert sorted(p.segment for p in profiles.values()) == ["adults", "families"]  # not the segment column
    bad = write(tmp_path, "other.csv", "customer_id,children\nc1,2\n")
    with pytest.raises(SegmentRuleError, match=r"store rules: rule 'kids' tests column\(s\) kids, which other.csv"):
        read_customers([bad], Pseudonymizer(b"k" * 32), rules=rules)


def test_the_segment_rules_file_setting_segments_the_customers_cf_fit_reads(tmp_path: Path) -> None:
    rules = write(tmp_path, "rules.toml", '[[rules]]\nsegment = "retirees"\nwhen.age = { ge = 65 }\n')
    customers = write(tmp_path, "customers.csv", "customer_id,age\nc1,70\nc2,30\n")
    events = write(tmp_path, "events.csv", "customer_id,product_id,event,timestamp\nc1,P1,view,1\nc2,P1,view,2\n")
    settings = Settings(state_dir=tmp_path / "state", segment_rules_file=rules)
    _, segments = read_logs(settings, (events,), (customers,), ())
    assert sorted(segments.values()) == ["", "retirees"]
    _, plain = read_logs(Settings(state_dir=tmp_path / "state"), (events,), (customers,), ())
    assert sorted(plain.values()) == ["", ""]


def test_the_complete_journey_rules_keep_the_old_mapping(tmp_path: Path) -> None:
    cases = [({"has_demographics": "0", "kids_count": "2"}, ""), ({}, ""),
             ({"has_demographics": "1", "kids_count": "3+", "age_band": "65+"}, "parents_young_kids"),
             ({"has_demographics": "1", "kids_count": "None", "age_band": "65+"}, "retirees"),
             ({"has_demographics": "1", "kids_count": "", "age_band": "19-24"}, "young_adults"),
             ({"has_demographics": "1", "kids_count": "0", "age_band": "25-34"}, "young_adults"),
             ({"has_demographics": "1", "kids_count": "0", "age_band": "35-44"}, "professionals"),
             ({"has_demographics": "1", "kids_count": "0", "age_band": "55-64"}, "professionals")]
    assert [customer_segment(row) for row, _ in cases] == [want for _, want in cases]
    write(tmp_path, "customers.csv",
          "customer_id,has_demographics,kids_count,age_band\n1,1,0,65+\n2,0,,\n3,1,1,25-34\n")
    assert customer_segments(tmp_path) == {"1": "retirees", "3": "parents_young_kids"}
