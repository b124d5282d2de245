"""The Arrow engine of validate: exact duplicate ids, batches from elsewhere, and the package's import graph."""
from __future__ import annotations

import ast
import csv
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import icvac
from icvac.checker import PY_SPACE
from icvac.dupes import DuplicateIds
from icvac.validate import ValidateOptions, validate, validate_batches

from .test_validate import EXAMPLE, TODAY, TOY, write_csv

PACKAGE = Path(icvac.__file__).parent


def eight_bits(text: str) -> int:
    """A hash under which ids collide all the time."""
    return sum(text.encode()) % 256


ids = st.text(alphabet="ab1\u00e9 ", min_size=1, max_size=4)


@settings(max_examples=300, deadline=None)
@given(batches=st.lists(st.lists(ids, max_size=40) | st.lists(ids, max_size=40).map(sorted), max_size=8),
       late=st.sampled_from([0, 3, 4096]))
def test_duplicate_ids_with_8_bit_hashes_are_exactly_the_true_duplicates(batches, late):
    """Ids kept in order, looked up by bisection, or by hash (``late``: how many ids out of order before the
    table of hashes takes over)."""
    seen = DuplicateIds(hash_id=eight_bits)
    seen.MIN_LATE, seen.LATE_SHARE = late, 10**9
    first: dict[str, int] = {}
    row = 1
    for batch in batches:
        rows = list(range(row, row + len(batch)))
        expected = [(k, first[v]) for k, v in enumerate(batch) if v in first or first.setdefault(v, rows[k]) != rows[k]]
        repeats = seen.add(pa.array(batch, pa.string()), pa.array(rows, pa.int64()))
        assert list(zip(repeats.positions, repeats.first_rows)) == expected
        row += len(batch)


FAMILY = st.tuples(st.sampled_from(["A-", "B", "", "7-", "a1b"]), st.integers(1, 3), st.sampled_from(["", ".1", "x", "2"]))
STRETCH = st.tuples(FAMILY, st.integers(0, 120), st.integers(1, 30))  # a family, its first number, how many
PIECE = st.one_of(STRETCH.map(lambda s: [f"{s[0][0]}{n:0{s[0][1]}d}{s[0][2]}" for n in range(s[1], s[1] + s[2])]),
                  st.lists(ids, max_size=6))


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(st.lists(PIECE, max_size=5).map(lambda ps: [i for p in ps for i in p]), max_size=8),
       gaps=st.lists(st.booleans(), min_size=8, max_size=8), late=st.sampled_from([0, 4096]),
       few=st.sampled_from([0, 1 << 16]), run=st.sampled_from([2, 16]))
def test_ids_counting_up_kept_as_ranges_with_8_bit_hashes_are_exactly_the_true_duplicates(pieces, gaps, late, few,
                                                                                           run):
    """Ids in stretches that count up (kept as ranges), cut anywhere by batches, among ids in no order and
    repeats of either; rows with gaps (the blank ids left out) between batches."""
    seen = DuplicateIds(hash_id=eight_bits)
    seen.MIN_LATE, seen.LATE_SHARE, seen.FEW, seen.MIN_RUN = late, 10**9, few, run
    first: dict[str, int] = {}
    row = 2
    for batch, gap in zip(pieces, gaps):
        rows = list(range(row, row + len(batch)))
        expected = [(k, first[v]) for k, v in enumerate(batch) if v in first or first.setdefault(v, rows[k]) != rows[k]]
        repeats = seen.add(pa.array(batch, pa.string()), pa.array(rows, pa.int64()))
        assert list(zip(repeats.positions, repeats.first_rows)) == expected
        row += len(batch) + gap


def test_a_register_numbered_in_order_is_kept_as_a_few_ranges():
    seen = DuplicateIds()
    for start in range(1, 100_000, 5000):
        batch = [f"AU-{n:06d}.3" for n in range(start, start + 5000)]
        assert seen.add(pa.array(batch), pa.array(range(start + 1, start + 5001), pa.int64())).positions == []
    assert seen.seen == 0 and [len(starts) for starts, _, _ in seen._ranges.values()] == [1]
    repeats = seen.add(pa.array(["AU-000007.3", "AU-100001.3", "AU-100000.3"]), pa.array([7, 8, 9], pa.int64()))
    assert (repeats.positions, repeats.first_rows) == ([0, 2], [8, 100_001])


def test_ids_in_order_then_out_of_order_are_looked_up_among_all_kept():
    seen = DuplicateIds(hash_id=eight_bits)
    assert seen.add(pa.array(["a1", "a2", "a3"]), pa.array([2, 3, 4], pa.int64())).positions == []
    assert seen.add(pa.array(["b1", "b2"]), pa.array([5, 6], pa.int64())).positions == []
    repeats = seen.add(pa.array(["a2", "c", "b2", "c"]), pa.array([7, 8, 9, 10], pa.int64()))
    assert (repeats.positions, repeats.first_rows) == ([0, 2, 3], [3, 6, 8])


def test_py_space_is_what_str_strip_strips():
    assert PY_SPACE == "".join(c for c in map(chr, range(0x110000)) if c.isspace())


@pytest.mark.parametrize("rows_per_batch", [1, 7, 300])
def test_validate_batches_reports_what_validate_reports_for_the_file(rows_per_batch):
    table = pcsv.read_csv(EXAMPLE, convert_options=pcsv.ConvertOptions(
        column_types={name: pa.string() for name in _header(EXAMPLE)}, strings_can_be_null=False))
    options = ValidateOptions(today=TODAY, max_issues=1000)
    issues: list = []
    from_batches = validate_batches(table.to_batches(max_chunksize=rows_per_batch), options=options,
                                    on_issue=issues.append).to_dict()
    from_file = validate(EXAMPLE, options=options).to_dict()
    assert (from_batches.pop("source"), from_batches.pop("format")) == ("<batches>", "arrow")
    del from_file["source"], from_file["format"]
    assert from_batches == from_file
    assert [i.to_dict() for i in issues] == from_file["issues"]


def test_validate_batches_takes_a_column_for_the_taxonomy_s_own_variable():
    # `weapon` is a variable of the fixture taxonomy only: the roles come from the taxonomy, not the bundled list
    batch = pa.RecordBatch.from_pydict({"case": ["1", "2"], "icvac_code": ["101", "101"], "arm": ["yes", "sword"]})
    options = ValidateOptions(today=TODAY, columns={"weapon": "arm", "id": "case"})
    report = validate_batches([batch], TOY, options).to_dict()
    assert [(i["row"], i["slug"], i["column"]) for i in report["issues"]] == [(3, "invalid-value", "arm")]


def test_validate_batches_reads_other_types_as_text_and_nulls_as_blank():
    batch = pa.RecordBatch.from_pydict({"id": pa.array([1, 2, 2]), "icvac_code": ["101", None, "101"],
                                        "victim_age": pa.array([7, 30, None])})
    report = validate_batches([batch], TOY, ValidateOptions(today=TODAY))
    assert [(i.row, i.slug) for i in report.issues] == [(3, "missing-code"), (3, "age-out-of-range"),
                                                        (4, "duplicate-id")]


def test_issues_wait_until_arrow_has_not_refused_the_file(tmp_path):
    """Arrow refuses a file at its end (a quote it reads otherwise): the issues passed on are the Python
    reader's, each once."""
    rows = [["id", "icvac_code"], *[[f"r{n}", "9999"] for n in range(50)], ['x"y', "101"]]
    path = write_csv(tmp_path / "q.csv", rows)
    issues: list = []
    report = validate(path, TOY, ValidateOptions(today=TODAY, max_issues=10_000), on_issue=issues.append)
    assert issues == list(report.issues) and len(issues) == 50


RAW = st.lists(st.sampled_from([b"a", b"b", b",", b'"', b'""', b"\n", b"\r\n", b"\r", b" "]), max_size=30)


def _read_by_both(data: bytes):
    """The rows Python's csv (strict) reads, and Arrow's (as icvac.arrowio asks it); None for Arrow when it
    refuses the file (it is then read by Python's csv anyway), an error's class for Python's."""
    try:
        python = list(csv.reader(io.StringIO(data.decode(), newline=""), strict=True))
    except csv.Error as exc:
        python = type(exc)
    try:
        table = pcsv.read_csv(io.BytesIO(data), read_options=pcsv.ReadOptions(autogenerate_column_names=True),
                              parse_options=pcsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
                              convert_options=pcsv.ConvertOptions(
                                  column_types={f"f{i}": pa.string() for i in range(64)},
                                  strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowInvalid:
        return python, None
    return python, [list(row.values()) for row in table.to_pylist()]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=RAW, piece=st.sampled_from([3, 8, 1 << 20]))
def test_a_file_the_raw_look_passes_is_read_alike_by_python_and_arrow(tmp_path, monkeypatch, body, piece):
    """The raw look (cut at the quotes, a piece at a time) keeps a file on Arrow only where both readers
    give the same rows; its verdict does not depend on where the pieces are cut."""
    from icvac import arrowio, raw_look

    data = b"h1,h2\n" + b"".join(body)
    path = tmp_path / "raw.csv"
    path.write_bytes(data)
    monkeypatch.setattr(raw_look, "SCAN_BYTES", piece)
    plain, blank = raw_look.plain(str(path), ","), raw_look.blank_lines_in(str(path))
    monkeypatch.setattr(raw_look, "SCAN_BYTES", 1 << 20)
    assert (plain, blank) == (raw_look.plain(str(path), ","), raw_look.blank_lines_in(str(path)))
    python, arrow = _read_by_both(data)
    if plain and arrow is not None:
        # as arrowio decides: a row of empty cells sends the file to Python's reader if it has a blank line
        batch = pa.RecordBatch.from_arrays([pa.array(c, pa.string()) for c in zip(*arrow, strict=True)],
                                           names=[f"f{i}" for i in range(len(arrow[0]))])
        if not (arrowio._empty_row(batch) and blank):
            assert python == arrow


@pytest.mark.parametrize("body, plain", [
    (b'1,"a ""b"", c"\r\n2,""\n3,"x\ny"\n', True),   # doubled quotes, an empty quoted field, a line break inside
    (b'1,"a"b\n', False), (b'1,a"b\n', False), (b'1,"a,"b\n', False), (b'1,""x\n', False),
    (b'1,a","\n', False),                            # read as a"," by Arrow; an open quote to Python
    (b'1,"a\n', False)])
def test_the_raw_look_on_each_kind_of_quote(tmp_path, body, plain):
    from icvac import raw_look

    path = tmp_path / "q.csv"
    path.write_bytes(b"id,text\n" + body)
    assert raw_look.plain(str(path), ",") is plain


@pytest.mark.parametrize("body, blank", [
    (b"1,2\n\n3,4\n", True), (b"1,2\r\r3,4\n", True), (b"1,2\r\n\r\n3,4\r\n", True), (b"1,2\n3,4\n\n", True),
    (b"1,2\n,\n3,4\n", False), (b"1,2\r\n3,4\r\n", False)])
def test_the_look_for_blank_lines(tmp_path, body, blank):
    from icvac import raw_look

    path = tmp_path / "b.csv"
    path.write_bytes(b"id,text\n" + body)
    assert raw_look.blank_lines_in(str(path)) is blank


def _both_ways(path, monkeypatch, **options) -> tuple[dict, dict, bool]:
    """validate's report for ``path`` through Arrow and through the Python reader, and whether Arrow read it."""
    from icvac import arrowio, validate as module

    read = []
    real = arrowio.csv_batches

    def spy(*args, **kwargs):
        batches = real(*args, **kwargs)
        return None if batches is None else (read.append(1) or batch for batch in batches)

    options = ValidateOptions(today=TODAY, max_issues=10_000, **options)
    monkeypatch.setattr(arrowio, "csv_batches", spy)
    through_arrow = module.validate(path, options=options).to_dict()
    monkeypatch.setattr(arrowio, "csv_batches", lambda *a, **k: None)
    row_by_row = module.validate(path, options=options).to_dict()
    monkeypatch.undo()
    return through_arrow, row_by_row, bool(read)


def test_blank_lines_stay_on_arrow_and_are_the_blank_rows_the_python_reader_finds(tmp_path, monkeypatch):
    """A blank line is a row of no cells to Python's csv and a row of empty cells to Arrow: both are a
    blank row to validate, so such a file is not sent to the slow reader."""
    body = (b"id,icvac_code,victim_age\nr1,0301,7\n\nr2,9999,x\r\n\r\n,,\nr3,0301,30\r\rr1,0301,4\n"
            b"\"r4\",\"\n\",5\n\n\n")
    path = tmp_path / "blank.csv"
    path.write_bytes(body)
    arrow, rows, read = _both_ways(path, monkeypatch)
    assert read and arrow == rows
    assert rows["stats"]["rows_blank"] == 4 and rows["stats"]["rows_read"] == 9


def test_batches_read_ahead_pass_on_what_the_reader_raises_and_stop_when_the_caller_goes():
    from icvac.arrowio import ArrowRefused
    from icvac.read_ahead import read_ahead

    def source(closed: list):
        try:
            for n in range(100):
                if n == 50:
                    raise ArrowRefused("ragged")
                yield pa.record_batch({"n": [n]})
        finally:
            closed.append(True)

    closed: list = []
    taken = []
    with pytest.raises(ArrowRefused):
        for batch in read_ahead(source(closed), 4):
            taken.append(batch.column(0)[0].as_py())
    assert taken == list(range(50)) and closed == [True]
    closed = []
    ahead = read_ahead(source(closed), 4)
    assert next(ahead).num_rows == 1
    ahead.close()  # the caller gone: the thread is joined and the source closed, not left reading
    assert closed == [True]



@pytest.mark.parametrize("depth", [1, 3])
def test_batches_read_ahead_draw_no_more_than_depth_beyond_the_callers(depth):
    # a batch drawn and held while waiting for room in the queue was one batch more in memory for nothing
    import time

    from icvac.read_ahead import read_ahead

    drawn = []

    def source():
        for n in range(20):
            drawn.append(n)
            yield pa.record_batch({"n": [n]})

    taken = 0
    for batch in read_ahead(source(), depth):
        taken += 1
        time.sleep(0.02)  # time for the thread to draw all it may
        assert len(drawn) <= taken + depth, (taken, drawn)
        assert batch.column(0)[0].as_py() == taken - 1
    assert taken == 20


def test_batches_read_ahead_are_prepared_on_the_reading_thread():
    # validate slims its blocks there: the checks' thread is the busier one
    import threading

    from icvac.read_ahead import read_ahead

    where = set()

    def prepare(batch):
        where.add(threading.get_ident())
        return batch.num_rows * 10

    taken = list(read_ahead((pa.record_batch({"n": list(range(k))}) for k in range(1, 6)), 2, prepare))
    assert taken == [10, 20, 30, 40, 50]
    assert where and threading.get_ident() not in where


def test_batches_read_ahead_end_only_at_their_end_and_always_end():
    from icvac.read_ahead import read_ahead

    # a prepared batch may be None; only the end of the batches ends them
    assert list(read_ahead(iter([1, 2, 3]), 2, lambda b: None if b == 2 else b)) == [1, None, 3]
    with pytest.raises(ValueError):
        list(read_ahead(iter([1]), 0))

    def source():
        try:
            yield 1
            yield 2
        finally:
            raise OSError("the reader would not close")

    def prepare(batch):
        if batch == 2:
            raise KeyError(batch)
        return batch

    # an error, then another as the source closes: the caller hears of it, and does not wait for ever
    import threading

    raised = []

    def consume():
        try:
            list(read_ahead(source(), 1, prepare))
        except OSError as exc:
            raised.append(exc)

    caller = threading.Thread(target=consume, daemon=True)
    caller.start()
    caller.join(10)
    assert not caller.is_alive(), "the caller waits for an end that never comes"
    assert len(raised) == 1

def test_joined_batches_let_their_blocks_go_before_they_are_handed_on(tmp_path):
    # the blocks of a joined batch, kept until the next batch was asked for, doubled what a reader held
    import weakref

    from icvac.arrowio import _read_batches

    class Reader:
        schema = pa.schema([("f0", pa.string()), ("f1", pa.string())])

        def __init__(self):
            self.blocks = [pa.record_batch({"f0": ["a", "x"], "f1": ["b", "y"]})] + \
                [pa.record_batch({"f0": [str(n)], "f1": ["z"]}) for n in range(6)]
            self.handed = []

        def read_next_batch(self):
            if not self.blocks:
                raise StopIteration
            block = self.blocks.pop(0)
            self.handed.append(weakref.ref(block))
            return block

    reader = Reader()
    batches = _read_batches(reader, ["a", "b"], ["f0", "f1"], 3, None)
    first = next(batches)
    assert first.column(0).to_pylist() == ["x", "0", "1"]
    assert all(ref() is None for ref in reader.handed), "a block outlived its joining"
    assert [b.column(0).to_pylist() for b in batches] == [["2", "3", "4"], ["5"]]


def _header(path) -> list[str]:
    return Path(path).read_text(encoding="utf-8").splitlines()[0].split(",")


def _imports(path: Path) -> set[str]:
    """The icvac modules a module imports, anywhere in it (lazy imports inside functions count)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("icvac")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            if base.startswith("icvac"):
                found.add(base)
                found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def import_cycles() -> list[list[str]]:
    """The cycles of the graph of icvac's modules and the icvac modules each imports."""
    modules = {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
               for p in PACKAGE.rglob("*.py")}
    graph = {name: sorted(m for m in _imports(path) if m in modules and m != name) for name, path in modules.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for dep in graph[name]:
            if state.get(dep) == 1:
                cycles.append(path[path.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, path + [dep])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    return cycles


def test_no_import_cycle_in_the_package():
    # recode's coder lives in icvac.coder, imported by recode and by the Arrow engine alike (issue 16)
    assert import_cycles() == []


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_stays_small(path):
    # issue 16: a module over 450 lines holds more than one concern; split it by what it holds
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 450


def test_the_first_position_in_a_range_is_found_by_bisection():
    from icvac.dupes import _first_in, _where_not

    falls = _where_not(pa.array([True, False, True, True, False, False]))
    assert falls == [1, 4, 5]
    assert [_first_in(falls, low, high) for low, high in [(0, 1), (0, 2), (2, 4), (2, 5), (5, 6), (6, 9)]] == \
        [-1, 1, -1, 4, 5, -1]
