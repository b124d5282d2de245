"""Recode a national export on Spark: ``DataFrame.mapInArrow`` runs ``icvac.recode_batches`` on the executors.

    python examples/engines/spark_recode.py examples/national_export.csv gbvims recoded-spark

The mapping and the taxonomy are loaded once on the driver and broadcast: they are plain dataclasses and
pickle as they are, so the executors need icvac installed but no access to the YAML files.
"""
from __future__ import annotations

import sys
from collections import deque

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

import icvac

ROW = "_icvac_row"  # the input position, so the output can be put back in input order


def recode(spark: SparkSession, export: DataFrame, mapping_name: str, partitions: int | None = None) -> DataFrame:
    """``export`` (its columns read as text) with the ICVAC columns added, in the input's order; with
    ``partitions``, the rows are first spread over that many partitions (executors work on them apart)."""
    taxonomy = icvac.load_taxonomy()
    mapping = icvac.load_mapping(mapping_name, taxonomy)
    shipped = spark.sparkContext.broadcast((mapping, taxonomy))
    # recode_batches on an empty batch gives the columns it adds, for the schema Spark needs up front
    empty = pa.RecordBatch.from_pylist([], schema=pa.schema([(c, pa.string()) for c in export.columns]))
    names = next(icvac.recode_batches([empty], mapping, taxonomy)).schema.names
    schema = ", ".join(f"`{name}` string" for name in names) + f", `{ROW}` long"

    def recode_partition(batches):
        mapping, taxonomy = shipped.value
        rows: deque = deque()

        def without_row(batches):
            for batch in batches:
                rows.append(batch.column(ROW))
                yield batch.drop_columns([ROW])

        # one recoded batch comes out for each batch in, so the row numbers are put back in step
        for batch in icvac.recode_batches(without_row(batches), mapping, taxonomy):
            yield batch.append_column(ROW, rows.popleft())

    numbered = export.withColumn(ROW, F.monotonically_increasing_id())
    if partitions:
        numbered = numbered.repartition(partitions)
    return numbered.mapInArrow(recode_partition, schema).orderBy(ROW).drop(ROW)


def read_export(spark: SparkSession, path: str) -> DataFrame:
    """A CSV export with every column as text (no type inference), quotes doubled as RFC 4180 has them."""
    return spark.read.csv(path, header=True, inferSchema=False, escape='"', multiLine=True)


if __name__ == "__main__":
    source, mapping_name, out = sys.argv[1:4]
    spark = SparkSession.builder.master("local[2]").appName("icvac recode").getOrCreate()
    recode(spark, read_export(spark, source), mapping_name).write.csv(out, header=True, escape='"', mode="error")
    spark.stop()
