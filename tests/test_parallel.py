"""icvac.parallel: a CSV file done in blocks by worker processes gives exactly what one process gives."""
from __future__ import annotations

import contextlib
import csv
import io
import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icvac import load_taxonomy
from icvac.errors import InputError, UsageError
from icvac.mapping import load_mapping
from icvac.parallel import _record_chunks, cuts, plan, quotes_open_fields
from icvac.readers import ReadOptions, open_table
from icvac.recode import RecodeOptions, recode_file
from icvac.validate import ValidateOptions, validate

from .conftest import EXAMPLES, FIXTURES, ROOT

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")

TAXONOMY = load_taxonomy()
GBVIMS = load_mapping("gbvims", TAXONOMY)
NARRATIVES = ["Referred to health services.", "with, a comma", 'a "quoted" word', "two\nlines", "crlf\r\ninside",
              "a lone\rCR", "", "  spaced  ", "Ünïcödé café", '"', '""', "=1+1", "trailing,"]


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of a few hundred bytes: a small file crosses many block boundaries."""
    monkeypatch.setattr("icvac.parallel.BLOCK_SIZE", 600)


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


def recode_both(data: Path, folder: Path, mapping=GBVIMS, **options) -> list:
    """Recode with one process and with two; what each wrote and returned."""
    results = []
    for jobs in (1, 2):
        out, review = folder / f"out{jobs}.{options.get('format') or 'csv'}", folder / f"review{jobs}.csv"
        summary = recode_file(data, mapping, TAXONOMY, out, RecodeOptions(jobs=jobs, **options), review=review)
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
    for jobs in (1, 2):
        recode_file(data, GBVIMS, TAXONOMY, "-", RecodeOptions(jobs=jobs))
        written.append(capsysbinary.readouterr().out)
    assert written[0] == written[1] and written[0].count(b"\n") > 200


def test_recode_progress_sees_every_row_in_order(tmp_path, small_blocks):
    data = write(tmp_path / "export.csv", export_rows(150))
    seen = {}
    for jobs in (1, 2):
        seen[jobs] = []
        recode_file(data, GBVIMS, TAXONOMY, tmp_path / f"o{jobs}.csv", RecodeOptions(jobs=jobs),
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
    recode_file(data, GBVIMS, TAXONOMY, tmp_path / "coded.csv", RecodeOptions(jobs=1))
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
    for jobs in (1, 2):
        with pytest.raises(UsageError) as caught:
            recode_file(data, GBVIMS, TAXONOMY, tmp_path / f"o{jobs}.csv", RecodeOptions(jobs=jobs))
        messages.append(str(caught.value))
    assert messages[0] == messages[1] and "row " in messages[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.csv"]


def test_plan(tmp_path):
    data = write(tmp_path / "export.csv", export_rows(20))

    def planned(jobs, path=data, **read):
        with open_table(path, ReadOptions(**read)) as table:
            return plan(table, ReadOptions(**read).header_row, jobs)

    assert planned(None) is None  # a small file: one process
    assert planned(1) is None
    source = planned(2)
    assert source.jobs == 2 and data.read_bytes()[source.start - 1:source.start + 4] == b"\nINC-"
    assert planned(2, header_row=2).start > source.start
    with pytest.raises(UsageError, match="--jobs 0"):
        planned(0)
    utf16 = tmp_path / "u16.csv"
    utf16.write_text("id,code\n1,0301\n", encoding="utf-16")
    assert planned(2, utf16) is None  # quotes and line feeds are not single bytes
    cr = tmp_path / "cr.csv"
    cr.write_bytes(b"id,code\r1,0301\r2,0301\n")
    assert planned(2, cr) is None  # the first line feed does not end the header


_cells = st.lists(st.text(st.sampled_from('ab,;"\r\n é'), max_size=6), min_size=1, max_size=4)


def records(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""), strict=True))


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(_cells, max_size=30), terminator=st.sampled_from(["\n", "\r\n"]),
       quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]), size=st.integers(1, 40))
def test_blocks_of_rfc_csv_are_whole_records(rows, terminator, quoting, size):
    text = io.StringIO()
    csv.writer(text, lineterminator=terminator, quoting=quoting).writerows(rows)
    data = text.getvalue().encode("utf-8")
    pieces, end = [], 0
    for offset, length in cuts(io.BytesIO(data), 0, size):
        assert offset == end
        if length is None:  # a record longer than twice the block size: the rest is read in one go
            break
        pieces.append(data[offset:offset + length])
        end = offset + length
    pieces.append(data[end:])
    assert b"".join(pieces) == data
    assert all(quotes_open_fields(piece, ",") for piece in pieces)
    assert [row for piece in pieces for row in records(piece)] == records(data)


@settings(max_examples=300, deadline=None)
@given(data=st.text(st.sampled_from('ab,"\r\n'), max_size=80).map(str.encode), size=st.integers(1, 20))
def test_blocks_that_pass_the_check_are_read_as_the_whole_file(data, size):
    """Any text, RFC 4180 or not: where every block passes the check and parses, the blocks' records
    are the file's."""
    blocks = list(cuts(io.BytesIO(data), 0, size))
    if any(length is None for _, length in blocks):
        return
    pieces = [data[offset:offset + length] for offset, length in blocks]
    if not all(quotes_open_fields(piece, ",") for piece in pieces):
        return
    try:
        split = [row for piece in pieces for row in records(piece)]
    except csv.Error:
        return
    assert split == records(data)


def _records(text: str, delimiter: str, size: int = 1 << 17) -> list[list[str]]:
    chunks = list(_record_chunks(text, delimiter, size))
    assert all(chunks)
    return [row for chunk in chunks for row in chunk]


@settings(max_examples=1500, deadline=None)
@given(text=st.text(st.sampled_from('ab;,"\r\n\x00 é'), max_size=60) | st.text(st.sampled_from('a,"\n'), max_size=60),
       delimiter=st.sampled_from(",;"), size=st.integers(1, 30))
def test_a_block_is_read_as_csv_reader_reads_it_or_refused(text, delimiter, size):
    """A block is read (its records split without the reader where a line is simple) only when it passes
    the check and then as the reader reads it; it is refused where the reader fails, and where the check
    fails (a cut there may be wrong)."""
    try:
        expected = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error:
        expected = None
    if expected is None or not quotes_open_fields(text.encode(), delimiter):
        with pytest.raises(csv.Error):
            _records(text, delimiter, size)
    else:
        assert _records(text, delimiter, size) == expected


def test_a_line_longer_than_the_field_limit_is_left_to_the_reader():
    long = "x" * (csv.field_size_limit() + 1)
    with pytest.raises(csv.Error):
        _records(f"a,b\n{long}\n", ",")


def test_a_quote_inside_an_unquoted_field_fails_the_check():
    assert quotes_open_fields(b'1,"a ""b"" c",x\n2,"",\n"3",y\n', ",")
    assert not quotes_open_fields(b'1,5\'3",x\n', ",")
    assert not quotes_open_fields(b'1, "a",x\n', ",")  # csv reads a quote after a space as text
    assert quotes_open_fields(b'1;"a";x\n', ";") and not quotes_open_fields(b'1;"a";x\n', ",")


def test_no_cut_in_sight_hands_over_to_the_caller():
    data = b'1,"' + b"x\n" * 100
    assert list(cuts(io.BytesIO(data), 0, 10)) == [(0, None)]


# ---------------------------------------------------------------- processes

SCRIPT = """
import sys
import icvac.parallel
icvac.parallel.AUTO_MIN_BYTES = 0
icvac.parallel.BLOCK_SIZE = 1 << 16
from icvac.cli import main
sys.argv = ["icvac", *sys.argv[1:]]
main()
"""


@pytest.fixture(scope="module")
def big_export(tmp_path_factory) -> Path:
    rows = export_rows(150_000)
    return write(tmp_path_factory.mktemp("big") / "big.csv", rows)


def start_validate(folder: Path, data: Path) -> subprocess.Popen:
    """validate, once it has begun its --issues file."""
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, "validate", str(data), "--issues", "issues.csv"],
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
