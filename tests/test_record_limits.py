"""icvac.record_limits: the lines csv.reader is given are the stream's own, and each limit holds."""
from __future__ import annotations

import csv
import io
import random

import pytest

from icvac import record_limits
from icvac.record_limits import BoundedLines, CsvLimits, RecordTooLong

ALPHABET = ["a", "b", ",", '"', "\n", "\r", "\r\n", "\x0b", "\x1c", "\u2028", "é"]


def test_lines_are_split_as_the_stream_splits_them(monkeypatch):
    monkeypatch.setattr(record_limits, "BLOCK_CHARS", 7)  # lines and line ends cut between blocks
    rng = random.Random(20)
    for _ in range(5000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 40)))
        assert list(BoundedLines(io.StringIO(text, newline=""), CsvLimits(), ",")) == \
            list(io.StringIO(text, newline="")), repr(text)


def _records(text: str, limits: CsvLimits) -> list[list[str]]:
    lines = BoundedLines(io.StringIO(text, newline=""), limits, ",")
    reader, rows = csv.reader(lines, strict=True), []
    while True:
        lines.fresh = True  # as the reader of icvac.readers does at the start of each record
        try:
            rows.append(next(reader))
        except StopIteration:
            return rows


def test_records_over_many_blocks_are_refused_past_the_limits(monkeypatch):
    monkeypatch.setattr(record_limits, "BLOCK_CHARS", 64)
    limits = CsvLimits(field=1 << 20, record=1000, cells=200)
    fine = "a,b\n" * 500 + '"x\ny",z\n' * 100
    assert len(_records(fine, limits)) == 600
    with pytest.raises(RecordTooLong, match="longer than"):
        _records("a,b\n" + "x" * 1200 + "\n", limits)  # one line
    with pytest.raises(RecordTooLong, match="longer than"):
        _records("a,b\n" + '"' + "xxxx\n" * 300 + '"\n', limits)  # one quoted cell of many lines
    with pytest.raises(RecordTooLong, match="more than 200 cells"):
        _records("a,b\n" + '"\n",' * 300 + "x\n", limits)  # many cells of one line break each


@pytest.mark.parametrize("var, value", [("ICVAC_CSV_FIELD_MB", "0"), ("ICVAC_CSV_RECORD_MB", "x"),
                                        ("ICVAC_CSV_CELLS", "-1"), ("ICVAC_CSV_CELLS", "10000000000")])
def test_a_bad_limit_is_a_usage_error(var, value):
    from icvac.errors import UsageError

    with pytest.raises(UsageError, match=var):
        CsvLimits.from_env({var: value})


def test_limits_are_read_from_the_environment():
    limits = CsvLimits.from_env({"ICVAC_CSV_FIELD_MB": "2", "ICVAC_CSV_RECORD_MB": "3", "ICVAC_CSV_CELLS": "5"})
    assert (limits.field, limits.record, limits.cells) == (2 << 20, 3 << 20, 5)
