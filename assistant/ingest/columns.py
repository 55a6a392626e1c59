"""A data file's columns, checked for the fields a reader cannot do without."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from assistant.ingest.tabular import DataFileError, resolve_columns


def required_columns(path: Path, names: Sequence[str], synonyms: Mapping[str, tuple[str, ...]],
                     mapping: Mapping[str, str] | None, required: Sequence[str], strict: bool,
                     example: str) -> dict[str, str]:
    """Map canonical field -> source column of `path` (see `resolve_columns`).

    In strict mode (CSV, Parquet) a missing `required` field fails the file with a DataFileError that
    suggests `--map <example>`; otherwise (JSONL, whose rows may differ) each row without it is rejected
    on its own by the reader.
    """
    try:
        columns = resolve_columns(names, synonyms, mapping, missing_ok=not strict)
    except DataFileError as err:
        raise DataFileError(f"{path}: {err}") from None
    missing = [f for f in required if f not in columns]
    if missing and strict:
        raise DataFileError(f"{path}: no column for required field(s) {', '.join(missing)}; columns are "
                            f"{', '.join(list(names)[:30])}. Map them, e.g. --map {example}")
    return columns
