"""Reading a data file's bytes and text safely: a size cap that also holds for gzip (inflated as read),
the text encoding (UTF-16 by BOM, else UTF-8, else detected with confidence, or as set) and physical lines
of capped length."""

from __future__ import annotations

import codecs
import gzip
import io
import zlib
from pathlib import Path
from typing import IO, Iterator

from assistant.core.config import ReadLimits
from assistant.ingest.encodings import DETECT_BYTES, FIX, TRIED, Detection, check_codec, detect, display_name
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


def text_encoding(path: Path, limits: ReadLimits, encoding: str = "auto") -> tuple[str, str | None]:
    """The encoding the whole file is read in, and a note for the load report when it is not UTF-8.

    "auto": UTF-16 by BOM, else UTF-8, else the encoding detected on the first MiB (and the part where
    UTF-8 failed) when detection is confident (assistant/ingest/encodings.py). Another value is a codec
    name set by the user. Either way the whole file is decoded strictly in one streaming pass (which also
    enforces limits.max_file_bytes before any row is read): bytes that are not text in the chosen encoding
    reject the file with a DataFileError that names the byte, what was tried and how to fix it."""
    if encoding != "auto":
        codec = _explicit(encoding)
        _check_decodes(path, limits, codec, f"the encoding set ({encoding})")
        return codec, (None if codec == "utf-8-sig" else f"read as {display_name(codec)} (set)")
    with open_bytes(path, limits) as stream:
        if stream.peek(2)[:2] in (b"\xff\xfe", b"\xfe\xff"):
            _decode_stream(path, stream, "utf-16", "UTF-16 (by its byte-order mark)")
            return "utf-16", None
        decoder = codecs.getincrementaldecoder("utf-8")()
        done, first = 0, stream.read(DETECT_BYTES)
        chunk = first
        while True:
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as err:
                failed_at, sample = done + err.start, _sample(first, chunk if done else b"")
                break
            if not chunk:
                return "utf-8-sig", None
            done += len(chunk)
            chunk = stream.read(CHUNK)
    detection = detect(sample)
    if detection.encoding is None:
        raise DataFileError(f"{path.name}: not valid UTF-8 (byte {failed_at:,}), and its encoding could not be "
                            f"told with confidence: {detection.detail}. Tried {TRIED}. {FIX}; the file is rejected")
    _check_decodes(path, limits, detection.encoding, f"{display_name(detection.encoding)} (detected on its "
                   "first MiB)")
    return detection.encoding, f"not valid UTF-8 (byte {failed_at}); {detection.detail}"


def _sample(first: bytes, later: bytes) -> bytes:
    """What detection reads: the first MiB and the MiB where UTF-8 failed, each cut to whole lines (in the
    encodings detected a newline byte is never part of a character, so no character is cut in two)."""
    def whole_lines(data: bytes, full: bool) -> bytes:
        start = data.find(b"\n") + 1 if full else 0
        end = data.rfind(b"\n") + 1 if len(data) >= DETECT_BYTES else len(data)
        return data[start:end] if end > start else data
    return whole_lines(first, False) + (whole_lines(later, True) if later else b"")


def _explicit(encoding: str) -> str:
    """The codec for an encoding set by the user (DataFileError when Python has none); UTF-8 drops a BOM."""
    try:
        codec = check_codec(encoding)
    except ValueError as err:
        raise DataFileError(str(err)) from None
    return "utf-8-sig" if codec == "utf-8" else codec


def _check_decodes(path: Path, limits: ReadLimits, codec: str, what: str) -> None:
    with open_bytes(path, limits) as stream:
        _decode_stream(path, stream, codec, what)


def _decode_stream(path: Path, stream: IO[bytes], codec: str, what: str) -> None:
    """Decode the whole stream strictly; a DataFileError names the first byte that is not text in `codec`."""
    decoder = codecs.getincrementaldecoder(codec)()
    done = 0
    while True:
        chunk = stream.read(CHUNK)
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as err:
            raise DataFileError(f"{path.name}: byte {done + err.start:,} is not text in {what} (a file mixing "
                                f"two encodings?). {FIX}; the file is rejected") from None
        if not chunk:
            return
        done += len(chunk)


def open_text(path: Path, limits: ReadLimits, notes: list[str], encoding: str = "auto") -> io.TextIOWrapper:
    """The file as text, streamed (universal line ends kept, as csv wants them); see `text_encoding`."""
    codec, note = text_encoding(path, limits, encoding)
    if note:
        notes.append(f"{path.name}: {note}")
    return io.TextIOWrapper(open_bytes(path, limits), encoding=codec, errors="strict", newline="")


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


def decode_text(data: bytes, encoding: str = "auto") -> tuple[str, str | None]:
    """Bytes -> text, as `text_encoding` reads a file: UTF-8 (with or without BOM) and UTF-16 with BOM are
    read as such; other bytes in the encoding detected with confidence, and the returned note says which;
    "auto" aside, `encoding` is a codec name. Raises DataFileError when the bytes are not text in it."""
    if encoding != "auto":
        codec = _explicit(encoding)
        try:
            return data.decode(codec), (None if codec == "utf-8-sig" else f"read as {display_name(codec)} (set)")
        except UnicodeDecodeError as err:
            raise DataFileError(f"byte {err.start:,} is not text in the encoding set ({encoding}). {FIX}") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), None
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as err:
        failed_at = err.start
    later = data[failed_at - failed_at % CHUNK:][:CHUNK] if failed_at >= DETECT_BYTES else b""
    detection = detect(_sample(data[:DETECT_BYTES], later))
    try:
        if detection.encoding is not None:
            return data.decode(detection.encoding), f"not valid UTF-8 (byte {failed_at}); {detection.detail}"
    except UnicodeDecodeError as err:
        detection = Detection(None, f"byte {err.start:,} is not text in {display_name(detection.encoding)}")
    raise DataFileError(f"not valid UTF-8 (byte {failed_at:,}), and the encoding could not be told with "
                        f"confidence: {detection.detail}. Tried {TRIED}. {FIX}")
