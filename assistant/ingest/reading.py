"""Reading a data file's bytes and text safely: a size cap that also holds for gzip (inflated as read),
the text encoding (UTF-16 by BOM, else UTF-8, else Windows-1252) and physical lines of capped length."""

from __future__ import annotations

import codecs
import gzip
import io
import zlib
from pathlib import Path
from typing import IO, Iterator

from assistant.core.config import ReadLimits
from assistant.ingest.errors import DataFileError

CHUNK = 1 << 20  # bytes read (and inflated) at a time: what a file costs in memory beyond one row


class _CappedReader(io.RawIOBase):
    """A file's bytes (inflated as they are read when it is gzipped) that stop with a DataFileError past
    `limits.max_file_bytes`: a gzip bomb costs one chunk of memory and the time to inflate the limit."""

    def __init__(self, path: Path, limits: ReadLimits) -> None:
        self._path, self._limit, self._count = path, limits.max_file_bytes, 0
        self._file = open(path, "rb")
        self._source: IO[bytes] = gzip.GzipFile(fileobj=self._file) if path.suffix.lower() == ".gz" else self._file

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._count

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Only back to the start (the CSV reader rereads the sample it sniffed the delimiter from)."""
        if (offset, whence) not in ((0, io.SEEK_SET), (0, io.SEEK_CUR)):
            raise io.UnsupportedOperation("only seek(0) is supported")
        if whence == io.SEEK_SET:
            self._source.seek(0)
            self._count = 0
        return self._count

    def readinto(self, buffer) -> int:  # type: ignore[override]
        try:
            count = self._source.readinto(buffer)
        except (OSError, EOFError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
            raise DataFileError(f"{self._path}: not a readable gzip file ({err})") from None
        self._count += count
        if self._count > self._limit:
            raise DataFileError(f"{self._path.name}: more than {self._limit:,} bytes"
                                f"{' once decompressed' if self._source is not self._file else ''} "
                                "(setting limits.max_file_bytes); the file is rejected")
        return count

    def close(self) -> None:
        if self._source is not self._file:
            self._source.close()
        self._file.close()
        super().close()


def open_bytes(path: Path, limits: ReadLimits) -> io.BufferedReader:
    """The file's (decompressed) bytes as a stream, capped at `limits.max_file_bytes`."""
    if path.stat().st_size > limits.max_file_bytes:
        raise DataFileError(f"{path.name}: {path.stat().st_size:,} bytes, more than {limits.max_file_bytes:,} "
                            "(setting limits.max_file_bytes); the file is rejected")
    return io.BufferedReader(_CappedReader(path, limits), CHUNK)


def text_encoding(path: Path, limits: ReadLimits) -> tuple[str, str | None]:
    """The encoding `decode_text` would choose for the whole file, found in one streaming pass (which also
    enforces limits.max_file_bytes before any row is read): UTF-16 by BOM, else UTF-8, else Windows-1252."""
    with open_bytes(path, limits) as stream:
        head = stream.read(2)
        if head in (b"\xff\xfe", b"\xfe\xff"):
            while stream.read(CHUNK):  # the size limit still holds
                pass
            return "utf-16", None
        decoder = codecs.getincrementaldecoder("utf-8")()
        done = 0
        chunk = head
        while True:
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as err:
                while stream.read(CHUNK):
                    pass
                return "cp1252", f"not valid UTF-8 (byte {done + err.start}); read as Windows-1252"
            if not chunk:
                return "utf-8-sig", None
            done += len(chunk)
            chunk = stream.read(CHUNK)


def open_text(path: Path, limits: ReadLimits, notes: list[str]) -> io.TextIOWrapper:
    """The file as text, streamed (universal line ends kept, as csv wants them)."""
    encoding, note = text_encoding(path, limits)
    if note:
        notes.append(f"{path.name}: {note}")
    return io.TextIOWrapper(open_bytes(path, limits), encoding=encoding, errors="replace", newline="")


def capped_lines(handle: io.TextIOWrapper, limit: int) -> Iterator[str | None]:
    """Physical lines (end kept) of at most `limit` characters; None stands for a longer line, whose rest
    is skipped without holding it."""
    while True:
        line = handle.readline(limit + 2)  # room for the limit and a \r\n
        if not line:
            return
        if len(line.rstrip("\r\n")) <= limit:
            yield line
            continue
        while line and not line.endswith(("\n", "\r")):
            line = handle.readline(CHUNK)
        yield None


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
