"""A build's product table as Parquet columns: written once, memory-mapped on load, and read as a sequence of
`Product`s built per row when asked for (then kept), so loading a large catalog makes no Python object per
product. Hot paths can read whole columns as arrays (`column`).

Builds of index format 1 kept their table as JSON lines (`products.jsonl`); `read_jsonl_table` still reads them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator, Sequence, overload

import numpy as np

from assistant.ingest.catalog import Product

HASH = "content_hash"
_STRINGS = ("id", "title", "description", "category", "brand", "color", "size", "audience", "image_url")
BATCH = 8192


def _arrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as err:
        raise ImportError("pyarrow is not available - install pyarrow to read and write index product tables") from err
    return pa, pq


def _schema():
    pa, _ = _arrow()
    return pa.schema([(HASH, pa.string()), *((name, pa.string()) for name in _STRINGS[:2]),
                      ("price", pa.float64()), *((name, pa.string()) for name in _STRINGS[2:]),
                      ("tags", pa.list_(pa.string())), ("rating", pa.float64()), ("rating_count", pa.int64()),
                      ("in_stock", pa.bool_()), ("attributes", pa.map_(pa.string(), pa.string()))])


def product_table_bytes(products: Sequence[Product], hashes: Sequence[str]) -> bytes:
    """The Parquet file of `products` with their content hashes (zstd-compressed columns)."""
    pa, pq = _arrow()
    if len(products) != len(hashes):
        raise ValueError(f"{len(products)} products but {len(hashes)} content hashes")
    columns: dict[str, list[Any]] = {HASH: list(hashes)}
    for name in ("id", "title", "price", "description", "category", "brand", "color", "size", "audience",
                 "rating", "rating_count", "in_stock", "image_url"):
        columns[name] = [getattr(p, name) for p in products]
    columns["tags"] = [list(p.tags) for p in products]
    columns["attributes"] = [list(p.attributes.items()) for p in products]
    table = pa.Table.from_pydict(columns, schema=_schema())
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", row_group_size=65_536)
    return sink.getvalue().to_pybytes()


class ProductTable(Sequence[Product]):
    """The products of a build, from its Arrow table: `table[i]` builds product i once and keeps it."""

    def __init__(self, table: Any) -> None:
        missing = set(_schema().names) - set(table.column_names)
        if missing:
            raise ValueError(f"product table lacks column(s) {', '.join(sorted(missing))}")
        self._table = table
        self._made: list[Product | None] = [None] * table.num_rows

    @classmethod
    def read(cls, path: Path) -> "ProductTable":
        """Open a Parquet product table, memory-mapped. Raises ValueError / OSError on a damaged file."""
        pa, pq = _arrow()
        try:
            table = pq.ParquetFile(path, memory_map=True).read()  # not read_table: no dataset layer
        except pa.ArrowException as err:
            raise ValueError(f"unreadable product table ({err})") from None
        return cls(table)

    def __len__(self) -> int:
        return self._table.num_rows

    @overload
    def __getitem__(self, position: int) -> Product: ...

    @overload
    def __getitem__(self, position: slice) -> list[Product]: ...

    def __getitem__(self, position):
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        position = int(position)
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError(f"product position {position} outside a table of {len(self)}")
        made = self._made[position]
        if made is None:
            made = self._made[position] = _product(self._table.slice(position, 1).to_pylist()[0])
        return made

    def __iter__(self) -> Iterator[Product]:
        start = 0
        for batch in self._table.to_batches(max_chunksize=BATCH):
            missing = [i for i in range(start, start + batch.num_rows) if self._made[i] is None]
            if missing:
                rows = batch.to_pylist()
                for i in missing:
                    self._made[i] = _product(rows[i - start])
            yield from self._made[start:start + batch.num_rows]  # type: ignore[misc]
            start += batch.num_rows

    def column(self, name: str) -> np.ndarray:
        """One column as a numpy array (numbers, booleans) or an object array (strings)."""
        return self._table.column(name).to_numpy(zero_copy_only=False)

    def strings(self, name: str) -> "StringColumn":
        """A string column as a lazy sequence of `str` (e.g. the content hashes)."""
        return StringColumn(self._table.column(name))

    @property
    def materialised(self) -> int:
        """How many products have been built as Python objects so far."""
        return sum(made is not None for made in self._made)


class StringColumn(Sequence[str]):
    """A string column read per item (or in batches when iterated), never copied whole into Python."""

    def __init__(self, column: Any) -> None:
        self._column = column

    def __len__(self) -> int:
        return len(self._column)

    def __getitem__(self, position):  # type: ignore[override]
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        return self._column[int(position)].as_py()

    def __iter__(self) -> Iterator[str]:
        for chunk in self._column.chunks:
            for start in range(0, len(chunk), BATCH):
                yield from chunk.slice(start, BATCH).to_pylist()


def _product(row: dict[str, Any]) -> Product:
    row = dict(row)
    row.pop(HASH, None)
    row["attributes"] = dict(row.get("attributes") or ())
    return Product.from_dict(row)


def read_jsonl_table(path: Path) -> tuple[list[Product], list[str]]:
    """The products and content hashes of a format-1 build's `products.jsonl`."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [Product.from_dict(row["product"]) for row in rows], [row["content_hash"] for row in rows]
