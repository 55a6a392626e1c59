"""Interaction logs (view, click, cart, purchase, rating) and customer profiles.

Customer ids are pseudonymised as rows are read (see assistant/privacy/keys.py): nothing after this module ever
sees a raw customer id. Bad and duplicate rows are reported with file, line and reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Collection, Iterable, Mapping

import numpy as np

from assistant.core.config import ReadLimits
from assistant.ingest.columns import required_columns
from assistant.ingest.segment_rules import SegmentRules
from assistant.ingest.tabular import LoadReport, Rejection, iter_mapped_rows

EVENT_TYPES = ("view", "click", "cart", "purchase", "rating")
EVENT_SYNONYMS = {"add_to_cart": "cart", "addtocart": "cart", "add-to-cart": "cart", "buy": "purchase",
                  "order": "purchase", "transaction": "purchase", "rate": "rating", "review": "rating",
                  "pageview": "view", "impression": "view"}
EVENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer_id": ("customer_id", "customer", "user_id", "userid", "user", "visitorid", "visitor_id"),
    "product_id": ("product_id", "product", "item_id", "itemid", "item", "sku", "asin"),
    "event": ("event", "event_type", "action", "type", "interaction"),
    "timestamp": ("timestamp", "time", "ts", "date", "datetime", "event_time"),
    "value": ("value", "rating", "quantity", "qty", "stars"),
}
CUSTOMER_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer_id": EVENT_COLUMNS["customer_id"],
    "segment": ("segment", "customer_segment", "group"),
    "age_band": ("age_band", "ageband", "age_group", "age"),
    "household": ("household", "household_type"),
}

Pseudonymize = Callable[[str], str]


@dataclass(frozen=True)
class CustomerProfile:
    """What the store knows about a customer (keyed by pseudonym)."""

    customer: str
    segment: str = ""
    age_band: str = ""
    household: str = ""


@dataclass
class InteractionLog:
    """Events as parallel columns (numpy arrays), customers already pseudonymised."""

    customers: np.ndarray  # str
    products: np.ndarray  # str
    events: np.ndarray  # str, one of EVENT_TYPES
    timestamps: np.ndarray  # float64 epoch seconds
    values: np.ndarray  # float64, NaN when absent
    report: LoadReport = field(default_factory=lambda: LoadReport(noun="events"))

    def __len__(self) -> int:
        return len(self.customers)

    def subset(self, mask: np.ndarray) -> "InteractionLog":
        """The events where `mask` is true (the report is shared)."""
        return InteractionLog(self.customers[mask], self.products[mask], self.events[mask],
                              self.timestamps[mask], self.values[mask], self.report)

    def extended(self, other: "InteractionLog") -> "InteractionLog":
        """This log followed by another's events (this log's report)."""
        return InteractionLog(*(np.concatenate([getattr(self, f), getattr(other, f)])
                                for f in ("customers", "products", "events", "timestamps", "values")), self.report)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, str, float, float]],
                  report: LoadReport | None = None) -> "InteractionLog":
        """Build from (customer, product, event, timestamp, value) tuples (customers already pseudonymised)."""
        rows = list(rows)
        columns = list(zip(*rows)) if rows else [(), (), (), (), ()]
        return cls(np.array(columns[0], dtype=str), np.array(columns[1], dtype=str),
                   np.array(columns[2], dtype=str), np.array(columns[3], dtype=np.float64),
                   np.array(columns[4], dtype=np.float64), report or LoadReport(noun="events"))


def parse_timestamp(value: Any) -> float:
    """ISO 8601 (a naive time is UTC) or epoch seconds (milliseconds when > 1e11) -> epoch seconds."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        if not text:
            raise ValueError("missing timestamp")
        try:
            number = float(text)
        except ValueError:
            try:
                moment = datetime.fromisoformat(text.replace(" UTC", "").replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(f"timestamp {text[:40]!r} is neither ISO 8601 nor epoch seconds") from None
        else:
            if not math.isfinite(number) or number < 0:
                raise ValueError(f"timestamp {text[:40]!r} is not a valid epoch time")
            return number / 1000.0 if number > 1e11 else number
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def parse_event_row(row: Mapping[str, Any], columns: Mapping[str, str],
                    pseudonymize: Pseudonymize) -> tuple[str, str, str, float, float]:
    """One source row (its `columns`: canonical field -> source column) as (pseudonym, product, event,
    timestamp, value); raises ValueError saying what is wrong with it. `read_events` and the Spark reader
    (assistant.behaviour.spark_events) check rows with this one function."""
    get = {name: _text(row.get(source)) for name, source in columns.items()}
    if not get.get("customer_id"):
        raise ValueError("missing customer_id")
    if not get.get("product_id"):
        raise ValueError("missing product_id")
    if len(get["customer_id"]) > 256 or len(get["product_id"]) > 128:
        raise ValueError("customer_id or product_id is absurdly long")
    event = get.get("event", "").lower()
    event = EVENT_SYNONYMS.get(event, event)
    if event not in EVENT_TYPES:
        raise ValueError(f"unknown event {get.get('event', '')[:40]!r}; expected one of {', '.join(EVENT_TYPES)}")
    timestamp = parse_timestamp(get.get("timestamp", ""))
    value = math.nan
    if get.get("value"):
        try:
            value = float(get["value"])
        except ValueError:
            raise ValueError(f"value {get['value'][:40]!r} is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"value {get['value'][:40]!r} is not a finite number")
    if event == "rating":
        if math.isnan(value):
            raise ValueError("rating event without a value")
        if not 0 <= value <= 5:
            raise ValueError(f"rating {value:g} is outside 0..5")
    elif event == "purchase" and not math.isnan(value) and value <= 0:
        raise ValueError(f"purchase quantity {value:g} is not positive")
    return pseudonymize(get["customer_id"]), get["product_id"], event, timestamp, value


def read_events(paths: Iterable[str | Path], pseudonymize: Pseudonymize,
                mapping: Mapping[str, str] | None = None, forgotten: Collection[str] = (),
                limits: ReadLimits | None = None) -> InteractionLog:
    """Read interaction logs; every good row loads, bad and duplicate rows are in `log.report`. Events of
    `forgotten` customers (pseudonyms, see `aisle forget`) are dropped and counted in a note.

    Raises DataFileError only when a file as a whole is unusable or past a file-wide bound of `limits`
    (Settings.limits; default ReadLimits(), see docs/catalog.md).
    """
    report = LoadReport(noun="events")
    rows: list[tuple[str, str, str, float, float]] = []
    seen: dict[tuple[str, str, str, float], str] = {}
    skipped = 0

    def resolve(path: Path, keys: tuple[str, ...], strict: bool) -> dict[str, str]:
        return required_columns(path, keys, EVENT_COLUMNS, mapping,
                                ("customer_id", "product_id", "event", "timestamp"), strict, "customer_id=UserID")

    for path, line, row, columns in iter_mapped_rows(paths, report, resolve, limits):
        try:
            parsed = parse_event_row(row, columns, pseudonymize)
        except ValueError as err:
            report.rejections.append(Rejection(path.name, line, str(err)))
            continue
        if parsed[0] in forgotten:
            skipped += 1
            continue
        key = parsed[:4]
        if key in seen:
            report.rejections.append(Rejection(path.name, line, f"duplicate event (same as {seen[key]})"))
            continue
        seen[key] = f"{path.name}:{line}"
        rows.append(parsed)
    report.loaded = len(rows)
    if skipped:
        report.notes.append(f"{skipped} events of forgotten customers left out")
    return InteractionLog.from_rows(rows, report)


def read_customers(paths: Iterable[str | Path], pseudonymize: Pseudonymize,
                   mapping: Mapping[str, str] | None = None,
                   forgotten: Collection[str] = (), limits: ReadLimits | None = None,
                   rules: SegmentRules | None = None) -> tuple[dict[str, CustomerProfile], LoadReport]:
    """Read customer profile files into {pseudonym: CustomerProfile}; bad rows in the report; profiles of
    `forgotten` customers are left out. Files are read within `limits` as by `read_events`.

    With `rules` (the store's segment rules, ingest/segment_rules.py) a customer's segment is the one the
    rules give from the row's columns, not the file's segment column; a rule testing a column a file lacks
    raises SegmentRuleError."""
    report = LoadReport(noun="customers")
    profiles: dict[str, CustomerProfile] = {}
    where: dict[str, str] = {}
    checked: set[Path] = set()

    def resolve(path: Path, keys: tuple[str, ...], strict: bool) -> dict[str, str]:
        return required_columns(path, keys, CUSTOMER_COLUMNS, mapping, ("customer_id",), strict, "customer_id=UserID")

    for path, line, row, columns in iter_mapped_rows(paths, report, resolve, limits):
        values = {name: _text(row.get(source)) for name, source in columns.items()}
        if not values.get("customer_id"):
            report.rejections.append(Rejection(path.name, line, "missing customer_id"))
            continue
        if any(len(v) > 256 for v in values.values()):
            report.rejections.append(Rejection(path.name, line, "a field is absurdly long"))
            continue
        customer = pseudonymize(values["customer_id"])
        if customer in forgotten:
            continue
        if customer in profiles:
            report.rejections.append(Rejection(path.name, line, f"duplicate customer (first at {where[customer]})"))
            continue
        where[customer] = f"{path.name}:{line}"
        segment = values.get("segment", "")
        if rules is not None:
            if path not in checked:
                rules.check_columns(row, path.name)
                checked.add(path)
            segment = rules.assign(row)
        profiles[customer] = CustomerProfile(customer, segment, values.get("age_band", ""),
                                             values.get("household", ""))
    report.loaded = len(profiles)
    return profiles, report
