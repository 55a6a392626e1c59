"""Reading tabular data files: CSV / TSV (delimiter sniffed), JSONL and Parquet, optionally gzipped.

Shared by the catalog and interaction-log readers: rows come out as dicts with their line numbers,
and a `LoadReport` collects every rejected row with file, line and reason.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping


class DataFileError(Exception):
    """A data file cannot be read at all (missing, unknown format, no usable columns)."""


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

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    def to_dict(self) -> dict[str, Any]:
        return {
            "noun": self.noun, "files": self.files, "rows_read": self.rows_read, "loaded": self.loaded,
            "rejected": self.rejected, "notes": self.notes,
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


def resolve_columns(columns: Iterable[str], synonyms: Mapping[str, tuple[str, ...]],
                    mapping: Mapping[str, str] | None = None, missing_ok: bool = False) -> dict[str, str]:
    """Map canonical field -> source column, from the explicit mapping first, then `synonyms`
    (canonical field -> lower-case names it may go by; its keys are the canonical fields).

    Raises DataFileError when a mapping names a column the file lacks (unless `missing_ok`).
    """
    columns = [c for c in columns if c is not None]
    by_lower = {c.strip().lower(): c for c in columns}
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


def _open_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix.lower() == ".gz":
        data = gzip.decompress(data)
    return data


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


def iter_rows(path: Path, notes: list[str]) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """Yield (line, row, error) from a CSV / TSV / JSONL / Parquet file (optionally .gz); row is None
    when the error says why. File-level notes (an encoding fallback) are appended to `notes`."""
    fmt = format_of(path)
    if fmt == "parquet":
        yield from _iter_parquet(path)
        return
    text, note = decode_text(_open_bytes(path))
    if note:
        notes.append(f"{path.name}: {note}")
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
        raise DataFileError(f"{path}: unreadable header ({err})") from None
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
        raise DataFileError("reading Parquet needs pyarrow: pip install pyarrow") from err
    try:
        table = pq.read_table(path)
    except Exception as err:  # pyarrow raises several types for a damaged file
        raise DataFileError(f"{path}: not a readable Parquet file ({err})") from None
    for number, row in enumerate(table.to_pylist(), start=1):
        yield number, row, ""


def iter_mapped_rows(paths: Iterable[str | Path], report: LoadReport,
                     resolve: Callable[[Path, tuple[str, ...], bool], dict[str, str]]
                     ) -> Iterator[tuple[Path, int, dict[str, Any], dict[str, str]]]:
    """Every readable row of every file as (path, line, row, columns), with `columns` from
    `resolve(path, keys, strict)` computed once per distinct set of keys (strict is False for JSONL,
    whose rows may each carry different keys). Unreadable rows go into `report`; a missing file raises."""
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise DataFileError(f"{path}: no such file")
        report.files.append(str(path))
        strict = format_of(path) != "jsonl"
        columns_by_keys: dict[tuple[str, ...], dict[str, str]] = {}
        for line, row, error in iter_rows(path, report.notes):
            report.rows_read += 1
            if row is None:
                report.rejections.append(Rejection(path.name, line, error))
                continue
            keys = tuple(row)
            if keys not in columns_by_keys:
                columns_by_keys[keys] = resolve(path, keys, strict)
            yield path, line, row, columns_by_keys[keys]
