"""Issue 15: recode on a real local Spark session (``local[2]``) through ``DataFrame.mapInArrow``, the
recipe of docs/engines.md (examples/engines/spark_recode.py), gives the CLI's output row for row.

Skipped where Java or pyspark (with pandas, which ``mapInArrow`` needs) is missing; `.ci/run` installs them.
One Spark session for the module: starting the JVM is most of the time.
"""
from __future__ import annotations

import csv
import importlib.util
import os
import shutil
import sys

import pytest

from .conftest import EXAMPLES

MISSING = [name for name in ("pyspark", "pandas") if importlib.util.find_spec(name) is None]
pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java (apt-get install default-jre-headless)"),
    pytest.mark.skipif(bool(MISSING), reason=f"not installed: {', '.join(MISSING)} (pip install pyspark pandas)"),
]
EXPORT = EXAMPLES / "national_export.csv"


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession

    # the Python workers are this interpreter, so they import the icvac under test
    before = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (SparkSession.builder.master("local[2]").appName("icvac-test")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
               .config("spark.driver.memory", "512m")
               # no reliance on the machine's host name resolving (a CI container's may not)
               .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.local.dir", str(tmp_path_factory.mktemp("spark"))).getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    if before is None:
        os.environ.pop("PYSPARK_PYTHON", None)
    else:
        os.environ["PYSPARK_PYTHON"] = before


@pytest.fixture(scope="module")
def spark_recode():
    sys.path.insert(0, str(EXAMPLES / "engines"))
    try:
        import spark_recode
    finally:
        sys.path.remove(str(EXAMPLES / "engines"))
    return spark_recode


def _cli_rows(icvac, tmp_path) -> list[list[str]]:
    out = tmp_path / "cli.csv"
    result = icvac("recode", EXPORT, "--mapping", "gbvims", "-o", out)
    assert result.exit_code == 0, result.stderr
    with open(out, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_recode_on_spark_over_two_partitions_equals_the_cli(spark, spark_recode, icvac, tmp_path):
    """The rows spread over two partitions (two Python workers), recoded, put back in order and written as
    the recipe's script writes them: a CSV folder, one part per partition, read back in part order."""
    expected = _cli_rows(icvac, tmp_path)
    recoded = spark_recode.recode(spark, spark_recode.read_export(spark, str(EXPORT)), "gbvims", partitions=2)
    out = tmp_path / "recoded-spark"
    recoded.write.csv(str(out), header=True, escape='"')
    rows = []
    for part in sorted(out.glob("part-*.csv")):
        with open(part, encoding="utf-8", newline="") as handle:
            part_rows = list(csv.reader(handle))
        assert part_rows[0] == expected[0]
        rows += part_rows[1:]
    # Spark writes a null as an empty cell, as recode writes a blank one
    assert len(rows) == len(expected) - 1 == 300
    assert rows == expected[1:]
