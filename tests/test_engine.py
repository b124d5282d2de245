"""The Arrow engine (icvac.engine, icvac.arrowio): recode through it writes what the row-by-row path writes,
byte for byte, and hands a file to that path where Arrow would read it otherwise."""
from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import icvac
from icvac import load_taxonomy
from icvac.mapping import load_mapping
from icvac.recode import RecodeOptions, recode_file

from .conftest import EXAMPLES, FIXTURES, ROOT
from .test_parallel import export_rows, write

TAXONOMY = load_taxonomy()
GBVIMS = load_mapping("gbvims", TAXONOMY)
EXPORT = EXAMPLES / "national_export.csv"


def outputs(folder: Path, name: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name.startswith(name)}


def recode_ways(data: Path, folder: Path, monkeypatch, mapping=GBVIMS, suffix=".csv", **options):
    """Recode ``data`` through Arrow and row by row; what each wrote and returned, and whether Arrow ran."""
    import icvac.engine

    found, ran = [], []
    monkeypatch.setattr("icvac.arrowio.FORMAT_ROWS", 97)  # a batch's lines joined in several pieces
    real = icvac.engine.write_recoded
    monkeypatch.setattr(icvac.engine, "write_recoded", lambda *a, **k: ran.append(1) or real(*a, **k))
    for way in ("arrow", "rows"):
        if way == "rows":
            monkeypatch.setattr("icvac.recode._arrow_batches", lambda *a: None)
        out, review = folder / f"{way}{suffix}", folder / f"{way}-review.csv"
        try:
            summary = recode_file(data, mapping, TAXONOMY, out, RecodeOptions(**options), review=review)
        except icvac.IcvacError as exc:
            found.append((type(exc).__name__, str(exc)))
            continue
        files = {name.replace(way, "X"): text for name, text in outputs(folder, way).items()}
        found.append((summary.to_dict(), [(r.source_code, r.source_label, r.count) for r in summary.review], files))
        for p in folder.glob(f"{way}*"):
            p.unlink()
    monkeypatch.undo()
    return found[0], found[1], bool(ran)


@pytest.mark.parametrize("options", [{}, {"long": True}, {"excel_safe": True}, {"format": "jsonl"},
                                     {"excel_safe": True, "long": True, "format": "jsonl"}],
                         ids=["wide", "long", "excel-safe", "jsonl", "long-safe-jsonl"])
def test_the_example_export_is_recoded_through_arrow_to_the_same_bytes(tmp_path, monkeypatch, options):
    arrow, rows, ran = recode_ways(EXPORT, tmp_path, monkeypatch, **options)
    assert ran
    assert arrow == rows


def test_an_xlsx_output_is_the_same_workbook(tmp_path, monkeypatch):
    arrow, rows, ran = recode_ways(EXPORT, tmp_path, monkeypatch, suffix=".xlsx")
    assert ran and arrow == rows


@pytest.mark.parametrize("system", ["aihw", "england-cin", "icd10", "ncands", "primero"])
def test_the_national_fixtures_recode_the_same_through_arrow(tmp_path, monkeypatch, system):
    mapping = load_mapping(system, TAXONOMY)
    columns = {"national_code": "national_code", "national_label": "national_label", "id": "case_id"}
    for options in ({}, {"long": True}):
        arrow, rows, ran = recode_ways(FIXTURES / "national" / f"{system}-records.csv", tmp_path, monkeypatch,
                                       mapping=mapping, columns=columns, **options)
        assert ran and arrow == rows


def test_conditions_separators_and_a_recoded_file_recode_the_same(tmp_path, monkeypatch):
    mapping = load_mapping(FIXTURES / "recode" / "child_protection.yaml", TAXONOMY)
    data = FIXTURES / "recode" / "register.csv"
    for options in ({}, {"long": True}):
        arrow, rows, ran = recode_ways(data, tmp_path, monkeypatch, mapping=mapping, **options)
        assert ran and arrow == rows
    # a file recoded before: its icvac_* columns are filled, never overwritten
    recode_file(EXPORT, GBVIMS, TAXONOMY, tmp_path / "coded.csv")
    (tmp_path / "coded.csv.meta.json").unlink()
    coded = tmp_path / "coded-input.csv"
    (tmp_path / "coded.csv").rename(coded)
    arrow, rows, ran = recode_ways(coded, tmp_path, monkeypatch)
    assert ran and arrow == rows


def test_a_recoded_column_that_differs_is_refused_at_the_same_row(tmp_path, monkeypatch):
    with open(EXPORT, encoding="utf-8", newline="") as handle:
        header, *body = list(csv.reader(handle))
    data = write(tmp_path / "in.csv", [header + ["icvac_code"]] + [r + ["" if i != 200 else "X9"]
                                                                   for i, r in enumerate(body)])
    arrow, rows, ran = recode_ways(data, tmp_path, monkeypatch)
    assert ran and arrow == rows and "row 202" in arrow[1]


LAYOUTS = {
    "utf8-bom-crlf": dict(encoding="utf-8-sig", terminator="\r\n"),
    "cp1252-semicolon": dict(encoding="cp1252", delimiter=";"),
    "quote-all-tab": dict(delimiter="\t", quoting=csv.QUOTE_ALL),
    "pipe": dict(delimiter="|"),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_encodings_delimiters_and_quoting_read_through_arrow(tmp_path, monkeypatch, layout):
    rows = [r for r in export_rows(700) if r and len(r) == 7]  # neither ragged nor blank: Arrow reads them
    data = write(tmp_path / "in.csv", rows, **LAYOUTS[layout])
    arrow, rows_way, ran = recode_ways(data, tmp_path, monkeypatch)
    assert ran and arrow == rows_way


def test_ragged_rows_and_blank_lines_go_to_the_python_reader_with_the_same_output(tmp_path, monkeypatch):
    data = write(tmp_path / "in.csv", export_rows(400))
    arrow, rows, _ = recode_ways(data, tmp_path, monkeypatch)
    assert arrow == rows
    assert arrow[0]["ragged_rows"] > 0


@pytest.mark.parametrize("tail", [b'"x"y,2\n', b'"1" ,2\n', b',""y\n', b'1,"2\n3,4\n', b'\n\n1,2\n'],
                         ids=["text-after-quote", "space-after-quote", "empty-quoted-then-text", "open-quote",
                              "blank-lines"])
def test_what_arrow_would_read_leniently_is_read_by_python(tmp_path, monkeypatch, tail):
    """Arrow reads ``"x"y`` as ``xy`` and lets a quote run to the end of the file; Python's csv refuses both."""
    with open(EXPORT, "rb") as handle:
        head = b"".join(handle.readlines()[:50])
    data = tmp_path / "in.csv"
    data.write_bytes(head + b"INC-X,2023-01-01,,," + tail)
    arrow, rows, _ = recode_ways(data, tmp_path, monkeypatch)
    assert arrow == rows


def test_a_bad_byte_is_reported_at_its_line_as_before(tmp_path, monkeypatch):
    with open(EXPORT, "rb") as handle:
        lines = handle.readlines()
    lines[150] = lines[150][:5] + b"\xff" + lines[150][5:]
    data = tmp_path / "in.csv"
    data.write_bytes(b"".join(lines))
    arrow, rows, _ = recode_ways(data, tmp_path, monkeypatch, read=icvac.ReadOptions(encoding="utf-8"))
    assert arrow == rows and arrow[0] == "InputError" and "line 151" in arrow[1]


CELL = st.one_of(st.sampled_from(["", " ", "Rape", "rape ", "Physical Assault", "Sexual Assault; Rape", "N/A",
                                  "=1+1", "-3", "+x", "@a", "\tx", '"', '""', "a,b", "two\nlines", "cr\rlf",
                                  "crlf\r\nx", "Ünï", "7", "7.0", "unknown", "200", "2010-02-03", "F", "M"]),
                 st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.lists(st.lists(CELL, min_size=7, max_size=7), min_size=1, max_size=30),
       options=st.sampled_from([{}, {"long": True}, {"excel_safe": True}, {"format": "jsonl"}]))
def test_any_cells_recode_through_arrow_as_row_by_row(tmp_path_factory, monkeypatch, body, options):
    folder = tmp_path_factory.mktemp("h")
    with open(EXPORT, encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    data = write(folder / "in.csv", [header] + body)
    arrow, rows, _ = recode_ways(data, folder, monkeypatch, **options)
    assert arrow == rows


def test_recode_batches_gives_the_cli_rows(tmp_path):
    """The library's entry for engines: batches of the export in, the rows recode writes out."""
    summary = recode_file(EXPORT, GBVIMS, TAXONOMY, tmp_path / "cli.csv")
    with open(tmp_path / "cli.csv", encoding="utf-8", newline="") as handle:
        expected = list(csv.reader(handle))
    table = pcsv.read_csv(EXPORT, convert_options=pcsv.ConvertOptions(
        column_types={name: pa.string() for name in expected[0]}, strings_can_be_null=False))
    got = icvac.RecodeSummary()
    batches = list(icvac.recode_batches(table.to_batches(max_chunksize=64), GBVIMS, TAXONOMY, summary=got))
    assert len(batches) == -(-300 // 64)
    out = pa.Table.from_batches(batches)
    assert out.column_names == expected[0]
    assert [list(r.values()) for r in out.to_pylist()] == expected[1:]
    assert got.rows_in == summary.rows_in and got.by_method == summary.by_method
    assert [(r.source_label, r.count) for r in got.review] == [(r.source_label, r.count) for r in summary.review]


def test_recode_batches_reads_other_types_as_text_and_nulls_as_blank():
    batch = pa.record_batch({"incident_id": pa.array([1, 2]), "gbv_type": pa.array(["Rape", None])})
    out = pa.Table.from_batches(list(icvac.recode_batches([batch], GBVIMS, TAXONOMY))).to_pylist()
    assert [(r["incident_id"], r["gbv_type"], r["icvac_match"]) for r in out] == \
        [("1", "Rape", "exact-label"), ("2", "", "unclassified")]


def test_stdout_is_written_row_by_row(tmp_path, monkeypatch, capsysbinary):
    import icvac.engine

    monkeypatch.setattr(icvac.engine, "write_recoded", lambda *a, **k: pytest.fail("Arrow wrote to stdout"))
    recode_file(EXPORT, GBVIMS, TAXONOMY, "-")
    assert capsysbinary.readouterr().out.count(b"\n") == 301


def test_the_cli_does_not_import_pyarrow_to_start():
    code = "import sys, icvac.cli, icvac.recode, icvac.readers; print('pyarrow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True).stdout
    assert out.strip() == "False"


@pytest.fixture(scope="module")
def big_export(tmp_path_factory) -> Path:
    rows = [r for r in export_rows(150_000) if r and len(r) == 7]
    return write(tmp_path_factory.mktemp("big") / "big.csv", rows)


def test_an_interrupted_recode_leaves_nothing(tmp_path, big_export):
    proc = subprocess.Popen([sys.executable, "-m", "icvac", "recode", str(big_export), "--mapping", "gbvims",
                             "-o", "out.csv", "--review", "review.csv"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob(".out.csv.*.tmp")) or not list(tmp_path.glob(".out.csv.*.tmp"))[0].stat().st_size:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "recode never started writing"
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", [5, 150, -1])
@pytest.mark.parametrize("line, refused", [(None, False), (b"\n", True), (b"\r\n", True)],
                         ids=["empty-fields", "blank-line", "blank-crlf-line"])
def test_a_row_of_empty_cells_stays_on_arrow_unless_it_is_a_blank_line(tmp_path, where, line, refused):
    """A blank line is a row of empty cells to Arrow and of none to Python's csv: refused, wherever it
    stands. A row of empty fields (",,,") is the same to both and stays on Arrow; the raw bytes are looked at
    for blank lines only in a file with such a row."""
    from icvac import arrowio, readers

    lines = EXPORT.read_bytes().splitlines(keepends=True)
    width = len(lines[0].split(b","))
    lines.insert(where if where > 0 else len(lines), line or b"," * (width - 1) + b"\n")
    data = tmp_path / "in.csv"
    data.write_bytes(b"".join(lines))
    with readers.open_table(data) as table:
        batches = arrowio.csv_batches(table, str(data), icvac.ReadOptions())
        if refused:
            with pytest.raises(arrowio.ArrowRefused, match="blank lines"):
                list(batches)
        else:
            assert sum(b.num_rows for b in batches) == len(lines) - 1


def test_a_field_over_the_limit_is_left_to_the_python_reader(tmp_path, monkeypatch):
    from icvac import arrowio, readers

    monkeypatch.setattr(arrowio, "FIELD_LIMIT", 1000)
    with open(EXPORT, encoding="utf-8", newline="") as handle:
        header, *body = list(csv.reader(handle))
    body[100][-1] = "x" * 5000
    data = write(tmp_path / "in.csv", [header] + body)
    with readers.open_table(data) as table:
        with pytest.raises(arrowio.ArrowRefused):
            list(arrowio.csv_batches(table, str(data), icvac.ReadOptions()))



def test_a_doubled_quote_where_the_raw_scan_cuts_keeps_the_file_on_arrow(tmp_path, monkeypatch):
    """The raw scan reads pieces with 256 bytes of the one before in front; a doubled quote inside a quoted
    field at the start of that join is not the start of a line, so the file stays on Arrow's reader.
    A real empty quoted start followed by text at a line's start is still sent to the exact reader."""
    from icvac import raw_look

    monkeypatch.setattr(raw_look, "SCAN_BYTES", 512)
    lines = "".join(f'{i},"note ""urgent"" flag set at intake"\n' for i in range(100, 300))
    joins_at_quote = 0
    for pad in range(45):              # every offset of the cut within a line
        body = "id,text" + "x" * pad + "\n" + lines
        joins_at_quote += any(body[cut - 256:cut - 254] == '""' for cut in range(512, len(body), 512))
        path = tmp_path / f"ok{pad}.csv"
        path.write_text(body, encoding="utf-8")
        assert raw_look.plain(str(path), ",") is True, pad
    assert joins_at_quote             # the case that was refused did occur
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text\n" + lines + '999,""x\n', encoding="utf-8")
    assert raw_look.plain(str(bad), ",") is False


@pytest.fixture(scope="module")
def long_export(tmp_path_factory) -> Path:
    """The example export over and over (40,000 rows, ids unique): a file Arrow reads, in several batches."""
    with open(EXPORT, encoding="utf-8", newline="") as handle:
        header, *base = list(csv.reader(handle))
    rows = [[f"{row[0]}.{n}", *row[1:]] for n in range(40_000 // len(base) + 1) for row in base]
    return write(tmp_path_factory.mktemp("long") / "long.csv", [header, *rows[:40_000]])


def _first_piece_then_full(pieces):
    yield next(iter(pieces))
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("when", ["formatting", "a later piece"])
def test_a_write_that_fails_in_the_formatting_thread_fails_the_recode_and_leaves_nothing(tmp_path, monkeypatch,
                                                                                         long_export, when):
    import icvac.engine

    real, calls = icvac.engine.csv_bytes, []

    def failing(columns, safe=False):
        calls.append(1)
        if len(calls) == 3:
            if when == "formatting":
                raise OSError(28, "No space left on device")
            return _first_piece_then_full(real(columns, safe))  # the batch's first lines written, then the disk full
        return real(columns, safe)

    monkeypatch.setattr(icvac.engine, "csv_bytes", failing)
    with pytest.raises(OSError, match="No space"):
        recode_file(long_export, GBVIMS, TAXONOMY, tmp_path / "out.csv", review=tmp_path / "review.csv")
    assert len(calls) >= 3 and list(tmp_path.iterdir()) == []


def test_the_rows_written_by_the_formatting_thread_are_in_order(tmp_path, monkeypatch, long_export):
    # batches of about 1,000 rows: many of them queued to the thread; the output is the row-by-row path's
    import icvac.engine

    monkeypatch.setattr("icvac.arrowio.BATCH_ROWS", 1000)
    monkeypatch.setattr("icvac.recode.BLOCK_BYTES", 1 << 14)
    real, formatted = icvac.engine.csv_bytes, []

    def counted(columns, safe=False):
        formatted.append(len(columns[0]))
        return real(columns, safe)

    monkeypatch.setattr(icvac.engine, "csv_bytes", counted)
    arrow, by_rows, ran = recode_ways(long_export, tmp_path, monkeypatch)
    assert ran and arrow == by_rows
    assert len(formatted) >= 20 and max(formatted) < 2000


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=5)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 12).flatmap(lambda rows: st.lists(
    st.one_of(st.lists(_TEXT, min_size=rows, max_size=rows), _TEXT), min_size=1, max_size=4)
    .filter(lambda cells: any(isinstance(c, list) for c in cells))), st.integers(1, 5), st.sampled_from([",", ""]))
def test_lines_made_a_few_rows_at_a_time_are_the_lines_made_at_once(cells, rows, separator):
    """Columns and scalars (the same text in every row) joined into lines, in pieces of ``rows`` rows."""
    from unittest import mock

    from icvac import arrowio

    cells = [pa.array(c, pa.string()) if isinstance(c, list) else pa.scalar(c, pa.string()) for c in cells]
    whole = pa.compute.binary_join_element_wise(*cells, pa.scalar(separator))
    with mock.patch.object(arrowio, "FORMAT_ROWS", rows):
        pieces = [bytes(piece) for piece in arrowio.lines(cells, pa.scalar(separator))]
    assert b"".join(pieces) == "".join(whole.to_pylist()).encode("utf-8")
    assert len(pieces) == -(-len(whole) // rows)


def test_lines_refuses_what_it_cannot_join_instead_of_writing_nothing():
    from icvac.arrowio import lines

    with pytest.raises(ValueError, match="column"):
        list(lines([pa.scalar("x")], pa.scalar(",")))
    with pytest.raises(TypeError):
        list(lines([pa.chunked_array([["a"]]), pa.scalar("\n")], pa.scalar(",")))
