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
def spark():
    from pyspark.sql import SparkSession

    # the Python workers are this interpreter, so they import the icvac under test
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (SparkSession.builder.master("local[2]").appName("icvac-test")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
               .config("spark.driver.memory", "512m").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


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
    expected = _cli_rows(icvac, tmp_path)
    export = spark_recode.read_export(spark, str(EXPORT))
    recoded = spark_recode.recode(spark, export, "gbvims", partitions=2)
    rows = recoded.collect()
    assert recoded.columns == expected[0]
    # Spark reads an empty cell as null; recode writes it as an empty cell
    got = [["" if v is None else v for v in row] for row in rows]
    assert len(got) == len(expected) - 1 == 300
    assert got == expected[1:]


def test_the_recipe_script_writes_the_cli_rows(spark, spark_recode, icvac, tmp_path):
    """The script's own output (a Spark CSV folder, one part per partition) read back in part order."""
    expected = _cli_rows(icvac, tmp_path)
    out = tmp_path / "recoded-spark"
    spark_recode.recode(spark, spark_recode.read_export(spark, str(EXPORT)), "gbvims").write.csv(
        str(out), header=True, escape='"')
    rows = []
    for part in sorted(out.glob("part-*.csv")):
        with open(part, encoding="utf-8", newline="") as handle:
            part_rows = list(csv.reader(handle))
        assert part_rows[0] == expected[0]
        rows += part_rows[1:]
    assert rows == expected[1:]
