"""Read CSV / JSONL / Parquet catalogs into validated `Product` records.

Every rejected row is reported with its file, line and reason; every good row loads.
Column names of a foreign file map onto the canonical fields through a mapping
(`{"title": "ProductName"}`), never through code.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

CANONICAL_FIELDS = (
    "id", "title", "price", "description", "category", "brand", "color", "size",
    "audience", "tags", "rating", "rating_count", "in_stock", "image_url",
)

# Common foreign spellings, matched case-insensitively when no explicit mapping names the field.
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("id", "product_id", "productid", "sku", "item_id", "itemid", "asin"),
    "title": ("title", "name", "product_name", "productname", "product_title"),
    "price": ("price", "cost", "unit_price", "sale_price"),
    "description": ("description", "desc", "details", "product_description"),
    "category": ("category", "categories", "category_path", "department"),
    "brand": ("brand", "manufacturer", "maker"),
    "color": ("color", "colour"),
    "size": ("size", "sizes"),
    "audience": ("audience", "gender", "target", "for"),
    "tags": ("tags", "keywords", "labels"),
    "rating": ("rating", "stars", "average_rating", "avg_rating"),
    "rating_count": ("rating_count", "ratings", "num_ratings", "review_count", "reviews"),
    "in_stock": ("in_stock", "instock", "available", "availability", "stock"),
    "image_url": ("image_url", "image", "img", "image_link", "picture"),
}

# Longest value a field may hold before the row is rejected as absurd.
FIELD_LIMITS = {"id": 128, "title": 300, "description": 10_000, "tags": 2_000}
DEFAULT_FIELD_LIMIT = 1_000
LIST_SEPARATORS = re.compile(r"\s*[|;]\s*")
TAG_SEPARATORS = re.compile(r"\s*[|;,]\s*")
TRUE_WORDS = {"1", "true", "yes", "y", "t", "in stock", "instock", "available"}
FALSE_WORDS = {"0", "false", "no", "n", "f", "out of stock", "outofstock", "unavailable", "sold out"}


class CatalogError(Exception):
    """A catalog file cannot be read at all (missing, unknown format, no usable columns)."""


@dataclass(frozen=True)
class Product:
    """One validated catalog product in canonical fields; other columns live in `attributes`."""

    id: str
    title: str
    price: float
    description: str = ""
    category: str = ""
    brand: str = ""
    color: str = ""
    size: str = ""
    audience: str = ""
    tags: tuple[str, ...] = ()
    rating: float | None = None
    rating_count: int = 0
    in_stock: bool = True
    image_url: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)

    @property
    def sizes(self) -> tuple[str, ...]:
        """Sizes offered, split from `size` ("S|M|L")."""
        return tuple(s for s in LIST_SEPARATORS.split(self.size) if s) if self.size else ()

    @property
    def category_path(self) -> tuple[str, ...]:
        """"Kids > Outerwear" as ("Kids", "Outerwear")."""
        return tuple(p.strip() for p in re.split(r">|/", self.category) if p.strip())

    def embedding_text(self) -> str:
        """The text embedded for content search: title, key attributes, then description."""
        parts = [self.title]
        facts = [self.category, self.brand, self.color, self.audience, " ".join(self.tags)]
        facts_text = ". ".join(f for f in facts if f)
        if facts_text:
            parts.append(facts_text)
        if self.description:
            parts.append(self.description)
        return ". ".join(parts)

    def content_hash(self) -> str:
        """Hash of the embedded text: a product whose hash is unchanged need not be re-embedded."""
        return hashlib.sha256(self.embedding_text().encode("utf-8")).hexdigest()[:32]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tags as a list)."""
        data = asdict(self)
        data["tags"] = list(self.tags)
        data["attributes"] = dict(self.attributes)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Product":
        """Inverse of `to_dict` for trusted, already-validated records (an index's product table)."""
        values = {k: data[k] for k in CANONICAL_FIELDS if k in data}
        values["tags"] = tuple(values.get("tags") or ())
        return cls(**values, attributes=dict(data.get("attributes") or {}))


@dataclass(frozen=True)
class Rejection:
    """A row that did not load: where it is and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class CatalogReport:
    """What a load did: counts, every rejected row, and file-level notes (encoding fallback, ...)."""

    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    loaded: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files, "rows_read": self.rows_read, "loaded": self.loaded,
            "rejected": self.rejected, "notes": self.notes,
            "rejections": [asdict(r) for r in self.rejections],
        }

    def format(self, limit: int = 50) -> str:
        """Human-readable report: a summary line, notes, then up to `limit` rejected rows."""
        lines = [f"{self.loaded} products loaded, {self.rejected} rows rejected "
                 f"from {len(self.files)} file(s)."]
        lines += [f"note: {n}" for n in self.notes]
        lines += [f"rejected {r}" for r in self.rejections[:limit]]
        if self.rejected > limit:
            lines.append(f"... and {self.rejected - limit} more rejected rows")
        return "\n".join(lines)


# ---------------------------------------------------------------------------- values


_CURRENCY_JUNK = re.compile(r"[^\d,.\-()]")
_CURRENCY_ABBREVIATION = re.compile(r"[^\W\d_]+\.")  # "Rs." / "Dhs.": the dot is not a decimal point


def parse_price(text: Any) -> float:
    """Parse "$1,299.00", "1.299,00 €", "₹ 1 299", "USD 40" into a float.

    Raises ValueError with a short reason when the text holds no usable number.
    The decimal separator is the last of ',' / '.' when both occur; a lone ',' followed
    by exactly three digits is a thousands separator ("1,299" is 1299).
    """
    if isinstance(text, bool):
        raise ValueError("price is not a number")
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        raw = str(text).strip()
        if not raw:
            raise ValueError("missing price")
        cleaned = _CURRENCY_JUNK.sub("", _CURRENCY_ABBREVIATION.sub("", raw))
        negative = cleaned.startswith("-") or (cleaned.startswith("(") and cleaned.endswith(")"))
        digits = cleaned.strip("()-")
        if "-" in digits or "(" in digits or ")" in digits or not re.search(r"\d", digits):
            raise ValueError(f"price {raw[:40]!r} is not a number")
        digits = _normalise_separators(digits)
        try:
            value = float(digits)
        except ValueError:
            raise ValueError(f"price {raw[:40]!r} is not a number") from None
        value = -value if negative else value
    if math.isnan(value) or math.isinf(value):
        raise ValueError("price is not a finite number")
    return value


def _normalise_separators(digits: str) -> str:
    if "," in digits and "." in digits:
        decimal = "," if digits.rfind(",") > digits.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        return digits.replace(thousands, "").replace(decimal, ".")
    if "," in digits:
        head, _, tail = digits.rpartition(",")
        if digits.count(",") == 1 and len(tail) != 3:
            return f"{head}.{tail}"
        return digits.replace(",", "")
    if digits.count(".") > 1:
        return digits.replace(".", "")
    return digits


def parse_bool(text: Any) -> bool:
    """"yes", "In stock", 1, "false" ... -> bool; ValueError otherwise."""
    if isinstance(text, bool):
        return text
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return text != 0
    word = str(text).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"in_stock {str(text)[:40]!r} is not yes/no")


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, (list, tuple)):
        return "|".join(_as_text(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# ---------------------------------------------------------------------------- rows → products


def resolve_columns(columns: Iterable[str], mapping: Mapping[str, str] | None = None,
                    missing_ok: bool = False) -> dict[str, str]:
    """Map canonical field -> source column, from the explicit mapping first, then synonyms.

    Raises CatalogError when a mapping names a column the file lacks (unless `missing_ok`).
    """
    columns = [c for c in columns if c is not None]
    by_lower = {c.strip().lower(): c for c in columns}
    resolved: dict[str, str] = {}
    for canonical, source in (mapping or {}).items():
        if canonical not in CANONICAL_FIELDS:
            raise CatalogError(f"mapping names unknown field {canonical!r}; "
                               f"fields are: {', '.join(CANONICAL_FIELDS)}")
        match = source if source in columns else by_lower.get(source.strip().lower())
        if match is None:
            if missing_ok:
                continue
            raise CatalogError(f"mapping {canonical}={source!r}: the file has no column {source!r} "
                               f"(columns: {', '.join(columns[:30])})")
        resolved[canonical] = match
    taken = set(resolved.values())
    for canonical, names in COLUMN_SYNONYMS.items():
        if canonical in resolved:
            continue
        for name in names:
            column = by_lower.get(name)
            if column is not None and column not in taken:
                resolved[canonical] = column
                taken.add(column)
                break
    return resolved


def row_to_product(row: Mapping[str, Any], columns: Mapping[str, str]) -> Product:
    """Validate one raw row into a Product; ValueError names the first problem found."""
    get = {canonical: row.get(source) for canonical, source in columns.items()}
    for name, value in list(get.items()) + [(k, v) for k, v in row.items() if k not in columns.values()]:
        text = _as_text(value)
        limit = FIELD_LIMITS.get(name, DEFAULT_FIELD_LIMIT)
        if len(text) > limit:
            raise ValueError(f"field {name!r} is {len(text):,} characters long (limit {limit:,})")
    product_id = _as_text(get.get("id"))
    if not product_id:
        raise ValueError("missing id")
    title = " ".join(_as_text(get.get("title")).split())
    if not title:
        raise ValueError("missing title")
    price_value = get.get("price")
    if price_value is None or _as_text(price_value) == "":
        raise ValueError("missing price")
    price = parse_price(price_value)
    if price < 0:
        raise ValueError(f"negative price {price:g}")
    rating = None
    if _as_text(get.get("rating")):
        try:
            rating = float(_as_text(get.get("rating")).replace(",", "."))
        except ValueError:
            raise ValueError(f"rating {_as_text(get.get('rating'))[:40]!r} is not a number") from None
        if not 0 <= rating <= 5:
            raise ValueError(f"rating {rating:g} is outside 0..5")
    rating_count = 0
    if _as_text(get.get("rating_count")):
        try:
            rating_count = int(float(_as_text(get.get("rating_count")).replace(",", "")))
        except (ValueError, OverflowError):
            raise ValueError(f"rating_count {_as_text(get.get('rating_count'))[:40]!r} "
                             "is not a whole number") from None
        if rating_count < 0:
            raise ValueError(f"negative rating_count {rating_count}")
    in_stock = True
    if _as_text(get.get("in_stock")):
        in_stock = parse_bool(_as_text(get.get("in_stock")))
    tags_text = _as_text(get.get("tags"))
    tags = tuple(t for t in TAG_SEPARATORS.split(tags_text) if t) if tags_text else ()
    used = set(columns.values())
    attributes = {str(k): _as_text(v) for k, v in row.items()
                  if k is not None and k not in used and _as_text(v)}
    return Product(
        id=product_id, title=title, price=round(price, 2),
        description=" ".join(_as_text(get.get("description")).split()),
        category=_as_text(get.get("category")), brand=_as_text(get.get("brand")),
        color=_as_text(get.get("color")), size=_as_text(get.get("size")),
        audience=_as_text(get.get("audience")).lower(), tags=tags, rating=rating,
        rating_count=rating_count, in_stock=in_stock, image_url=_as_text(get.get("image_url")),
        attributes=attributes,
    )


# ---------------------------------------------------------------------------- files → rows


def _open_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix.lower() == ".gz":
        data = gzip.decompress(data)
    return data


def _format_of(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    last = suffixes[-1] if suffixes else ""
    if last in (".csv", ".tsv", ".txt"):
        return "csv"
    if last in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if last in (".parquet", ".pq"):
        return "parquet"
    raise CatalogError(f"{path}: unknown catalog format {last or '(no extension)'!r}; "
                       "use .csv, .tsv, .jsonl or .parquet (optionally .gz)")


def decode_text(data: bytes) -> tuple[str, str | None]:
    """Bytes -> text. UTF-8 (with or without BOM) and UTF-16 with BOM are read as such;
    anything else falls back to cp1252, and the returned note says so."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), None
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as err:
        note = f"not valid UTF-8 (byte {err.start}); read as Windows-1252"
        return data.decode("cp1252", errors="replace"), note


def sniff_delimiter(sample: str, default: str = ",") -> str:
    """The delimiter among , ; TAB | that splits the header and first rows consistently."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        counts = {d: header.count(d) for d in ",;\t|"}
        best = max(counts, key=counts.get)
        return best if counts[best] else default


def iter_rows(path: Path, report: CatalogReport) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """Yield (line, row, error) from a catalog file; row is None when the error says why."""
    fmt = _format_of(path)
    if fmt == "parquet":
        yield from _iter_parquet(path)
        return
    text, note = decode_text(_open_bytes(path))
    if note:
        report.notes.append(f"{path.name}: {note}")
    if fmt == "jsonl":
        yield from _iter_jsonl(text)
    else:
        yield from _iter_csv(text, path)


def _iter_jsonl(text: str) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    # Not str.splitlines(): it also breaks at U+2028, U+0085 ..., which JSON strings may hold raw.
    for number, line in enumerate(re.split(r"\r\n?|\n", text), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            yield number, None, f"invalid JSON ({err.msg} at column {err.colno})"
            continue
        if not isinstance(row, dict):
            yield number, None, f"expected a JSON object, got {type(row).__name__}"
            continue
        yield number, row, ""


def _iter_csv(text: str, path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    delimiter = "\t" if suffixes[-1:] == [".tsv"] else sniff_delimiter(text[:65536])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as err:
        raise CatalogError(f"{path}: unreadable header ({err})") from None
    header = [h.strip() for h in header]
    start = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            yield start, None, f"malformed CSV ({err})"
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):
            yield line, None, f"{len(values)} fields but the header has {len(header)}"
            continue
        values += [""] * (len(header) - len(values))
        yield line, dict(zip(header, values)), ""


def _iter_parquet(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    try:
        import pyarrow.parquet as pq
    except ImportError as err:  # pragma: no cover - pyarrow is a core dependency
        raise CatalogError("reading Parquet needs pyarrow: pip install pyarrow") from err
    try:
        table = pq.read_table(path)
    except Exception as err:  # pyarrow raises several types for a damaged file
        raise CatalogError(f"{path}: not a readable Parquet file ({err})") from None
    for number, row in enumerate(table.to_pylist(), start=1):
        yield number, row, ""


def read_catalog(paths: Iterable[str | Path], mapping: Mapping[str, str] | None = None
                 ) -> tuple[list[Product], CatalogReport]:
    """Load every good row of the given catalog files; the report lists each rejected row.

    Raises CatalogError only when a file as a whole is unusable (missing, unknown format,
    no id/title/price columns). A duplicate id is rejected with the place of its first use.
    """
    report = CatalogReport()
    products: list[Product] = []
    first_seen: dict[str, str] = {}
    for raw_path in paths:
        path = Path(raw_path)
        if not path.is_file():
            raise CatalogError(f"{path}: no such file")
        report.files.append(str(path))
        strict = _format_of(path) != "jsonl"  # JSONL rows may each carry different keys
        columns_by_keys: dict[tuple[str, ...], dict[str, str]] = {}
        for line, row, error in iter_rows(path, report):
            report.rows_read += 1
            if row is None:
                report.rejections.append(Rejection(path.name, line, error))
                continue
            keys = tuple(row)
            columns = columns_by_keys.get(keys)
            if columns is None:
                columns = columns_by_keys[keys] = _checked_columns(path, list(keys), mapping, strict)
            try:
                product = row_to_product(row, columns)
            except ValueError as err:
                report.rejections.append(Rejection(path.name, line, str(err)))
                continue
            where = f"{path.name}:{line}"
            if product.id in first_seen:
                report.rejections.append(Rejection(
                    path.name, line, f"duplicate id {product.id!r} (first at {first_seen[product.id]})"))
                continue
            first_seen[product.id] = where
            products.append(product)
    report.loaded = len(products)
    return products, report


def _checked_columns(path: Path, names: list[str], mapping: Mapping[str, str] | None,
                     strict: bool) -> dict[str, str]:
    try:
        columns = resolve_columns(names, mapping, missing_ok=not strict)
    except CatalogError as err:
        raise CatalogError(f"{path}: {err}") from None
    missing = [f for f in ("id", "title", "price") if f not in columns]
    if missing and strict:
        raise CatalogError(f"{path}: no column for required field(s) {', '.join(missing)}; "
                           f"columns are {', '.join(names[:30])}. Map them, e.g. --map title=ProductName")
    return columns


def catalog_hash(products: Iterable[Product]) -> str:
    """A stable hash of a whole catalog's content (order-independent)."""
    digest = hashlib.sha256()
    for line in sorted(json.dumps(p.to_dict(), sort_keys=True, ensure_ascii=False) for p in products):
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def write_jsonl(products: Iterable[Product], path: Path) -> None:
    """Write products as JSON lines (UTF-8), attributes as top-level keys: `read_catalog` reads them back."""
    with open(path, "w", encoding="utf-8") as out:
        for product in products:
            row = product.to_dict()
            attributes = row.pop("attributes")
            row.update({k: v for k, v in attributes.items() if k not in row})
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
