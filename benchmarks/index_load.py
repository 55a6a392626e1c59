"""Load time and memory of an index's product table: JSON lines (format 1, every product a Python object at
load) against Parquet (format 2, memory-mapped, products built when asked for).

    python benchmarks/index_load.py --build index/completejourney --scale 1,48

Reads the products of a build, writes both tables with `scale` × as many products (copies with distinct
ids) into a temporary folder, then in a fresh process per table (after pyarrow's one-time start, paid on a
one-product table) measures: seconds and RSS growth to load it,
to look up one product by id, and to build every product (what the ranker does on its first turn today).
"""

from __future__ import annotations

import argparse
import os
import json
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHILD = r"""
import json, sys, time
from pathlib import Path
def rss():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]) * 1024
from assistant.index.product_table import HASH, ProductTable, read_jsonl_table
import pyarrow.parquet, numpy
path, out = Path(sys.argv[1]), {}
ProductTable.read(Path(sys.argv[2]))  # pyarrow's one-time start, on a one-product table, is not counted
base, start = rss(), time.perf_counter()
if path.suffix == ".jsonl":
    products, hashes = read_jsonl_table(path)
    ids = {p.id: i for i, p in enumerate(products)}
else:
    products = ProductTable.read(path)
    hashes = products.strings(HASH)
out["load_s"], out["load_mib"] = time.perf_counter() - start, (rss() - base) / 2**20
start = time.perf_counter()
if path.suffix != ".jsonl":
    ids = {pid: i for i, pid in enumerate(products.strings("id"))}
product = products[ids[products[len(products) // 2].id]]
out["lookup_s"], out["lookup_mib"] = time.perf_counter() - start, (rss() - base) / 2**20
start = time.perf_counter()
every = list(products)
out["all_s"], out["all_mib"] = time.perf_counter() - start, (rss() - base) / 2**20
print(json.dumps(out))
"""


def main() -> None:
    from assistant.index import load_build
    from assistant.index.product_table import product_table_bytes

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, required=True, help="a build folder (or published index link)")
    parser.add_argument("--scale", default="1", help="comma-separated multiples of the build's products")
    args = parser.parse_args()
    index = load_build(args.build.resolve(), verify=False)
    products, hashes = list(index.products), list(index.content_hashes)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for scale in (int(s) for s in args.scale.split(",")):
            many = [replace(p, id=f"{p.id}~{copy}") for copy in range(scale) for p in products]
            many_hashes = hashes * scale
            jsonl, parquet = Path(tmp) / "products.jsonl", Path(tmp) / "products.parquet"
            with open(jsonl, "w", encoding="utf-8") as out:
                for p, h in zip(many, many_hashes):
                    out.write(json.dumps({"content_hash": h, "product": p.to_dict()}, ensure_ascii=False) + "\n")
            parquet.write_bytes(product_table_bytes(many, many_hashes))
            warm = Path(tmp) / "warm.parquet"
            warm.write_bytes(product_table_bytes(many[:1], many_hashes[:1]))
            del many
            for path in (jsonl, parquet):
                done = subprocess.run([sys.executable, "-c", CHILD, str(path), str(warm)], capture_output=True, text=True,
                                      check=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
                row = {"products": len(products) * scale, "table": path.name,
                       "file_mib": round(path.stat().st_size / 2**20, 1),
                       **{k: round(v, 3) for k, v in json.loads(done.stdout).items()}}
                rows.append(row)
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
