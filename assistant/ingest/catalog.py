"""Read CSV / JSONL / Parquet catalogs into validated `Product` records.

Every rejected row is reported with its file, line and reason; every good row loads.
Column names of a foreign file map onto the canonical fields through a mapping
(`{"title": "ProductName"}`), never through code.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from assistant.core.config import ReadLimits
from assistant.core.money import detect_currency
from assistant.ingest.columns import required_columns
from assistant.ingest.tabular import DataFileError, LoadReport, Rejection, decode_text, iter_mapped_rows, sniff_delimiter
from assistant.ingest.tabular import resolve_columns as _resolve_columns

__all__ = ["CatalogError", "CatalogReport", "Product", "Rejection", "catalog_hash", "decode_text", "parse_bool",
           "parse_price", "read_catalog", "resolve_columns", "row_to_product", "sniff_delimiter", "write_jsonl"]

CANONICAL_FIELDS = (
    "id", "title", "price", "description", "category", "brand", "color", "size",
    "audience", "tags", "rating", "rating_count", "in_stock", "image_url",
)
REQUIRED_FIELDS = ("id", "title", "price")  # a catalog file without a column for one of them is refused

# Common foreign spellings, matched case-insensitively when no explicit mapping names the field.
# Chinese headers as a Chinese store's export names them (商品名称, 价格, 库存 ...; a few in traditional script).
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("id", "product_id", "productid", "sku", "item_id", "itemid", "asin", "商品编号", "商品id", "编号", "货号", "商品編號", "編號"),
    "title": ("title", "name", "product_name", "productname", "product_title", "商品名称", "商品标题", "名称", "标题",
              "品名", "商品名稱", "名稱", "標題"),
    "price": ("price", "cost", "unit_price", "sale_price", "价格", "售价", "单价", "价格(元)", "价格（元）", "销售价", "價格"),
    "description": ("description", "desc", "details", "product_description", "商品描述", "描述", "商品详情", "详情"),
    "category": ("category", "categories", "category_path", "department", "类目", "分类", "商品分类", "类别"),
    "brand": ("brand", "manufacturer", "maker", "品牌"),
    "color": ("color", "colour", "颜色", "颜色分类", "顏色"),
    "size": ("size", "sizes", "尺码", "尺寸", "规格"),
    "audience": ("audience", "gender", "target", "for", "适用人群", "人群", "适用对象", "性别"),
    "tags": ("tags", "keywords", "labels", "标签", "关键词"),
    "rating": ("rating", "stars", "average_rating", "avg_rating", "评分"),
    "rating_count": ("rating_count", "ratings", "num_ratings", "review_count", "reviews", "评价数", "评论数"),
    "in_stock": ("in_stock", "instock", "available", "availability", "stock", "库存", "库存状态", "是否有货"),
    "image_url": ("image_url", "image", "img", "image_link", "picture", "图片", "图片链接", "主图"),
}
# Longest value a field may hold before the row is rejected as absurd.
FIELD_LIMITS = {"id": 128, "title": 300, "tags": 2_000}
DEFAULT_FIELD_LIMIT = 1_000
# A longer description is cut to this many characters (at a word boundary), never a reason to reject a
# product: real catalogs hold 20,000-character descriptions, and only the start is embedded or quoted anyway.
DESCRIPTION_CHARS = 10_000
LIST_SEPARATORS = re.compile(r"\s*[|;]\s*")
TAG_SEPARATORS = re.compile(r"\s*[|;,]\s*")
TRUE_WORDS = {"1", "true", "yes", "y", "t", "in stock", "instock", "available", "有货", "有", "是", "在售", "现货"}
FALSE_WORDS = {"0", "false", "no", "n", "f", "out of stock", "outofstock", "unavailable", "sold out", "缺货", "无货",
               "无", "否", "售罄", "下架"}


#: A catalog file that cannot be read at all.
CatalogError = DataFileError
#: What a catalog load did (every rejected row with file, line and reason).
CatalogReport = LoadReport


def resolve_columns(columns: Iterable[str], mapping: Mapping[str, str] | None = None,
                    missing_ok: bool = False) -> dict[str, str]:
    """Map canonical catalog field -> source column (explicit mapping first, then synonyms)."""
    return _resolve_columns(columns, COLUMN_SYNONYMS, mapping, missing_ok)


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

    @functools.cached_property
    def sizes(self) -> tuple[str, ...]:
        """Sizes offered, split from `size` ("S|M|L"); split once per product (the ranker asks often)."""
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


def cut_description(text: str, limit: int = DESCRIPTION_CHARS) -> str:
    """`text` cut to at most `limit` characters, at the last space before the limit when there is one."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return cut[:space] if space > limit // 2 else cut


def row_to_product(row: Mapping[str, Any], columns: Mapping[str, str]) -> Product:
    """Validate one raw row into a Product; ValueError names the first problem found."""
    get = {canonical: row.get(source) for canonical, source in columns.items()}
    for name, value in list(get.items()) + [(k, v) for k, v in row.items() if k not in columns.values()]:
        if name == "description":
            continue  # cut below, not rejected
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
        description=cut_description(" ".join(_as_text(get.get("description")).split())),
        category=_as_text(get.get("category")), brand=_as_text(get.get("brand")),
        color=_as_text(get.get("color")), size=_as_text(get.get("size")),
        audience=_as_text(get.get("audience")).lower(), tags=tags, rating=rating,
        rating_count=rating_count, in_stock=in_stock, image_url=_as_text(get.get("image_url")),
        attributes=attributes,
    )


def read_catalog(paths: Iterable[str | Path], mapping: Mapping[str, str] | None = None,
                 limits: ReadLimits | None = None, encoding: str = "auto") -> tuple[list[Product], CatalogReport]:
    """Load every good row of the given catalog files; the report lists each rejected row.

    Raises CatalogError only when a file as a whole is unusable (missing, unknown format,
    no id/title/price columns) or past a file-wide bound of `limits` (Settings.limits; default
    ReadLimits(), see docs/catalog.md), or when its bytes are not text in `encoding` (Settings.catalog_encoding:
    "auto" detects it and notes which, else a codec name). A duplicate id is rejected with the place of its
    first use.
    """
    report = CatalogReport()
    products: list[Product] = []
    first_seen: dict[str, str] = {}
    cut = 0  # descriptions cut to DESCRIPTION_CHARS
    price_columns: dict[str, None] = {}
    price_samples: list[str] = []

    def resolve(path: Path, keys: tuple[str, ...], strict: bool) -> dict[str, str]:
        return required_columns(path, keys, COLUMN_SYNONYMS, mapping, REQUIRED_FIELDS, strict,
                                "title=ProductName")

    for path, line, row, columns in iter_mapped_rows(paths, report, resolve, limits, encoding):
        price_columns.setdefault(columns["price"], None)
        if len(price_samples) < 500:
            price_samples.append(_as_text(row.get(columns["price"])))
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
        raw = _as_text(row.get(columns["description"])) if "description" in columns else ""
        if len(raw) > DESCRIPTION_CHARS and len(" ".join(raw.split())) > DESCRIPTION_CHARS:
            cut += 1
    if cut:
        report.notes.append(f"{cut} description(s) longer than {DESCRIPTION_CHARS:,} characters were cut to "
                            f"{DESCRIPTION_CHARS:,}")
    report.loaded = len(products)
    report.currency = detect_currency(price_columns, price_samples)
    return products, report


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
