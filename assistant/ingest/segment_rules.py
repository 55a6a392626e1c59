"""Which segment a customer is in, from the demographic columns of the store's customer file, by rules the
store writes in a TOML file (the `segment_rules_file` setting); nothing about one store's columns or values
lives in code.

    default = "professionals"          # when no rule matches ("" or absent: no segment)

    [[rules]]
    name = "kids at home"              # optional; errors and reports name the rule by it
    segment = "parents_young_kids"     # "" leaves the customer without a segment (to be inferred)
    when.kids_count = { not_in = ["", "0"] }

Rules are tried in order and the first whose every test holds gives the segment. A test is a table of one
or more of: `equals`, `in`, `not_in`, `starts_with` (a string or a list of strings) and `gt`, `ge`, `lt`,
`le` (a number, compared with the number the value starts with: "65+" → 65, "45-54" → 45; a value without
one fails the test). A bare string is `equals`, a list of strings is `in`. Values are compared stripped and
case-sensitively; a column a row lacks reads as "".
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection, Mapping

from assistant.core.errors import AisleError

TEXT_TESTS = ("equals", "in", "not_in", "starts_with")
NUMBER_TESTS = ("gt", "ge", "lt", "le")
TESTS = TEXT_TESTS + NUMBER_TESTS
_LEADING_NUMBER = re.compile(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)")


class SegmentRuleError(AisleError, ValueError):
    """A segment rules file is malformed, names an unknown segment, or names a column the customer file
    lacks; the message names the file and the rule."""


def leading_number(value: str) -> float | None:
    """The number a value starts with ("65+" → 65.0, "45-54" → 45.0, "Under 15K" → None)."""
    match = _LEADING_NUMBER.match(value)
    return float(match.group(0)) if match else None


@dataclass(frozen=True)
class Test:
    """One test on one column: `op` is one of TESTS; `texts` for a text test, `number` for a number test."""

    column: str
    op: str
    texts: tuple[str, ...] = ()
    number: float = math.nan

    def holds(self, value: str) -> bool:
        """Whether the (stripped) value passes the test."""
        if self.op == "equals" or self.op == "in":
            return value in self.texts
        if self.op == "not_in":
            return value not in self.texts
        if self.op == "starts_with":
            return value.startswith(self.texts)
        number = leading_number(value)
        if number is None:
            return False
        return {"gt": number > self.number, "ge": number >= self.number,
                "lt": number < self.number, "le": number <= self.number}[self.op]


@dataclass(frozen=True)
class Rule:
    """A segment and the tests that must all hold for a customer to be in it."""

    name: str
    segment: str  # "" = no segment
    tests: tuple[Test, ...]

    def matches(self, row: Mapping[str, Any]) -> bool:
        return all(t.holds(_text(row.get(t.column))) for t in self.tests)


@dataclass(frozen=True)
class SegmentRules:
    """An ordered rule table: the first matching rule's segment, else the default ("" = no segment)."""

    rules: tuple[Rule, ...]
    default: str = ""
    source: str = "segment rules"  # the file, for messages

    def assign(self, row: Mapping[str, Any]) -> str:
        """The segment of a customer row ({column: value}); "" when the rules give none."""
        for rule in self.rules:
            if rule.matches(row):
                return rule.segment
        return self.default

    def columns(self) -> set[str]:
        """Every column a rule tests."""
        return {t.column for rule in self.rules for t in rule.tests}

    def check_columns(self, header: Collection[str], where: str) -> None:
        """Raise SegmentRuleError naming the rule when it tests a column `header` (of file `where`) lacks."""
        have = set(header)
        for rule in self.rules:
            missing = sorted({t.column for t in rule.tests} - have)
            if missing:
                raise SegmentRuleError(f"{self.source}: rule {rule.name!r} tests column(s) {', '.join(missing)}, "
                                       f"which {where} lacks (it has {', '.join(sorted(have))})")


def load_segment_rules(path: str | Path, known: Collection[str] | None = None) -> SegmentRules:
    """Read and check a rules file; with `known` (the segments file's names) every segment must be one."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise SegmentRuleError(f"{path}: {err}") from None
    return parse_segment_rules(data, str(path), known)


def parse_segment_rules(data: Mapping[str, Any], source: str = "segment rules",
                        known: Collection[str] | None = None) -> SegmentRules:
    """Check a rules table already read from TOML (see the module docstring for its shape)."""
    unknown_keys = sorted(set(data) - {"default", "rules"})
    if unknown_keys:
        raise SegmentRuleError(f"{source}: unknown key(s) {', '.join(unknown_keys)}; expected default and [[rules]]")
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list) or not raw_rules:
        raise SegmentRuleError(f"{source}: no [[rules]] tables")
    default = _segment(data.get("default", ""), f"{source}: default", known)
    rules = tuple(_rule(raw, i, source, known) for i, raw in enumerate(raw_rules, 1))
    return SegmentRules(rules, default, source)


def _rule(raw: Any, number: int, source: str, known: Collection[str] | None) -> Rule:
    if not isinstance(raw, dict):
        raise SegmentRuleError(f"{source}: rule {number} is not a table")
    name = str(raw.get("name", f"rule {number}"))
    where = f"{source}: rule {number} ({name!r})" if "name" in raw else f"{source}: rule {number}"
    extra = sorted(set(raw) - {"name", "segment", "when"})
    if extra:
        raise SegmentRuleError(f"{where}: unknown key(s) {', '.join(extra)}; a rule has name, segment and when")
    if "segment" not in raw:
        raise SegmentRuleError(f"{where}: no segment (write segment = \"\" for customers left without one)")
    when = raw.get("when", {})
    if not isinstance(when, dict) or not when:
        raise SegmentRuleError(f"{where}: `when` must be a table of column tests, e.g. when.age_band = "
                               "{ starts_with = \"65\" }")
    tests = tuple(t for column, spec in when.items() for t in _tests(str(column), spec, f"{where}: when.{column}"))
    return Rule(name, _segment(raw["segment"], f"{where}: segment", known), tests)


def _tests(column: str, spec: Any, where: str) -> list[Test]:
    if isinstance(spec, str):
        spec = {"equals": spec}
    elif isinstance(spec, list):
        spec = {"in": spec}
    if not isinstance(spec, dict) or not spec:
        raise SegmentRuleError(f"{where}: expected a string, a list of strings or a table of tests "
                               f"({', '.join(TESTS)}), got {spec!r}")
    tests = []
    for op, value in spec.items():
        if op not in TESTS:
            raise SegmentRuleError(f"{where}: unknown test {op!r}; tests are {', '.join(TESTS)}")
        if op in NUMBER_TESTS:
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                raise SegmentRuleError(f"{where}.{op}: expected a number, got {value!r}")
            tests.append(Test(column, op, number=float(value)))
            continue
        texts = [value] if isinstance(value, str) and op in ("equals", "starts_with") else value
        if op == "equals" and not isinstance(value, str):
            raise SegmentRuleError(f"{where}.equals: expected a string, got {value!r} (quote numbers: \"0\")")
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise SegmentRuleError(f"{where}.{op}: expected a list of strings, got {value!r} (quote numbers: \"0\")")
        tests.append(Test(column, op, texts=tuple(t.strip() for t in texts)))
    return tests


def _segment(value: Any, where: str, known: Collection[str] | None) -> str:
    if not isinstance(value, str):
        raise SegmentRuleError(f"{where}: expected a segment name (a string), got {value!r}")
    if value and known is not None and value not in known:
        raise SegmentRuleError(f"{where}: unknown segment {value!r}; known: {', '.join(sorted(known))}")
    return value


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()
