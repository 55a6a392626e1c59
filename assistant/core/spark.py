"""The one SparkSession of the offline jobs (`--engine spark`): pyspark imported here, lazily, with an
install hint; settings every job relies on (UTC timestamps, Arrow transfers, the same Python in every
executor, no web UI)."""

from __future__ import annotations

import os
import re
import shutil
import sys
import warnings
from typing import TYPE_CHECKING, Any, Mapping

from assistant.core.errors import AisleError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[*]"
ENGINES = ("local", "spark")  # `--engine`: the single-machine path (default) or Spark


class SparkUnavailable(AisleError, ImportError):
    """pyspark or a Java runtime is missing, so `--engine spark` cannot run."""


def _pyspark():
    try:
        import pyspark
    except ImportError as err:
        raise SparkUnavailable("Spark is not available - install pyspark (pip install 'aisle[spark]') to use "
                               "--engine spark") from err
    return pyspark


def local_cores(master: str) -> int | None:
    """The core count a `local[n]` master names (`local[*]`: this machine's), None for a cluster master."""
    found = re.fullmatch(r"local(?:\[(\d+|\*)(?:,\d+)?\])?", master.strip())
    if not found:
        return None
    count = found.group(1) or "1"
    return (os.cpu_count() or 1) if count == "*" else int(count)


def spark_session(master: str = DEFAULT_MASTER, app: str = "aisle", driver_memory: str = "2g",
                  conf: Mapping[str, Any] | None = None) -> "SparkSession":
    """A SparkSession on `master` (an existing one is reused). Raises SparkUnavailable without pyspark or
    Java. Shuffles use two partitions per core in local mode (Spark's 200 suit a cluster, not a laptop)."""
    _pyspark()
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        raise SparkUnavailable("Spark needs a Java runtime: install one, e.g. apt-get install "
                               "openjdk-17-jre-headless")
    from pyspark.sql import SparkSession

    # pyspark 4 warns on every Arrow transfer that it does not "fully support" pandas 3; what Aisle uses
    # (mapInPandas, pandas UDFs, toPandas of numbers and text) is checked by tests/test_spark_jobs.py.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # executors run this interpreter (its packages)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    cores = local_cores(master)
    settings: dict[str, Any] = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.memory": driver_memory,
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.maxRecordsPerBatch": "2000",
        "spark.executorEnv.OPENBLAS_NUM_THREADS": "1",
        "spark.python.worker.reuse": "true",
        **({"spark.sql.shuffle.partitions": str(2 * cores)} if cores else {}),
        **dict(conf or {}),
    }
    builder = SparkSession.builder.master(master).appName(app)
    for key, value in settings.items():
        builder = builder.config(key, str(value))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
