"""Issue 7, outputs: atomic writes (Ctrl-C, SIGTERM, disk full), no output over an input, `-` for
stdout, and no formula from the data in a file meant for a spreadsheet."""
from __future__ import annotations

import csv
import errno
import io
import itertools
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icvac import writers
from icvac.writers import FORMULA_PREFIXES, atomic_output, excel_safe, staged_outputs, undo_excel_safe
from icvac.xlsx_writer import xlsx_writer

from .conftest import EXAMPLES, MAPPINGS, ROOT, TAXONOMY

EXPORT = EXAMPLES / "national_export.csv"
HEADER = ["incident_id", "date_of_incident", "survivor_age", "survivor_sex", "gbv_type",
          "alleged_perpetrator_relationship", "narrative"]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)
    return path


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def formulas(cells) -> list:
    """Text cells a spreadsheet would run as a formula."""
    return [c for c in cells if isinstance(c, str) and c.startswith(FORMULA_PREFIXES) and excel_safe(c) != c]


# ---------------------------------------------------------------- interruption

@pytest.fixture(scope="module")
def big_export(tmp_path_factory) -> Path:
    """300,000 records: about 4 s to recode, so there is time to interrupt it."""
    rows = list(csv.reader(EXPORT.open(encoding="utf-8")))
    path = tmp_path_factory.mktemp("big") / "big.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(rows[0])
        writer.writerows([f"INC-{i}", *r[1:]] for i, r in zip(range(300_000), itertools.cycle(rows[1:])))
    return path


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_recode_leaves_no_output_and_no_temporary_file(tmp_path, big_export, signum):
    proc = subprocess.Popen([sys.executable, "-m", "icvac", "recode", str(big_export), "--mapping", "gbvims",
                             "-o", "out.csv", "--review", "review.csv"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not list(tmp_path.glob(".out.csv.*.tmp")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "recode never started writing"
        time.sleep(0.02)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_ctrl_c_inside_the_making_of_the_temporary_file_leaves_nothing(tmp_path, monkeypatch):
    real = writers.tempfile.mkstemp

    def interrupted(*args, **kwargs):
        made = real(*args, **kwargs)
        signal.raise_signal(signal.SIGINT)  # as a Ctrl-C after the file exists, before its name is returned
        return made

    monkeypatch.setattr(writers.tempfile, "mkstemp", interrupted)
    with pytest.raises(KeyboardInterrupt), atomic_output(tmp_path / "out.csv") as handle:
        handle.write("never")
    assert list(tmp_path.iterdir()) == []


def test_an_output_an_interrupt_left_open_is_removed_by_the_clean_up(tmp_path):
    # a Ctrl-C between atomic_output's yield and the with statement that holds it: no except sees it
    held = atomic_output(tmp_path / "out.csv")
    held.__enter__()
    assert leftovers(tmp_path)
    writers.remove_unfinished()
    assert list(tmp_path.iterdir()) == []


class _FullDisk:
    """A handle whose writes fail as on a full disk."""

    def __init__(self, handle):
        self._handle = handle

    def write(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._handle.close()

    def __getattr__(self, name):
        return getattr(self._handle, name)


@pytest.mark.parametrize("failing", [1, 2, 3], ids=["data", "sidecar", "review"])
def test_a_full_disk_leaves_none_of_the_recode_outputs(icvac, tmp_path, monkeypatch, failing):
    opened = itertools.count(1)
    real_open = io.open

    def open_(fd, *args, **kw):
        handle = real_open(fd, *args, **kw)
        return _FullDisk(handle) if next(opened) == failing else handle

    monkeypatch.setattr(writers, "io", SimpleNamespace(open=open_))
    r = icvac("recode", EXPORT, "--mapping", "gbvims", "-o", tmp_path / "out.csv", "--review",
              tmp_path / "review.csv")
    assert r.exit_code == 3, r.output
    assert "No space left on device" in r.stderr and "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_staged_outputs_appear_together_or_not_at_all(tmp_path):
    with pytest.raises(RuntimeError), staged_outputs() as stage:
        with atomic_output(tmp_path / "a.txt", stage=stage) as f:
            f.write("a")
        assert not (tmp_path / "a.txt").exists()  # staged, not yet in place
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []
    with staged_outputs() as stage:
        for name in ("a.txt", "b.xlsx"):
            if name.endswith("xlsx"):
                with xlsx_writer(tmp_path / name, stage=stage) as write:
                    write(["x"])
            else:
                with atomic_output(tmp_path / name, stage=stage) as f:
                    f.write("a")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.xlsx"]


def test_new_outputs_are_private_and_replaced_ones_keep_their_mode(tmp_path):
    new, old = tmp_path / "new.csv", tmp_path / "old.csv"
    old.write_text("old")
    old.chmod(0o644)
    for path in (new, old):
        with atomic_output(path) as f:
            f.write("x")
    assert stat.S_IMODE(new.stat().st_mode) == 0o600
    assert stat.S_IMODE(old.stat().st_mode) == 0o644 and old.read_text() == "x"


def test_an_abandoned_xlsx_leaves_no_sheet_in_the_temp_folder(tmp_path):
    from openpyxl.worksheet._writer import ALL_TEMP_FILES

    before = list(ALL_TEMP_FILES)
    with pytest.raises(KeyboardInterrupt), xlsx_writer(tmp_path / "x.xlsx") as write:
        write(["secret"])
        sheets = [Path(p) for p in ALL_TEMP_FILES if p not in before]
        assert sheets and all(p.exists() for p in sheets)  # openpyxl streams the rows there
        raise KeyboardInterrupt
    assert not any(p.exists() for p in sheets) and list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- never over an input

def _inputs(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "x"
    folder.mkdir()
    data = folder / "data.csv"
    data.write_bytes(EXPORT.read_bytes())
    coded = folder / "coded.csv"
    write_csv(coded, [["id", "icvac_code"], ["1", "01"]])
    mapping = folder / "m.yaml"
    mapping.write_bytes((MAPPINGS / "gbvims.yaml").read_bytes())
    taxonomy = folder / "t.yaml"
    taxonomy.write_bytes(TAXONOMY.read_bytes())
    return {"data": data, "coded": coded, "mapping": mapping, "taxonomy": taxonomy}


def _spellings(path: Path) -> list[str]:
    return [str(path), f"{path.parent}/../{path.parent.name}/{path.name}"]


@pytest.mark.parametrize("victim,command", [
    ("data", ("recode", "{data}", "-m", "{mapping}", "-o", "{out}")),
    ("mapping", ("recode", "{data}", "-m", "{mapping}", "-o", "{out}")),
    ("taxonomy", ("recode", "{data}", "-m", "{mapping}", "--taxonomy", "{taxonomy}", "-o", "{out}")),
    ("data", ("recode", "{data}", "-m", "{mapping}", "-o", "{tmp}/o.csv", "--review", "{out}")),
    ("data", ("validate", "{data}", "--issues", "{out}")),
    ("data", ("validate", "{data}", "--report", "{out}")),
    ("taxonomy", ("validate", "{data}", "--taxonomy", "{taxonomy}", "--report", "{out}")),
    ("coded", ("tabulate", "{coded}", "-f", "csv", "-o", "{out}")),
    ("taxonomy", ("tabulate", "{coded}", "--taxonomy", "{taxonomy}", "-f", "csv", "-o", "{out}")),
    ("mapping", ("crosswalk", "-m", "{mapping}", "-f", "csv", "-o", "{out}")),
    ("taxonomy", ("taxonomy", "export", "--taxonomy", "{taxonomy}", "-f", "csv", "-o", "{out}")),
    ("data", ("mapping", "draft", "{data}", "--label-column", "gbv_type", "-o", "{out}")),
    ("taxonomy", ("mapping", "draft", "{data}", "--label-column", "gbv_type", "--taxonomy", "{taxonomy}",
                  "-o", "{out}")),
    ("coded", ("mapping", "review-import", "{coded}", "-m", "{out}", "--reviewer", "me")),
], ids=lambda v: " ".join(v[:2]) if isinstance(v, tuple) else v)
def test_an_output_over_an_input_is_refused(icvac, tmp_path, victim, command):
    files = _inputs(tmp_path)
    for spelling in _spellings(files[victim]):
        before = {p: p.read_bytes() for p in files.values()}
        args = [a.format(tmp=tmp_path, out=spelling, **files) for a in command]
        r = icvac(*args)
        assert r.exit_code == 2, (args, r.output)
        assert "is also an input" in r.stderr
        assert {p: p.read_bytes() for p in files.values()} == before
        assert sorted(p.name for p in files["data"].parent.iterdir()) == sorted(p.name for p in files.values())


def test_recode_refuses_a_review_file_over_the_sidecar(icvac, tmp_path):
    r = icvac("recode", EXPORT, "-m", "gbvims", "-o", tmp_path / "o.csv", "--review", tmp_path / "o.csv.meta.json")
    assert r.exit_code == 2 and "is also an input" in r.stderr
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- `-` is stdout, and only data goes there

@pytest.mark.parametrize("args,parse", [
    (("recode", EXPORT, "-m", "gbvims", "-o", "-"), "csv"),
    (("recode", EXPORT, "-m", "gbvims", "-o", "-", "--summary", "json"), "csv"),
    (("recode", EXPORT, "-m", "gbvims", "-o", "-", "-f", "jsonl"), "jsonl"),
    (("tabulate", ROOT / "tests/fixtures/tabulate/coded.csv", "-f", "csv", "-o", "-"), "csv"),
    (("tabulate", ROOT / "tests/fixtures/tabulate/coded.csv", "-f", "json", "-o", "-"), "json"),
    (("crosswalk", "-m", "gbvims", "-f", "json", "-o", "-"), "json"),
    (("crosswalk", "-m", "gbvims", "-o", "-"), "csv"),
    (("taxonomy", "export", "-f", "csv", "-o", "-"), "csv"),
    (("mapping", "draft", EXPORT, "--label-column", "gbv_type", "-o", "-", "--date", "2024-01-01"), "yaml"),
], ids=lambda a: " ".join(map(str, a[:1])) if isinstance(a, tuple) else a)
def test_dash_writes_the_data_alone_on_stdout(icvac, args, parse):
    r = icvac(*args)
    assert r.exit_code == 0, r.output
    out = r.stdout
    if parse == "csv":
        rows = list(csv.reader(io.StringIO(out)))
        assert len({len(row) for row in rows}) == 1 and len(rows) > 2
    elif parse == "json":
        json.loads(out)
    elif parse == "jsonl":
        assert all(isinstance(json.loads(line), dict) for line in out.splitlines())
    else:
        import yaml
        assert yaml.safe_load(out)["categories"]
    assert "icvac:" not in out and "recoded" not in out
    if "--summary" in args:
        assert json.loads(r.stderr)["rows_in"] == 300


def test_an_xlsx_output_cannot_go_to_stdout(icvac):
    r = icvac("recode", EXPORT, "-m", "gbvims", "-o", "-", "-f", "xlsx")
    assert r.exit_code == 2 and "stdout" in r.stderr


# ---------------------------------------------------------------- formula injection

NASTY = ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "=HYPERLINK(\"http://e.example\",\"x\")"]
NUMBERS = ["-5", "+3", "-1.5", "1e5", "-0,5"]


@pytest.mark.parametrize("text", NUMBERS)
def test_numbers_are_left_alone(text):
    assert excel_safe(text) == text


@pytest.mark.parametrize("text", NASTY + ["-inf", "+nan", "-1_0", "- 5", "-5 "])
def test_formula_text_is_neutralised(text):
    assert excel_safe(text) == "'" + text


@given(st.text())
def test_undo_excel_safe_gives_back_the_value(text):
    assert undo_excel_safe(excel_safe(text)) == text
    assert not formulas([excel_safe(text)])


@pytest.fixture
def nasty_export(tmp_path) -> Path:
    rows = [HEADER]
    for i, text in enumerate(NASTY + NUMBERS):
        rows.append([text if i % 2 else f"INC-{i}", "2023-01-0" + str(1 + i % 9), "-5" if i % 3 else "+3",
                     "F", text, "Primary caregiver", text])
    rows.append(["INC-99", "2023-01-01", "12", "F", "Rape", "=rel", "-1.5"])
    return write_csv(tmp_path / "nasty.csv", rows)


def test_recode_csv_keeps_values_byte_for_byte(icvac, tmp_path, nasty_export):
    r = icvac("recode", nasty_export, "-m", "gbvims", "-o", tmp_path / "out.csv")
    assert r.exit_code == 0, r.output
    source = list(csv.reader(nasty_export.open(encoding="utf-8", newline="")))
    out = list(csv.reader((tmp_path / "out.csv").open(encoding="utf-8", newline="")))
    assert [row[:len(HEADER)] for row in out] == source
    raw = (tmp_path / "out.csv").read_bytes()
    assert b"\n=1+1," in raw or b",=1+1," in raw


def test_recode_excel_safe_neutralises_text_but_not_numbers(icvac, tmp_path, nasty_export):
    r = icvac("recode", nasty_export, "-m", "gbvims", "-o", tmp_path / "out.csv", "--excel-safe")
    assert r.exit_code == 0, r.output
    source = list(csv.reader(nasty_export.open(encoding="utf-8", newline="")))
    out = list(csv.reader((tmp_path / "out.csv").open(encoding="utf-8", newline="")))
    assert [row[:len(HEADER)] for row in out] == [[excel_safe(v) for v in row] for row in source]
    cells = [c for row in out for c in row]
    assert not formulas(cells)
    assert {"'=1+1", "-5", "+3", "-1.5"} <= set(cells)


def test_recode_xlsx_types_every_text_cell_as_text(icvac, tmp_path, nasty_export):
    from openpyxl import load_workbook

    r = icvac("recode", nasty_export, "-m", "gbvims", "-o", tmp_path / "out.xlsx")
    assert r.exit_code == 0, r.output
    ws = load_workbook(tmp_path / "out.xlsx").active
    cells = [c for row in ws.iter_rows() for c in row]
    source = list(csv.reader(nasty_export.open(encoding="utf-8", newline="")))
    # XML reads a carriage return as a line feed: the one change an .xlsx cannot avoid
    assert [[c.value or "" for c in row][:len(HEADER)] for row in ws.iter_rows()] == \
        [[v.replace("\r", "\n") for v in row] for row in source]
    assert all(c.data_type == "s" for c in cells if c.value is not None)
    assert {c.value for c in cells} >= {"=1+1", "@SUM(A1)", "-5"}


def test_xlsx_cells_cannot_hold_control_characters(tmp_path):
    from openpyxl import load_workbook

    with xlsx_writer(tmp_path / "x.xlsx") as write:
        write(["a\x01b", 5])
    assert [c.value for c in next(load_workbook(tmp_path / "x.xlsx").active.iter_rows())] == ["a\ufffdb", 5]


def _all_cells(path: Path) -> list:
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        ws = load_workbook(path)[load_workbook(path).sheetnames[0]]
        return [c.value for row in ws.iter_rows() for c in row]
    return [c for row in csv.reader(path.open(encoding="utf-8", newline="")) for c in row]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_review_files_neutralise_national_labels_and_import_them_back(icvac, tmp_path, nasty_export, suffix):
    review = tmp_path / f"review{suffix}"
    r = icvac("recode", nasty_export, "-m", "gbvims", "-o", tmp_path / "out.csv", "--review", review)
    assert r.exit_code == 0, r.output
    cells = _all_cells(review)
    assert not formulas(cells)
    assert "'=1+1" in cells and "'@SUM(A1)" in cells
    # a person decides in the review file; the mapping receives the label as it is in the data
    rows = list(csv.reader(review.open(encoding="utf-8", newline=""))) if suffix == ".csv" else None
    if rows is None:
        from openpyxl import load_workbook

        rows = [[c.value or "" for c in row] for row in load_workbook(review)["review"].iter_rows()]
    head = rows[0]
    for row in rows[1:]:
        row[head.index("decision")] = "0301" if row[head.index("source_label")] == "'=1+1" else "no-match"
    filled = write_csv(tmp_path / "filled.csv", rows)
    mapping = tmp_path / "m.yaml"
    mapping.write_bytes((MAPPINGS / "gbvims.yaml").read_bytes())
    r = icvac("mapping", "review-import", filled, "-m", mapping, "--reviewer", "A. Officer", "--date", "2024-01-01")
    assert r.exit_code == 0, r.output
    import yaml

    labels = {e.get("source_label") for e in yaml.safe_load(mapping.read_text(encoding="utf-8"))["categories"]}
    assert {"=1+1", "@SUM(A1)"} <= labels and "'=1+1" not in labels


def test_validate_issue_list_is_neutralised(icvac, tmp_path):
    data = write_csv(tmp_path / "d.csv", [["id", "icvac_code", "victim_age"], ["=cmd()", "=1+1", "-5"],
                                          ["@x", "+01", "=2"], ["-1", "-01", "-3"]])
    r = icvac("validate", data, "--issues", tmp_path / "issues.csv")
    assert r.exit_code == 1, r.output
    cells = _all_cells(tmp_path / "issues.csv")
    assert not formulas(cells) and "'=cmd()" in cells and "-1" in cells


@pytest.fixture
def nasty_taxonomy(tmp_path) -> Path:
    text = TAXONOMY.read_text(encoding="utf-8")
    text = text.replace("{en: Violent killing of a child,", '{en: "=HYPERLINK(1)",', 1)
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_tables_are_neutralised(icvac, tmp_path, nasty_taxonomy, suffix):
    data = write_csv(tmp_path / "coded.csv", [["icvac_code"], *([["01"]] * 7), *([["02"]] * 8)])
    out = tmp_path / f"table{suffix}"
    r = icvac("tabulate", data, "--taxonomy", nasty_taxonomy, "-o", out)
    assert r.exit_code == 0, r.output
    cells = _all_cells(out)
    assert not formulas(cells) and "'=HYPERLINK(1)" in cells
    if suffix == ".xlsx":
        assert 7 in cells  # counts stay numbers


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "markdown"])
def test_crosswalks_for_people_are_neutralised(icvac, tmp_path, fmt):
    mapping = tmp_path / "m.yaml"
    mapping.write_text((MAPPINGS / "gbvims.yaml").read_text(encoding="utf-8")
                       .replace("- source_label: Rape", '- source_label: "=cmd()"', 1), encoding="utf-8")
    out = tmp_path / f"cw.{ {'markdown': 'md'}.get(fmt, fmt) }"
    r = icvac("crosswalk", "-m", mapping, "-o", out)
    assert r.exit_code == 0, r.output
    if fmt == "markdown":
        cells = [c.strip() for line in out.read_text(encoding="utf-8").splitlines() for c in line.split("|")
                 if c.strip("-")]  # `|---|` is the table's own syntax
    else:
        cells = _all_cells(out)
    assert not formulas(cells) and "'=cmd()" in cells


def test_excel_safe_applies_to_an_xlsx_recode_output_too(icvac, tmp_path, nasty_export):
    r = icvac("recode", nasty_export, "-m", "gbvims", "-o", tmp_path / "out.xlsx", "--excel-safe")
    assert r.exit_code == 0, r.output
    cells = _all_cells(tmp_path / "out.xlsx")
    assert not formulas(cells) and "'=1+1" in cells and "-5" in cells


def test_xlsx_outputs_are_byte_identical_across_runs(tmp_path):
    import time

    from icvac.xlsx_writer import xlsx_writer

    paths = []
    for n in range(2):
        path = tmp_path / f"run{n}.xlsx"
        with xlsx_writer(path, validations={1: ["01", "02"]}) as write:
            write(["id", "code"])
            write(["R1", "=cmd"])
        paths.append(path)
        time.sleep(1.1)  # zip timestamps have a 2-second resolution, core.xml one second
    assert paths[0].read_bytes() == paths[1].read_bytes()


_CELL = st.text(alphabet=st.sampled_from(list('a,"\n\r ;\'=-1é')), max_size=6)


@settings(max_examples=600, deadline=None)
@given(st.lists(st.lists(_CELL, max_size=5) | st.lists(st.one_of(_CELL, st.integers(), st.none()), max_size=5),
                max_size=6))
def test_csv_writer_writes_what_csv_writes_except_lone_cr(rows):
    from icvac.writers import csv_writer

    ours, reference = io.StringIO(), io.StringIO()
    writer = csv_writer(ours)
    minimal = csv.writer(reference, lineterminator="\n")
    quoted = csv.writer(reference, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for row in rows:
        writer.writerow(row)
        (quoted if any(isinstance(v, str) and "\r" in v for v in row) else minimal).writerow(row)
    assert ours.getvalue() == reference.getvalue()


def test_csv_writer_takes_rows_that_are_iterators_as_csv_does():
    from icvac.writers import csv_writer

    ours, reference = io.StringIO(), io.StringIO()
    rows = [["a", "b,c"], ["d", 1, None, 'e"f']]
    csv_writer(ours).writerows(iter(row) for row in rows)
    csv_writer(ours).writerow(iter(rows[1]))
    csv.writer(reference, lineterminator="\n").writerows([*rows, rows[1]])
    assert ours.getvalue() == reference.getvalue()


# ---------------------------------------------------------------- special files are written through (issue 14)

class _Drain:
    """Reads a FIFO in a thread until its writer closes it, as `cat FIFO` would."""

    def __init__(self, fifo: Path):
        import threading

        self.data = b""
        self._thread = threading.Thread(target=self._read, args=(fifo,), daemon=True)
        self._thread.start()

    def _read(self, fifo: Path) -> None:
        with open(fifo, "rb") as f:
            self.data = f.read()

    def result(self) -> bytes:
        self._thread.join(timeout=60)
        assert not self._thread.is_alive(), "the FIFO was never opened and closed for writing"
        return self.data


def _fifo(folder: Path, name: str = "fifo") -> Path:
    path = folder / name
    os.mkfifo(path)
    return path


def _device(folder: Path) -> Path:
    """A character device standing in for /dev/null (major 1, minor 3: the same null device), in a
    temporary folder, so that no test touches the real /dev/null."""
    path = folder / "null"
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a character device here: {exc}")
    return path


def _is_fifo(path: Path) -> bool:
    return stat.S_ISFIFO(os.lstat(path).st_mode)


def test_recode_writes_through_a_fifo_and_leaves_no_sidecar(icvac, tmp_path):
    out, review = _fifo(tmp_path, "out"), _fifo(tmp_path, "review")
    drains = _Drain(out), _Drain(review)
    r = icvac("recode", EXPORT, "-m", "gbvims", "-o", out, "--review", review)
    assert r.exit_code == 0, r.stderr
    data, listed = (d.result().decode() for d in drains)
    assert len(list(csv.reader(io.StringIO(data)))) == 301
    assert listed.startswith("source_code,source_label,count")
    assert _is_fifo(out) and _is_fifo(review)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "review"]  # no sidecar, no temporary file
    assert "meta.json" not in r.stderr


CODED = ROOT / "tests/fixtures/tabulate/coded.csv"


@pytest.mark.parametrize("args", [
    ("validate", EXAMPLES / "incidents.csv", "--issues", "{F}"),
    ("validate", EXAMPLES / "incidents.csv", "--report", "{F}"),
    ("tabulate", CODED, "-f", "csv", "-o", "{F}"),
    ("tabulate", CODED, "-f", "xlsx", "-o", "{F}"),
    ("crosswalk", "-m", "gbvims", "-o", "{F}"),
    ("crosswalk", "-m", "gbvims", "-f", "sql", "-o", "{F}"),
    ("crosswalk", "-m", "gbvims", "-f", "xlsx", "-o", "{F}"),
    ("taxonomy", "export", "-f", "csv", "-o", "{F}"),
    ("recode", EXPORT, "-m", "gbvims", "-f", "xlsx", "-o", "{F}"),
], ids=lambda a: " ".join(str(x) for x in a[:1] + a[-3:-1]))
def test_every_output_option_writes_through_a_fifo(icvac, tmp_path, args):
    fifo = _fifo(tmp_path)
    drain = _Drain(fifo)
    r = icvac(*[fifo if a == "{F}" else a for a in args])
    assert r.exit_code in (0, 1), r.stderr  # validate finds errors in the example: exit 1
    assert drain.result(), "nothing was written into the FIFO"
    assert _is_fifo(fifo)
    assert [p.name for p in tmp_path.iterdir()] == ["fifo"]


def test_a_character_device_stays_a_device(icvac, tmp_path):
    """`-o /dev/null` as root, on a device of its own: no rename over it, no sidecar next to it."""
    null = _device(tmp_path)
    r = icvac("recode", EXPORT, "-m", "gbvims", "-o", null, "--review", null)
    assert r.exit_code == 0, r.stderr
    r = icvac("recode", EXPORT, "-m", "gbvims", "-o", null, "-f", "xlsx")
    assert r.exit_code == 0, r.stderr
    assert stat.S_ISCHR(os.lstat(null).st_mode) and os.lstat(null).st_rdev == os.makedev(1, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["null"]


def test_a_special_file_in_a_folder_one_cannot_write_is_written_through(icvac, tmp_path, monkeypatch):
    """A normal user cannot create files in /dev: nothing may be staged next to a device. As root the
    folder's permissions do not stop anyone, so the refusal is simulated there."""
    fifo = _fifo(tmp_path)
    if os.geteuid() == 0:
        real = writers.tempfile.mkstemp

        def mkstemp(*args, dir=None, **kw):
            if dir is not None and Path(dir).resolve() == tmp_path.resolve():
                raise PermissionError(errno.EACCES, "Permission denied", str(dir))
            return real(*args, dir=dir, **kw)

        monkeypatch.setattr(writers.tempfile, "mkstemp", mkstemp)
    else:
        tmp_path.chmod(0o555)
    try:
        drain = _Drain(fifo)
        r = icvac("recode", EXPORT, "-m", "gbvims", "-o", fifo)
        assert r.exit_code == 0, r.stderr
        assert len(drain.result().splitlines()) == 301
    finally:
        tmp_path.chmod(0o700)


def test_a_symlink_stays_and_its_target_is_replaced(icvac, tmp_path):
    target = tmp_path / "data" / "recoded.csv"
    target.parent.mkdir()
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "latest.csv"
    link.symlink_to(Path("data") / "recoded.csv")
    inode = os.stat(target).st_ino
    r = icvac("recode", EXPORT, "-m", "gbvims", "-o", link)
    assert r.exit_code == 0, r.stderr
    assert link.is_symlink() and os.readlink(link) == str(Path("data") / "recoded.csv")
    assert len(target.read_text().splitlines()) == 301
    assert os.stat(target).st_ino != inode  # replaced by a rename, not rewritten in place
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert (tmp_path / "latest.csv.meta.json").is_file()
    assert leftovers(tmp_path) == [] and leftovers(target.parent) == []


def test_a_dangling_symlink_creates_its_target(icvac, tmp_path):
    link = tmp_path / "table.csv"
    link.symlink_to(tmp_path / "new.csv")
    assert icvac("tabulate", CODED, "-f", "csv", "-o", link).exit_code == 0
    assert link.is_symlink() and (tmp_path / "new.csv").read_text().startswith("code")


def test_a_symlink_to_a_fifo_is_written_through(icvac, tmp_path):
    fifo = _fifo(tmp_path)
    link = tmp_path / "issues.csv"
    link.symlink_to(fifo)
    drain = _Drain(fifo)
    r = icvac("validate", EXAMPLES / "incidents.csv", "--issues", link)
    assert r.exit_code == 1, r.stderr
    assert drain.result().startswith(b"row,")
    assert link.is_symlink() and _is_fifo(fifo)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "issues.csv"]


def test_a_descriptor_path_writes_into_the_descriptor(tmp_path):
    """`-o /dev/fd/1` with stdout redirected to a file: the file is written, not renamed over (its inode
    stays), and nothing is created beside it. /dev/fd rather than /dev/stdout: were this to regress, a
    rename into /dev/fd fails, while one over /dev/stdout (as root) would replace the system's link."""
    out = tmp_path / "out.csv"
    with open(out, "wb") as stdout:
        inode = os.fstat(stdout.fileno()).st_ino
        proc = subprocess.run([sys.executable, "-m", "icvac", "recode", str(EXPORT), "-m", "gbvims", "-o",
                               "/dev/fd/1", "--summary", "json"], stdout=stdout, stderr=subprocess.PIPE,
                              cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert os.stat(out).st_ino == inode
    assert len(out.read_text().splitlines()) == 301
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    # stdout holds the data, so the summary went to stderr
    assert b'"rows_in": 300' in proc.stderr


# ---------------------------------------------------------------- machine output stays machine-readable (issue 14)

PROVISIONAL = "is provisional"


def test_a_json_summary_on_stderr_is_all_there_is_on_it(tmp_path):
    """`icvac recode - -m gbvims -o - --summary json 2>s.json < export > /dev/null`: s.json parses."""
    with open(EXPORT, "rb") as stdin:
        proc = subprocess.run([sys.executable, "-m", "icvac", "recode", "-", "-m", "gbvims", "-o", "-",
                               "--summary", "json"], stdin=stdin, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stderr)
    assert summary["rows_in"] == 300
    assert any(PROVISIONAL in w for w in summary["warnings"])


def test_the_recode_warnings_go_into_the_json_summary(icvac, tmp_path):
    ragged = write_csv(tmp_path / "ragged.csv", [HEADER, ["INC-1", "2024-01-02", "9", "F", "Rape"],
                                                 ["INC-2", "2024-01-02", "9", "F", "Rape", "", "", "extra"]])
    r = icvac("recode", ragged, "-m", "gbvims", "-o", "-", "--summary", "json")
    assert r.exit_code == 0, r.stderr
    warnings = json.loads(r.stderr)["warnings"]
    assert any("different number of cells" in w for w in warnings) and any(PROVISIONAL in w for w in warnings)
    # with the summary on stdout, people still see the warnings on stderr as well
    r = icvac("recode", ragged, "-m", "gbvims", "-o", tmp_path / "out.csv", "--summary", "json")
    assert "different number of cells" in r.stderr and "different number of cells" in r.stdout


def test_quiet_keeps_the_warnings_of_a_json_report(icvac):
    r = icvac("-q", "validate", EXAMPLES / "incidents.csv", "-f", "json")
    assert r.stderr == ""
    assert any(PROVISIONAL in w for w in json.loads(r.stdout)["warnings"])


def test_a_table_after_a_json_report_in_one_process_prints_its_warnings(icvac):
    icvac("validate", EXAMPLES / "incidents.csv", "-f", "json")
    r = icvac("validate", EXAMPLES / "incidents.csv")
    assert PROVISIONAL in r.stderr and "{" not in r.stdout


# (command, whether it is a report of its own that loads the taxonomy and so carries its warnings)
JSON_COMMANDS = [
    (("validate", EXAMPLES / "incidents.csv", "-f", "json"), True),
    (("validate", "--list-checks", "-f", "json"), False),
    (("recode", EXPORT, "-m", "gbvims", "-o", "{TMP}/out.csv", "--summary", "json"), True),
    (("tabulate", CODED, "-f", "json"), False),
    (("taxonomy", "tree", "-f", "json"), False),
    (("taxonomy", "show", "03", "-f", "json"), True),
    (("taxonomy", "search", "abus sexuel", "-f", "json"), False),
    (("taxonomy", "variables", "-f", "json"), False),
    (("taxonomy", "export", "-f", "json", "-o", "-"), False),
    (("taxonomy", "check", TAXONOMY, "-f", "json"), False),
    (("crosswalk", "-m", "gbvims", "-f", "json", "-o", "-"), False),
    (("crosswalk", "coverage", "-m", "gbvims", "-f", "json"), True),
    (("mapping", "check", MAPPINGS / "gbvims.yaml", "-f", "json"), True),
    (("mapping", "list", "-f", "json"), False),
]


@pytest.mark.parametrize("args,report", JSON_COMMANDS, ids=lambda a: " ".join(map(str, a[:2])) if isinstance(a, tuple)
                         else str(a))
def test_every_json_output_parses_and_holds_its_warnings(icvac, tmp_path, args, report):
    r = icvac(*[str(a).replace("{TMP}", str(tmp_path)) for a in args])
    assert r.exit_code in (0, 1), r.stderr
    data = json.loads(r.stdout)
    if report:
        # the check reports count their problems' warnings under `warnings`: messages go beside them
        messages = data["warnings"] if isinstance(data["warnings"], list) else data["messages"]
        assert any(PROVISIONAL in w for w in messages), messages
        assert "icvac: warning" not in r.stdout
