"""Catalog and log bombs are clean rejections within stated bounds (Settings.limits, docs/catalog.md "Limits"):
a gzip bomb stops inflating at limits.max_file_bytes, a row bomb at max_rows, a million-column header at
max_columns (or max_row_chars), a 100,000-deep JSONL row at max_json_depth, a Parquet row-count bomb on its
metadata; through the readers, the settings and a real `aisle serve` process over HTTP."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from assistant.ingest.catalog import read_catalog
from assistant.core.config import ReadLimits, Settings, load_settings
from assistant.ingest.customers import read_customers, read_events
from assistant.ingest.tabular import DataFileError, json_depth_exceeds

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
GOOD = '{"id": "A1", "title": "Blue rain jacket", "price": 20}\n{"id": "A2", "title": "Garden hose", "price": 12}\n'


def gzip_bomb(path: Path, zeros: int, head: bytes = b"id,title,price\n") -> Path:
    """A gzip file of `head` then `zeros` zero bytes, written in 1 MiB steps (the test never holds it)."""
    block = bytes(MiB)
    with gzip.open(path, "wb", compresslevel=6) as out:
        out.write(head)
        for _ in range(zeros // MiB):
            out.write(block)
    return path


def deep_jsonl(path: Path, depth: int = 100_000) -> Path:
    """Good rows around two rows nested `depth` deep (one in lists, one in objects)."""
    lists = '{"id": "D1", "title": "Deep", "price": 1, "x": ' + "[" * depth + "]" * depth + "}"
    objects = '{"id": "D2", "title": "Deep", "price": 1, "x": ' + '{"a": ' * depth + "1" + "}" * depth + "}"
    path.write_text(GOOD.splitlines()[0] + "\n" + lists + "\n" + objects + "\n" + GOOD.splitlines()[1] + "\n")
    return path


def wide_csv(path: Path, columns: int = 1_000_000) -> Path:
    """A header of id, title, price and `columns` more one-letter columns (2 MB for a million), one row."""
    path.write_text("id,title,price" + ",x" * columns + "\nA1,Wide,1" + ",v" * columns + "\n")
    return path


# ---------------------------------------------------------------------------- settings


def test_default_limits_fit_real_stores() -> None:
    limits = Settings().limits
    assert limits == ReadLimits()
    assert limits.max_file_bytes == 2 * 1024**3 and limits.max_rows == 10_000_000
    assert limits.max_columns == 1_000 and limits.max_row_chars == MiB and limits.max_json_depth == 32


def test_limits_table_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "aisle.toml"
    config.write_text("[limits]\nmax_rows = 5_000\nmax_columns = 50\n")
    assert load_settings(config).limits == ReadLimits(max_rows=5_000, max_columns=50)
    monkeypatch.setenv("AISLE_LIMITS_MAX_ROWS", "70")
    monkeypatch.setenv("AISLE_LIMITS_MAX_JSON_DEPTH", "8")
    assert load_settings(config).limits == ReadLimits(max_rows=70, max_columns=50, max_json_depth=8)
    monkeypatch.setenv("AISLE_LIMITS_MAX_ROWS", "lots")
    with pytest.raises(ValueError, match="AISLE_LIMITS_MAX_ROWS must be a whole number"):
        load_settings(config)


@pytest.mark.parametrize("table", ['max_rows = "5000"', "max_rows = 5000.0", "max_rows = true",
                                   "max_rows = 0", "max_rows = -1", "max_bytes = 10", "max_rows = [1]"])
def test_limits_table_is_type_checked(tmp_path: Path, table: str) -> None:
    config = tmp_path / "aisle.toml"
    config.write_text(f"[limits]\n{table}\n")
    with pytest.raises(ValueError, match="limits"):
        load_settings(config)


# ---------------------------------------------------------------------------- gzip


def test_gzip_bomb_is_rejected_at_the_limit(tmp_path: Path) -> None:
    bomb = gzip_bomb(tmp_path / "bomb.csv.gz", 64 * MiB)
    assert bomb.stat().st_size < MiB
    started = time.perf_counter()
    with pytest.raises(DataFileError, match=r"bomb\.csv\.gz: more than 4,194,304 bytes once decompressed "
                                            r"\(setting limits\.max_file_bytes\)"):
        read_catalog([bomb], limits=ReadLimits(max_file_bytes=4 * MiB))
    assert time.perf_counter() - started < 2.0


def test_plain_file_over_the_size_limit_is_rejected_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("id,title,price\n" + "A,B,1\n" * 1000)
    with pytest.raises(DataFileError, match="big.csv: 6,015 bytes, more than 1,000 .*max_file_bytes"):
        read_catalog([path], limits=ReadLimits(max_file_bytes=1_000))


def test_damaged_gzip_is_a_data_file_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv.gz"
    whole = gzip.compress(b"id,title,price\n" + b"".join(b"P%d,Thing %d,1\n" % (i, i) for i in range(1000)))
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataFileError, match="not a readable gzip file"):
        read_catalog([path])


MEASURE = textwrap.dedent("""
    import json, sys, time
    from assistant.ingest.catalog import read_catalog
    from assistant.core.config import ReadLimits
    from assistant.ingest.tabular import DataFileError
    limits = ReadLimits(**json.loads(sys.argv[2]))
    def kib(field):
        return int(open("/proc/self/status").read().split(field + ":")[1].split()[0])
    with open("/proc/self/clear_refs", "w") as reset:  # the peak (VmHWM) restarts from the size now
        reset.write("5")
    before = kib("VmRSS")
    started = time.perf_counter()
    try:
        read_catalog([sys.argv[1]], limits=limits)
        error = None
    except DataFileError as err:
        error = str(err)
    grown = (kib("VmHWM") - before) * 1024
    print(json.dumps({"error": error, "grown": grown, "seconds": time.perf_counter() - started}))
""")


def measured_read(path: Path, **limits: int) -> dict:
    """Read `path` in a fresh process: its error, peak-memory growth (bytes) and seconds."""
    done = subprocess.run([sys.executable, "-c", MEASURE, str(path), json.dumps(limits)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_gzip_bomb_costs_bounded_memory(tmp_path: Path) -> None:
    """256 MiB of zeros (a 256 KiB file): inflating it whole would take 256 MiB (and 256 MiB more as text).
    Past a 32 MiB limit the reader stops, its peak resident size grown by under 16 MiB (measured: 5.6 MiB,
    the same for a 200 MiB limit: the cost is a few 1 MiB chunks, not the limit)."""
    bomb = gzip_bomb(tmp_path / "bomb.csv.gz", 256 * MiB)
    result = measured_read(bomb, max_file_bytes=32 * MiB)
    assert "max_file_bytes" in result["error"]
    assert result["grown"] < 16 * MiB, result
    assert result["seconds"] < 5, result


def test_one_huge_line_under_the_file_limit_costs_bounded_memory(tmp_path: Path) -> None:
    """Under the file limit, a 256 MiB line (no line end) is cut at max_row_chars, not held."""
    bomb = gzip_bomb(tmp_path / "line.jsonl.gz", 256 * MiB, head=b'{"id": "')
    result = measured_read(bomb)  # default limits
    assert result["error"] is None
    assert result["grown"] < 16 * MiB, result
    assert result["seconds"] < 10, result


# ---------------------------------------------------------------------------- rows


def test_too_many_rows_rejects_the_read(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    path.write_text("id,title,price\n" + "".join(f"P{i},Thing {i},1\n" for i in range(150)))
    assert len(read_catalog([path], limits=ReadLimits(max_rows=150))[0]) == 150
    with pytest.raises(DataFileError, match=r"many\.csv: more than 100 rows .*limits\.max_rows"):
        read_catalog([path], limits=ReadLimits(max_rows=100))
    other = tmp_path / "more.jsonl"
    other.write_text(GOOD)
    with pytest.raises(DataFileError, match=r"more\.jsonl: more than 151 rows"):  # all files of a read together
        read_catalog([path, other], limits=ReadLimits(max_rows=151))


def test_rejected_rows_count_toward_max_rows(tmp_path: Path) -> None:
    path = tmp_path / "junk.jsonl"
    path.write_text("not json\n" * 200)
    with pytest.raises(DataFileError, match="more than 100 rows"):
        read_catalog([path], limits=ReadLimits(max_rows=100))


# ---------------------------------------------------------------------------- columns


def test_million_column_csv_is_rejected_by_the_line_limit(tmp_path: Path) -> None:
    path = wide_csv(tmp_path / "wide.csv")
    started = time.perf_counter()
    with pytest.raises(DataFileError, match=r"wide\.csv: line 1 is longer than 1,048,576 characters "
                                            r"\(setting limits\.max_row_chars\)"):
        read_catalog([path])
    assert time.perf_counter() - started < 2.0


def test_million_column_csv_is_rejected_by_the_column_limit(tmp_path: Path) -> None:
    path = wide_csv(tmp_path / "wide.csv")
    with pytest.raises(DataFileError, match=r"wide\.csv: the header has 1,000,003 columns, more than 1,000 "
                                            r"\(setting limits\.max_columns\)"):
        read_catalog([path], limits=ReadLimits(max_row_chars=4 * MiB))


def test_columns_at_the_limit_load_as_bounded_attributes(tmp_path: Path) -> None:
    path = wide_csv(tmp_path / "ok.csv", columns=997)  # 1,000 columns in all
    products, report = read_catalog([path])
    assert report.rejected == 0 and len(products[0].attributes) == 1  # 997 columns named "x": one key
    path = tmp_path / "named.csv"
    path.write_text("id,title,price," + ",".join(f"c{i}" for i in range(997)) + "\nA,B,1" + ",v" * 997 + "\n")
    assert len(read_catalog([path])[0][0].attributes) == 997


def test_jsonl_row_with_too_many_keys_is_rejected_alone(tmp_path: Path) -> None:
    wide = {"id": "W1", "title": "Wide", "price": 1, **{f"k{i}": "v" for i in range(2_000)}}
    path = tmp_path / "keys.jsonl"
    path.write_text(json.dumps(wide) + "\n" + GOOD)
    products, report = read_catalog([path])
    assert [p.id for p in products] == ["A1", "A2"]
    assert [(r.line, r.reason) for r in report.rejections] == [
        (1, "2,003 keys, more than 1,000 (setting limits.max_columns)")]


def test_parquet_column_bomb_is_rejected_on_metadata(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "cols.parquet"
    pq.write_table(pa.table({f"c{i}": pa.nulls(1, pa.string()) for i in range(1_001)}), path)
    with pytest.raises(DataFileError, match=r"cols\.parquet: 1,001 columns, more than 1,000"):
        read_catalog([path])


# ---------------------------------------------------------------------------- JSON nesting


def test_deep_jsonl_rows_are_rejected_and_the_rest_loads(tmp_path: Path) -> None:
    path = deep_jsonl(tmp_path / "deep.jsonl")
    started = time.perf_counter()
    products, report = read_catalog([path])
    assert time.perf_counter() - started < 2.0
    assert [p.id for p in products] == ["A1", "A2"]
    reason = "JSON nested deeper than 32 levels (setting limits.max_json_depth)"
    assert [(r.file, r.line, r.reason) for r in report.rejections] == [("deep.jsonl", 2, reason),
                                                                       ("deep.jsonl", 3, reason)]


def test_depth_scan_ignores_brackets_in_strings_and_allows_the_limit() -> None:
    assert not json_depth_exceeds('{"t": "' + "[{" * 500 + '", "e": "\\"[[[["}', 32)
    assert not json_depth_exceeds('{"a": ' + "[" * 31 + "]" * 31 + "}", 32)
    assert json_depth_exceeds('{"a": ' + "[" * 32 + "]" * 32 + "}", 32)
    assert not json_depth_exceeds("[]" * 1000, 1)  # many brackets, none deep


def test_nesting_within_the_limit_loads(tmp_path: Path) -> None:
    row = {"id": "N1", "title": "Nested", "price": 1, "specs": json.loads("[" * 20 + "1" + "]" * 20),
           "note": "[" * 100}
    path = tmp_path / "nested.jsonl"
    path.write_text(json.dumps(row) + "\n")
    products, report = read_catalog([path])
    assert report.rejected == 0 and products[0].attributes["note"] == "[" * 100


def test_jsonl_row_over_the_row_limit_is_rejected_alone(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    path.write_text(GOOD.splitlines()[0] + "\n" + '{"id": "L", "description": "' + "x" * 5_000 + '"}\n'
                    + GOOD.splitlines()[1] + "\r\n")
    products, report = read_catalog([path], limits=ReadLimits(max_row_chars=1_000))
    assert [p.id for p in products] == ["A1", "A2"]
    assert [(r.line, r.reason) for r in report.rejections] == [
        (2, "row longer than 1,000 characters (setting limits.max_row_chars)")]


# ---------------------------------------------------------------------------- Parquet rows


def test_parquet_row_count_bomb_is_rejected_on_metadata(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "rows.parquet"
    rows = 10_000_001  # all null: a 60 KB file
    pq.write_table(pa.table({"id": pa.nulls(rows, pa.string()), "title": pa.nulls(rows, pa.string()),
                             "price": pa.nulls(rows, pa.float64())}), path)
    started = time.perf_counter()
    with pytest.raises(DataFileError, match=r"rows\.parquet: 10,000,001 rows, more than 10,000,000 "
                                            r"\(setting limits\.max_rows\)"):
        read_catalog([path])
    assert time.perf_counter() - started < 2.0


def test_parquet_reads_in_batches_and_counts_rows(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "cat.parquet"
    count = 2_500  # more than one batch
    pq.write_table(pa.table({"id": [f"P{i}" for i in range(count)], "title": ["Thing"] * count,
                             "price": [1.0] * count}), path)
    products, report = read_catalog([path])
    assert len(products) == count and report.rows_read == count
    with pytest.raises(DataFileError, match="2,500 rows, more than 2,000"):
        read_catalog([path], limits=ReadLimits(max_rows=2_000))
    with pytest.raises(DataFileError, match="bytes uncompressed, more than 100 .*max_file_bytes"):
        read_catalog([path], limits=ReadLimits(max_file_bytes=100))


# ---------------------------------------------------------------------------- interaction logs


def test_interaction_logs_are_read_within_the_same_limits(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    good = {"customer_id": "c1", "product_id": "P1", "event": "view", "timestamp": "2024-05-01T10:00:00"}
    deep = dict(good, extra="PLACEHOLDER")
    events.write_text(json.dumps(good) + "\n" + json.dumps(deep).replace('"PLACEHOLDER"', "[" * 50_000 + "]" * 50_000)
                      + "\n")
    log = read_events([events], lambda c: "x" + c)
    assert len(log) == 1
    assert [(r.line, r.reason) for r in log.report.rejections] == [
        (2, "JSON nested deeper than 32 levels (setting limits.max_json_depth)")]
    bomb = gzip_bomb(tmp_path / "events.csv.gz", 16 * MiB, head=b"customer_id,product_id,event,timestamp\n")
    with pytest.raises(DataFileError, match="max_file_bytes"):
        read_events([bomb], lambda c: c, limits=ReadLimits(max_file_bytes=MiB))
    customers = wide_csv(tmp_path / "customers.csv", columns=5_000)
    with pytest.raises(DataFileError, match="max_columns"):
        read_customers([customers], lambda c: c)


# ---------------------------------------------------------------------------- over HTTP


def multipart(name: str, data: bytes) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body of one file under the field `files`, built by hand."""
    boundary = "aisle-limits-boundary-7d3f"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def rebuild(server, name: str, data: bytes):
    body, headers = multipart(name, data)
    return server.request("POST", "/api/index/rebuild", raw=body, headers={**headers, **server.staff()},
                          timeout=120)


def test_million_column_csv_over_http_is_a_clean_422_and_the_index_keeps_serving(live_server,
                                                                                tmp_path: Path) -> None:
    before = live_server.request("GET", "/api/health").json()
    answer = rebuild(live_server, "wide.csv", wide_csv(tmp_path / "wide.csv").read_bytes())
    assert answer.status == 422, answer.body[:500]
    assert "limits.max_row_chars" in answer.json()["detail"]
    after = live_server.request("GET", "/api/health")
    assert after.status == 200
    assert (after.json()["build"], after.json()["products"]) == (before["build"], before["products"])


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory):
    """`aisle serve` over a three-product shop with small limits set through AISLE_LIMITS_* variables."""
    from server_process import server_env, start_server
    folder = tmp_path_factory.mktemp("limited-server")
    catalog = folder / "shop.csv"
    catalog.write_text("id,title,price\nS1,Rain jacket,30\nS2,Wool socks,8\nS3,Garden hose,15\n")
    env = server_env(folder, index_name="shop", limits_max_file_bytes=str(4 * MiB), limits_max_columns="50",
                     limits_max_rows="1000")
    server = start_server(folder, args=["--catalog", str(catalog)], env=env)
    yield server
    server.stop()


def test_bombs_over_http_with_limits_from_settings(limited_server, tmp_path: Path) -> None:
    server = limited_server
    before = server.request("GET", "/api/health").json()
    bomb = gzip_bomb(tmp_path / "bomb.csv.gz", 64 * MiB).read_bytes()  # 64 KiB on the wire
    cases = [("bomb.csv.gz", bomb, "limits.max_file_bytes"),
             ("wide.csv", wide_csv(tmp_path / "wide.csv", columns=100).read_bytes(), "limits.max_columns"),
             ("many.csv", ("id,title,price\n" + "".join(f"P{i},T,1\n" for i in range(1001))).encode(),
              "limits.max_rows")]
    for name, data, setting in cases:
        started = time.perf_counter()
        answer = rebuild(server, name, data)
        assert answer.status == 422, (name, answer.body[:500])
        assert setting in answer.json()["detail"] and "previous index keeps serving" in answer.json()["detail"]
        assert time.perf_counter() - started < 10
        health = server.request("GET", "/api/health")
        assert health.status == 200 and health.json()["build"] == before["build"]
    # A deep row and a row of too many keys are rejected alone; the good rows publish.
    rows = deep_jsonl(tmp_path / "deep.jsonl").read_text()
    rows += json.dumps({"id": "W1", "title": "Wide", "price": 1, **{f"k{i}": "v" for i in range(200)}}) + "\n"
    answer = rebuild(server, "deep.jsonl", rows.encode())
    assert answer.status == 200, answer.body[:500]
    result = answer.json()
    assert (result["loaded"], result["rejected"]) == (2, 3)
    assert [r["reason"] for r in result["report"]["rejections"]] == [
        "JSON nested deeper than 32 levels (setting limits.max_json_depth)"] * 2 + [
        "203 keys, more than 50 (setting limits.max_columns)"]
    health = server.request("GET", "/api/health").json()
    assert health["products"] == 2 and health["build"] != before["build"]
