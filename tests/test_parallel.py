"""A CSV file read through Arrow, a batch at a time, gives what the Python reader gives, row for row (the worker
processes of icvac.parallel are gone: Arrow's threads share the work); an interrupted validate leaves nothing."""
from __future__ import annotations

import contextlib
import csv
import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest

from icvac import load_taxonomy
from icvac.errors import InputError, UsageError
from icvac.mapping import load_mapping
from icvac.readers import ReadOptions
from icvac.recode import RecodeOptions, recode_file
from icvac.validate import ValidateOptions, validate

from .conftest import EXAMPLES, FIXTURES, ROOT

TAXONOMY = load_taxonomy()
GBVIMS = load_mapping("gbvims", TAXONOMY)
NARRATIVES = ["Referred to health services.", "with, a comma", 'a "quoted" word', "two\nlines", "crlf\r\ninside",
              "a lone\rCR", "", "  spaced  ", "Ünïcödé café", '"', '""', "=1+1", "trailing,"]


@pytest.fixture
def small_blocks(monkeypatch):
    """Arrow's batches of 50 rows, joined into lines 7 rows at a time: a small file crosses many boundaries."""
    monkeypatch.setattr("icvac.arrowio.BATCH_ROWS", 50)
    monkeypatch.setattr("icvac.arrowio.FORMAT_ROWS", 7)


def export_rows(count: int) -> list[list[str]]:
    """The example export's rows, with quoted line breaks and quotes, ragged, blank and duplicate rows."""
    with open(EXAMPLES / "national_export.csv", encoding="utf-8", newline="") as handle:
        header, *base = list(csv.reader(handle))
    rows = [header]
    for n, (row, text) in enumerate(zip(itertools.cycle(base), itertools.cycle(NARRATIVES))):
        if len(rows) > count:
            break
        row = [f"INC-{n % 97 if n % 11 == 0 else n}", *row[1:-1], text]
        if n % 29 == 0:
            row += ["extra", "", ""]   # longer than the header; empty cells at the end are dropped
        elif n % 31 == 0:
            row = row[:3]             # shorter
        rows.append(row)
        if n % 23 == 0:
            rows += [[]] * (n % 3 + 1)  # blank lines
    return rows + [[], []]             # blank lines at the end are not rows


def write(path: Path, rows, encoding="utf-8", delimiter=",", terminator="\n", quoting=csv.QUOTE_MINIMAL) -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator=terminator, quoting=quoting).writerows(rows)
    return path


LAYOUTS = {
    "utf8-bom-crlf": dict(encoding="utf-8-sig", terminator="\r\n"),
    "cp1252-semicolon": dict(encoding="cp1252", delimiter=";"),
    "quote-all-tab": dict(delimiter="\t", quoting=csv.QUOTE_ALL),
}


def arrow_or_rows(arrow: bool):
    """recode reads CSV through Arrow (icvac.engine) where it can; without it, row by row."""
    return contextlib.nullcontext() if arrow else mock.patch("icvac.recode._arrow_batches", lambda *args: None)


def recode_both(data: Path, folder: Path, mapping=GBVIMS, **options) -> list:
    """Recode through Arrow and row by row; what each wrote and returned."""
    results = []
    for jobs, arrow in ((1, True), (2, False)):
        out, review = folder / f"out{jobs}.{options.get('format') or 'csv'}", folder / f"review{jobs}.csv"
        with arrow_or_rows(arrow):
            summary = recode_file(data, mapping, TAXONOMY, out, RecodeOptions(**options), review=review)
        results.append((out.read_bytes(), Path(f"{out}.meta.json").read_text(encoding="utf-8"),
                        review.read_bytes(), summary.to_dict(), summary.review))
    return results


@pytest.mark.parametrize("layout", LAYOUTS, ids=list(LAYOUTS))
def test_recode_in_blocks_writes_the_same_bytes(tmp_path, small_blocks, layout):
    data = write(tmp_path / "export.csv", export_rows(400), **LAYOUTS[layout])
    one, two = recode_both(data, tmp_path)
    assert one == two
    assert one[3]["ragged_rows"] and one[3]["rows_in"] > 400 and one[3]["review_items"]


@pytest.mark.parametrize("options", [dict(long=True, excel_safe=True), dict(format="jsonl")], ids=["long", "jsonl"])
def test_recode_in_blocks_long_and_jsonl(tmp_path, small_blocks, options):
    data = write(tmp_path / "export.csv", export_rows(200))
    one, two = recode_both(data, tmp_path, **options)
    assert one == two


def test_recode_in_blocks_with_conditions_and_separators(tmp_path, small_blocks):
    with open(FIXTURES / "recode" / "register.csv", encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle, delimiter=";"))
    data = write(tmp_path / "register.csv", [header, *rows * 60], delimiter=";")
    one, two = recode_both(data, tmp_path, mapping=load_mapping(FIXTURES / "recode" / "child_protection.yaml",
                                                                  TAXONOMY))
    assert one == two
    assert one[3]["by_method"]["condition"] == 60


def test_recode_in_blocks_to_stdout(tmp_path, small_blocks, capsysbinary):
    data = write(tmp_path / "export.csv", export_rows(200))
    written = []
    for arrow in (True, False):  # stdout is written row by row either way
        with arrow_or_rows(arrow):
            recode_file(data, GBVIMS, TAXONOMY, "-", RecodeOptions())
        written.append(capsysbinary.readouterr().out)
    assert written[0] == written[1] and written[0].count(b"\n") > 200


def test_recode_progress_sees_every_row_in_order(tmp_path, small_blocks):
    data = write(tmp_path / "export.csv", export_rows(150))
    seen = {}
    for jobs, arrow in ((1, True), (2, False)):
        seen[jobs] = []
        with arrow_or_rows(arrow):
            recode_file(data, GBVIMS, TAXONOMY, tmp_path / f"o{jobs}.csv", RecodeOptions(),
                        progress=seen[jobs].append)
    assert seen[1] == seen[2] and len(seen[1]) > 150


def python_reader(arrow: bool):
    """Validate reads CSV through Arrow (icvac.arrowio) where it can; without it, through the Python reader."""
    return contextlib.nullcontext() if arrow else mock.patch("icvac.arrowio.csv_batches", lambda *args: None)


def validate_both(data: Path, **options) -> list:
    """The reports of validate through Arrow and through the Python reader, and their issues."""
    results = []
    for arrow in (True, False):
        issues = []
        with python_reader(arrow):
            report = validate(data, TAXONOMY, ValidateOptions(**options), on_issue=issues.append)
        results.append((report, issues))
    return results


@pytest.mark.parametrize("layout", LAYOUTS, ids=list(LAYOUTS))
def test_validate_in_blocks_gives_the_same_report_and_issues(tmp_path, small_blocks, layout):
    data = write(tmp_path / "export.csv", export_rows(400), **LAYOUTS[layout])
    columns = {"id": "incident_id", "victim_age": "survivor_age", "incident_date": "date_of_incident",
               "victim_sex": "survivor_sex"}
    (one, issues_one), (two, issues_two) = validate_both(data, columns=columns, required=(), max_issues=7)
    assert one == two and issues_one == issues_two
    slugs = {issue.slug for issue in issues_one}
    assert {"duplicate-id", "blank-row", "wrong-field-count", "noncanonical-value"} <= slugs
    assert one.stats.rows_blank and one.truncated


def test_validate_in_blocks_of_a_recoded_file(tmp_path, small_blocks):
    data = write(tmp_path / "export.csv", export_rows(300))
    recode_file(data, GBVIMS, TAXONOMY, tmp_path / "coded.csv", RecodeOptions())
    (one, issues_one), (two, issues_two) = validate_both(tmp_path / "coded.csv", columns={"id": "incident_id"},
                                                         skip=("blank-row",))
    assert one == two and issues_one == issues_two
    assert one.counts_by_slug["duplicate-id"] and one.stats.rows_read > 300


@pytest.mark.parametrize("arrow", [True, False])
@pytest.mark.parametrize("options", [dict(max_issues=0), dict(max_issues=5), dict(max_issues=5, skip=("blank-row",)),
                                     dict(max_issues=2, pick=("duplicate-id", "invalid-value", "wrong-field-count"))])
def test_issues_counted_in_bulk_give_the_report_counted_one_by_one(tmp_path, small_blocks, arrow, options):
    """Once max_issues are kept and no one asked for every issue, the rest are only counted, in bulk."""
    data = write(tmp_path / "export.csv", export_rows(400))
    columns = {"id": "incident_id", "victim_age": "survivor_age", "incident_date": "date_of_incident",
               "victim_sex": "survivor_sex"}
    options = ValidateOptions(columns=columns, required=(), **options)
    every: list = []
    with python_reader(arrow):
        one_by_one = validate(data, TAXONOMY, options, on_issue=every.append)
        in_bulk = validate(data, TAXONOMY, options)
    assert in_bulk == one_by_one and in_bulk.stats.issues == len(every) > in_bulk.stats.issues_kept
    assert sum(in_bulk.counts_by_slug.values()) == in_bulk.stats.issues


def test_blank_rows_that_end_a_block_count_once_a_record_follows(tmp_path, small_blocks):
    rows = [["id", "icvac_code"], *[[f"{n}", "unclassified"] for n in range(50)], *[[]] * 200, ["x", "unclassified"],
            *[[]] * 100]
    data = write(tmp_path / "blank.csv", rows)
    (one, issues_one), (two, issues_two) = validate_both(data)
    assert one == two and issues_one == issues_two
    assert one.stats.rows_blank == 200 and one.stats.rows_read == 251


@pytest.mark.parametrize("tail, message", [
    (b'9,"open"x,2\n', "row 40"),                   # a CSV error
    (b"9,caf\x81,2\n", "line 40"),                    # a byte cp1252 does not define
    (b'9,5\'3" tall,2\n' + b'8,"a\nb",2\n' * 30, None),  # a quote inside an unquoted field: not RFC 4180
])
def test_what_blocks_cannot_do_is_done_by_the_caller(tmp_path, small_blocks, tail, message):
    body = b"".join(b"%d,x,%d\n" % (n, n) for n in range(38))
    data = tmp_path / "odd.csv"
    data.write_bytes(b"id,text,n\n" + body + tail + body)
    outcomes = []
    for arrow in (True, False):
        try:
            options = ValidateOptions(required=(), read=ReadOptions(encoding="cp1252"))
            with python_reader(arrow):
                outcomes.append(validate(data, TAXONOMY, options))
        except InputError as exc:
            outcomes.append(str(exc))
    assert outcomes[0] == outcomes[1]
    assert (message in outcomes[0]) if message else outcomes[0].stats.rows_read == 38 * 2 + 31


def test_a_recoded_column_that_differs_is_refused_at_the_same_row(tmp_path, small_blocks):
    rows = export_rows(100)
    rows[0].append("icvac_code")
    for n, row in enumerate(rows[1:]):
        if len(row) >= len(rows[0]) - 1:  # blank where the codes agree by definition, then a code that won't
            row[len(rows[0]) - 1:] = ["9999" if n > 80 else ""]
    data = write(tmp_path / "again.csv", rows)
    messages = []
    for jobs, arrow in ((1, True), (2, False)):
        with pytest.raises(UsageError) as caught, arrow_or_rows(arrow):
            recode_file(data, GBVIMS, TAXONOMY, tmp_path / f"o{jobs}.csv", RecodeOptions())
        messages.append(str(caught.value))
    assert messages[0] == messages[1] and "row " in messages[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.csv"]


# ---------------------------------------------------------------- interrupted

@pytest.fixture(scope="module")
def big_export(tmp_path_factory) -> Path:
    rows = export_rows(150_000)
    return write(tmp_path_factory.mktemp("big") / "big.csv", rows)


def start_validate(folder: Path, data: Path) -> subprocess.Popen:
    """validate, once it has begun its --issues file."""
    proc = subprocess.Popen([sys.executable, "-m", "icvac", "validate", str(data), "--issues", "issues.csv"],
                            cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 30
    while not list(folder.glob(".issues.csv.*.tmp")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "validate never started its issues file"
        time.sleep(0.01)
    return proc


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_validate_leaves_nothing(tmp_path, big_export, signum):
    proc = start_validate(tmp_path, big_export)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []
