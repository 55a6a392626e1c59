"""Reading tabular data files: CSV / TSV (delimiter sniffed), JSONL and Parquet, optionally gzipped.

Shared by the catalog and interaction-log readers: rows come out as dicts with their line numbers,
and a `LoadReport` collects every rejected row with file, line and reason.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import asdict, dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from assistant.core.config import ReadLimits
from assistant.ingest.errors import DataFileError
from assistant.ingest.reading import capped_lines, decode_text, open_text

__all__ = ["DataFileError", "LoadReport", "Rejection", "decode_text", "format_of", "iter_mapped_rows", "iter_rows",
           "json_depth_exceeds", "resolve_columns", "sniff_delimiter"]


@dataclass(frozen=True)
class Rejection:
    """A row that did not load: where it is and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class LoadReport:
    """What a load did: counts, every rejected row, and file-level notes (encoding fallback, ...)."""

    noun: str = "products"
    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    loaded: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    currency: str | None = None  # the currency the file names (price column name or price values), if any

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    def to_dict(self) -> dict[str, Any]:
        return {
            "noun": self.noun, "files": self.files, "rows_read": self.rows_read, "loaded": self.loaded,
            "rejected": self.rejected, "notes": self.notes, "currency": self.currency,
            "rejections": [asdict(r) for r in self.rejections],
        }

    def format(self, limit: int = 50) -> str:
        """Human-readable report: a summary line, notes, then up to `limit` rejected rows."""
        lines = [f"{self.loaded} {self.noun} loaded, {self.rejected} rows rejected "
                 f"from {len(self.files)} file(s)."]
        lines += [f"note: {n}" for n in self.notes]
        lines += [f"rejected {r}" for r in self.rejections[:limit]]
        if self.rejected > limit:
            lines.append(f"... and {self.rejected - limit} more rejected rows")
        return "\n".join(lines)


def _plain_name(column: str) -> str:
    """"Product ID" -> "product_id", "Price (INR)" -> "price", "Unit-Price" -> "unit_price"."""
    text = re.sub(r"\s*[(\[].*?[)\]]\s*", " ", column.strip().lower())
    return re.sub(r"[\s\-]+", "_", text.strip())


def resolve_columns(columns: Iterable[str], synonyms: Mapping[str, tuple[str, ...]],
                    mapping: Mapping[str, str] | None = None, missing_ok: bool = False) -> dict[str, str]:
    """Map canonical field -> source column, from the explicit mapping first, then `synonyms`
    (canonical field -> lower-case names it may go by; its keys are the canonical fields).

    Raises DataFileError when a mapping names a column the file lacks (unless `missing_ok`).
    """
    columns = [c for c in columns if c is not None]
    by_lower = {c.strip().lower(): c for c in columns}
    # A header as people write it: "Product ID" is product_id, "Price (INR)" is price (its unit noted apart).
    for c in columns:
        by_lower.setdefault(_plain_name(c), c)
    resolved: dict[str, str] = {}
    for canonical, source in (mapping or {}).items():
        if canonical not in synonyms:
            raise DataFileError(f"mapping names unknown field {canonical!r}; "
                               f"fields are: {', '.join(synonyms)}")
        match = source if source in columns else by_lower.get(source.strip().lower())
        if match is None:
            if missing_ok:
                continue
            raise DataFileError(f"mapping {canonical}={source!r}: the file has no column {source!r} "
                               f"(columns: {', '.join(columns[:30])})")
        resolved[canonical] = match
    taken = set(resolved.values())
    for canonical, names in synonyms.items():
        if canonical in resolved:
            continue
        for name in names:
            column = by_lower.get(name)
            if column is not None and column not in taken:
                resolved[canonical] = column
                taken.add(column)
                break
    return resolved


def json_depth_exceeds(line: str, limit: int) -> bool:
    """Whether `line` nests [ and { deeper than `limit` (outside strings); cheap when it holds few brackets."""
    if line.count("[") + line.count("{") <= limit:
        return False
    brackets = re.sub(r"[^\[\]{}]+", "", re.sub(r'"[^"\\]*(?:\\.[^"\\]*)*"', "", line))
    step = {"[": 1, "{": 1, "]": -1, "}": -1}
    return max(accumulate(map(step.__getitem__, brackets)), default=0) > limit


def format_of(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    last = suffixes[-1] if suffixes else ""
    if last in (".csv", ".tsv", ".txt"):
        return "csv"
    if last in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if last in (".parquet", ".pq"):
        return "parquet"
    raise DataFileError(f"{path}: unknown file format {last or '(no extension)'!r}; "
                       "use .csv, .tsv, .jsonl or .parquet (optionally .gz)")


def sniff_delimiter(sample: str, default: str = ",") -> str:
    """The delimiter among , ; TAB | : the one the header line uses most (outside quotes), since a header
    of named columns is the surest sign; csv.Sniffer only when the header holds none of them.

    (Sniffer alone misread a log whose rows were mostly empty fields, ",,view,0,", and lost every column.)
    """
    header = sample.splitlines()[0] if sample else ""
    unquoted = re.sub(r'"[^"]*"', "", header)
    counts = {d: unquoted.count(d) for d in ",;\t|"}
    best = max(counts, key=counts.get)
    if counts[best]:
        return best
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return default


def iter_rows(path: Path, notes: list[str], limits: ReadLimits | None = None, encoding: str = "auto"
              ) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """Yield (line, row, error) from a CSV / TSV / JSONL / Parquet file (optionally .gz); row is None
    when the error says why. File-level notes (a detected encoding) are appended to `notes`; `encoding`
    is "auto" (detected, see reading.text_encoding) or a codec name.

    The file is streamed, one row in memory at a time, within `limits` (default: ReadLimits()); a file
    past a file-wide limit raises DataFileError, a row past a row limit is a rejected row."""
    limits = limits or ReadLimits()
    fmt = format_of(path)
    if fmt == "parquet":
        yield from _iter_parquet(path, limits)
        return
    with open_text(path, limits, notes, encoding) as handle:
        if fmt == "jsonl":
            yield from _iter_jsonl(handle, limits)
        else:
            yield from _iter_csv(handle, path, limits)


def _iter_jsonl(handle: io.TextIOWrapper, limits: ReadLimits) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    # Lines end at \n, \r or \r\n only (not U+2028, U+0085 ..., which JSON strings may hold raw).
    for number, line in enumerate(capped_lines(handle, limits.max_row_chars), start=1):
        if line is None:
            yield number, None, f"row longer than {limits.max_row_chars:,} characters (setting limits.max_row_chars)"
            continue
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        if json_depth_exceeds(line, limits.max_json_depth):
            yield number, None, (f"JSON nested deeper than {limits.max_json_depth} levels "
                                 "(setting limits.max_json_depth)")
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            yield number, None, f"invalid JSON ({err.msg} at column {err.colno})"
            continue
        except RecursionError:  # pragma: no cover - the depth scan above comes first
            yield number, None, "JSON nested too deeply"
            continue
        if not isinstance(row, dict):
            yield number, None, f"expected a JSON object, got {type(row).__name__}"
            continue
        if len(row) > limits.max_columns:
            yield number, None, f"{len(row):,} keys, more than {limits.max_columns:,} (setting limits.max_columns)"
            continue
        yield number, row, ""


def _iter_csv(handle: io.TextIOWrapper, path: Path, limits: ReadLimits
              ) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    delimiter = "\t"
    if suffixes[-1:] != [".tsv"]:
        delimiter = sniff_delimiter(handle.read(65536))
        handle.seek(0)

    def lines() -> Iterator[str]:
        # A CSV record may span lines, so a line past the limit cannot be skipped on its own: the file goes.
        for physical, line in enumerate(capped_lines(handle, limits.max_row_chars), start=1):
            if line is None:
                raise DataFileError(f"{path.name}: line {physical} is longer than {limits.max_row_chars:,} "
                                    "characters (setting limits.max_row_chars); the file is rejected")
            yield line

    reader = csv.reader(lines(), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as err:
        raise DataFileError(f"{path}: unreadable header ({err})") from None
    if len(header) > limits.max_columns:
        raise DataFileError(f"{path.name}: the header has {len(header):,} columns, more than "
                            f"{limits.max_columns:,} (setting limits.max_columns); the file is rejected")
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


def _iter_parquet(path: Path, limits: ReadLimits) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """Rows in batches, after the file's metadata (row count, columns, uncompressed size) is checked."""
    try:
        import pyarrow.parquet as pq
    except ImportError as err:  # pragma: no cover - pyarrow is a core dependency
        raise DataFileError("reading Parquet needs pyarrow: pip install pyarrow") from err
    if path.suffix.lower() == ".gz":
        raise DataFileError(f"{path.name}: a gzipped Parquet file is not read; Parquet compresses itself")
    try:
        parquet = pq.ParquetFile(path)
        meta = parquet.metadata
        size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    except Exception as err:  # pyarrow raises several types for a damaged file
        raise DataFileError(f"{path}: not a readable Parquet file ({err})") from None
    checks = [(meta.num_rows, limits.max_rows, "rows", "max_rows"),
              (meta.num_columns, limits.max_columns, "columns", "max_columns"),
              (max(size, path.stat().st_size), limits.max_file_bytes, "bytes uncompressed", "max_file_bytes")]
    for value, limit, what, setting in checks:
        if value > limit:
            raise DataFileError(f"{path.name}: {value:,} {what}, more than {limit:,} "
                                f"(setting limits.{setting}); the file is rejected")
    number = 0
    try:
        for batch in parquet.iter_batches(batch_size=1024):
            for row in batch.to_pylist():
                number += 1
                yield number, row, ""
    except Exception as err:  # a damaged row group
        raise DataFileError(f"{path}: not a readable Parquet file ({err})") from None


def iter_mapped_rows(paths: Iterable[str | Path], report: LoadReport,
                     resolve: Callable[[Path, tuple[str, ...], bool], dict[str, str]],
                     limits: ReadLimits | None = None, encoding: str = "auto"
                     ) -> Iterator[tuple[Path, int, dict[str, Any], dict[str, str]]]:
    """Every readable row of every file as (path, line, row, columns), with `columns` from
    `resolve(path, keys, strict)` computed once per distinct set of keys (strict is False for JSONL,
    whose rows may each carry different keys). Unreadable rows go into `report`; a missing file raises,
    and so does a read past `limits` (default ReadLimits()): more than `max_rows` rows in all files."""
    limits = limits or ReadLimits()
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise DataFileError(f"{path}: no such file")
        report.files.append(str(path))
        strict = format_of(path) != "jsonl"
        columns_by_keys: dict[tuple[str, ...], dict[str, str]] = {}
        for line, row, error in iter_rows(path, report.notes, limits, encoding):
            report.rows_read += 1
            if report.rows_read > limits.max_rows:
                raise DataFileError(f"{path.name}: more than {limits.max_rows:,} rows in this read "
                                    "(setting limits.max_rows); nothing is loaded")
            if row is None:
                report.rejections.append(Rejection(path.name, line, error))
                continue
            keys = tuple(row)
            if keys not in columns_by_keys:
                columns_by_keys[keys] = resolve(path, keys, strict)
            yield path, line, row, columns_by_keys[keys]
